//! The records the control plane keeps.
//!
//! Where GameLift's own shape already says everything about a resource
//! (`FleetAttributes`, `Alias`, `Compute`, `Event`, `GameSession`, `PlayerSession`)
//! the record embeds it, so what is stored is what is answered; records add only
//! what the API never shows.

use std::time::Duration;

use openlift_model::{
    Alias, Compute, Event, FleetAttributes, GameSession, LocationState, PlayerSession, ProtectionPolicy,
    RuntimeConfiguration, Timestamp,
};
use serde::{Deserialize, Serialize};

/// A custom location (`CreateLocation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// `custom-...`, unique in the Region.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// When it was created.
    pub creation_time: Timestamp,
}

/// A fleet: its attributes, where it runs, and how its servers are launched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Everything DescribeFleetAttributes reports.
    pub attributes: FleetAttributes,
    /// The home Region first, then each added location, with its status.
    pub locations: Vec<LocationState>,
    /// How server processes are launched on its computes, when set.
    pub runtime_configuration: Option<RuntimeConfiguration>,
}

impl Fleet {
    /// The fleet's ID.
    pub fn id(&self) -> &str {
        self.attributes.fleet_id.as_deref().unwrap_or_default()
    }
}

/// One entry of a fleet's event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetEvent {
    /// The fleet whose log holds the event.
    pub fleet_id: String,
    /// The event as DescribeFleetEvents reports it.
    pub event: Event,
}

/// A compute registered with an Anywhere fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputeRecord {
    /// The compute as DescribeCompute reports it.
    pub compute: Compute,
    /// The TLS certificate path given at registration (kept, never validated).
    pub certificate_path: Option<String>,
    /// Whether an agent has connected for this compute: a restarted control plane then
    /// expects it back within the agent heartbeat timeout.
    #[serde(default)]
    pub agent: bool,
}

/// A compute auth token issued by GetComputeAuthToken.
///
/// Only the token's digest is kept; the SDK endpoint recomputes it to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthToken {
    /// `ids::auth_token_digest` of the token.
    pub digest: String,
    /// The fleet the token is bound to.
    pub fleet_id: String,
    /// The compute the token is bound to.
    pub compute_name: String,
    /// When the token stops being accepted.
    pub expires_at: Timestamp,
}

/// An alias, exactly as DescribeAlias reports it.
pub type AliasRecord = Alias;

/// A game session (CreateGameSession) and what the control plane keeps beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameSessionRecord {
    /// The game session as DescribeGameSessions reports it (its `GameSessionId` is the ARN).
    pub game_session: GameSession,
    /// Its current protection policy, as DescribeGameSessionDetails reports it.
    pub protection_policy: ProtectionPolicy,
    /// The server process hosting it, once one was chosen.
    pub process_id: Option<String>,
    /// The idempotency token (or deprecated custom ID) of the creating request, if any.
    pub idempotency_token: Option<String>,
    /// Digest of the creating request's parameters: a repeat with the same token but a
    /// different digest is an `IdempotentParameterMismatchException`.
    pub request_digest: String,
    /// Log files the hosting process reported when the session ended.
    pub log_paths: Vec<String>,
}

impl GameSessionRecord {
    /// The game session's ID (its ARN).
    pub fn id(&self) -> &str {
        self.game_session.game_session_id.as_deref().unwrap_or_default()
    }
}

/// A player session, exactly as DescribePlayerSessions reports it.
pub type PlayerSessionRecord = PlayerSession;

/// The log files of one server process, kept for GetGameSessionLogUrl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessLogs {
    /// The server process they came from.
    pub process_id: String,
    /// Its fleet.
    pub fleet_id: String,
    /// When the control plane received them; retention counts from here.
    pub stored_at: Timestamp,
    /// The files as one zip archive, served as is.
    pub archive: Vec<u8>,
}

impl ProcessLogs {
    /// How long logs are kept after they were stored.
    pub const RETENTION: Duration = Duration::from_secs(14 * 24 * 60 * 60);
}

/// A ready server process as the control plane keeps it durably, so that a restarted
/// control plane knows the processes that reconnect: SDKs never repeat `ProcessReady`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerProcessRecord {
    /// The process ID (`pID`).
    pub process_id: String,
    /// Its fleet.
    pub fleet_id: String,
    /// Its compute.
    pub compute_name: String,
    /// The compute's fleet location.
    pub location: String,
    /// The certificate path registered with the compute.
    pub certificate_path: Option<String>,
    /// `sdkLanguage` of its connection.
    pub sdk_language: String,
    /// `sdkVersion` of its connection.
    pub sdk_version: String,
    /// `SdkToolName` of `ActivateServerProcess`.
    pub sdk_tool_name: Option<String>,
    /// `SdkToolVersion` of `ActivateServerProcess`.
    pub sdk_tool_version: Option<String>,
    /// The port players connect to.
    pub port: Option<u16>,
    /// The log paths it reported.
    pub log_paths: Vec<String>,
    /// When it first connected.
    pub connected_at: Timestamp,
    /// When it became ready.
    pub activated_at: Timestamp,
    /// Digests of the auth tokens its connections presented, which its reconnects may
    /// keep presenting after they expire.
    pub token_digests: Vec<String>,
}
