//! Placing a new game session: CreateGameSession's whole sequence, for the API and for
//! whatever else starts sessions (`control-plane-api.md` section 7.9,
//! `server-sdk-protocol.md` section 6 steps 4–5).
//!
//! Resolve the fleet (or alias), check its status and the location, answer a repeated
//! idempotent request with its session, enforce the creator limit, claim a process in the
//! registry, commit the session to the store, and only then tell the process
//! (`CreateGameSession` push) and commit the claim. The claim gives the process back if it
//! is dropped before that: the commit failed, or the caller went away while it ran.

use std::collections::BTreeMap;
use std::sync::Arc;

use openlift_core::clock::Clock;
use openlift_core::records::{Fleet, GameSessionRecord};
use openlift_core::{fleet, game_session};
use openlift_model::{
    ApiError, ComputeType, CreateGameSessionInput, ErrorCode, FleetStatus, GameSession, ProtectionPolicy,
};
use openlift_store::{FIRST_VERSION, Store, StoreError, Versioned};

use super::common::internal;
use super::fleets::Fleets;
use crate::hosting::push::{self, Push};
use crate::hosting::{Claim, Hosting, Want};
use crate::locks::KeyedLocks;

/// Places new game sessions on the processes `hosting` reaches.
pub struct Placement {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    region: String,
    locks: Arc<KeyedLocks>,
    hosting: Arc<dyn Hosting>,
    fleets: Arc<Fleets>,
}

fn capacity_exceeded(fleet_id: &str, location: &str) -> ApiError {
    ApiError::new(
        ErrorCode::FleetCapacityExceededException,
        format!("No server process is available to host a game session in fleet {fleet_id}, location {location}."),
    )
}

impl Placement {
    /// Placement of sessions stored in `store`, with ARNs in `region`, on the processes of
    /// `hosting`; `locks` serialize repeats of one idempotent request and one creator's
    /// requests on this node.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        region: String,
        locks: Arc<KeyedLocks>,
        hosting: Arc<dyn Hosting>,
        fleets: Arc<Fleets>,
    ) -> Self {
        Placement { store, clock, region, locks, hosting, fleets }
    }

    /// CreateGameSession: starts a game session on an available server process of the fleet
    /// or alias `input` names, and returns it (ACTIVATING), or the session an earlier request
    /// with the same idempotency token created.
    pub async fn create(&self, input: &CreateGameSessionInput) -> Result<GameSession, ApiError> {
        game_session::check_create(input)?;
        let fleet_id = self.fleets.target(input.fleet_id.as_deref(), input.alias_id.as_deref()).await?;
        let fleet = self.fleets.cached(&fleet_id).await?;
        if fleet.attributes.status != Some(FleetStatus::Active) {
            return Err(ApiError::new(
                ErrorCode::InvalidFleetStatusException,
                format!("Fleet {fleet_id} is not ACTIVE."),
            ));
        }
        let anywhere = fleet.attributes.compute_type == Some(ComputeType::Anywhere);
        let home = fleet::home_region(&fleet);
        let location = match (&input.location, home) {
            (Some(location), _) => location.clone(),
            (None, Some(home)) if !anywhere => home.to_owned(),
            (None, _) => {
                return Err(ApiError::invalid_request(format!(
                    "Location is required for the Anywhere fleet {fleet_id}: name one of its custom locations."
                )));
            }
        };
        if !fleet::has_location(&fleet, &location) {
            return Err(ApiError::invalid_request(format!("Fleet {fleet_id} has no location {location}.")));
        }
        if anywhere && Some(location.as_str()) == home {
            return Err(ApiError::invalid_request(format!(
                "Location {location} is the home Region of the Anywhere fleet {fleet_id}, which hosts game sessions only in its custom locations."
            )));
        }
        let creator_limit = game_session::creator_limit(
            &fleet_id,
            fleet.attributes.resource_creation_limit_policy.as_ref(),
            input.creator_id.as_deref(),
        )?;
        let id_string = game_session::id_string(input);
        let id = game_session::game_session_arn(&self.region, &fleet_id, &location, &id_string);
        let digest = game_session::request_digest(&fleet_id, &location, input);
        let token = game_session::token(input);
        // Repeats of one request wait for the first to commit rather than claim processes of their own.
        let _id_guard = match token {
            Some(token) => Some(self.locks.lock(&format!("game-session-id|{token}")).await),
            None => None,
        };
        if let Some(existing) = self.repeated_request(token, &digest).await? {
            return Ok(existing);
        }
        let _creator_guard = match (&input.creator_id, creator_limit) {
            (Some(creator), Some((limit, window))) => {
                let guard = self.locks.lock(&format!("creator|{fleet_id}|{creator}")).await;
                let since = self.clock.now().minus(window);
                let recent =
                    self.store.count_game_sessions_by_creator(&fleet_id, creator, since).await.map_err(internal)?;
                game_session::check_creator_limit(creator, recent, limit, window)?;
                Some(guard)
            }
            _ => None,
        };
        let fleet_arn = fleet.attributes.fleet_arn.clone().unwrap_or_default();
        let protection = fleet.attributes.new_game_session_protection_policy.unwrap_or(ProtectionPolicy::NoProtection);
        let placed = self.place(&fleet, &location, &id).await?;
        let session = game_session::new_session(
            input,
            game_session::NewSession {
                id: id.clone(),
                fleet: (&fleet_id, &fleet_arn),
                location: &location,
                compute_name: &placed.compute_name,
                endpoint: (placed.ip_address.clone(), placed.dns_name.clone(), placed.port.map(i32::from)),
                now: self.clock.now(),
            },
        );
        let record = GameSessionRecord {
            game_session: session,
            protection_policy: protection,
            process_id: Some(placed.process_id.clone()),
            idempotency_token: token.map(str::to_owned),
            request_digest: digest.clone(),
            log_paths: placed.log_paths.clone(),
        };
        match self.store.create_game_session(&record).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => {
                drop(placed);
                let existing = self.repeated_request(token, &digest).await?;
                return existing
                    .ok_or_else(|| ApiError::conflict(format!("Game session {id} is being created; retry.")));
            }
            Err(e) => {
                drop(placed);
                return Err(internal(e));
            }
        }
        tracing::info!(game_session_id = %id, process_id = %placed.process_id, "game session placed");
        let session = record.game_session.clone();
        self.push_create(placed, record, input).await;
        Ok(session)
    }

    /// The session a repeated idempotent request refers to, if one was created with `token`:
    /// the original with its current status, or `IdempotentParameterMismatchException` when
    /// the parameters (the fleet and location among them) differ.
    async fn repeated_request(&self, token: Option<&str>, digest: &str) -> Result<Option<GameSession>, ApiError> {
        let Some(token) = token else {
            return Ok(None);
        };
        match self.store.get_game_session_by_token(token).await.map_err(internal)? {
            Some(existing) if existing.value.request_digest == digest => Ok(Some(existing.value.game_session)),
            Some(existing) => Err(ApiError::new(
                ErrorCode::IdempotentParameterMismatchException,
                format!("A game session with ID {} already exists with different parameters.", existing.value.id()),
            )),
            None => Ok(None),
        }
    }

    /// Claims an idle, ready, healthy process of the fleet in `location` for `game_session_id`,
    /// on a compute below the runtime configuration's `MaxConcurrentGameSessionActivations`.
    /// The claim releases the process when dropped, unless [`push_create`](Self::push_create) commits it.
    ///
    /// Nothing is read from the store: the hosting side knows each process's compute
    /// endpoint (read from the store when the process connected), and a deregistered
    /// compute's processes are never claimed.
    pub async fn place<'a>(
        &'a self,
        fleet: &Fleet,
        location: &str,
        game_session_id: &str,
    ) -> Result<Claim<'a>, ApiError> {
        let max_activating = fleet
            .runtime_configuration
            .as_ref()
            .and_then(|rc| rc.max_concurrent_game_session_activations)
            .and_then(|max| u32::try_from(max).ok());
        let want = Want { fleet_id: fleet.id(), location, game_session_id, max_activating, now: self.clock.now() };
        self.hosting.claim(want).await.ok_or_else(|| capacity_exceeded(fleet.id(), location))
    }

    /// Sends the claimed process its new game session, just committed, and commits the claim.
    /// A process that cannot be reached is left to the activation timeout.
    pub async fn push_create(&self, claim: Claim<'_>, record: GameSessionRecord, input: &CreateGameSessionInput) {
        let s = &record.game_session;
        let game_properties: BTreeMap<String, String> =
            s.game_properties.iter().flatten().map(|p| (p.key.clone(), p.value.clone())).collect();
        let message = Push::CreateGameSession(push::CreateGameSession {
            game_session_id: record.id().to_owned(),
            game_session_name: s.name.clone().unwrap_or_default(),
            maximum_player_session_count: s.maximum_player_session_count.unwrap_or_default(),
            port: claim.port.map(i32::from).unwrap_or_default(),
            ip_address: claim.ip_address.clone().unwrap_or_default(),
            dns_name: claim.dns_name.clone().unwrap_or_default(),
            game_session_data: input.game_session_data.clone().unwrap_or_default(),
            matchmaker_data: s.matchmaker_data.clone().unwrap_or_default(),
            game_properties,
        });
        let committed = Versioned { value: record, version: FIRST_VERSION };
        let process_id = claim.process_id.clone();
        if let Err(e) = self.hosting.start_session(claim, message, committed).await {
            tracing::warn!(process_id = %process_id, error = %e, "could not push the game session");
        }
    }
}
