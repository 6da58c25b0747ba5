//! The agent → service requests of `server-sdk-protocol.md` section 9, one function per
//! `Action`, plus openlift's `UploadProcessLogs`.
//!
//! * `SendHeartbeat` answers `Status` (`Active`, or `Terminating` once the compute is
//!   deregistered), `UnhealthyProcesses` (listed processes the service is terminating for
//!   missing heartbeats) and `UnregisteredProcesses` (listed processes not ready: unknown,
//!   connected but without `ActivateServerProcess`, or ended), both always arrays. A listed
//!   ready process this connection was not yet told about is sent `NotifyProcessRegistered`,
//!   so an agent that reconnected, or missed the push, still learns it.
//! * `NotifyServerProcessTermination` ends the process and its game session: no event code
//!   (`NORMAL_TERMINATION`) ends the session as `ProcessEnding` does; a forced stop ends it
//!   `FORCE_TERMINATED`; a crash, an initialisation timeout or an unhealthy stop end it
//!   `INTERRUPTED`. The event code is recorded as a fleet event (except
//!   `SERVER_PROCESS_TERMINATED_UNHEALTHY`, which the service recorded when it decided).
//! * `UploadProcessLogs {ProcessId, Files: [{Name, Content (base64)}]}` hands the files to
//!   [`crate::logs::ingest`], which accepts them once, from the agent of the compute the
//!   store recorded for the process.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openlift_core::fleet;
use openlift_model::{ComputeStatus, EventCode};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::hosting::agents;
use crate::hosting::registry::{EndReason, ProcessInfo, ProcessStatus};
use crate::logs::LogFile;
use crate::sdk::messages::{Failure, Fields, field, fields, required_string, string, string_list};

/// The agent connection a request arrived on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Caller<'a> {
    pub(super) fleet_id: &'a str,
    pub(super) compute_name: &'a str,
    pub(super) generation: u64,
}

/// Answers one request.
pub(super) async fn handle(
    app: &App,
    caller: Caller<'_>,
    action: &str,
    body: &Map<String, Value>,
) -> Result<Fields, Failure> {
    match action {
        "SendHeartbeat" => heartbeat(app, caller, body).await,
        "NotifyServerProcessTermination" => termination(app, caller, body).await,
        "DescribeRuntimeConfiguration" => runtime_configuration(app, caller).await,
        "UploadProcessLogs" => upload_logs(app, caller, body).await,
        "GetFleetRoleCredentials" => Ok(fields(json!({
            "AssumedRoleUserArn": "", "AssumedRoleId": "", "AccessKeyId": "",
            "SecretAccessKey": "", "SessionToken": "", "Expiration": 0,
        }))),
        other => Err(Failure::bad_request(format!("Unknown action {other}."))),
    }
}

/// The process if it runs on the caller's compute.
fn own_process(app: &App, caller: Caller<'_>, process_id: &str) -> Option<ProcessInfo> {
    app.sdk
        .processes
        .get(process_id)
        .filter(|info| info.fleet_id == caller.fleet_id && info.compute_name == caller.compute_name)
}

async fn heartbeat(app: &App, caller: Caller<'_>, body: &Map<String, Value>) -> Result<Fields, Failure> {
    let listed = string_list(body, "ProcessList")?;
    if app.agents.heartbeat(&app.sdk.processes, caller.fleet_id, caller.compute_name, app.now()) {
        tracing::info!(fleet_id = caller.fleet_id, compute = caller.compute_name, "agent heartbeating again");
        super::set_compute_status(app, caller.fleet_id, caller.compute_name, ComputeStatus::Active).await;
    }
    let registered = app.store.get_compute(caller.fleet_id, caller.compute_name).await.map_err(|error| {
        tracing::error!(%error, "reading a compute failed");
        Failure::internal()
    })?;
    let (mut unhealthy, mut unregistered) = (Vec::new(), Vec::new());
    for process_id in listed {
        let status = own_process(app, caller, &process_id).map(|info| (info.status, info));
        match status {
            Some((ProcessStatus::Active | ProcessStatus::Terminating { .. }, info)) => {
                if let ProcessStatus::Terminating { reason: EndReason::Unhealthy, .. } = info.status {
                    unhealthy.push(process_id.clone());
                }
                let (fleet_id, compute) = (caller.fleet_id, caller.compute_name);
                if app.agents.first_notice(fleet_id, compute, caller.generation, &process_id) {
                    app.agents.push(fleet_id, compute, "NotifyProcessRegistered", agents::registered_fields(&info));
                }
            }
            _ => unregistered.push(process_id),
        }
    }
    let status = if registered.is_some() { "Active" } else { "Terminating" };
    tracing::debug!(
        compute = caller.compute_name,
        status,
        unhealthy = unhealthy.len(),
        unregistered = unregistered.len(),
        "agent heartbeat"
    );
    Ok(fields(json!({"Status": status, "UnhealthyProcesses": unhealthy, "UnregisteredProcesses": unregistered})))
}

/// How a reported termination ends the process, and the event code it reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ending {
    process: EndReason,
    event: Option<EventCode>,
}

/// Reads `EventCode`, else `TerminationReason` (the GameLift Agent may send only the latter).
fn ending(event_code: Option<&str>, termination_reason: Option<&str>) -> Ending {
    let event = event_code.or(termination_reason).and_then(EventCode::parse);
    let process = match event {
        None => EndReason::ProcessEnding,
        Some(EventCode::ServerProcessForceTerminated) => EndReason::ForceTerminated,
        Some(EventCode::ServerProcessTerminatedUnhealthy) => EndReason::Unhealthy,
        Some(
            EventCode::ServerProcessSdkInitializationTimeout
            | EventCode::ServerProcessProcessReadyTimeout
            | EventCode::ServerProcessSdkInitializationFailed,
        ) => EndReason::Abandoned,
        Some(_) => EndReason::Crashed,
    };
    Ending { process, event }
}

async fn termination(app: &App, caller: Caller<'_>, body: &Map<String, Value>) -> Result<Fields, Failure> {
    let process_id = required_string(body, "ProcessId")?;
    let ending = ending(string(body, "EventCode")?, string(body, "TerminationReason")?);
    let now = app.now();
    let ended = app.sdk.processes.end_reported(process_id, caller.fleet_id, caller.compute_name, ending.process, now);
    tracing::info!(
        process_id,
        compute = caller.compute_name,
        event_code = ending.event.map(EventCode::as_str),
        known = ended.is_some(),
        "agent reported a server process ended"
    );
    let event = ending.event.filter(|&c| c != EventCode::ServerProcessTerminatedUnhealthy).map(|code| {
        (code, format!("Server process {process_id} on compute {} ended: {}.", caller.compute_name, code.as_str()))
    });
    match &ended {
        Some(info) => app.services.sessions.process_ended(info, event).await,
        None => {
            if let Some((code, message)) = event {
                let record = fleet::event(caller.fleet_id, code, message, now);
                app.services.fleets.record_event(caller.fleet_id, record).await;
            }
        }
    }
    Ok(Fields::new())
}

async fn runtime_configuration(app: &App, caller: Caller<'_>) -> Result<Fields, Failure> {
    let stored = app.store.get_fleet(caller.fleet_id).await.map_err(|error| {
        tracing::error!(%error, "reading a fleet failed");
        Failure::internal()
    })?;
    let config = stored.filter(|f| !fleet::is_deleted(&f.value)).and_then(|f| f.value.runtime_configuration);
    let config = config.unwrap_or_default();
    let processes = serde_json::to_value(config.server_processes.unwrap_or_default()).unwrap_or_default();
    Ok(fields(json!({
        "GameSessionActivationTimeoutSeconds": config
            .game_session_activation_timeout_seconds
            .unwrap_or(fleet::DEFAULT_ACTIVATION_TIMEOUT_SECONDS),
        "MaxConcurrentGameSessionActivations": config
            .max_concurrent_game_session_activations
            .unwrap_or(fleet::DEFAULT_MAX_CONCURRENT_ACTIVATIONS),
        "ServerProcesses": processes,
    })))
}

async fn upload_logs(app: &App, caller: Caller<'_>, body: &Map<String, Value>) -> Result<Fields, Failure> {
    let process_id = required_string(body, "ProcessId")?;
    let items: &[Value] = match field(body, "Files") {
        None => &[],
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Failure::bad_request("Files must be a list.")),
    };
    let mut files = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(file) = item else { return Err(Failure::bad_request("Each file must be an object.")) };
        let name = required_string(file, "Name")?.to_owned();
        let content = STANDARD
            .decode(string(file, "Content")?.unwrap_or_default())
            .map_err(|_| Failure::bad_request(format!("The Content of {name} is not base64.")))?;
        files.push(LogFile { name, content });
    }
    crate::logs::ingest(app, caller.fleet_id, caller.compute_name, process_id, files).await.map_err(
        |error| match error.code {
            openlift_model::ErrorCode::InternalServiceException => Failure::internal(),
            _ => Failure::bad_request(error.message),
        },
    )?;
    Ok(Fields::new())
}

#[cfg(test)]
mod tests {
    use openlift_model::GameSessionStatusReason;

    use super::*;

    #[test]
    fn reported_terminations_end_sessions_with_gamelifts_reasons() {
        let normal = ending(None, Some("NORMAL_TERMINATION"));
        assert_eq!(normal, Ending { process: EndReason::ProcessEnding, event: None });
        assert_eq!(normal.process.session_reason(), None);
        let crashed = ending(Some("SERVER_PROCESS_CRASHED"), Some("SERVER_PROCESS_CRASHED"));
        assert_eq!(crashed.process, EndReason::Crashed);
        assert_eq!(crashed.process.session_reason(), Some(GameSessionStatusReason::Interrupted));
        assert_eq!(crashed.event, Some(EventCode::ServerProcessCrashed));
        let forced = ending(None, Some("SERVER_PROCESS_FORCE_TERMINATED"));
        assert_eq!(forced.process.session_reason(), Some(GameSessionStatusReason::ForceTerminated));
        assert_eq!(ending(Some("SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT"), None).process, EndReason::Abandoned);
        assert_eq!(ending(Some("SERVER_PROCESS_TERMINATED_UNHEALTHY"), None).process, EndReason::Unhealthy);
    }
}
