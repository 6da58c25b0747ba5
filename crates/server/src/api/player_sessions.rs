//! CreatePlayerSession, CreatePlayerSessions and DescribePlayerSessions
//! (`control-plane-api.md` section 7.10).

use openlift_model::{
    ApiError, CreatePlayerSessionInput, CreatePlayerSessionOutput, CreatePlayerSessionsInput,
    CreatePlayerSessionsOutput, DescribePlayerSessionsInput, DescribePlayerSessionsOutput, PlayerSessionStatus,
};
use openlift_store::PlayerSessionFilter;

use crate::app::{App, MAX_PAGE, internal};
use crate::players;

/// Reserves a slot for one player.
pub async fn create_one(app: &App, input: CreatePlayerSessionInput) -> Result<CreatePlayerSessionOutput, ApiError> {
    let mut created = players::reserve(app, &input.game_session_id, &[(input.player_id, input.player_data)]).await?;
    Ok(CreatePlayerSessionOutput { player_session: created.pop() })
}

/// Reserves slots for several players, all or none; player data for IDs not listed is ignored.
pub async fn create_many(app: &App, input: CreatePlayerSessionsInput) -> Result<CreatePlayerSessionsOutput, ApiError> {
    let data = input.player_data_map.unwrap_or_default();
    let players: Vec<(String, Option<String>)> =
        input.player_ids.into_iter().map(|id| (id.clone(), data.get(&id).cloned())).collect();
    let created = players::reserve(app, &input.game_session_id, &players).await?;
    Ok(CreatePlayerSessionsOutput { player_sessions: Some(created) })
}

/// Player sessions by ID, by game session (optionally by status) or by player.
pub async fn describe(app: &App, input: DescribePlayerSessionsInput) -> Result<DescribePlayerSessionsOutput, ApiError> {
    describe_in(app, input, None).await
}

/// [`describe`] as a game server of fleet `fleet_id` sees it (`None`: the control plane,
/// which sees every fleet): listings by game session or player hold only the fleet's player
/// sessions, and their `NextToken`s page only that view. A player session named by ID is
/// returned whatever its fleet; the caller checks it.
pub(crate) async fn describe_in(
    app: &App,
    input: DescribePlayerSessionsInput,
    fleet_id: Option<&str>,
) -> Result<DescribePlayerSessionsOutput, ApiError> {
    let given =
        [&input.player_session_id, &input.game_session_id, &input.player_id].iter().filter(|v| v.is_some()).count();
    if given != 1 {
        return Err(ApiError::invalid_request("Give exactly one of PlayerSessionId, GameSessionId and PlayerId."));
    }
    if let Some(id) = &input.player_session_id {
        let found = app.store.get_player_session(id).await.map_err(internal)?;
        return Ok(DescribePlayerSessionsOutput {
            player_sessions: Some(found.into_iter().collect()),
            next_token: None,
        });
    }
    let status = match (&input.game_session_id, &input.player_session_status_filter) {
        (Some(_), Some(filter)) => match PlayerSessionStatus::parse(filter) {
            Some(status) => Some(status.as_str().to_owned()),
            None => {
                return Err(ApiError::invalid_request(format!(
                    "PlayerSessionStatusFilter {filter} is not one of {}.",
                    PlayerSessionStatus::VALUES.join(", ")
                )));
            }
        },
        _ => None,
    };
    let filter = PlayerSessionFilter {
        game_session_id: input.game_session_id.clone(),
        player_id: input.player_id.clone(),
        status,
        created_before: None,
        fleet_id: fleet_id.map(str::to_owned),
    };
    let mut scope = format!(
        "DescribePlayerSessions|{}|{}|{}",
        filter.game_session_id.as_deref().unwrap_or_default(),
        filter.player_id.as_deref().unwrap_or_default(),
        filter.status.as_deref().unwrap_or_default()
    );
    if let Some(fleet_id) = fleet_id {
        scope.push_str(&format!("|fleet {fleet_id}"));
    }
    let page = app.page_request(&scope, input.limit, input.next_token.as_deref(), MAX_PAGE)?;
    let found = app.store.list_player_sessions(&filter, page).await.map_err(internal)?;
    let next_token = app.next_token(&scope, &found);
    Ok(DescribePlayerSessionsOutput { player_sessions: Some(found.items), next_token })
}
