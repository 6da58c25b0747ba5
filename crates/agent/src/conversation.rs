//! What the agent says and hears on its WebSocket ([`crate::link`]), as the GameLift Agent
//! does (`server-sdk-protocol.md` section 9).
//!
//! * Heartbeat: `SendHeartbeat {Status, ProcessList, HeartbeatTimeMillis}` every heartbeat
//!   interval and as soon as a connection opens. In the answer, `UnhealthyProcesses` are
//!   stopped (`SERVER_PROCESS_TERMINATED_UNHEALTHY`); a process listed in
//!   `UnregisteredProcesses` [`UNREGISTERED_LIMIT`] heartbeats in a row is stopped
//!   (`SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT`), which also replaces processes a
//!   restarted control plane did not restore (those not yet ready when it stopped); `Status` `Terminating` or
//!   `Terminated` shuts the agent down.
//! * Pushes: `NotifyProcessRegistered` marks the process ready (lifting its readiness
//!   timeout) and records its `LogPaths`; `ForceExitServerProcess` stops the process's
//!   group; `StartComputeTermination` shuts the agent down gracefully.
//! * Reports: every ended process gets `UploadProcessLogs` (see [`crate::logs`]) and then
//!   `NotifyServerProcessTermination {ProcessId, EventCode, TerminationReason}`; a launch
//!   failure gets the latter with `SERVER_PROCESS_INVALID_PATH`. Reports are retried while
//!   the connection is down, for up to [`REPORT_PATIENCE`], and for at most
//!   [`SHUTDOWN_REPORT_DEADLINE`] once the supervisor has stopped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::events::{ProcessEvent, ProcessEventKind};
use crate::link::{AgentLink, LinkError, Push};
use crate::supervisor::Supervisor;

/// Consecutive heartbeats a process may be reported unregistered before it is stopped (the
/// GameLift Agent's 8).
pub const UNREGISTERED_LIMIT: u32 = 8;
/// How long one report is retried.
pub const REPORT_PATIENCE: Duration = Duration::from_secs(120);
/// How long reports may still take once every process has stopped at shutdown.
pub const SHUTDOWN_REPORT_DEADLINE: Duration = Duration::from_secs(10);
/// How long a request may wait for its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an upload may wait for its answer.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// The wait between two tries of a report.
const REPORT_RETRY: Duration = Duration::from_millis(500);

/// The `LogPaths` processes reported, by process ID.
#[derive(Debug, Clone, Default)]
pub struct LogPaths(Arc<Mutex<HashMap<String, Vec<String>>>>);

impl LogPaths {
    fn set(&self, process_id: &str, paths: Vec<String>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(process_id.to_owned(), paths);
    }

    fn take(&self, process_id: &str) -> Vec<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(process_id).unwrap_or_default()
    }
}

/// Heartbeats until `stop` is cancelled; `shutdown` is cancelled when the service says the
/// compute is terminating.
pub async fn heartbeat(
    link: AgentLink,
    supervisor: Supervisor,
    interval: Duration,
    shutdown: CancellationToken,
    stop: CancellationToken,
) {
    let mut connections = link.connections();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut unregistered: HashMap<String, u32> = HashMap::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
            changed = connections.changed() => if changed.is_err() { return },
        }
        let listed: Vec<String> = supervisor.processes().await.into_iter().map(|p| p.process_id).collect();
        let status = if shutdown.is_cancelled() { "Terminating" } else { "Active" };
        let millis = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis();
        let fields = object(json!({"Status": status, "ProcessList": listed, "HeartbeatTimeMillis": millis as u64}));
        let answer = match link.call("SendHeartbeat", fields, REQUEST_TIMEOUT).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::debug!(%error, "heartbeat not answered");
                continue;
            }
        };
        if matches!(answer.get("Status").and_then(Value::as_str), Some("Terminating" | "Terminated")) {
            tracing::info!("the control plane says this compute is terminating; shutting down");
            shutdown.cancel();
        }
        for process_id in strings(&answer, "UnhealthyProcesses") {
            if supervisor.terminate_unhealthy(&process_id).await {
                tracing::warn!(process_id = %process_id, "control plane reports the process unhealthy; stopping it");
            }
        }
        let reported = strings(&answer, "UnregisteredProcesses");
        unregistered.retain(|id, _| reported.contains(id));
        for process_id in reported {
            let count = unregistered.entry(process_id.clone()).or_default();
            *count += 1;
            if *count >= UNREGISTERED_LIMIT && supervisor.terminate_uninitialized(&process_id).await {
                tracing::warn!(process_id = %process_id, heartbeats = *count,
                    "process never registered with the control plane; stopping it");
            }
        }
    }
}

/// Acts on pushes until the link stops.
pub async fn handle_pushes(
    mut pushes: mpsc::UnboundedReceiver<Push>,
    supervisor: Supervisor,
    log_paths: LogPaths,
    shutdown: CancellationToken,
) {
    while let Some(push) = pushes.recv().await {
        let process_id = push.body.get("ProcessId").and_then(Value::as_str).unwrap_or_default();
        match push.action.as_str() {
            "NotifyProcessRegistered" => {
                log_paths.set(process_id, strings(&push.body, "LogPaths"));
                if supervisor.mark_ready(process_id).await {
                    tracing::info!(process_id, "server process registered with the control plane");
                }
            }
            "ForceExitServerProcess" | "ForceExitProcess" => {
                if supervisor.force_terminate(process_id).await {
                    tracing::info!(process_id, "control plane asked to stop the process");
                }
            }
            "StartComputeTermination" => {
                tracing::info!("control plane asked to terminate this compute; shutting down");
                shutdown.cancel();
            }
            "NotifyGameSessionActivated" => {
                let game_session_id = push.body.get("GameSessionId").and_then(Value::as_str).unwrap_or_default();
                tracing::info!(process_id, game_session_id, "game session active");
            }
            other => tracing::debug!(action = other, "agent push ignored"),
        }
    }
}

/// Reports process endings until the supervisor has stopped and every ending is reported.
pub async fn report(
    link: AgentLink,
    supervisor: Supervisor,
    mut events: broadcast::Receiver<ProcessEvent>,
    log_dir: PathBuf,
    log_paths: LogPaths,
) {
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            () = supervisor.stopped() => break,
        };
        match event {
            Ok(event) => report_one(&link, &event, &log_dir, &log_paths, None).await,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "process events were missed; their endings go unreported")
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
    let deadline = Instant::now() + SHUTDOWN_REPORT_DEADLINE;
    while let Ok(event) = events.try_recv() {
        report_one(&link, &event, &log_dir, &log_paths, Some(deadline)).await;
    }
}

async fn report_one(
    link: &AgentLink,
    event: &ProcessEvent,
    log_dir: &std::path::Path,
    log_paths: &LogPaths,
    deadline: Option<Instant>,
) {
    let process_id = event.process_id.as_str();
    let (event_code, reason) = match &event.kind {
        ProcessEventKind::Ended { termination, .. } => {
            let paths = log_paths.take(process_id);
            let files = crate::logs::collect(log_dir, process_id, &paths, crate::logs::UPLOAD_LIMIT).await;
            let files: Vec<Value> =
                files.into_iter().map(|f| json!({"Name": f.name, "Content": STANDARD.encode(&f.content)})).collect();
            let upload = object(json!({"ProcessId": process_id, "Files": files}));
            if let Err(error) = persist(link, "UploadProcessLogs", upload, UPLOAD_TIMEOUT, deadline).await {
                tracing::warn!(process_id, %error, "uploading the process's logs failed");
            }
            (termination.event_code(), termination.termination_reason())
        }
        ProcessEventKind::LaunchFailed { .. } => {
            let code = event.kind.event_code();
            (code, code.unwrap_or_default())
        }
        ProcessEventKind::Started { .. } | ProcessEventKind::ExitTimeout => return,
    };
    let fields = object(json!({"ProcessId": process_id, "EventCode": event_code, "TerminationReason": reason}));
    match persist(link, "NotifyServerProcessTermination", fields, REQUEST_TIMEOUT, deadline).await {
        Ok(_) => tracing::debug!(process_id, reason, "process ending reported"),
        Err(error) => tracing::warn!(process_id, %error, "reporting the process's ending failed"),
    }
}

/// Sends a request until it is answered, refused for good, or patience runs out.
async fn persist(
    link: &AgentLink,
    action: &'static str,
    fields: Map<String, Value>,
    timeout: Duration,
    deadline: Option<Instant>,
) -> Result<Map<String, Value>, LinkError> {
    let give_up = deadline.unwrap_or_else(|| Instant::now() + REPORT_PATIENCE);
    loop {
        let left = give_up.saturating_duration_since(Instant::now());
        match link.call(action, fields.clone(), timeout.min(left.max(Duration::from_millis(1)))).await {
            Ok(answer) => return Ok(answer),
            Err(error) if !error.is_retryable() || Instant::now() + REPORT_RETRY >= give_up => return Err(error),
            Err(_) => tokio::time::sleep(REPORT_RETRY).await,
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn strings(body: &Map<String, Value>, name: &str) -> Vec<String> {
    body.get(name)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}
