//! The game's callbacks, how pushes reach them (protocol spec §4) and the health reporting
//! loop (spec §5 "Health reporting").

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::connection::Link;
use crate::message::{Push, Request};
use crate::model::{GameSession, UpdateGameSession};
use crate::options::Timings;

/// The game's callbacks, the official SDKs' `ProcessParameters` callbacks.
///
/// Each callback runs in its own task, so a slow one does not hold up the others; keep a
/// [`GameLiftServer`](crate::GameLiftServer) clone in the handler to call back into the SDK.
pub trait ServerHandler: Send + Sync + 'static {
    /// The service assigned a game session to this process: prepare it, then call
    /// [`activate_game_session`](crate::GameLiftServer::activate_game_session).
    fn on_start_game_session(&self, game_session: GameSession) -> impl Future<Output = ()> + Send;

    /// The service updated the game session (for example after a match backfill).
    fn on_update_game_session(&self, update: UpdateGameSession) -> impl Future<Output = ()> + Send {
        debug!(reason = ?update.update_reason, "game session updated; no handler");
        async {}
    }

    /// The service will stop this process: wrap up, then call
    /// [`process_ending`](crate::GameLiftServer::process_ending).
    /// [`get_termination_time`](crate::GameLiftServer::get_termination_time) tells the deadline.
    fn on_process_terminate(&self) -> impl Future<Output = ()> + Send;

    /// Whether the process is healthy, asked before every heartbeat. An answer that takes
    /// longer than `Timings::health_check_timeout` counts as unhealthy. Defaults to healthy.
    fn on_health_check(&self) -> impl Future<Output = bool> + Send {
        async { true }
    }
}

/// Runs each push's callback in its own task until `cancel` fires.
pub(crate) async fn dispatch_pushes<H: ServerHandler>(
    handler: Arc<H>,
    mut pushes: mpsc::UnboundedReceiver<Push>,
    tracker: TaskTracker,
    cancel: CancellationToken,
) {
    while let Some(Some(push)) = cancel.run_until_cancelled(pushes.recv()).await {
        let handler = handler.clone();
        tracker.spawn(cancel.clone().run_until_cancelled_owned(async move {
            match push {
                Push::CreateGameSession(session) => handler.on_start_game_session(session).await,
                Push::UpdateGameSession(update) => handler.on_update_game_session(update).await,
                Push::TerminateProcess(_) => handler.on_process_terminate().await,
            }
        }));
    }
}

/// Sends a heartbeat right away and then every interval ± jitter until `stop` fires.
pub(crate) async fn report_health<H: ServerHandler>(
    handler: Arc<H>,
    link: Link,
    timings: Timings,
    tracker: TaskTracker,
    stop: CancellationToken,
) {
    loop {
        let beat = heartbeat(handler.clone(), link.clone(), timings.clone());
        tracker.spawn(stop.clone().run_until_cancelled_owned(beat));
        let next = timings.next_health_check();
        if stop.run_until_cancelled(tokio::time::sleep(next)).await.is_none() {
            break;
        }
    }
}

async fn heartbeat<H: ServerHandler>(handler: Arc<H>, link: Link, timings: Timings) {
    let healthy =
        tokio::time::timeout(timings.health_check_timeout, handler.on_health_check()).await.unwrap_or_else(|_| {
            warn!("on_health_check timed out; reporting unhealthy");
            false
        });
    let request = Request::HeartbeatServerProcess { health_status: healthy };
    if let Err(error) = link.call(request, timings.request_timeout).await {
        warn!(%error, "could not report health");
    }
}
