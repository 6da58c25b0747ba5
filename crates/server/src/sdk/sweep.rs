//! The periodic health sweep (`server-sdk-protocol.md` sections 5 and 8.6): a process
//! without a healthy heartbeat for the heartbeat timeout is sent `TerminateProcess` and
//! recorded with the fleet event `SERVER_PROCESS_TERMINATED_UNHEALTHY`; one that then does
//! not call `ProcessEnding` within the termination grace is ended with
//! `SERVER_PROCESS_FORCE_TERMINATED`.
//!
//! Time is the injected clock's, so tests move a `ManualClock` and wait for the next sweep,
//! which runs every [`SWEEP_INTERVAL`] of real time.

use std::sync::Arc;
use std::time::Duration;

use openlift_core::fleet;
use openlift_model::EventCode;
use tokio::time::MissedTickBehavior;

use super::registry::{EndReason, ProcessInfo, ProcessStatus, Swept};
use crate::api;
use crate::app::App;

/// How often the registry is swept.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Sweeps every [`SWEEP_INTERVAL`] until the server stops.
pub(crate) async fn run(app: Arc<App>) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = app.sdk.tasks.cancel.cancelled() => return,
            _ = tick.tick() => {
                sweep(&app).await;
                if let Err(error) = crate::sessions::sweep(&app).await {
                    tracing::warn!(message = %error.message, "game session sweep failed");
                }
            }
        }
    }
}

/// Applies the registry's timeouts once and records the fleet events they call for.
pub async fn sweep(app: &App) -> Swept {
    let timeout = app.sdk.heartbeat_timeout;
    let swept = app.sdk.processes.sweep(app.now(), timeout);
    for process in &swept.unhealthy {
        tracing::warn!(process_id = %process.process_id, fleet_id = %process.fleet_id,
            compute = %process.compute_name, "no healthy heartbeat; terminating the server process");
        let message = format!(
            "Server process {} on compute {} in {} was terminated: no healthy heartbeat for {} seconds.",
            process.process_id,
            process.compute_name,
            process.location,
            timeout.as_secs()
        );
        record(app, process, EventCode::ServerProcessTerminatedUnhealthy, message).await;
    }
    for process in &swept.ended {
        crate::sessions::process_ended(app, process).await;
        tracing::info!(process_id = %process.process_id, fleet_id = %process.fleet_id, status = ?process.status,
            "server process ended");
        if let ProcessStatus::Ended { reason: EndReason::Unhealthy | EndReason::ForceTerminated, .. } = process.status {
            let message = format!(
                "Server process {} on compute {} did not call ProcessEnding within {} seconds of TerminateProcess.",
                process.process_id,
                process.compute_name,
                super::registry::TERMINATION_GRACE.as_secs()
            );
            record(app, process, EventCode::ServerProcessForceTerminated, message).await;
        }
    }
    swept
}

async fn record(app: &App, process: &ProcessInfo, code: EventCode, message: String) {
    let now = app.now();
    let result =
        api::update_fleet(app, &process.fleet_id, |f| Ok(vec![fleet::event(f.id(), code, message.clone(), now)]));
    if let Err(error) = result.await {
        tracing::warn!(fleet_id = %process.fleet_id, code = code.as_str(), message = %error.message,
            "could not record a fleet event");
    }
}
