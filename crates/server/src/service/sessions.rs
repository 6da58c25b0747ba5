//! The game session life cycle across the control plane and the SDK endpoint
//! (`control-plane-api.md` sections 7.9 and 7.10, `server-sdk-protocol.md` section 6).
//!
//! A session placed by [`super::placement`] is ACTIVATING until its process's
//! `ActivateGameSession` makes it ACTIVE; its end, however it comes, ends the
//! session. Timeouts (activation, 60-second player reservations, 30-day retention) are
//! applied by [`Sessions::sweep`] against the injected clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use openlift_core::clock::Clock;
use openlift_core::game_session;
use openlift_core::records::{GameSessionRecord, PlayerSessionRecord, ProcessLogs};
use openlift_model::{
    ApiError, ErrorCode, EventCode, GameSessionStatus, GameSessionStatusReason, PlayerSessionStatus, TerminationMode,
};
use openlift_store::{
    GameSessionFilter, OutboxEvent, PageRequest, PlayerSessionFilter, SessionChange, Store, Versioned,
};

use super::common::internal;
use super::fleets::Fleets;
use super::players::Players;
use crate::cas;
use crate::hosting::Hosting;
use crate::hosting::registry::{ProcessInfo, ProcessStatus};

/// Changes and ends game sessions, and applies their timeouts.
pub struct Sessions {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hosting: Arc<dyn Hosting>,
    fleets: Arc<Fleets>,
    players: Arc<Players>,
}

/// Most expired records one sweep handles, so a backlog never stalls the sweeper.
const SWEEP_BATCH: usize = 500;

impl Sessions {
    /// Sessions in `store`, hosted by the processes of `processes`, whose agents are in
    /// `agents`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        hosting: Arc<dyn Hosting>,
        fleets: Arc<Fleets>,
        players: Arc<Players>,
    ) -> Self {
        Sessions { store, clock, hosting, fleets, players }
    }

    /// Applies `change` to a game session with compare-and-swap, retrying on conflicts.
    pub async fn update_session(
        &self,
        game_session_id: &str,
        change: impl FnMut(&mut GameSessionRecord) -> Result<(), ApiError>,
    ) -> Result<GameSessionRecord, ApiError> {
        self.update_known_session(game_session_id, None, change).await
    }

    /// [`update_session`](Self::update_session) starting from `known`, the session as the caller last saw it
    /// committed: the store is read only if it has changed since.
    pub async fn update_known_session(
        &self,
        game_session_id: &str,
        mut known: Option<Versioned<GameSessionRecord>>,
        mut change: impl FnMut(&mut GameSessionRecord) -> Result<(), ApiError>,
    ) -> Result<GameSessionRecord, ApiError> {
        let not_found = || ApiError::not_found(format!("Game session {game_session_id} not found."));
        let resource = format!("Game session {game_session_id}");
        let mut attempts = cas::Attempts::new(&resource);
        loop {
            attempts.next()?;
            let current = match known.take() {
                Some(known) => known,
                None => self.store.get_game_session(game_session_id).await.map_err(internal)?.ok_or_else(not_found)?,
            };
            let mut record = current.value;
            change(&mut record)?;
            if cas::written(self.store.update_game_session(&record, current.version).await, not_found)?.is_some() {
                return Ok(record);
            }
        }
    }

    /// FORCE_TERMINATE needs the GameLift Agent: on an Anywhere compute that never had one
    /// connected, a forced termination of a session still running is an
    /// `InvalidRequestException`, as on AWS (`control-plane-api.md` 7.9). An unknown or ended
    /// session is left to the termination itself to report. Returns the session as read, for
    /// the termination to start from ([`update_known_session`](Self::update_known_session)).
    pub async fn check_force_terminable(
        &self,
        game_session_id: &str,
    ) -> Result<Option<Versioned<GameSessionRecord>>, ApiError> {
        let Some(record) = self.store.get_game_session(game_session_id).await.map_err(internal)? else {
            return Ok(None);
        };
        let session = &record.value.game_session;
        let (Some(fleet_id), Some(compute)) = (session.fleet_id.as_deref(), session.compute_name.as_deref()) else {
            return Ok(Some(record));
        };
        if game_session::is_ended(session) {
            return Ok(Some(record));
        }
        let compute_record = self.store.get_compute(fleet_id, compute).await.map_err(internal)?;
        if compute_record.is_some_and(|c| c.agent) {
            return Ok(Some(record));
        }
        Err(ApiError::invalid_request(format!(
            "TerminationMode FORCE_TERMINATE needs the GameLift Agent, which compute {compute} of fleet {fleet_id} does not \
         run; use TRIGGER_ON_PROCESS_TERMINATE."
        )))
    }

    /// Tells the hosting process to end (TerminateGameSession). A forced termination ends
    /// the session at once and has the compute's agent stop the process
    /// (`ForceExitServerProcess`), or tells the process itself while its agent is not
    /// connected; a triggered one waits for the process's `ProcessEnding`.
    pub async fn terminate_process_of(
        &self,
        record: GameSessionRecord,
        mode: TerminationMode,
    ) -> Result<GameSessionRecord, ApiError> {
        let now = self.clock.now();
        if let Some(process_id) = &record.process_id {
            let live = self
                .hosting
                .process(process_id)
                .await
                .filter(|info| !matches!(info.status, ProcessStatus::Ended { .. }));
            let forced = match live {
                Some(info) if mode == TerminationMode::ForceTerminate => {
                    self.hosting.force_exit(&info, EventCode::ServerProcessForceTerminated.as_str()).await
                }
                _ => false,
            };
            if !forced && let Err(e) = self.hosting.terminate(process_id, now).await {
                tracing::info!(process_id = %process_id, error = %e, "hosting process already gone");
                return self.end_session(record.id(), None, &[]).await;
            }
        }
        match mode {
            TerminationMode::ForceTerminate => {
                self.end_session(record.id(), Some(GameSessionStatusReason::ForceTerminated), &[]).await
            }
            TerminationMode::TriggerOnProcessTerminate => Ok(record),
        }
    }

    /// Ends a game session (TERMINATED) if it has not ended yet, and with it the player
    /// sessions still RESERVED or ACTIVE in it (COMPLETED: their connections are gone), in one
    /// write that also appends `events`: no reader sees the session ended with players still
    /// in it, or ended without the event that explains it.
    pub async fn end_session(
        &self,
        game_session_id: &str,
        reason: Option<GameSessionStatusReason>,
        events: &[OutboxEvent],
    ) -> Result<GameSessionRecord, ApiError> {
        let ended = self.end_session_if(game_session_id, reason, events, |_| true).await?;
        ended.ok_or_else(|| ApiError::not_found(format!("Game session {game_session_id} not found.")))
    }

    /// [`end_session`](Self::end_session) if `condition` holds for the session as last read;
    /// `None` when it does not, and nothing is written.
    async fn end_session_if(
        &self,
        game_session_id: &str,
        reason: Option<GameSessionStatusReason>,
        events: &[OutboxEvent],
        condition: impl Fn(&GameSessionRecord) -> bool,
    ) -> Result<Option<GameSessionRecord>, ApiError> {
        let now = self.clock.now();
        let not_found = || ApiError::not_found(format!("Game session {game_session_id} not found."));
        let resource = format!("Game session {game_session_id}");
        let mut attempts = cas::Attempts::new(&resource);
        loop {
            attempts.next()?;
            let current =
                self.store.get_game_session(game_session_id).await.map_err(internal)?.ok_or_else(not_found)?;
            if !condition(&current.value) {
                return Ok(None);
            }
            let mut record = current.value;
            game_session::end(&mut record.game_session, reason, now);
            record.game_session.current_player_session_count = Some(0);
            let mut players = self.open_players(game_session_id).await?;
            for player in &mut players {
                player.status = Some(PlayerSessionStatus::Completed);
                player.termination_time = Some(now);
            }
            let change = SessionChange { session: Some((&record, current.version)), players: &players, events };
            if cas::written(self.store.change_sessions(change).await, not_found)?.is_some() {
                return Ok(Some(record));
            }
        }
    }

    /// The player sessions of a game session that are RESERVED or ACTIVE.
    async fn open_players(&self, game_session_id: &str) -> Result<Vec<PlayerSessionRecord>, ApiError> {
        let mut open = Vec::new();
        for status in [PlayerSessionStatus::Reserved, PlayerSessionStatus::Active] {
            let filter = PlayerSessionFilter {
                game_session_id: Some(game_session_id.to_owned()),
                status: Some(status.as_str().to_owned()),
                ..Default::default()
            };
            let mut after = None;
            loop {
                let page = PageRequest { after, limit: SWEEP_BATCH };
                let players = self.store.list_player_sessions(&filter, page).await.map_err(internal)?;
                open.extend(players.items);
                after = players.next;
                if after.is_none() {
                    break;
                }
            }
        }
        Ok(open)
    }

    /// `ActivateGameSession` from the hosting process `process_id`: the session becomes
    /// ACTIVE. It starts from the session as pushed to the process, if unchanged since.
    pub async fn activated(&self, process_id: &str, game_session_id: &str) -> Result<(), ApiError> {
        let known = self.hosting.take_committed(process_id, game_session_id).await;
        self.update_known_session(game_session_id, known, |record| game_session::activate(&mut record.game_session))
            .await?;
        tracing::info!(game_session_id = %game_session_id, "game session active");
        Ok(())
    }

    /// A process ended, however openlift learned it (its `ProcessEnding`, its agent's report,
    /// the heartbeat sweep, its compute's deregistration); `info` is the process as the registry
    /// ended it. It is forgotten, its game session ends (TERMINATED, with the StatusReason its
    /// [`EndReason`](crate::hosting::registry::EndReason) calls for, unless the session already has
    /// one) together with its player sessions, and `event`, if any, is recorded for its fleet
    /// in the same write.
    pub async fn process_ended(&self, info: &ProcessInfo, event: Option<(EventCode, String)>) {
        let reason = match info.status {
            ProcessStatus::Ended { reason, .. } => Some(reason),
            _ => None,
        };
        tracing::info!(process_id = %info.process_id, fleet_id = %info.fleet_id, compute = %info.compute_name,
        reason = ?reason, game_session_id = ?info.game_session.as_ref().map(|s| &s.game_session_id),
        "server process ended");
        if let Err(error) = self.store.delete_server_process(&info.process_id, self.clock.now()).await {
            tracing::warn!(process_id = %info.process_id, %error, "could not forget an ended server process");
        }
        let event =
            event.map(|(code, message)| openlift_core::fleet::event(&info.fleet_id, code, message, self.clock.now()));
        if let Some(slot) = &info.game_session {
            let events: Vec<_> = event.iter().cloned().map(OutboxEvent::Fleet).collect();
            match self.end_session(&slot.game_session_id, reason.and_then(|r| r.session_reason()), &events).await {
                Ok(_) => return,
                Err(e) if e.code == ErrorCode::NotFoundException => {}
                Err(e) => {
                    tracing::warn!(game_session_id = %slot.game_session_id, error = %e.message, "could not end the game session");
                    return;
                }
            }
        }
        if let Some(event) = event {
            self.fleets.record_event(&info.fleet_id, event).await;
        }
    }

    /// Applies the clock-driven rules once: sessions not activated in time end with the fleet
    /// event `GAME_SESSION_ACTIVATION_TIMEOUT`, RESERVED player sessions older than 60 s time
    /// out, records that ended more than 30 days ago are deleted, and logs older than 14 days.
    pub async fn sweep(&self) -> Result<(), ApiError> {
        let now = self.clock.now();
        let filter = GameSessionFilter {
            status: Some(GameSessionStatus::Activating.as_str().to_owned()),
            created_before: Some(now),
            ..Default::default()
        };
        let activating = self
            .store
            .list_game_sessions(&filter, PageRequest { after: None, limit: SWEEP_BATCH })
            .await
            .map_err(internal)?;
        let mut timeouts: HashMap<String, i32> = HashMap::new();
        for record in activating.items {
            let fleet_id = record.game_session.fleet_id.clone().unwrap_or_default();
            let timeout = match timeouts.get(&fleet_id) {
                Some(timeout) => *timeout,
                None => {
                    let fleet = self.fleets.load(&fleet_id).await;
                    let timeout = fleet
                        .ok()
                        .and_then(|f| f.value.runtime_configuration)
                        .and_then(|rc| rc.game_session_activation_timeout_seconds)
                        .unwrap_or(openlift_core::fleet::DEFAULT_ACTIVATION_TIMEOUT_SECONDS);
                    timeouts.insert(fleet_id.clone(), timeout);
                    timeout
                }
            };
            let created = record.game_session.creation_time.unwrap_or(now);
            if created.plus(Duration::from_secs(u64::from(timeout.unsigned_abs()))) > now {
                continue;
            }
            let event = openlift_core::fleet::event(
                &fleet_id,
                EventCode::GameSessionActivationTimeout,
                format!("Game session {} was not activated within {timeout} seconds.", record.id()),
                now,
            );
            // The process may have activated the session since it was listed: then it stays.
            let activating = |r: &GameSessionRecord| r.game_session.status == Some(GameSessionStatus::Activating);
            let events = [OutboxEvent::Fleet(event)];
            if self.end_session_if(record.id(), None, &events, activating).await?.is_none() {
                continue;
            }
            // A claim released by a request cancelled while the session was being stored
            // leaves the session here while its process may host another one by now.
            if let Some(process_id) = &record.process_id
                && self.hosting.hosts(process_id, record.id()).await
            {
                let _ = self.hosting.terminate(process_id, now).await;
            }
        }
        self.expire_reservations(now).await?;
        self.store.purge_game_sessions(now.minus(game_session::RETENTION)).await.map_err(internal)?;
        self.store.purge_process_logs(now.minus(ProcessLogs::RETENTION)).await.map_err(internal)?;
        Ok(())
    }

    async fn expire_reservations(&self, now: openlift_model::Timestamp) -> Result<(), ApiError> {
        let filter = PlayerSessionFilter {
            status: Some(PlayerSessionStatus::Reserved.as_str().to_owned()),
            created_before: Some(now.minus(super::players::RESERVATION_TIMEOUT)),
            ..Default::default()
        };
        let expired = self
            .store
            .list_player_sessions(&filter, PageRequest { after: None, limit: SWEEP_BATCH })
            .await
            .map_err(internal)?;
        for player in expired.items {
            self.players.finish(player, PlayerSessionStatus::Timedout).await?;
        }
        Ok(())
    }
}
