//! The SDK → service requests of `server-sdk-protocol.md` section 3, one function per
//! `Action`.
//!
//! The actions on game and player sessions are in `session_actions`, which needs the
//! store. Matchmaking (backfill) is not supported.
//! Fleet role credentials are answered as on an Anywhere fleet: a 200 with empty fields,
//! which the SDKs read as "not a managed fleet" (section 3).

use openlift_model::Timestamp;
use serde_json::{Map, Value, json};

use super::messages::{Failure, Fields, boolean, fields, integer, string, string_list};
use crate::hosting::registry::{Activation, ProcessError, Registry};

/// The connection a request arrived on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Caller<'a> {
    /// The process the connection belongs to.
    pub(super) process_id: &'a str,
    /// The connection's generation within the process.
    pub(super) generation: u64,
}

/// Answers one request.
pub(super) fn handle(
    registry: &Registry,
    caller: Caller<'_>,
    action: &str,
    body: &Map<String, Value>,
    now: Timestamp,
) -> Result<Fields, Failure> {
    match action {
        "ActivateServerProcess" => activate_server_process(registry, caller, body, now),
        "HeartbeatServerProcess" => heartbeat(registry, caller, body, now),
        "TerminateServerProcess" => terminate_server_process(registry, caller, now),
        "GetComputeCertificate" => compute_certificate(registry, caller),
        "GetFleetRoleCredentials" => Ok(fleet_role_credentials()),
        "StartMatchBackfill" | "StopMatchBackfill" => Err(Failure::bad_request(format!(
            "{action} is not supported: openlift does not support matchmaking (FlexMatch)."
        ))),
        other => Err(Failure::bad_request(format!("Unknown action {other}."))),
    }
}

/// The SDK status and message of a registry refusal.
pub(super) fn failure(error: ProcessError) -> Failure {
    match error {
        ProcessError::Unknown(_) => Failure::not_found(error.to_string()),
        ProcessError::Ended(_) | ProcessError::Terminating(_) | ProcessError::UnknownGameSession(_) => {
            Failure::bad_request(error.to_string())
        }
        ProcessError::Backlog(_) => Failure::internal(),
    }
}

fn activate_server_process(
    registry: &Registry,
    caller: Caller<'_>,
    body: &Map<String, Value>,
    now: Timestamp,
) -> Result<Fields, Failure> {
    let port = match integer(body, "Port")? {
        None | Some(0) => None,
        Some(port) => Some(
            u16::try_from(port)
                .map_err(|_| Failure::bad_request(format!("Port {port} is not between 1 and 65535.")))?,
        ),
    };
    let activation = Activation {
        port,
        log_paths: string_list(body, "LogPaths")?,
        sdk_tool_name: string(body, "SdkToolName")?.map(str::to_owned),
        sdk_tool_version: string(body, "SdkToolVersion")?.map(str::to_owned),
    };
    registry.activate(caller.process_id, activation, now).map_err(failure)?;
    tracing::info!(process_id = %caller.process_id, port = ?port, "server process active");
    Ok(Fields::new())
}

fn heartbeat(
    registry: &Registry,
    caller: Caller<'_>,
    body: &Map<String, Value>,
    now: Timestamp,
) -> Result<Fields, Failure> {
    let healthy = boolean(body, "HealthStatus")?.ok_or_else(|| Failure::bad_request("HealthStatus is required."))?;
    registry.heartbeat(caller.process_id, healthy, now).map_err(failure)?;
    tracing::debug!(process_id = %caller.process_id, healthy, "heartbeat");
    Ok(Fields::new())
}

fn terminate_server_process(registry: &Registry, caller: Caller<'_>, now: Timestamp) -> Result<Fields, Failure> {
    let info = registry.end(caller.process_id, caller.generation, now).map_err(failure)?;
    tracing::info!(process_id = %caller.process_id, fleet_id = %info.fleet_id, "server process ending");
    Ok(Fields::new())
}

fn compute_certificate(registry: &Registry, caller: Caller<'_>) -> Result<Fields, Failure> {
    let info =
        registry.get(caller.process_id).ok_or_else(|| failure(ProcessError::Unknown(caller.process_id.into())))?;
    Ok(fields(json!({
        "CertificatePath": info.certificate_path.unwrap_or_default(),
        "ComputeName": info.compute_name,
    })))
}

fn fleet_role_credentials() -> Fields {
    fields(json!({
        "AssumedRoleUserArn": "",
        "AssumedRoleId": "",
        "AccessKeyId": "",
        "SecretAccessKey": "",
        "SessionToken": "",
        "Expiration": 0,
    }))
}
