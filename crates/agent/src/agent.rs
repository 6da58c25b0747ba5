//! The agent's life on one compute, in the GameLift Agent's order (`server-sdk-protocol.md`
//! section 9): register the compute, get an auth token, then launch what the runtime
//! configuration asks for (`control-plane-api.md` section 7.8) while keeping the token fresh
//! and polling the configuration.
//!
//! * Startup calls are retried (up to [`STARTUP_ATTEMPTS`] times, backing off from 1 s to
//!   30 s) because the control plane may start after the agent.
//! * The token is refreshed at two thirds of its remaining lifetime (GameLift's tokens
//!   carry an `ExpirationTimestamp`; ours last 3 hours, so every 2 hours), retried every
//!   [`TOKEN_RETRY`] on failure. New processes get the newest token; running ones keep the
//!   one they were launched with, which their open SDK connection no longer needs.
//! * DescribeRuntimeConfiguration runs at start and every poll interval; a changed answer is
//!   handed to the supervisor, an error keeps the last configuration.
//! * When the control plane returns a `GameLiftAgentEndpoint`, the agent keeps a WebSocket
//!   to it ([`crate::link`], [`crate::conversation`]): heartbeats, readiness, process
//!   endings and their logs, forced stops and compute termination. Without one (AWS
//!   without the agent endpoint, or a scripted control plane) nothing can report readiness,
//!   so the readiness timeout is off.
//!
//! Shutdown (the caller's token, `StartComputeTermination`, or a heartbeat answer saying the
//! compute is terminating): every process is stopped, then its ending and logs are
//! reported, then the connection closes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::control::{ControlError, ControlPlane, ServerProcess};
use crate::conversation::{self, LogPaths};
use crate::events::ProcessEvent;
use crate::launch::LaunchSpec;
use crate::link::{AgentLink, LinkTarget};
use crate::supervisor::{LaunchEnv, Supervisor, SupervisorConfig};

/// How many times a startup call is tried before the agent gives up.
pub const STARTUP_ATTEMPTS: u32 = 8;
/// How soon a failed token refresh is tried again.
pub const TOKEN_RETRY: Duration = Duration::from_secs(10);
/// How often a token without an expiration time is refreshed.
const TOKEN_DEFAULT_REFRESH: Duration = Duration::from_secs(5 * 60);
/// The shortest wait before a token refresh, so a clock mismatch cannot make it spin.
const TOKEN_MIN_REFRESH: Duration = Duration::from_secs(1);

/// What the agent needs besides the control plane.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// The Anywhere fleet (`GAMELIFT_SDK_FLEET_ID`).
    pub fleet_id: String,
    /// This compute's name (`GAMELIFT_SDK_HOST_ID`).
    pub compute_name: String,
    /// How often the runtime configuration is read.
    pub poll_interval: Duration,
    /// Use this WebSocket URL for server processes instead of the compute's
    /// `GameLiftServiceSdkEndpoint`.
    pub sdk_endpoint_override: Option<String>,
    /// How processes are launched and stopped.
    pub supervisor: SupervisorConfig,
    /// How often the agent heartbeats on its WebSocket.
    pub heartbeat_interval: Duration,
}

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A startup call kept failing.
    #[error("giving up after {attempts} attempts: {source}")]
    Startup {
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        source: ControlError,
    },
    /// Shutdown was requested before the agent had started.
    #[error("shut down while starting")]
    Cancelled,
}

/// A running agent.
pub struct Agent {
    supervisor: Supervisor,
    tracker: TaskTracker,
    events: broadcast::Receiver<ProcessEvent>,
}

impl Agent {
    /// Registers the compute, gets a token and starts supervising; everything stops when
    /// `shutdown` is cancelled, or when the control plane terminates the compute.
    pub async fn start(
        control: Arc<dyn ControlPlane>,
        settings: AgentSettings,
        shutdown: CancellationToken,
    ) -> Result<Agent, AgentError> {
        let registered = with_retries(&shutdown, || control.register_compute()).await?;
        let websocket_url = settings.sdk_endpoint_override.clone().unwrap_or(registered.sdk_endpoint);
        tracing::info!(
            fleet_id = %settings.fleet_id,
            compute = %settings.compute_name,
            sdk_endpoint = %websocket_url,
            agent_endpoint = ?registered.agent_endpoint,
            reused = registered.reused,
            "compute registered"
        );
        let token = with_retries(&shutdown, || control.compute_auth_token()).await?;
        let (token_tx, token_rx) = watch::channel(token.token);
        let env = LaunchEnv {
            websocket_url,
            fleet_id: settings.fleet_id.clone(),
            host_id: settings.compute_name.clone(),
            auth_token: token_rx.clone(),
        };
        let mut supervisor_config = settings.supervisor;
        if registered.agent_endpoint.is_none() && !supervisor_config.ready_timeout.is_zero() {
            tracing::warn!(
                "the control plane has no agent endpoint; processes cannot report readiness, so they get no readiness timeout"
            );
            supervisor_config.ready_timeout = Duration::ZERO;
        }
        let log_dir = supervisor_config.log_dir.clone();
        // The agent's own shutdown: the caller's, or the control plane's StartComputeTermination.
        let stopping = shutdown.child_token();
        let supervisor = Supervisor::start(supervisor_config, env, stopping.clone());
        let events = supervisor.subscribe();
        let tracker = TaskTracker::new();
        // What runs until the last ending is reported: the connection and the token it needs.
        let done = match registered.agent_endpoint {
            Some(endpoint) => {
                let done = CancellationToken::new();
                let target = LinkTarget { endpoint, fleet_id: settings.fleet_id, compute_name: settings.compute_name };
                let (pushes_tx, pushes) = mpsc::unbounded_channel();
                let link = AgentLink::start(target, token_rx, pushes_tx, done.clone(), &tracker);
                let log_paths = LogPaths::default();
                let (interval, sup) = (settings.heartbeat_interval, supervisor.clone());
                tracker.spawn(conversation::heartbeat(link.clone(), sup, interval, stopping.clone(), done.clone()));
                tracker.spawn(conversation::handle_pushes(
                    pushes,
                    supervisor.clone(),
                    log_paths.clone(),
                    stopping.clone(),
                ));
                let report = conversation::report(link, supervisor.clone(), supervisor.subscribe(), log_dir, log_paths);
                let finished = done.clone();
                tracker.spawn(async move {
                    report.await;
                    finished.cancel();
                });
                done
            }
            None => stopping.clone(),
        };
        tracker.spawn(keep_token_fresh(control.clone(), token.expires_at, token_tx, done));
        tracker.spawn(poll_runtime_configuration(control, supervisor.clone(), settings.poll_interval, stopping));
        tracker.close();
        Ok(Agent { supervisor, tracker, events })
    }

    /// The process supervisor, for readiness and termination requests.
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// Every process event since the agent started (the supervisor keeps the last 1024 a
    /// slow reader has not seen).
    pub fn events(&mut self) -> &mut broadcast::Receiver<ProcessEvent> {
        &mut self.events
    }

    /// Completes once the agent has shut down and every process has been reaped.
    pub async fn stopped(&self) {
        self.tracker.wait().await;
        self.supervisor.stopped().await;
    }
}

async fn with_retries<T, F, Fut>(shutdown: &CancellationToken, mut call: F) -> Result<T, AgentError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ControlError>>,
{
    let mut delay = Duration::from_secs(1);
    for attempt in 1..=STARTUP_ATTEMPTS {
        let result = tokio::select! {
            () = shutdown.cancelled() => return Err(AgentError::Cancelled),
            result = call() => result,
        };
        match result {
            Ok(value) => return Ok(value),
            Err(source) if attempt == STARTUP_ATTEMPTS => {
                return Err(AgentError::Startup { attempts: attempt, source });
            }
            Err(e) => tracing::warn!(attempt, error = %e, retry_in = ?delay, "control plane call failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return Err(AgentError::Cancelled),
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
    Err(AgentError::Cancelled)
}

/// How long to wait before refreshing a token that expires at `expires_at`.
pub fn refresh_delay(now: SystemTime, expires_at: Option<SystemTime>) -> Duration {
    match expires_at {
        Some(at) => (at.duration_since(now).unwrap_or_default() * 2 / 3).max(TOKEN_MIN_REFRESH),
        None => TOKEN_DEFAULT_REFRESH,
    }
}

async fn keep_token_fresh(
    control: Arc<dyn ControlPlane>,
    expires_at: Option<SystemTime>,
    token: watch::Sender<String>,
    shutdown: CancellationToken,
) {
    let mut wait = refresh_delay(SystemTime::now(), expires_at);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = match control.compute_auth_token().await {
            Ok(fresh) => {
                token.send_replace(fresh.token);
                let wait = refresh_delay(SystemTime::now(), fresh.expires_at);
                tracing::debug!(next_refresh_in = ?wait, "compute auth token refreshed");
                wait
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?TOKEN_RETRY, "compute auth token refresh failed");
                TOKEN_RETRY
            }
        };
    }
}

async fn poll_runtime_configuration(
    control: Arc<dyn ControlPlane>,
    supervisor: Supervisor,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut applied: Option<Vec<ServerProcess>> = None;
    loop {
        let result = tokio::select! {
            () = shutdown.cancelled() => return,
            result = control.runtime_configuration() => result,
        };
        match result {
            Ok(entries) if applied.as_ref() != Some(&entries) => {
                supervisor.set_runtime_configuration(launch_specs(&entries));
                applied = Some(entries);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the runtime configuration failed; keeping the last one"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// The launchable entries; the others are logged and skipped.
fn launch_specs(entries: &[ServerProcess]) -> Vec<LaunchSpec> {
    entries
        .iter()
        .filter_map(|entry| {
            LaunchSpec::new(&entry.launch_path, &entry.parameters, entry.concurrent_executions)
                .inspect_err(|e| {
                    tracing::warn!(launch_path = %entry.launch_path, error = %e, "skipping a ServerProcesses entry")
                })
                .ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_at_two_thirds_of_their_remaining_lifetime() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(refresh_delay(now, Some(now + Duration::from_secs(900))), Duration::from_secs(600));
        assert_eq!(refresh_delay(now, Some(now - Duration::from_secs(5))), TOKEN_MIN_REFRESH);
        assert_eq!(refresh_delay(now, None), TOKEN_DEFAULT_REFRESH);
    }

    #[test]
    fn unlaunchable_entries_are_skipped() {
        let entry = |path: &str, params: &str| ServerProcess {
            launch_path: path.into(),
            parameters: params.into(),
            concurrent_executions: 2,
        };
        let specs = launch_specs(&[entry("/game", "--port {port}"), entry("/game", "'open"), entry("", "")]);
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].args, ["--port", "{port}"]);
    }
}
