//! Player sessions: reservations from the control plane, acceptance and removal by the
//! hosting process, timeouts (`control-plane-api.md` section 7.10).
//!
//! The game session's `CurrentPlayerSessionCount` (RESERVED plus ACTIVE players) changes
//! in the same transaction as the player sessions, so it is always exact.

use std::sync::Arc;
use std::time::Duration;

use openlift_core::clock::Clock;
use openlift_core::ids;
use openlift_core::records::PlayerSessionRecord;
use openlift_model::{
    ApiError, DescribePlayerSessionsInput, DescribePlayerSessionsOutput, ErrorCode, GameSessionStatus, PlayerSession,
    PlayerSessionCreationPolicy, PlayerSessionStatus,
};
use openlift_store::{PlayerSessionFilter, SessionChange, Store};

use super::common::{MAX_PAGE, Paging, internal};
use crate::cas;

/// How long a player session stays RESERVED before it times out.
pub const RESERVATION_TIMEOUT: Duration = Duration::from_secs(60);

/// Reserves, accepts, ends and lists player sessions.
pub struct Players {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    paging: Paging,
}

impl Players {
    /// Player sessions in `store`; `paging` issues the `NextToken`s of listings.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, paging: Paging) -> Self {
        Players { store, clock, paging }
    }

    /// Reserves slots for `players` (player ID, player data) in an ACTIVE game session that
    /// accepts players: all of them or none.
    pub async fn reserve(
        &self,
        game_session_id: &str,
        players: &[(String, Option<String>)],
    ) -> Result<Vec<PlayerSession>, ApiError> {
        let not_found = || ApiError::not_found(format!("Game session {game_session_id} not found."));
        let resource = format!("Game session {game_session_id}");
        let mut attempts = cas::Attempts::new(&resource);
        loop {
            attempts.next()?;
            let found = self.store.get_game_session(game_session_id).await.map_err(internal)?;
            let current = found.ok_or_else(not_found)?;
            let mut record = current.value;
            let s = &mut record.game_session;
            if s.status != Some(GameSessionStatus::Active) {
                return Err(ApiError::new(
                    ErrorCode::InvalidGameSessionStatusException,
                    format!(
                        "Game session {game_session_id} is {}; players can join only ACTIVE game sessions.",
                        s.status.map_or("not active", GameSessionStatus::as_str)
                    ),
                ));
            }
            if s.player_session_creation_policy == Some(PlayerSessionCreationPolicy::DenyAll) {
                return Err(ApiError::new(
                    ErrorCode::GameSessionFullException,
                    format!("Game session {game_session_id} is not accepting new players (DENY_ALL)."),
                ));
            }
            let current_count = s.current_player_session_count.unwrap_or(0);
            let maximum = s.maximum_player_session_count.unwrap_or(0);
            let wanted = i32::try_from(players.len()).unwrap_or(i32::MAX);
            if current_count.saturating_add(wanted) > maximum {
                return Err(ApiError::new(
                    ErrorCode::GameSessionFullException,
                    format!(
                        "Game session {game_session_id} has {} free player slots; {wanted} were requested.",
                        (maximum - current_count).max(0)
                    ),
                ));
            }
            s.current_player_session_count = Some(current_count + wanted);
            let now = self.clock.now();
            let sessions: Vec<PlayerSession> = players
                .iter()
                .map(|(player_id, data)| PlayerSession {
                    player_session_id: Some(ids::new_player_session_id()),
                    player_id: Some(player_id.clone()),
                    game_session_id: Some(game_session_id.to_owned()),
                    fleet_id: s.fleet_id.clone(),
                    fleet_arn: s.fleet_arn.clone(),
                    creation_time: Some(now),
                    status: Some(PlayerSessionStatus::Reserved),
                    ip_address: s.ip_address.clone(),
                    dns_name: s.dns_name.clone(),
                    port: s.port,
                    player_data: data.clone(),
                    ..Default::default()
                })
                .collect();
            if cas::written(self.store.add_player_sessions(&record, current.version, &sessions).await, not_found)?
                .is_some()
            {
                return Ok(sessions);
            }
        }
    }

    /// `AcceptPlayerSession`: a RESERVED player of this game session connected; it becomes ACTIVE.
    ///
    /// A reservation older than [`RESERVATION_TIMEOUT`] has timed out even if the sweep has not
    /// got to it yet: it is ended as TIMEDOUT here and refused.
    pub async fn accept(&self, game_session_id: &str, player_session_id: &str) -> Result<(), ApiError> {
        let mut player = self.player_of(game_session_id, player_session_id).await?;
        let now = self.clock.now();
        let expired = player.creation_time.is_some_and(|created| created.plus(RESERVATION_TIMEOUT) <= now);
        if player.status == Some(PlayerSessionStatus::Reserved) && expired {
            self.finish(player, PlayerSessionStatus::Timedout).await?;
            return Err(ApiError::invalid_request(format!(
                "Player session {player_session_id} was not accepted within {} seconds and has timed out.",
                RESERVATION_TIMEOUT.as_secs()
            )));
        }
        if player.status != Some(PlayerSessionStatus::Reserved) {
            return Err(ApiError::invalid_request(format!(
                "Player session {player_session_id} is {} and cannot be accepted.",
                player.status.map_or("unknown", PlayerSessionStatus::as_str)
            )));
        }
        player.status = Some(PlayerSessionStatus::Active);
        let change = SessionChange { players: std::slice::from_ref(&player), ..SessionChange::default() };
        self.store.change_sessions(change).await.map_err(internal)
    }

    /// `RemovePlayerSession`: the player left; its slot is freed.
    pub async fn remove(&self, game_session_id: &str, player_session_id: &str) -> Result<(), ApiError> {
        let player = self.player_of(game_session_id, player_session_id).await?;
        if !matches!(player.status, Some(PlayerSessionStatus::Reserved | PlayerSessionStatus::Active)) {
            return Err(ApiError::invalid_request(format!(
                "Player session {player_session_id} is {} and cannot be removed.",
                player.status.map_or("unknown", PlayerSessionStatus::as_str)
            )));
        }
        self.finish(player, PlayerSessionStatus::Completed).await
    }

    async fn player_of(&self, game_session_id: &str, player_session_id: &str) -> Result<PlayerSessionRecord, ApiError> {
        let player = self.store.get_player_session(player_session_id).await.map_err(internal)?;
        player.filter(|p| p.game_session_id.as_deref() == Some(game_session_id)).ok_or_else(|| {
            ApiError::not_found(format!("Player session {player_session_id} not found in {game_session_id}."))
        })
    }

    /// Ends a RESERVED or ACTIVE player session with `status` (COMPLETED or TIMEDOUT) and frees
    /// its slot in the same transaction.
    ///
    /// The player is read again after the game session on every attempt: a competing end
    /// (the sweep timing it out while the process removes it) commits through the same
    /// game-session version, so whichever comes second sees the player ended and frees nothing.
    pub async fn finish(&self, player: PlayerSessionRecord, status: PlayerSessionStatus) -> Result<(), ApiError> {
        let game_session_id = player.game_session_id.clone().unwrap_or_default();
        let player_session_id = player.player_session_id.clone().unwrap_or_default();
        let now = self.clock.now();
        let resource = format!("Game session {game_session_id}");
        let mut attempts = cas::Attempts::new(&resource);
        loop {
            attempts.next()?;
            let found = self.store.get_game_session(&game_session_id).await.map_err(internal)?;
            let Some(mut player) = self.store.get_player_session(&player_session_id).await.map_err(internal)? else {
                return Ok(());
            };
            if !matches!(player.status, Some(PlayerSessionStatus::Reserved | PlayerSessionStatus::Active)) {
                return Ok(());
            }
            player.status = Some(status);
            player.termination_time = Some(now);
            let Some(current) = found else {
                let change = SessionChange { players: std::slice::from_ref(&player), ..SessionChange::default() };
                return self.store.change_sessions(change).await.map_err(internal);
            };
            let mut record = current.value;
            let count = record.game_session.current_player_session_count.unwrap_or(0);
            record.game_session.current_player_session_count = Some((count - 1).max(0));
            let players = std::slice::from_ref(&player);
            let change = SessionChange { session: Some((&record, current.version)), players, events: &[] };
            let written = self.store.change_sessions(change).await;
            let not_found = || ApiError::not_found(format!("Player session {player_session_id} not found."));
            if cas::written(written, not_found)?.is_some() {
                return Ok(());
            }
        }
    }

    /// DescribePlayerSessions as a game server of fleet `fleet_id` sees it (`None`: the control plane,
    /// which sees every fleet): listings by game session or player hold only the fleet's player
    /// sessions, and their `NextToken`s page only that view. A player session named by ID is
    /// returned whatever its fleet; the caller checks it.
    pub async fn describe(
        &self,
        input: DescribePlayerSessionsInput,
        fleet_id: Option<&str>,
    ) -> Result<DescribePlayerSessionsOutput, ApiError> {
        let given =
            [&input.player_session_id, &input.game_session_id, &input.player_id].iter().filter(|v| v.is_some()).count();
        if given != 1 {
            return Err(ApiError::invalid_request("Give exactly one of PlayerSessionId, GameSessionId and PlayerId."));
        }
        if let Some(id) = &input.player_session_id {
            let found = self.store.get_player_session(id).await.map_err(internal)?;
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
        let page = self.paging.request(&scope, input.limit, input.next_token.as_deref(), MAX_PAGE)?;
        let found = self.store.list_player_sessions(&filter, page).await.map_err(internal)?;
        let next_token = self.paging.next_token(&scope, &found);
        Ok(DescribePlayerSessionsOutput { player_sessions: Some(found.items), next_token })
    }
}
