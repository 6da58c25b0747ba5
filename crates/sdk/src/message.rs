//! Wire messages: the SDK's requests, the service's responses and pushes (protocol spec §2
//! envelope and dispatch, §3 requests, §4 pushes).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{
    DescribePlayerSessionsRequest, GameSession, GetFleetRoleCredentialsRequest, PlayerSessionCreationPolicy,
    StartMatchBackfillRequest, StopMatchBackfillRequest, UpdateGameSession, null_as_default,
};

/// A request from the SDK to the service; the variant name is the `Action`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "Action", rename_all_fields = "PascalCase")]
pub(crate) enum Request {
    ActivateServerProcess {
        sdk_version: &'static str,
        sdk_language: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        sdk_tool_name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sdk_tool_version: Option<String>,
        port: u16,
        log_paths: Vec<String>,
    },
    HeartbeatServerProcess {
        health_status: bool,
    },
    ActivateGameSession {
        game_session_id: String,
    },
    TerminateServerProcess {},
    UpdatePlayerSessionCreationPolicy {
        game_session_id: String,
        player_session_policy: PlayerSessionCreationPolicy,
    },
    AcceptPlayerSession {
        game_session_id: String,
        player_session_id: String,
    },
    RemovePlayerSession {
        game_session_id: String,
        player_session_id: String,
    },
    DescribePlayerSessions(DescribePlayerSessionsRequest),
    StartMatchBackfill(StartMatchBackfillRequest),
    StopMatchBackfill(StopMatchBackfillRequest),
    GetComputeCertificate {},
    GetFleetRoleCredentials(GetFleetRoleCredentialsRequest),
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(flatten)]
    request: &'a Request,
    #[serde(rename = "RequestId")]
    request_id: &'a str,
}

impl Request {
    /// The `Action` this request is sent with.
    pub(crate) fn action(&self) -> &'static str {
        match self {
            Self::ActivateServerProcess { .. } => "ActivateServerProcess",
            Self::HeartbeatServerProcess { .. } => "HeartbeatServerProcess",
            Self::ActivateGameSession { .. } => "ActivateGameSession",
            Self::TerminateServerProcess {} => "TerminateServerProcess",
            Self::UpdatePlayerSessionCreationPolicy { .. } => "UpdatePlayerSessionCreationPolicy",
            Self::AcceptPlayerSession { .. } => "AcceptPlayerSession",
            Self::RemovePlayerSession { .. } => "RemovePlayerSession",
            Self::DescribePlayerSessions(_) => "DescribePlayerSessions",
            Self::StartMatchBackfill(_) => "StartMatchBackfill",
            Self::StopMatchBackfill(_) => "StopMatchBackfill",
            Self::GetComputeCertificate {} => "GetComputeCertificate",
            Self::GetFleetRoleCredentials(_) => "GetFleetRoleCredentials",
        }
    }

    /// The JSON text frame carrying this request under `request_id`.
    pub(crate) fn encode(&self, request_id: &str) -> Result<String, serde_json::Error> {
        serde_json::to_string(&Envelope { request: self, request_id })
    }
}

/// A non-200 answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceFailure {
    pub(crate) status: i64,
    pub(crate) message: String,
}

/// A message the service pushed to be handled by the game (spec §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Push {
    CreateGameSession(GameSession),
    UpdateGameSession(UpdateGameSession),
    /// `TerminationTime` as sent, in epoch milliseconds.
    TerminateProcess(i64),
}

/// The new endpoint and token of a `RefreshConnection` push (spec §4).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RefreshConnection {
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) refresh_connection_endpoint: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) auth_token: String,
}

/// One decoded frame from the service.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Inbound {
    /// The answer to the request with this ID: the whole frame on success.
    Response {
        request_id: String,
        outcome: Result<Value, ServiceFailure>,
    },
    Push(Push),
    Refresh(RefreshConnection),
}

/// Why a frame could not be routed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("not a valid message: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a message with neither a known push action nor a request id")]
    Unroutable,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Head {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    status_code: Option<i64>,
    #[serde(default)]
    error_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateGameSessionMessage {
    #[serde(default, deserialize_with = "null_as_default")]
    game_session_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    game_session_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    maximum_player_session_count: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    port: u16,
    #[serde(default, deserialize_with = "null_as_default")]
    ip_address: String,
    #[serde(default, deserialize_with = "null_as_default")]
    dns_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    game_session_data: String,
    #[serde(default, deserialize_with = "null_as_default")]
    matchmaker_data: String,
    #[serde(default, deserialize_with = "null_as_default")]
    game_properties: std::collections::HashMap<String, String>,
}

impl From<CreateGameSessionMessage> for GameSession {
    fn from(m: CreateGameSessionMessage) -> Self {
        Self {
            game_session_id: m.game_session_id,
            name: m.game_session_name,
            fleet_id: String::new(),
            maximum_player_session_count: m.maximum_player_session_count,
            port: m.port,
            ip_address: m.ip_address,
            dns_name: m.dns_name,
            game_session_data: m.game_session_data,
            matchmaker_data: m.matchmaker_data,
            game_properties: m.game_properties,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TerminateProcessMessage {
    #[serde(default, deserialize_with = "null_as_default")]
    termination_time: i64,
}

/// Routes one text frame the way the official SDKs do (spec §2): a frame with a request ID and a
/// status other than 200 (or none) is an error answer; a known push action is a push; anything
/// else with a request ID is a success answer.
pub(crate) fn decode(text: &str) -> Result<Inbound, DecodeError> {
    let value: Value = serde_json::from_str(text)?;
    let head = Head::deserialize(&value)?;
    let request_id = head.request_id.filter(|id| !id.is_empty());
    let status = head.status_code.unwrap_or(0);
    if let Some(request_id) = &request_id
        && status != 200
    {
        return Ok(Inbound::Response {
            request_id: request_id.clone(),
            outcome: Err(ServiceFailure { status, message: head.error_message.unwrap_or_default() }),
        });
    }
    let inbound = match head.action.as_deref() {
        Some("CreateGameSession") => {
            Inbound::Push(Push::CreateGameSession(CreateGameSessionMessage::deserialize(value)?.into()))
        }
        Some("UpdateGameSession") => Inbound::Push(Push::UpdateGameSession(UpdateGameSession::deserialize(value)?)),
        Some("TerminateProcess") => {
            Inbound::Push(Push::TerminateProcess(TerminateProcessMessage::deserialize(value)?.termination_time))
        }
        Some("RefreshConnection") => Inbound::Refresh(RefreshConnection::deserialize(value)?),
        _ => match request_id {
            Some(request_id) => Inbound::Response { request_id, outcome: Ok(value) },
            None => return Err(DecodeError::Unroutable),
        },
    };
    Ok(inbound)
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
