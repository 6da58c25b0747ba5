//! Public data types of the SDK surface, with their wire shapes (protocol spec §3, §4 and §7).
//!
//! Types the service sends tolerate `null` and absent keys (spec §2 rule 4); types the SDK sends
//! use PascalCase keys and omit unset optional fields.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Reads `null` or an absent key as the type's default.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A game session as the service describes it to the server process (spec §7 GameSession).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GameSession {
    /// The game session ID (an ARN-shaped string).
    #[serde(default, deserialize_with = "null_as_default")]
    pub game_session_id: String,
    /// The game session's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The fleet ID; the SDK always fills in its own fleet, as the official SDKs do.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fleet_id: String,
    /// The maximum number of player sessions.
    #[serde(default, deserialize_with = "null_as_default")]
    pub maximum_player_session_count: u32,
    /// The port players connect to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub port: u16,
    /// The IP address players connect to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ip_address: String,
    /// The DNS name players connect to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub dns_name: String,
    /// Opaque game session data given at creation.
    #[serde(default, deserialize_with = "null_as_default")]
    pub game_session_data: String,
    /// FlexMatch matchmaker data, a JSON document in a string.
    #[serde(default, deserialize_with = "null_as_default")]
    pub matchmaker_data: String,
    /// Game properties as a key/value map.
    #[serde(default, deserialize_with = "null_as_default")]
    pub game_properties: HashMap<String, String>,
}

/// Why the service sent an `UpdateGameSession` push (spec §4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UpdateReason {
    /// The matchmaker data changed (a backfill succeeded).
    MatchmakingDataUpdated,
    /// The backfill failed.
    BackfillFailed,
    /// The backfill timed out.
    BackfillTimedOut,
    /// The backfill was cancelled.
    BackfillCancelled,
    /// Any value this SDK does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

/// An updated game session, usually the result of a match backfill (spec §4 UpdateGameSession).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateGameSession {
    /// The game session as updated.
    #[serde(default, deserialize_with = "null_as_default")]
    pub game_session: GameSession,
    /// Why it was updated.
    #[serde(default, deserialize_with = "null_as_default")]
    pub update_reason: UpdateReason,
    /// The backfill ticket this update answers, if any.
    #[serde(default, deserialize_with = "null_as_default")]
    pub backfill_ticket_id: String,
}

/// Whether a game session accepts new player sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlayerSessionCreationPolicy {
    /// New player sessions are accepted.
    AcceptAll,
    /// New player sessions are refused.
    DenyAll,
}

/// A player session's status (spec §7 PlayerSession).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlayerSessionStatus {
    /// Created, waiting for the player to connect.
    Reserved,
    /// Accepted by the server process.
    Active,
    /// Removed by the server process.
    Completed,
    /// Not accepted in time.
    Timedout,
    /// Absent or unknown.
    #[default]
    #[serde(other)]
    NotSet,
}

/// A player session (spec §7 PlayerSession).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PlayerSession {
    /// The player session ID.
    #[serde(default, deserialize_with = "null_as_default")]
    pub player_session_id: String,
    /// The player's ID.
    #[serde(default, deserialize_with = "null_as_default")]
    pub player_id: String,
    /// The game session this player session belongs to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub game_session_id: String,
    /// The fleet ID.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fleet_id: String,
    /// The status.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: PlayerSessionStatus,
    /// The IP address players connect to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ip_address: String,
    /// The DNS name players connect to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub dns_name: String,
    /// The port players connect to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub port: u16,
    /// Opaque player data.
    #[serde(default, deserialize_with = "null_as_default")]
    pub player_data: String,
    /// Creation time as the service sent it (epoch milliseconds).
    #[serde(default, deserialize_with = "null_as_default")]
    pub creation_time: i64,
    /// Termination time as the service sent it (epoch milliseconds, 0 when still open).
    #[serde(default, deserialize_with = "null_as_default")]
    pub termination_time: i64,
}

/// Which player sessions `describe_player_sessions` returns: set exactly one of the three IDs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribePlayerSessionsRequest {
    /// All player sessions of this game session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub game_session_id: Option<String>,
    /// All player sessions of this player.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player_id: Option<String>,
    /// This one player session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player_session_id: Option<String>,
    /// Only sessions with this status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player_session_status_filter: Option<PlayerSessionStatus>,
    /// The token of the page to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// The page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A page of player sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribePlayerSessionsResult {
    /// The token of the next page, if any.
    #[serde(default)]
    pub next_token: Option<String>,
    /// The player sessions of this page.
    #[serde(default, deserialize_with = "null_as_default")]
    pub player_sessions: Vec<PlayerSession>,
}

/// A player attribute value for matchmaking (spec §7 AttributeValue).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "AttrType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttributeValue {
    /// A string.
    String {
        /// The value.
        #[serde(rename = "S")]
        s: String,
    },
    /// A number.
    Double {
        /// The value.
        #[serde(rename = "N")]
        n: f64,
    },
    /// A list of strings.
    StringList {
        /// The value.
        #[serde(rename = "SL")]
        sl: Vec<String>,
    },
    /// A map from strings to numbers.
    StringDoubleMap {
        /// The value.
        #[serde(rename = "SDM")]
        sdm: HashMap<String, f64>,
    },
}

/// A player in a match backfill request (spec §7 Player).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Player {
    /// The player's ID.
    pub player_id: String,
    /// The team the player is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Matchmaking attributes.
    pub player_attributes: HashMap<String, AttributeValue>,
    /// Latency per region, in milliseconds.
    pub latency_in_ms: HashMap<String, i32>,
}

/// Parameters of `start_match_backfill` (spec §3 StartMatchBackfill).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartMatchBackfillRequest {
    /// A ticket ID; empty lets the service choose one.
    pub ticket_id: String,
    /// The game session to backfill.
    pub game_session_arn: String,
    /// The matchmaking configuration to use.
    pub matchmaking_configuration_arn: String,
    /// The players currently in the game session.
    pub players: Vec<Player>,
}

/// The result of `start_match_backfill`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartMatchBackfillResult {
    /// The backfill ticket's ID.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ticket_id: String,
}

/// Parameters of `stop_match_backfill` (spec §3 StopMatchBackfill).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StopMatchBackfillRequest {
    /// The game session being backfilled.
    pub game_session_arn: String,
    /// The matchmaking configuration used.
    pub matchmaking_configuration_arn: String,
    /// The backfill ticket to cancel.
    pub ticket_id: String,
}

/// The result of `get_compute_certificate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetComputeCertificateResult {
    /// Where the compute's TLS certificate is stored.
    #[serde(default, deserialize_with = "null_as_default")]
    pub certificate_path: String,
    /// The compute's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub compute_name: String,
}

/// Parameters of `get_fleet_role_credentials` (spec §3 GetFleetRoleCredentials).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFleetRoleCredentialsRequest {
    /// The IAM role to assume.
    pub role_arn: String,
    /// The session name; empty means `<fleetId>-<hostId>` cut to 64 characters.
    pub role_session_name: String,
}

/// Temporary credentials of the fleet's IAM role.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFleetRoleCredentialsResult {
    /// The assumed role user's ARN.
    #[serde(default, deserialize_with = "null_as_default")]
    pub assumed_role_user_arn: String,
    /// The assumed role's ID.
    #[serde(default, deserialize_with = "null_as_default")]
    pub assumed_role_id: String,
    /// The access key ID.
    #[serde(default, deserialize_with = "null_as_default")]
    pub access_key_id: String,
    /// The secret access key.
    #[serde(default, deserialize_with = "null_as_default")]
    pub secret_access_key: String,
    /// The session token.
    #[serde(default, deserialize_with = "null_as_default")]
    pub session_token: String,
    /// When the credentials expire, in epoch milliseconds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub expiration: i64,
}

impl fmt::Debug for GetFleetRoleCredentialsResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetFleetRoleCredentialsResult")
            .field("assumed_role_user_arn", &self.assumed_role_user_arn)
            .field("assumed_role_id", &self.assumed_role_id)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .finish()
    }
}
