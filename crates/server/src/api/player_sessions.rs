//! CreatePlayerSession, CreatePlayerSessions and DescribePlayerSessions
//! (`control-plane-api.md` section 7.10).

use openlift_model::{
    ApiError, CreatePlayerSessionInput, CreatePlayerSessionOutput, CreatePlayerSessionsInput,
    CreatePlayerSessionsOutput, DescribePlayerSessionsInput, DescribePlayerSessionsOutput,
};

use crate::app::App;

/// Reserves a slot for one player.
pub async fn create_one(app: &App, input: CreatePlayerSessionInput) -> Result<CreatePlayerSessionOutput, ApiError> {
    let mut created =
        app.services.players.reserve(&input.game_session_id, &[(input.player_id, input.player_data)]).await?;
    Ok(CreatePlayerSessionOutput { player_session: created.pop() })
}

/// Reserves slots for several players, all or none; player data for IDs not listed is ignored.
pub async fn create_many(app: &App, input: CreatePlayerSessionsInput) -> Result<CreatePlayerSessionsOutput, ApiError> {
    let data = input.player_data_map.unwrap_or_default();
    let players: Vec<(String, Option<String>)> =
        input.player_ids.into_iter().map(|id| (id.clone(), data.get(&id).cloned())).collect();
    let created = app.services.players.reserve(&input.game_session_id, &players).await?;
    Ok(CreatePlayerSessionsOutput { player_sessions: Some(created) })
}

/// Player sessions by ID, by game session (optionally by status) or by player.
pub async fn describe(app: &App, input: DescribePlayerSessionsInput) -> Result<DescribePlayerSessionsOutput, ApiError> {
    app.services.players.describe(input, None).await
}
