//! The process supervisor: keeps the processes a runtime configuration asks for running
//! on this compute (`control-plane-api.md` section 7.8, `server-sdk-protocol.md` section 9).
//!
//! * Each `ServerProcesses` entry (identified by `LaunchPath` + `Parameters`; duplicates add
//!   up) runs `ConcurrentExecutions` copies, each with a fresh process ID (UUID v4).
//! * A new runtime configuration applies without a restart: missing copies are started;
//!   surplus processes, including those of removed entries, are left to finish on their own
//!   and are not replaced, as GameLift does ("running processes are never affected").
//! * An ended process is replaced. When processes of an entry end within
//!   [`QUICK_EXIT`] of their start (crash or exit 0), or fail to launch, the next launch of
//!   that entry waits [`SupervisorConfig::restart_backoff`], doubling per consecutive failure
//!   up to [`SupervisorConfig::max_restart_backoff`], so a crash-looping binary does not spin.
//! * A process not marked ready ([`Supervisor::mark_ready`]) within
//!   [`SupervisorConfig::ready_timeout`] is stopped (`SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT`).
//!
//! One task (the actor) owns the state and serves [`Supervisor`] handles over a channel;
//! one task per process watches it (see [`process`]). Both live on the supervisor's
//! `TaskTracker` and stop with its `CancellationToken`: every process is stopped (SIGTERM,
//! grace period, SIGKILL) and reported before [`Supervisor::stopped`] completes.

mod process;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use self::process::LaunchEnv;
use self::process::{Controls, Exited, Launch, Timing};
use crate::events::{ProcessEvent, ProcessEventKind, Termination};
use crate::launch::{LaunchSpec, PortRange, free_port};

/// A process that ends sooner than this after its launch counts as a failed start.
pub const QUICK_EXIT: Duration = Duration::from_secs(10);
/// How many events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 1024;

/// How the supervisor launches and stops processes.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// Where `<process-id>/stdout.log` and `stderr.log` are written.
    pub log_dir: PathBuf,
    /// Ports that replace `{port}` in `Parameters`.
    pub port_range: PortRange,
    /// How long a process may take to exit after SIGTERM before it is SIGKILLed.
    pub grace_period: Duration,
    /// How long a process may take to become ready (the GameLift Agent's 5 minutes);
    /// zero disables the timeout.
    pub ready_timeout: Duration,
    /// The delay before relaunching an entry after its first quick failure.
    pub restart_backoff: Duration,
    /// The longest delay between relaunches of a failing entry.
    pub max_restart_backoff: Duration,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            log_dir: PathBuf::from("./openlift-agent-logs"),
            port_range: PortRange::default(),
            grace_period: Duration::from_secs(30),
            ready_timeout: Duration::from_secs(5 * 60),
            restart_backoff: Duration::from_secs(1),
            max_restart_backoff: Duration::from_secs(60),
        }
    }
}

/// A running server process, as [`Supervisor::processes`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its process ID (`GAMELIFT_SDK_PROCESS_ID`).
    pub process_id: String,
    /// Its `LaunchPath`.
    pub launch_path: String,
    /// Its operating-system process ID, which is also its process group ID.
    pub pid: u32,
    /// The port that replaced `{port}`, if any.
    pub port: Option<u16>,
    /// Whether it has been marked ready.
    pub ready: bool,
}

enum Command {
    Configure(Vec<LaunchSpec>),
    MarkReady(String, oneshot::Sender<bool>),
    Stop(String, Termination, oneshot::Sender<bool>),
    Processes(oneshot::Sender<Vec<ProcessInfo>>),
}

/// A handle on the supervisor; cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    commands: mpsc::UnboundedSender<Command>,
    events: broadcast::Sender<ProcessEvent>,
    tracker: TaskTracker,
}

impl Supervisor {
    /// Starts a supervisor with no processes to run; it stops every process and ends when
    /// `shutdown` is cancelled.
    pub fn start(config: SupervisorConfig, env: LaunchEnv, shutdown: CancellationToken) -> Self {
        let (commands, inbox) = mpsc::unbounded_channel();
        let (exits_tx, exits) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let tracker = TaskTracker::new();
        let actor = Actor {
            config,
            env,
            shutdown,
            events: events.clone(),
            tracker: tracker.clone(),
            exits_tx,
            specs: Vec::new(),
            live: HashMap::new(),
            backoff: HashMap::new(),
            port_cursor: 0,
        };
        tracker.spawn(actor.run(inbox, exits));
        tracker.close();
        Supervisor { commands, events, tracker }
    }

    /// Every [`ProcessEvent`] from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ProcessEvent> {
        self.events.subscribe()
    }

    /// Replaces the runtime configuration's `ServerProcesses`.
    pub fn set_runtime_configuration(&self, specs: Vec<LaunchSpec>) {
        let _ = self.commands.send(Command::Configure(specs));
    }

    /// Records that a process is ready (its ActivateServerProcess succeeded), which lifts
    /// its readiness timeout; `false` if no such process is running.
    pub async fn mark_ready(&self, process_id: &str) -> bool {
        self.ask(|reply| Command::MarkReady(process_id.to_owned(), reply)).await.unwrap_or(false)
    }

    /// Stops a process's whole group (`SERVER_PROCESS_FORCE_TERMINATED`); `false` if no such
    /// process is running. The process is replaced like any other that ends.
    pub async fn force_terminate(&self, process_id: &str) -> bool {
        self.stop(process_id, Termination::ForceTerminated).await
    }

    /// Stops a process the control plane reports unhealthy
    /// (`SERVER_PROCESS_TERMINATED_UNHEALTHY`); `false` if no such process is running.
    pub async fn terminate_unhealthy(&self, process_id: &str) -> bool {
        self.stop(process_id, Termination::TerminatedUnhealthy).await
    }

    /// Stops a process the control plane keeps reporting unregistered
    /// (`SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT`); `false` if no such process is running.
    pub async fn terminate_uninitialized(&self, process_id: &str) -> bool {
        self.stop(process_id, Termination::SdkInitializationTimeout).await
    }

    /// The processes currently running.
    pub async fn processes(&self) -> Vec<ProcessInfo> {
        self.ask(Command::Processes).await.unwrap_or_default()
    }

    /// Completes once the supervisor has shut down and every process has been reaped.
    pub async fn stopped(&self) {
        self.tracker.wait().await;
    }

    async fn stop(&self, process_id: &str, reason: Termination) -> bool {
        self.ask(|reply| Command::Stop(process_id.to_owned(), reason, reply)).await.unwrap_or(false)
    }

    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(command(reply)).ok()?;
        answer.await.ok()
    }
}

/// A process being watched.
struct Live {
    key: SpecKey,
    launch_path: String,
    pid: u32,
    port: Option<u16>,
    started: Instant,
    ready: CancellationToken,
    stop: watch::Sender<Option<Termination>>,
}

/// The identity of a `ServerProcesses` entry: `LaunchPath` and `Parameters`.
type SpecKey = (String, String);

/// Consecutive quick failures of an entry and when it may launch again.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    not_before: Instant,
}

struct Actor {
    config: SupervisorConfig,
    env: LaunchEnv,
    shutdown: CancellationToken,
    events: broadcast::Sender<ProcessEvent>,
    tracker: TaskTracker,
    exits_tx: mpsc::UnboundedSender<Exited>,
    specs: Vec<LaunchSpec>,
    live: HashMap<String, Live>,
    backoff: HashMap<SpecKey, Backoff>,
    port_cursor: u16,
}

impl Actor {
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Command>, mut exits: mpsc::UnboundedReceiver<Exited>) {
        loop {
            let wake = self.next_wake();
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                Some(command) = inbox.recv() => self.handle(command),
                Some(exited) = exits.recv() => self.ended(exited),
                () = sleep_until(wake) => {}
            }
            self.reconcile().await;
        }
        // Every watcher sees the same cancellation and stops its process.
        while !self.live.is_empty() {
            match exits.recv().await {
                Some(exited) => self.ended(exited),
                None => break,
            }
        }
        tracing::info!("supervisor stopped");
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Configure(specs) => {
                let mut merged: Vec<LaunchSpec> = Vec::new();
                for spec in specs {
                    match merged.iter_mut().find(|m| key(m) == key(&spec)) {
                        Some(existing) => existing.concurrent_executions += spec.concurrent_executions,
                        None => merged.push(spec),
                    }
                }
                tracing::info!(entries = merged.len(), "runtime configuration applied");
                self.specs = merged;
            }
            Command::MarkReady(id, reply) => {
                let found = self.live.get(&id).inspect(|live| live.ready.cancel()).is_some();
                let _ = reply.send(found);
            }
            Command::Stop(id, reason, reply) => {
                let found = self.live.get(&id).is_some_and(|live| {
                    // The first reason wins if the process is already being stopped.
                    live.stop.send_if_modified(|current| current.is_none() && current.replace(reason).is_none());
                    true
                });
                let _ = reply.send(found);
            }
            Command::Processes(reply) => {
                let mut list: Vec<ProcessInfo> = self
                    .live
                    .iter()
                    .map(|(id, live)| ProcessInfo {
                        process_id: id.clone(),
                        launch_path: live.launch_path.clone(),
                        pid: live.pid,
                        port: live.port,
                        ready: live.ready.is_cancelled(),
                    })
                    .collect();
                list.sort_by(|a, b| a.process_id.cmp(&b.process_id));
                let _ = reply.send(list);
            }
        }
    }

    fn ended(&mut self, exited: Exited) {
        let Some(live) = self.live.remove(&exited.process_id) else { return };
        let quick = live.started.elapsed() < QUICK_EXIT;
        let failed = quick && matches!(exited.termination, Termination::Normal | Termination::Crashed);
        self.record_outcome(live.key, failed);
        let kind = ProcessEventKind::Ended { termination: exited.termination, exit: exited.exit };
        self.emit(ProcessEvent { process_id: exited.process_id, launch_path: live.launch_path, kind });
    }

    /// Resets an entry's backoff after a success, or lengthens it after a failure.
    fn record_outcome(&mut self, key: SpecKey, failed: bool) {
        if !failed {
            self.backoff.remove(&key);
            return;
        }
        let failures = self.backoff.get(&key).map_or(0, |b| b.failures).saturating_add(1);
        let delay = self
            .config
            .restart_backoff
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(self.config.max_restart_backoff);
        self.backoff.insert(key, Backoff { failures, not_before: Instant::now() + delay });
    }

    /// The earliest time a backed-off entry that is short of processes may launch again.
    fn next_wake(&self) -> Option<Instant> {
        self.specs
            .iter()
            .filter(|spec| self.running(&key(spec)) < spec.concurrent_executions)
            .filter_map(|spec| self.backoff.get(&key(spec)).map(|b| b.not_before))
            .min()
    }

    fn running(&self, key: &SpecKey) -> usize {
        self.live.values().filter(|live| &live.key == key).count()
    }

    /// Launches the processes entries are short of, unless backed off.
    async fn reconcile(&mut self) {
        if self.shutdown.is_cancelled() {
            return;
        }
        for spec in self.specs.clone() {
            let key = key(&spec);
            while self.running(&key) < spec.concurrent_executions
                && self.backoff.get(&key).is_none_or(|b| b.not_before <= Instant::now())
            {
                if !self.launch(&spec, key.clone()).await {
                    break;
                }
            }
        }
    }

    /// Launches one copy of `spec`; `false` (and backed off) if that failed.
    async fn launch(&mut self, spec: &LaunchSpec, key: SpecKey) -> bool {
        let process_id = uuid::Uuid::new_v4().to_string();
        let event = |kind| ProcessEvent { process_id: process_id.clone(), launch_path: spec.launch_path.clone(), kind };
        let port = if spec.needs_port() {
            let taken: HashSet<u16> = self.live.values().filter_map(|live| live.port).collect();
            match free_port(&self.config.port_range, &taken, self.port_cursor).await {
                Some(port) => {
                    self.port_cursor = port.wrapping_add(1);
                    Some(port)
                }
                None => {
                    let error = format!("no free port in {}", self.config.port_range);
                    self.emit(event(ProcessEventKind::LaunchFailed { error }));
                    self.record_outcome(key, true);
                    return false;
                }
            }
        } else {
            None
        };
        let launch = Launch {
            process_id: &process_id,
            launch_path: &spec.launch_path,
            args: spec.args_with_port(port),
            port,
            log_dir: &self.config.log_dir,
        };
        let child = match process::spawn(launch, &self.env).await {
            Ok(child) => child,
            Err(e) => {
                self.emit(event(ProcessEventKind::LaunchFailed { error: e.to_string() }));
                self.record_outcome(key, true);
                return false;
            }
        };
        let pid = child.id().unwrap_or_default();
        let (stop, stop_rx) = watch::channel(None);
        let ready = CancellationToken::new();
        let controls = Controls { stop: stop_rx, ready: ready.clone(), shutdown: self.shutdown.clone() };
        let timing = Timing { ready_timeout: self.config.ready_timeout, grace_period: self.config.grace_period };
        let started = event(ProcessEventKind::Started { pid, port });
        self.emit(started.clone());
        let watcher =
            process::supervise(child, pid, started, controls, timing, self.events.clone(), self.exits_tx.clone());
        self.tracker.spawn(watcher);
        let live = Live { key, launch_path: spec.launch_path.clone(), pid, port, started: Instant::now(), ready, stop };
        self.live.insert(process_id, live);
        true
    }

    fn emit(&self, event: ProcessEvent) {
        crate::events::log(&event);
        let _ = self.events.send(event);
    }
}

fn key(spec: &LaunchSpec) -> SpecKey {
    (spec.launch_path.clone(), spec.parameters.clone())
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
