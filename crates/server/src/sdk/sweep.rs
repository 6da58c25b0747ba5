//! The periodic health sweep (`server-sdk-protocol.md` sections 5 and 8.6): a process
//! without a healthy heartbeat for the heartbeat timeout is sent `TerminateProcess` and
//! recorded with the fleet event `SERVER_PROCESS_TERMINATED_UNHEALTHY`, or, with no
//! connection to tell it (it died without `ProcessEnding`), ended at once with that event;
//! one told to terminate that does not call `ProcessEnding` within the termination grace is
//! ended with `SERVER_PROCESS_FORCE_TERMINATED`. Every end goes through
//! [`Sessions::process_ended`](crate::service::sessions::Sessions::process_ended), which ends the process's game session. A ready
//! process whose credential is about to expire is sent `RefreshConnection`.
//!
//! Time is the injected clock's, so tests move a `ManualClock` and wait for the next sweep,
//! which runs every [`SWEEP_INTERVAL`] of real time ([`crate::workers`] runs it).

use std::sync::Arc;
use std::time::Duration;

use openlift_core::fleet;
use openlift_model::EventCode;

use crate::app::App;
use crate::hosting::registry::{Expiry, ProcessInfo, Swept};
use crate::workers::Outcome;

/// How often the registry is swept: the sweep worker's bound in [`crate::workers`].
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// One run of the sweep worker: the registry's timeouts, then the game sessions'. Neither
/// knows its next deadline, so the runner runs it again after [`SWEEP_INTERVAL`].
pub(crate) async fn run(app: Arc<App>) -> Outcome {
    sweep(&app).await;
    match app.services.sessions.sweep().await {
        Ok(_) => Ok(None),
        Err(error) => Err(format!("game session sweep failed: {}", error.message)),
    }
}

/// Applies the registry's timeouts once, ends the processes it ended through
/// [`Sessions::process_ended`](crate::service::sessions::Sessions::process_ended), and records the fleet events they call for.
pub async fn sweep(app: &App) -> Swept {
    let timeout = app.sdk.heartbeat_timeout;
    let swept = app.sdk.processes.sweep(app.now(), timeout);
    for process in &swept.unhealthy {
        tracing::warn!(process_id = %process.process_id, fleet_id = %process.fleet_id,
            compute = %process.compute_name, "no healthy heartbeat; terminating the server process");
        let message = unhealthy_message(process, timeout);
        let event = fleet::event(&process.fleet_id, EventCode::ServerProcessTerminatedUnhealthy, message, app.now());
        app.services.fleets.record_event(&process.fleet_id, event).await;
    }
    for (process, expiry) in &swept.ended {
        let event = match expiry {
            Expiry::Unhealthy => {
                tracing::warn!(process_id = %process.process_id, fleet_id = %process.fleet_id,
                    compute = %process.compute_name, "no healthy heartbeat and no connection; ending the server process");
                Some((EventCode::ServerProcessTerminatedUnhealthy, unhealthy_message(process, timeout)))
            }
            Expiry::Grace => Some((
                EventCode::ServerProcessForceTerminated,
                format!(
                    "Server process {} on compute {} did not call ProcessEnding within {} seconds of TerminateProcess.",
                    process.process_id,
                    process.compute_name,
                    crate::hosting::registry::TERMINATION_GRACE.as_secs()
                ),
            )),
            Expiry::Abandoned => None,
        };
        app.services.sessions.process_ended(process, event).await;
    }
    for process in &swept.refresh {
        match super::refresh_connection(app, &process.process_id).await {
            Ok(delivery) => tracing::info!(process_id = %process.process_id, ?delivery,
                "credential about to expire; connection refresh sent"),
            Err(error) => tracing::warn!(process_id = %process.process_id, %error,
                "could not send a connection refresh"),
        }
    }
    swept
}

fn unhealthy_message(process: &ProcessInfo, timeout: Duration) -> String {
    format!(
        "Server process {} on compute {} in {} was terminated: no healthy heartbeat for {} seconds.",
        process.process_id,
        process.compute_name,
        process.location,
        timeout.as_secs()
    )
}
