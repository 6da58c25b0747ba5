//! What the registry knows about server processes: their life cycle, the game session
//! slot, and the errors and reports of registry operations (`server-sdk-protocol.md`
//! sections 5 and 6).

use std::collections::BTreeSet;

use openlift_model::{GameSessionStatusReason, Timestamp};

/// Where a process is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessStatus {
    /// Connected (`InitSDK`) but not yet ready.
    Connected,
    /// Ready to host a game session (`ProcessReady`).
    Active,
    /// Told to terminate (`TerminateProcess` pushed) at `since`.
    Terminating {
        /// When the push was sent.
        since: Timestamp,
        /// Why.
        reason: EndReason,
    },
    /// Gone for good.
    Ended {
        /// When it ended.
        at: Timestamp,
        /// Why.
        reason: EndReason,
    },
}

/// Why a process ended or is being terminated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The process called `ProcessEnding` (`TerminateServerProcess`).
    ProcessEnding,
    /// No healthy heartbeat within the heartbeat timeout.
    Unhealthy,
    /// The service asked it to stop ([`Registry::terminate`](super::registry::Registry::terminate)).
    ForceTerminated,
    /// It disconnected before becoming ready and did not come back within the timeout.
    Abandoned,
    /// Its compute's agent reported that it exited abnormally (`SERVER_PROCESS_CRASHED`).
    Crashed,
    /// Its compute was deregistered (DeregisterCompute, DeleteFleetLocations).
    Deregistered,
}

impl EndReason {
    /// The `StatusReason` its game session ends with (`None` keeps the session's own):
    /// `ProcessEnding` is the game's own end, a forced stop is `FORCE_TERMINATED`, and
    /// every other end interrupts the session, as when an agent reports a crash.
    pub fn session_reason(self) -> Option<GameSessionStatusReason> {
        match self {
            EndReason::ProcessEnding => None,
            EndReason::ForceTerminated => Some(GameSessionStatusReason::ForceTerminated),
            EndReason::Unhealthy | EndReason::Abandoned | EndReason::Crashed | EndReason::Deregistered => {
                Some(GameSessionStatusReason::Interrupted)
            }
        }
    }
}

/// The game session bound to a process (one per process lifetime, section 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameSessionSlot {
    /// The game session's ID.
    pub game_session_id: String,
    /// Whether the process reported it active (`ActivateGameSession`).
    pub activated: bool,
    /// When it was claimed.
    pub claimed_at: Timestamp,
}

/// What the registry knows about one server process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessInfo {
    /// The process ID (`pID`).
    pub process_id: String,
    /// Its fleet.
    pub fleet_id: String,
    /// Its compute (`ComputeId`).
    pub compute_name: String,
    /// The compute's fleet location.
    pub location: String,
    /// The certificate path registered with the compute.
    pub certificate_path: Option<String>,
    /// The compute's IP address, as registered when the process connected.
    pub ip_address: Option<String>,
    /// The compute's DNS name, as registered when the process connected.
    pub dns_name: Option<String>,
    /// `sdkLanguage` of the newest connection.
    pub sdk_language: String,
    /// `sdkVersion` of the newest connection.
    pub sdk_version: String,
    /// `SdkToolName` of `ActivateServerProcess`.
    pub sdk_tool_name: Option<String>,
    /// `SdkToolVersion` of `ActivateServerProcess`.
    pub sdk_tool_version: Option<String>,
    /// The port players connect to, once active.
    pub port: Option<u16>,
    /// The log paths reported by `ProcessReady`.
    pub log_paths: Vec<String>,
    /// Life-cycle state.
    pub status: ProcessStatus,
    /// The health the last heartbeat reported (true until one says otherwise).
    pub healthy: bool,
    /// The last healthy heartbeat (activation counts as one).
    pub last_healthy: Option<Timestamp>,
    /// When the process first connected.
    pub connected_at: Timestamp,
    /// When it became active.
    pub activated_at: Option<Timestamp>,
    /// When a connection last attached or detached.
    pub last_seen: Timestamp,
    /// Connections attached now (two while a refresh overlaps; zero while reconnecting).
    pub connections: usize,
    /// Connections attached over the process's life (reconnects and refreshes included).
    pub attachments: u64,
    /// The game session it hosts, if any.
    pub game_session: Option<GameSessionSlot>,
}

/// Why a connection cannot attach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    /// The process ended; process IDs must be unique between executions.
    #[error("process {0} has ended; a process ID must be unique between executions")]
    Ended(String),
    /// The process ID is registered with another fleet or compute.
    #[error("process {0} belongs to another fleet or compute")]
    Foreign(String),
    /// The compute was deregistered.
    #[error("compute {0} has been deregistered")]
    Deregistered(String),
}

/// Why an operation on a process was refused; the message is what the SDK is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// No such process.
    #[error("Server process {0} is not known.")]
    Unknown(String),
    /// The process ended.
    #[error("Server process {0} has ended.")]
    Ended(String),
    /// The process is terminating and cannot become ready.
    #[error("Server process {0} is terminating.")]
    Terminating(String),
    /// The process does not host this game session.
    #[error("Unknown game session {0}: it is not hosted by this server process.")]
    UnknownGameSession(String),
    /// Neither a connection nor the pending queue can take the push.
    #[error("Server process {0} is not connected and has too many pushes waiting.")]
    Backlog(String),
}

/// How a push was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the newest live connection.
    Sent,
    /// Queued until the process reconnects.
    Queued,
}

/// The ready processes of a fleet (location), for capacity reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Processes in `Active`.
    pub active_server_processes: usize,
    /// Active processes hosting a game session.
    pub game_sessions: usize,
    /// Computes hosting at least one game session.
    pub busy_computes: BTreeSet<String>,
}

/// Why a sweep ended a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// It missed the heartbeat timeout with no connection to tell it `TerminateProcess`.
    Unhealthy,
    /// It did not call `ProcessEnding` within [`TERMINATION_GRACE`](super::registry::TERMINATION_GRACE).
    Grace,
    /// It never became ready and stayed disconnected for the heartbeat timeout.
    Abandoned,
}

/// What one sweep changed.
#[derive(Debug, Default)]
pub struct Swept {
    /// Processes told to terminate because they missed the heartbeat timeout.
    pub unhealthy: Vec<ProcessInfo>,
    /// Processes that ended in this sweep, and why.
    pub ended: Vec<(ProcessInfo, Expiry)>,
    /// Ready, connected processes whose credential expires soon: to be sent
    /// `RefreshConnection` ([`refresh_connection`](crate::sdk::refresh_connection)).
    pub refresh: Vec<ProcessInfo>,
}

/// What `ActivateServerProcess` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Activation {
    pub(crate) port: Option<u16>,
    pub(crate) log_paths: Vec<String>,
    pub(crate) sdk_tool_name: Option<String>,
    pub(crate) sdk_tool_version: Option<String>,
}
