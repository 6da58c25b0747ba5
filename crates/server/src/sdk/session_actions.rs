//! The SDK actions that read or change game and player sessions
//! (`server-sdk-protocol.md` section 3): ActivateGameSession, AcceptPlayerSession,
//! RemovePlayerSession, UpdatePlayerSessionCreationPolicy and DescribePlayerSessions.
//!
//! A process may act only on the game session bound to it, and reads only its own fleet's
//! player sessions: by game session only its own session's, by player only those in its
//! fleet's game sessions, and by ID one of another fleet is `NotFound` as an unknown one is.
//! Times in player sessions are epoch milliseconds, as the SDKs read them (section 7).

use openlift_model::{
    ApiError, DescribePlayerSessionsInput, ErrorCode, PlayerSession, PlayerSessionCreationPolicy, PlayerSessionStatus,
};
use serde_json::{Map, Value, json};

use super::handlers::{self, Caller};
use super::messages::{Failure, Fields, integer, required_string, string};
use crate::app::App;
use crate::hosting::registry::ProcessError;

/// Answers `action` if it is one of this module's; `None` leaves it to the other handlers.
pub(super) async fn handle(
    app: &App,
    caller: Caller<'_>,
    action: &str,
    body: &Map<String, Value>,
) -> Option<Result<Fields, Failure>> {
    let outcome = match action {
        "ActivateGameSession" => activate(app, caller, body).await,
        "AcceptPlayerSession" => player(app, caller, body, true).await,
        "RemovePlayerSession" => player(app, caller, body, false).await,
        "UpdatePlayerSessionCreationPolicy" => creation_policy(app, caller, body).await,
        "DescribePlayerSessions" => describe(app, caller, body).await,
        _ => return None,
    };
    Some(outcome)
}

fn failure(error: ApiError) -> Failure {
    match error.code {
        ErrorCode::NotFoundException => Failure::not_found(error.message),
        ErrorCode::InternalServiceException => Failure::internal(),
        _ => Failure::bad_request(error.message),
    }
}

fn hosted<'a>(app: &App, caller: Caller<'_>, body: &'a Map<String, Value>) -> Result<&'a str, Failure> {
    let game_session_id = required_string(body, "GameSessionId")?;
    if app.sdk.processes.hosts(caller.process_id, game_session_id) {
        Ok(game_session_id)
    } else {
        Err(Failure::bad_request(format!("Unknown game session {game_session_id}: this process does not host it.")))
    }
}

async fn activate(app: &App, caller: Caller<'_>, body: &Map<String, Value>) -> Result<Fields, Failure> {
    let game_session_id = hosted(app, caller, body)?;
    app.services.sessions.activated(caller.process_id, game_session_id).await.map_err(failure)?;
    app.sdk
        .processes
        .activate_game_session(caller.process_id, game_session_id)
        .map_err(|e| Failure::bad_request(e.to_string()))?;
    Ok(Fields::new())
}

async fn player(app: &App, caller: Caller<'_>, body: &Map<String, Value>, accept: bool) -> Result<Fields, Failure> {
    let game_session_id = hosted(app, caller, body)?;
    let player_session_id = required_string(body, "PlayerSessionId")?;
    let outcome = if accept {
        app.services.players.accept(game_session_id, player_session_id).await
    } else {
        app.services.players.remove(game_session_id, player_session_id).await
    };
    outcome.map_err(failure)?;
    Ok(Fields::new())
}

async fn creation_policy(app: &App, caller: Caller<'_>, body: &Map<String, Value>) -> Result<Fields, Failure> {
    let game_session_id = hosted(app, caller, body)?;
    let policy = match required_string(body, "PlayerSessionPolicy")? {
        "ACCEPT_ALL" => PlayerSessionCreationPolicy::AcceptAll,
        "DENY_ALL" => PlayerSessionCreationPolicy::DenyAll,
        other => {
            return Err(Failure::bad_request(format!("PlayerSessionPolicy {other} is not ACCEPT_ALL or DENY_ALL.")));
        }
    };
    app.services
        .sessions
        .update_session(game_session_id, |record| {
            record.game_session.player_session_creation_policy = Some(policy);
            Ok(())
        })
        .await
        .map_err(failure)?;
    Ok(Fields::new())
}

async fn describe(app: &App, caller: Caller<'_>, body: &Map<String, Value>) -> Result<Fields, Failure> {
    let fleet_id = app
        .sdk
        .processes
        .get(caller.process_id)
        .map(|info| info.fleet_id)
        .ok_or_else(|| handlers::failure(ProcessError::Unknown(caller.process_id.into())))?;
    let game_session_id = string(body, "GameSessionId")?;
    if game_session_id.is_some() {
        hosted(app, caller, body)?;
    }
    let limit = integer(body, "Limit")?.filter(|&l| l > 0).map(|l| i32::try_from(l).unwrap_or(i32::MAX));
    let input = DescribePlayerSessionsInput {
        game_session_id: game_session_id.map(str::to_owned),
        player_id: string(body, "PlayerId")?.map(str::to_owned),
        player_session_id: string(body, "PlayerSessionId")?.map(str::to_owned),
        player_session_status_filter: string(body, "PlayerSessionStatusFilter")?.map(str::to_owned),
        limit,
        next_token: string(body, "NextToken")?.map(str::to_owned),
    };
    let player_session_id = input.player_session_id.clone();
    let output = app.services.players.describe(input, Some(&fleet_id)).await.map_err(failure)?;
    let players = output.player_sessions.unwrap_or_default();
    if let Some(id) = player_session_id {
        let foreign = players.iter().find(|p| p.fleet_id.as_deref() != Some(fleet_id.as_str()));
        if let Some(foreign) = foreign {
            tracing::warn!(process_id = %caller.process_id, fleet_id = %fleet_id, player_session_id = %id,
                owner_fleet_id = ?foreign.fleet_id, "sdk read of another fleet's player session refused");
        }
        if players.is_empty() || foreign.is_some() {
            return Err(Failure::not_found(format!("Player session {id} not found.")));
        }
    }
    let sessions: Vec<Value> = players.iter().map(sdk_player_session).collect();
    let mut fields = Fields::new();
    fields.insert("NextToken".into(), output.next_token.map_or(Value::Null, Value::String));
    fields.insert("PlayerSessions".into(), Value::Array(sessions));
    Ok(fields)
}

fn sdk_player_session(p: &PlayerSession) -> Value {
    json!({
        "PlayerSessionId": p.player_session_id,
        "PlayerId": p.player_id,
        "GameSessionId": p.game_session_id,
        "FleetId": p.fleet_id,
        "Status": p.status.map(PlayerSessionStatus::as_str),
        "IpAddress": p.ip_address,
        "DnsName": p.dns_name.clone().unwrap_or_default(),
        "Port": p.port,
        "PlayerData": p.player_data.clone().unwrap_or_default(),
        "CreationTime": p.creation_time.map_or(0, |t| t.as_millis()),
        "TerminationTime": p.termination_time.map_or(0, |t| t.as_millis()),
    })
}
