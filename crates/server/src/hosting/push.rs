//! Service → SDK pushes, in the exact shapes of `server-sdk-protocol.md` section 4.
//!
//! Every push carries `Action` and `StatusCode: 200` and no `RequestId` (section 2, rule 3):
//! the C# SDK would drop a push with an empty `RequestId`, and the Go SDK treats a frame
//! without `StatusCode` as an error. Integers are JSON integers; `GameProperties` is an
//! object of string → string (not the AWS API's list of `{Key, Value}`).

use std::collections::BTreeMap;

use openlift_model::Timestamp;
use serde::Serialize;

/// A message the service sends to a server process on its own initiative.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "Action")]
pub enum Push {
    /// Hands the process a game session (`OnStartGameSession`).
    CreateGameSession(CreateGameSession),
    /// Reports a change of the game session, e.g. a match backfill result (`OnUpdateGameSession`).
    UpdateGameSession(UpdateGameSession),
    /// Asks the process to shut down (`OnProcessTerminate`).
    TerminateProcess(TerminateProcess),
    /// Asks the SDK to open a new connection and close the current one.
    RefreshConnection(RefreshConnection),
}

/// The `CreateGameSession` push. The SDKs inject their own fleet ID and read no location
/// or status, so none is sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGameSession {
    /// The game session ARN-shaped ID (section 1.5).
    pub game_session_id: String,
    /// The game session's name.
    pub game_session_name: String,
    /// Most players the game session admits.
    pub maximum_player_session_count: i32,
    /// The port players connect to (the process's port).
    pub port: i32,
    /// The compute's IP address.
    pub ip_address: String,
    /// The compute's DNS name.
    pub dns_name: String,
    /// Opaque game data given at creation.
    pub game_session_data: String,
    /// Matchmaker data: a JSON document as a string.
    pub matchmaker_data: String,
    /// Game properties as an object of string → string.
    pub game_properties: BTreeMap<String, String>,
}

/// The game session inside an `UpdateGameSession` push; its name key is `Name`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PushedGameSession {
    /// The game session ID.
    pub game_session_id: String,
    /// The game session's name.
    pub name: String,
    /// The fleet ID.
    pub fleet_id: String,
    /// The fleet location hosting the session, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Most players the game session admits.
    pub maximum_player_session_count: i32,
    /// The port players connect to.
    pub port: i32,
    /// The compute's IP address.
    pub ip_address: String,
    /// The compute's DNS name.
    pub dns_name: String,
    /// Opaque game data.
    pub game_session_data: String,
    /// Matchmaker data: a JSON document as a string.
    pub matchmaker_data: String,
    /// Game properties as an object of string → string.
    pub game_properties: BTreeMap<String, String>,
    /// `ACTIVE`, `ACTIVATING`, `TERMINATED` or `TERMINATING`, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why the status is what it is, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
}

/// The `UpdateGameSession` push.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateGameSession {
    /// The game session as it is now.
    pub game_session: PushedGameSession,
    /// `MATCHMAKING_DATA_UPDATED`, `BACKFILL_FAILED`, `BACKFILL_TIMED_OUT`, `BACKFILL_CANCELLED`.
    pub update_reason: String,
    /// The backfill ticket the update answers, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfill_ticket_id: Option<String>,
}

/// The `TerminateProcess` push.
#[derive(Debug, Clone, PartialEq)]
pub struct TerminateProcess {
    /// When the process will be stopped; sent as epoch milliseconds (section 4).
    pub termination_time: Timestamp,
}

impl Serialize for TerminateProcess {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("TerminateProcess", 1)?;
        s.serialize_field("TerminationTime", &self.termination_time.as_millis())?;
        s.end()
    }
}

/// The `RefreshConnection` push.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RefreshConnection {
    /// The URL to connect to (the SDK endpoint).
    pub refresh_connection_endpoint: String,
    /// A fresh compute auth token for the new connection.
    pub auth_token: String,
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(flatten)]
    push: &'a Push,
    #[serde(rename = "StatusCode")]
    status_code: u16,
}

impl Push {
    /// The push's `Action`.
    pub fn action(&self) -> &'static str {
        match self {
            Push::CreateGameSession(_) => "CreateGameSession",
            Push::UpdateGameSession(_) => "UpdateGameSession",
            Push::TerminateProcess(_) => "TerminateProcess",
            Push::RefreshConnection(_) => "RefreshConnection",
        }
    }

    /// The JSON text frame of this push.
    pub fn to_frame(&self) -> String {
        serde_json::to_string(&Envelope { push: self, status_code: 200 })
            .expect("pushes hold only strings, integers and string maps")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn frame(push: Push) -> Value {
        serde_json::from_str(&push.to_frame()).unwrap()
    }

    #[test]
    fn create_game_session_has_the_section_4_shape() {
        let push = Push::CreateGameSession(CreateGameSession {
            game_session_id: "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-9".into(),
            game_session_name: "match-42".into(),
            maximum_player_session_count: 8,
            port: 7777,
            ip_address: "203.0.113.10".into(),
            game_properties: [("map".to_owned(), "dust".to_owned())].into(),
            ..Default::default()
        });
        assert_eq!(
            frame(push),
            json!({"Action": "CreateGameSession", "StatusCode": 200,
                   "GameSessionId": "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-9",
                   "GameSessionName": "match-42", "MaximumPlayerSessionCount": 8, "Port": 7777,
                   "IpAddress": "203.0.113.10", "DnsName": "", "GameSessionData": "", "MatchmakerData": "",
                   "GameProperties": {"map": "dust"}})
        );
    }

    #[test]
    fn terminate_process_sends_epoch_milliseconds() {
        let push =
            Push::TerminateProcess(TerminateProcess { termination_time: Timestamp::from_millis(1_767_229_200_000) });
        assert_eq!(
            frame(push),
            json!({"Action": "TerminateProcess", "StatusCode": 200, "TerminationTime": 1_767_229_200_000_i64})
        );
    }

    #[test]
    fn update_game_session_names_the_session_name_key_name() {
        let push = Push::UpdateGameSession(UpdateGameSession {
            game_session: PushedGameSession { game_session_id: "gs".into(), name: "n".into(), ..Default::default() },
            update_reason: "MATCHMAKING_DATA_UPDATED".into(),
            backfill_ticket_id: Some("bf-1".into()),
        });
        let value = frame(push);
        assert_eq!(value["GameSession"]["Name"], "n");
        assert_eq!(value["BackfillTicketId"], "bf-1");
        assert!(value.get("RequestId").is_none());
        assert!(value["GameSession"].get("Status").is_none());
    }

    #[test]
    fn refresh_connection_carries_endpoint_and_token() {
        let push = Push::RefreshConnection(RefreshConnection {
            refresh_connection_endpoint: "wss://gl.example.net:7443".into(),
            auth_token: "tok".into(),
        });
        assert_eq!(
            frame(push),
            json!({"Action": "RefreshConnection", "StatusCode": 200,
                   "RefreshConnectionEndpoint": "wss://gl.example.net:7443", "AuthToken": "tok"})
        );
    }
}
