//! One server process: launched in its own process group with the five `GAMELIFT_SDK_*`
//! variables (`server-sdk-protocol.md` sections 1.1 and 9), its output in
//! `<log-dir>/<process-id>/stdout.log` and `stderr.log`, watched until it exits or must be
//! stopped (`STYLE.md` "Tasks and connections": SIGTERM to the group, grace period, SIGKILL).
//!
//! The working directory of a process is the directory of its `LaunchPath` when that path is
//! absolute (as the GameLift Agent does), otherwise the agent's own. Once the leader has been
//! reaped, whatever is left in its process group is SIGKILLed, so helpers a game server
//! spawned never outlive it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::events::{ExitKind, ProcessEvent, ProcessEventKind, Termination};

/// The environment every server process gets besides its own process ID.
#[derive(Debug, Clone)]
pub struct LaunchEnv {
    /// `GAMELIFT_SDK_WEBSOCKET_URL`: the compute's `GameLiftServiceSdkEndpoint`.
    pub websocket_url: String,
    /// `GAMELIFT_SDK_FLEET_ID`.
    pub fleet_id: String,
    /// `GAMELIFT_SDK_HOST_ID`: the compute name.
    pub host_id: String,
    /// `GAMELIFT_SDK_AUTH_TOKEN`: the compute's current auth token, read at each launch.
    pub auth_token: watch::Receiver<String>,
}

/// What one launch needs.
pub(crate) struct Launch<'a> {
    pub process_id: &'a str,
    pub launch_path: &'a str,
    pub args: Vec<String>,
    pub port: Option<u16>,
    pub log_dir: &'a Path,
}

/// Why a launch failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LaunchError {
    #[error("creating log file {path}: {source}")]
    Log { path: PathBuf, source: std::io::Error },
    #[error("starting {path}: {source}")]
    Spawn { path: String, source: std::io::Error },
}

/// Starts a process in a new process group, its output going to its log files.
pub(crate) async fn spawn(launch: Launch<'_>, env: &LaunchEnv) -> Result<Child, LaunchError> {
    let dir = launch.log_dir.join(launch.process_id);
    tokio::fs::create_dir_all(&dir).await.map_err(|source| LaunchError::Log { path: dir.clone(), source })?;
    let stdout = log_file(dir.join("stdout.log")).await?;
    let stderr = log_file(dir.join("stderr.log")).await?;
    let mut command = Command::new(launch.launch_path);
    command
        .args(&launch.args)
        .env("GAMELIFT_SDK_WEBSOCKET_URL", &env.websocket_url)
        .env("GAMELIFT_SDK_AUTH_TOKEN", env.auth_token.borrow().as_str())
        .env("GAMELIFT_SDK_PROCESS_ID", launch.process_id)
        .env("GAMELIFT_SDK_HOST_ID", &env.host_id)
        .env("GAMELIFT_SDK_FLEET_ID", &env.fleet_id)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        // Only a safety net if the supervising task is dropped: it normally reaps the child.
        .kill_on_drop(true);
    if let Some(port) = launch.port {
        command.env("OPENLIFT_GAME_PORT", port.to_string());
    }
    let path = Path::new(launch.launch_path);
    if let Some(dir) = path.parent().filter(|dir| path.is_absolute() && !dir.as_os_str().is_empty()) {
        command.current_dir(dir);
    }
    command.spawn().map_err(|source| LaunchError::Spawn { path: launch.launch_path.to_owned(), source })
}

async fn log_file(path: PathBuf) -> Result<std::fs::File, LaunchError> {
    match tokio::fs::File::create(&path).await {
        Ok(file) => Ok(file.into_std().await),
        Err(source) => Err(LaunchError::Log { path, source }),
    }
}

/// The signals a running process's watcher listens to.
pub(crate) struct Controls {
    /// Set to the reason when the agent decides to stop the process.
    pub stop: watch::Receiver<Option<Termination>>,
    /// Cancelled when the process is ready (ActivateServerProcess succeeded).
    pub ready: CancellationToken,
    /// The agent is shutting down.
    pub shutdown: CancellationToken,
}

/// How long a process may take to become ready and to exit after SIGTERM.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub ready_timeout: Duration,
    pub grace_period: Duration,
}

/// A reaped process, reported back to the supervisor.
#[derive(Debug)]
pub(crate) struct Exited {
    pub process_id: String,
    pub termination: Termination,
    pub exit: ExitKind,
}

/// Watches `child` until it exits or must be stopped, stops it if so, reaps it, and
/// reports the outcome on `exits`.
pub(crate) async fn supervise(
    mut child: Child,
    pid: u32,
    event: ProcessEvent,
    mut controls: Controls,
    timing: Timing,
    events: broadcast::Sender<ProcessEvent>,
    exits: mpsc::UnboundedSender<Exited>,
) {
    let process_id = event.process_id.clone();
    let pid = Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
    let stop = tokio::select! {
        exit = wait(&mut child) => Err(exit),
        reason = stop_reason(&mut controls.stop) => Ok(reason),
        () = controls.shutdown.cancelled() => Ok(Termination::ForceTerminated),
        () = readiness_deadline(&controls.ready, timing.ready_timeout) => Ok(Termination::SdkInitializationTimeout),
    };
    let (termination, exit) = match stop {
        Err(exit) if exit.is_success() => (Termination::Normal, exit),
        Err(exit) => (Termination::Crashed, exit),
        Ok(reason) => {
            tracing::info!(process_id = %process_id, reason = reason.termination_reason(), "stopping server process");
            signal_group(pid, Signal::SIGTERM);
            let exit = match tokio::time::timeout(timing.grace_period, wait(&mut child)).await {
                Ok(exit) => exit,
                Err(_) => {
                    let timeout = ProcessEvent { kind: ProcessEventKind::ExitTimeout, ..event };
                    crate::events::log(&timeout);
                    let _ = events.send(timeout);
                    signal_group(pid, Signal::SIGKILL);
                    wait(&mut child).await
                }
            };
            (reason, exit)
        }
    };
    signal_group(pid, Signal::SIGKILL);
    let _ = exits.send(Exited { process_id, termination, exit });
}

/// The reason the supervisor sets; never completes if the supervisor is gone (shutdown
/// still stops the process then).
async fn stop_reason(stop: &mut watch::Receiver<Option<Termination>>) -> Termination {
    let reason = stop.wait_for(Option::is_some).await.ok().and_then(|reason| *reason);
    match reason {
        Some(reason) => reason,
        None => std::future::pending().await,
    }
}

/// Completes when `timeout` has passed without `ready` being cancelled; never otherwise,
/// nor if `timeout` is zero.
pub(crate) async fn readiness_deadline(ready: &CancellationToken, timeout: Duration) {
    if timeout.is_zero() {
        return std::future::pending().await;
    }
    tokio::select! {
        () = ready.cancelled() => std::future::pending().await,
        () = tokio::time::sleep(timeout) => {}
    }
}

async fn wait(child: &mut Child) -> ExitKind {
    match child.wait().await {
        Ok(status) => ExitKind::from_status(status),
        Err(e) => {
            tracing::error!(error = %e, "waiting for a server process failed");
            ExitKind::Code(-1)
        }
    }
}

/// Sends `signal` to the process group `pgid`; a group that is already gone is fine.
fn signal_group(pgid: Pid, signal: Signal) {
    // 0 would signal the agent's own group and 1 means every process: never a game server's.
    if pgid.as_raw() <= 1 {
        return;
    }
    match killpg(pgid, signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => {
            tracing::warn!(pgid = pgid.as_raw(), signal = %signal, error = %e, "signalling a process group failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_readiness_deadline_fires_only_for_a_process_never_marked_ready() {
        let ready = CancellationToken::new();
        let started = tokio::time::Instant::now();
        readiness_deadline(&ready, Duration::from_millis(50)).await;
        assert!(started.elapsed() >= Duration::from_millis(50));

        ready.cancel();
        let outcome =
            tokio::time::timeout(Duration::from_millis(300), readiness_deadline(&ready, Duration::from_millis(50)));
        assert!(outcome.await.is_err(), "a ready process has no deadline");

        let not_ready = CancellationToken::new();
        let never = tokio::time::timeout(Duration::from_millis(100), readiness_deadline(&not_ready, Duration::ZERO));
        assert!(never.await.is_err(), "a zero timeout is no timeout");
    }
}
