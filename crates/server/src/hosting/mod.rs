//! Where server processes and the computes' agents are connected, and the one way the
//! services reach them: the [`Hosting`] seam.
//!
//! The services claim a process for a new game session, send it the session, tell
//! processes to terminate, have agents stop them and retire computes through [`Hosting`],
//! never through a connection, so they do not care which node holds it. [`Local`] is one
//! node's implementation: the process [`registry`] and the [`agents`] of the connections
//! this node holds. A cluster puts its own implementation behind the same trait.
//!
//! The SDK and agent endpoints ([`crate::sdk`], [`crate::agent`]) are the connections'
//! side: they attach connections to the registry and the agents, and report what the game
//! servers and agents say to the services.

pub mod agents;
mod local;
mod process;
pub mod push;
pub mod registry;

use std::fmt;
use std::ops::Deref;

use async_trait::async_trait;
use openlift_core::records::GameSessionRecord;
use openlift_model::Timestamp;
use openlift_store::Versioned;

use self::agents::Notice;
pub use self::local::Local;
use self::push::Push;
use self::registry::{Delivery, ProcessError, ProcessInfo, Usage};

/// What a placement asks for: a process of `fleet_id` in `location` for `game_session_id`.
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    /// The fleet.
    pub fleet_id: &'a str,
    /// The fleet location.
    pub location: &'a str,
    /// The game session the process is claimed for.
    pub game_session_id: &'a str,
    /// The fleet's `MaxConcurrentGameSessionActivations` (`None`: unlimited): a compute with
    /// that many game sessions awaiting activation gets no further one.
    pub max_activating: Option<u32>,
    /// When.
    pub now: Timestamp,
}

/// The connections of the server processes and agents, wherever they are held.
#[async_trait]
pub trait Hosting: Send + Sync {
    /// Binds `want.game_session_id` to an active, healthy, idle process of the fleet
    /// location, connected, on a compute below the activation limit; the one ready the
    /// longest is taken. `None` when no process is available. The claim gives the process
    /// back when dropped, unless [`start_session`](Self::start_session) commits it.
    async fn claim<'a>(&'a self, want: Want<'_>) -> Option<Claim<'a>>;

    /// Sends the claimed process its game session (`push`, a `CreateGameSession`), just
    /// stored as `committed`, and commits the claim. An error says the push could not be
    /// sent; the claim is committed all the same (the session is stored).
    async fn start_session(
        &self,
        claim: Claim<'_>,
        push: Push,
        committed: Versioned<GameSessionRecord>,
    ) -> Result<Delivery, ProcessError>;

    /// The process as known now, ended ones included until forgotten.
    async fn process(&self, process_id: &str) -> Option<ProcessInfo>;

    /// Whether the process hosts this game session.
    async fn hosts(&self, process_id: &str, game_session_id: &str) -> bool;

    /// The game session last sent to the process, as committed then, if it is
    /// `game_session_id` and nobody took it since: whoever changes the session next takes it,
    /// instead of reading it back.
    async fn take_committed(&self, process_id: &str, game_session_id: &str) -> Option<Versioned<GameSessionRecord>>;

    /// Tells a process to terminate (`TerminateProcess`); it ends when it calls
    /// `ProcessEnding` or its grace runs out.
    async fn terminate(&self, process_id: &str, now: Timestamp) -> Result<ProcessInfo, ProcessError>;

    /// Asks the process's agent to stop it now (`ForceExitServerProcess`, with `reason`);
    /// `false` when its compute has no agent connected.
    async fn force_exit(&self, process: &ProcessInfo, reason: &str) -> bool;

    /// Tells the process's agent, if connected, what became of the process.
    async fn notify_agent(&self, process: &ProcessInfo, notice: Notice<'_>);

    /// Takes a deregistered compute's processes out of service: each live one is sent
    /// `TerminateProcess` and ended, and none of them may connect until the compute is
    /// registered again. Returns the processes this call ended.
    async fn retire_processes(&self, fleet_id: &str, compute_name: &str, now: Timestamp) -> Vec<ProcessInfo>;

    /// Tells a deregistered compute's agent, if connected, to shut down
    /// (`StartComputeTermination`); the compute is no longer watched.
    async fn stop_agent(&self, fleet_id: &str, compute_name: &str);

    /// A compute was registered (again): its processes may connect.
    async fn compute_registered(&self, fleet_id: &str, compute_name: &str);

    /// Counts of a fleet's active processes, in one location or all.
    async fn usage(&self, fleet_id: &str, location: Option<&str>) -> Usage;
}

/// A process bound to a game session that is being created: the process as claimed, and
/// the claim itself, which gives the process back when dropped unless it was
/// [`commit`](Self::commit)ted.
///
/// Giving it back never awaits, so a request cancelled while it holds a claim releases
/// the process at once.
#[must_use = "a claim dropped at once releases the process"]
pub struct Claim<'a> {
    info: ProcessInfo,
    release: Option<Box<dyn FnOnce() + Send + 'a>>,
}

impl<'a> Claim<'a> {
    /// A claim of `info` that runs `release` when dropped uncommitted.
    pub fn new(info: ProcessInfo, release: impl FnOnce() + Send + 'a) -> Self {
        Claim { info, release: Some(Box::new(release)) }
    }

    /// Keeps the process bound to its game session for good: the session is stored and
    /// the process was told. Returns the process as claimed.
    pub fn commit(mut self) -> ProcessInfo {
        self.release = None;
        self.info.clone()
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

impl fmt::Debug for Claim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim").field("info", &self.info).finish_non_exhaustive()
    }
}

impl Deref for Claim<'_> {
    type Target = ProcessInfo;

    fn deref(&self) -> &ProcessInfo {
        &self.info
    }
}
