//! Shared helpers for the agent tests: shell scripts as launch paths, a supervisor on a
//! temporary log directory, and waiting for process events.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openlift_agent::{
    LaunchEnv, LaunchSpec, PortRange, ProcessEvent, ProcessEventKind, Supervisor, SupervisorConfig, Termination,
};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

/// How long a test waits for something that should happen promptly.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Runs until SIGTERM, then exits 0; writes `$OUT/trapped-<process id>` once it handles SIGTERM.
pub const UNTIL_SIGTERM: &str =
    "trap 'exit 0' TERM\necho > \"$OUT/trapped-$GAMELIFT_SDK_PROCESS_ID\"\nwhile :; do sleep 0.05; done";
/// Ignores SIGTERM (the `sleep`s it starts inherit that); writes `$OUT/trapped-<process id>`
/// once it does.
pub const IGNORES_SIGTERM: &str =
    "trap '' TERM\necho > \"$OUT/trapped-$GAMELIFT_SDK_PROCESS_ID\"\nwhile :; do sleep 0.05; done";

/// A temporary directory holding scripts, their outputs and the supervisor's logs.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace { dir: tempfile::tempdir().expect("temporary directory") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_dir(&self) -> PathBuf {
        self.path().join("logs")
    }

    /// Writes an executable `#!/bin/sh` script whose body can use `$OUT` (this directory).
    pub fn script(&self, name: &str, body: &str) -> String {
        let path = self.path().join(name);
        let text = format!("#!/bin/sh\nOUT='{}'\n{body}\n", self.path().display());
        std::fs::write(&path, text).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod script");
        path.display().to_string()
    }

    /// Waits until a process running [`UNTIL_SIGTERM`] or [`IGNORES_SIGTERM`] has set up
    /// its SIGTERM handling.
    pub async fn trapped(&self, process_id: &str) {
        read_when_written(&self.path().join(format!("trapped-{process_id}"))).await;
    }

    /// Supervisor settings with short timings for tests.
    pub fn config(&self) -> SupervisorConfig {
        SupervisorConfig {
            log_dir: self.log_dir(),
            port_range: PortRange::new(42000, 42999),
            grace_period: Duration::from_secs(5),
            ready_timeout: Duration::from_secs(300),
            restart_backoff: Duration::from_millis(50),
            max_restart_backoff: Duration::from_millis(400),
        }
    }
}

/// The environment the tests' processes get.
pub fn launch_env(token: watch::Receiver<String>) -> LaunchEnv {
    LaunchEnv {
        websocket_url: "ws://127.0.0.1:1".into(),
        fleet_id: "fleet-test".into(),
        host_id: "compute-test".into(),
        auth_token: token,
    }
}

/// A supervisor, its event stream and its shutdown token.
pub struct Harness {
    pub supervisor: Supervisor,
    pub events: broadcast::Receiver<ProcessEvent>,
    pub shutdown: CancellationToken,
    pub token: watch::Sender<String>,
}

impl Harness {
    pub fn start(config: SupervisorConfig) -> Self {
        let shutdown = CancellationToken::new();
        let (token, token_rx) = watch::channel("token-1".to_owned());
        let supervisor = Supervisor::start(config, launch_env(token_rx), shutdown.clone());
        let events = supervisor.subscribe();
        Harness { supervisor, events, shutdown, token }
    }

    /// Runs `count` copies of `launch_path` with `parameters`.
    pub fn run(&self, launch_path: &str, parameters: &str, count: usize) {
        let spec = LaunchSpec::new(launch_path, parameters, count).expect("launch spec");
        self.supervisor.set_runtime_configuration(vec![spec]);
    }

    /// The next event, failing the test if none comes in time.
    pub async fn next(&mut self) -> ProcessEvent {
        tokio::time::timeout(PATIENCE, self.events.recv()).await.expect("an event in time").expect("event stream")
    }

    /// The next `Started` event: (process ID, pid, port).
    pub async fn started(&mut self) -> (String, u32, Option<u16>) {
        match self.next().await {
            ProcessEvent { process_id, kind: ProcessEventKind::Started { pid, port }, .. } => (process_id, pid, port),
            other => panic!("expected a start, got {other:?}"),
        }
    }

    /// The next event, which must be the end of `process_id`.
    pub async fn ended(&mut self, process_id: &str) -> (Termination, openlift_agent::ExitKind) {
        match self.next().await {
            ProcessEvent { process_id: id, kind: ProcessEventKind::Ended { termination, exit }, .. }
                if id == process_id =>
            {
                (termination, exit)
            }
            other => panic!("expected the end of {process_id}, got {other:?}"),
        }
    }

    /// Asserts no event arrives within `window`.
    pub async fn quiet_for(&mut self, window: Duration) {
        if let Ok(event) = tokio::time::timeout(window, self.events.recv()).await {
            panic!("expected no event, got {event:?}");
        }
    }

    /// Shuts the supervisor down and waits until every process is reaped.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.supervisor.stopped()).await.expect("supervisor stops in time");
    }
}

/// Waits until `path` exists and returns its contents.
pub async fn read_when_written(path: &Path) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(text) = tokio::fs::read_to_string(path).await
            && text.ends_with('\n')
        {
            return text;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} was never written", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether the operating-system process `pid` is gone (or a zombie nobody reaped yet).
pub async fn is_gone(pid: u32) -> bool {
    match tokio::fs::read_to_string(format!("/proc/{pid}/stat")).await {
        // The state follows the parenthesised command name.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// Waits until `pid` is gone, failing the test if it lives on.
pub async fn wait_gone(pid: u32) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !is_gone(pid).await {
        assert!(tokio::time::Instant::now() < deadline, "process {pid} is still alive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
