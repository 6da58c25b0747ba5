//! The services against a store that fails or stalls on demand ([`FaultyStore`]), with one
//! ready process in the registry: what a failed write leaves behind, and that a later call
//! on the healed store succeeds.

use std::sync::Arc;
use std::time::Duration;

use openlift_core::clock::ManualClock;
use openlift_core::ids::ArnScope;
use openlift_core::paging::PageTokens;
use openlift_model::{
    ApiError, ComputeType, CreateFleetInput, CreateFleetOutput, CreateGameSessionInput, CreateGameSessionOutput,
    CreateLocationInput, CreatePlayerSessionInput, ErrorCode, EventCode, GameSessionStatus, LocationConfiguration,
    Operation, PlayerSessionStatus, RegisterComputeInput, Shape, TerminateGameSessionInput, TerminationMode, Timestamp,
    UpdateFleetAttributesInput, UpdateGameSessionInput,
};
use openlift_store::prelude::*;
use openlift_store::{PageRequest, PlayerSessionFilter, StoreError};
use tokio::sync::Notify;

use super::common::Paging;
use crate::app::App;
use crate::cas;
use crate::fault_store::{Fault, FaultyStore};
use crate::hosting::registry::{Activation, Attach, Attached};

const LOCATION: &str = "custom-faults";
const PROCESS: &str = "process-1";

/// An App on a [`FaultyStore`] with an Anywhere fleet in [`LOCATION`] and one ready
/// process of it ([`PROCESS`], whose connection is the returned [`Attached`]).
struct World {
    app: App,
    store: Arc<FaultyStore>,
    clock: Arc<ManualClock>,
    fleet_id: String,
    _connection: Attached,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = FaultyStore::open(dir.path()).await;
        let now = Timestamp::from_millis(1_767_225_600_000);
        let limits = crate::front::admission::Limits { max_connections: 8, max_per_peer: 8, reserved: 0 };
        let clock: Arc<ManualClock> = Arc::new(ManualClock::new(now));
        let paging = Paging { tokens: PageTokens::new(vec![7; 32]) };
        let sdk = crate::sdk::endpoint::SdkEndpoint::new(Duration::from_secs(60));
        let agents = Arc::new(crate::hosting::agents::Agents::new(Duration::from_secs(60)));
        let locks = Arc::new(crate::locks::KeyedLocks::default());
        let services = super::Services::new(super::Parts {
            store: store.clone(),
            clock: clock.clone(),
            region: "us-west-2".into(),
            paging: paging.clone(),
            locks: locks.clone(),
            hosting: Arc::new(crate::hosting::Local::new(sdk.processes.clone(), agents.clone())),
        });
        let app = App {
            store: store.clone(),
            clock: clock.clone(),
            scope: ArnScope { region: "us-west-2".into(), account_id: "123456789012".into() },
            credentials: Default::default(),
            paging,
            sdk_endpoint: "ws://127.0.0.1:1".into(),
            sdk,
            agent_endpoint: "ws://127.0.0.1:1/agent".into(),
            agents,
            locks,
            services,
            connections: crate::front::admission::Admission::new(limits),
        };
        let location = CreateLocationInput { location_name: LOCATION.into(), tags: None };
        crate::api::dispatch(&app, Operation::CreateLocation, location.to_value()).await.unwrap();
        let fleet = CreateFleetInput {
            name: "faults".into(),
            compute_type: Some(ComputeType::Anywhere),
            locations: Some(vec![LocationConfiguration { location: LOCATION.into() }]),
            ..Default::default()
        };
        let created = crate::api::dispatch(&app, Operation::CreateFleet, fleet.to_value()).await.unwrap();
        let fleet_id = CreateFleetOutput::from_value(created).unwrap().fleet_attributes.unwrap().fleet_id.unwrap();
        let attach = Attach {
            process_id: PROCESS.into(),
            fleet_id: fleet_id.clone(),
            compute_name: "compute-1".into(),
            location: LOCATION.into(),
            certificate_path: None,
            ip_address: Some("10.0.0.1".into()),
            dns_name: None,
            sdk_language: "Rust".into(),
            sdk_version: "5.0.0".into(),
            token_digest: None,
            credential_expires: None,
        };
        let connection = app.sdk.processes.attach(attach, now).unwrap();
        app.sdk.processes.activate(PROCESS, Activation { port: Some(7777), ..Default::default() }, now).unwrap();
        World { app, store, clock, fleet_id, _connection: connection, _dir: dir }
    }

    fn create_input(&self) -> CreateGameSessionInput {
        CreateGameSessionInput {
            fleet_id: Some(self.fleet_id.clone()),
            location: Some(LOCATION.into()),
            maximum_player_session_count: 4,
            ..Default::default()
        }
    }

    async fn create(&self) -> Result<CreateGameSessionOutput, ApiError> {
        let output = crate::api::dispatch(&self.app, Operation::CreateGameSession, self.create_input().to_value());
        output.await.map(|value| CreateGameSessionOutput::from_value(value).unwrap())
    }

    /// A game session on [`PROCESS`], made ACTIVE by the process.
    async fn active_session(&self) -> String {
        let id = self.create().await.unwrap().game_session.unwrap().game_session_id.unwrap();
        self.app.services.sessions.activated(PROCESS, &id).await.unwrap();
        id
    }

    /// The statuses of a game session's players and its player count, as stored.
    async fn players(&self, game_session_id: &str) -> (Vec<PlayerSessionStatus>, Option<i32>) {
        let filter = PlayerSessionFilter { game_session_id: Some(game_session_id.into()), ..Default::default() };
        let players = self.store.list_player_sessions(&filter, PageRequest { after: None, limit: 10 }).await.unwrap();
        let session = self.store.get_game_session(game_session_id).await.unwrap().unwrap().value.game_session;
        (players.items.into_iter().filter_map(|p| p.status).collect(), session.current_player_session_count)
    }

    fn hosted(&self) -> Option<String> {
        self.app.sdk.processes.get(PROCESS).unwrap().game_session.map(|slot| slot.game_session_id)
    }
}

#[tokio::test]
async fn a_create_cancelled_while_its_session_is_stored_releases_the_process() {
    let world = World::new().await;
    let entered = Arc::new(Notify::new());
    world.store.inject("create_game_session", Fault::Hold(entered.clone()));

    let mut create = Box::pin(world.create());
    tokio::select! {
        answered = &mut create => panic!("the commit was held, yet the request answered {answered:?}"),
        () = entered.notified() => {}
    }
    assert!(world.hosted().is_some(), "the process is claimed while the session is being stored");
    drop(create);
    assert_eq!(world.hosted(), None, "the dropped request released its claim");

    world.store.heal();
    let session = world.create().await.unwrap().game_session.unwrap();
    assert_eq!(world.hosted(), session.game_session_id, "the process hosts the next session");
}

#[tokio::test]
async fn a_store_failure_while_committing_releases_the_claim_and_is_an_internal_error() {
    let world = World::new().await;
    world.store.inject("create_game_session", Fault::Fail(|| StoreError::Backend("disk full".into())));
    let error = world.create().await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InternalServiceException);
    assert_eq!(world.store.calls("create_game_session"), 1);
    assert_eq!(world.hosted(), None);

    world.store.heal();
    world.create().await.unwrap();
    assert!(world.hosted().is_some());
}

#[tokio::test]
async fn a_conflict_storm_gives_up_after_the_attempts_with_the_one_answer() {
    let world = World::new().await;
    let session = world.create().await.unwrap().game_session.unwrap();
    let id = session.game_session_id.unwrap();
    world.store.inject("update_game_session", Fault::Fail(|| StoreError::VersionConflict));
    let busy = cas::exhausted(&format!("Game session {id}"));

    let update = UpdateGameSessionInput { game_session_id: id.clone(), name: Some("new".into()), ..Default::default() };
    let answered = crate::api::dispatch(&world.app, Operation::UpdateGameSession, update.to_value()).await;
    assert_eq!(answered.unwrap_err(), busy, "UpdateGameSession declares ConflictException");
    assert_eq!(world.store.calls("update_game_session"), cas::ATTEMPTS);

    let terminate =
        TerminateGameSessionInput { game_session_id: id, termination_mode: TerminationMode::TriggerOnProcessTerminate };
    let answered = crate::api::dispatch(&world.app, Operation::TerminateGameSession, terminate.to_value()).await;
    assert_eq!(answered.unwrap_err(), ApiError::invalid_request(busy.message), "TerminateGameSession does not");
    assert_eq!(world.store.calls("update_game_session"), 2 * cas::ATTEMPTS);
}

#[tokio::test]
async fn a_process_end_ends_its_session_its_players_and_records_its_event_in_one_write_or_not_at_all() {
    let world = World::new().await;
    let session = world.create().await.unwrap().game_session.unwrap();
    let id = session.game_session_id.unwrap();
    world.app.services.sessions.activated(PROCESS, &id).await.unwrap();
    let player = CreatePlayerSessionInput { game_session_id: id.clone(), player_id: "ana".into(), player_data: None };
    crate::api::dispatch(&world.app, Operation::CreatePlayerSession, player.to_value()).await.unwrap();
    let events_before = world.store.events_after(0, 100).await.unwrap().len();
    let info = world.app.sdk.processes.get(PROCESS).unwrap();
    let event = || Some((EventCode::ServerProcessTerminatedUnhealthy, "gone".to_owned()));
    let state = || async {
        let session = world.store.get_game_session(&id).await.unwrap().unwrap().value.game_session;
        let filter = PlayerSessionFilter { game_session_id: Some(id.clone()), ..Default::default() };
        let players = world.store.list_player_sessions(&filter, PageRequest { after: None, limit: 10 }).await.unwrap();
        let events = world.store.events_after(0, 100).await.unwrap().len() - events_before;
        let player_statuses: Vec<_> = players.items.into_iter().filter_map(|p| p.status).collect();
        (session.status, session.current_player_session_count, player_statuses, events)
    };

    world.store.inject("change_sessions", Fault::Fail(|| StoreError::Backend("disk full".into())));
    world.app.services.sessions.process_ended(&info, event()).await;
    let active = (Some(GameSessionStatus::Active), Some(1), vec![PlayerSessionStatus::Reserved], 0);
    assert_eq!(state().await, active, "a failed write changed nothing, the event included");

    world.store.heal();
    world.app.services.sessions.process_ended(&info, event()).await;
    let ended = (Some(GameSessionStatus::Terminated), Some(0), vec![PlayerSessionStatus::Completed], 1);
    assert_eq!(state().await, ended);
}

fn disk_full() -> StoreError {
    StoreError::Backend("disk full".into())
}

#[tokio::test]
async fn a_reservation_the_store_cannot_write_is_an_internal_error_and_reserves_no_one() {
    let world = World::new().await;
    let id = world.active_session().await;
    let players = [("ana".to_owned(), None), ("ben".to_owned(), Some("data".to_owned()))];

    world.store.inject("add_player_sessions", Fault::Fail(disk_full));
    let error = world.app.services.players.reserve(&id, &players).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InternalServiceException);
    assert_eq!(world.players(&id).await, (vec![], Some(0)));

    world.store.heal();
    world.app.services.players.reserve(&id, &players).await.unwrap();
    assert_eq!(world.players(&id).await, (vec![PlayerSessionStatus::Reserved; 2], Some(2)));
}

#[tokio::test]
async fn an_accept_the_store_cannot_write_leaves_the_player_reserved_until_the_retry() {
    let world = World::new().await;
    let id = world.active_session().await;
    let reserved = world.app.services.players.reserve(&id, &[("ana".to_owned(), None)]).await.unwrap();
    let player_session_id = reserved[0].player_session_id.clone().unwrap();

    world.store.inject("change_sessions", Fault::Fail(disk_full));
    let error = world.app.services.players.accept(&id, &player_session_id).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InternalServiceException);
    assert_eq!(world.players(&id).await, (vec![PlayerSessionStatus::Reserved], Some(1)));

    world.store.heal();
    world.app.services.players.accept(&id, &player_session_id).await.unwrap();
    assert_eq!(world.players(&id).await, (vec![PlayerSessionStatus::Active], Some(1)));
    world.app.services.players.remove(&id, &player_session_id).await.unwrap();
    assert_eq!(world.players(&id).await, (vec![PlayerSessionStatus::Completed], Some(0)));
}

#[tokio::test]
async fn a_fleet_update_the_store_cannot_write_is_an_internal_error_and_the_fleet_stays_as_it_was() {
    let world = World::new().await;
    let rename = UpdateFleetAttributesInput {
        fleet_id: world.fleet_id.clone(),
        name: Some("renamed".into()),
        ..Default::default()
    };

    world.store.inject("update_fleet", Fault::Fail(disk_full));
    let answered = crate::api::dispatch(&world.app, Operation::UpdateFleetAttributes, rename.to_value()).await;
    assert_eq!(answered.unwrap_err().code, ErrorCode::InternalServiceException);
    let name = |fleet: &openlift_core::records::Fleet| fleet.attributes.name.clone();
    assert_eq!(name(&world.app.services.fleets.cached(&world.fleet_id).await.unwrap()).as_deref(), Some("faults"));
    assert_eq!(name(&world.app.services.fleets.load(&world.fleet_id).await.unwrap().value).as_deref(), Some("faults"));

    world.store.heal();
    crate::api::dispatch(&world.app, Operation::UpdateFleetAttributes, rename.to_value()).await.unwrap();
    let cached = world.app.services.fleets.cached(&world.fleet_id).await.unwrap();
    assert_eq!(name(&cached).as_deref(), Some("renamed"), "this node sees its own change at once");
}

#[tokio::test]
async fn a_deregistration_the_store_cannot_write_keeps_the_compute_and_its_process_in_service() {
    let world = World::new().await;
    let compute = RegisterComputeInput {
        fleet_id: world.fleet_id.clone(),
        compute_name: "compute-1".into(),
        ip_address: Some("10.0.0.1".into()),
        location: Some(LOCATION.into()),
        ..Default::default()
    };
    crate::api::dispatch(&world.app, Operation::RegisterCompute, compute.to_value()).await.unwrap();
    let id = world.active_session().await;

    world.store.inject("delete_compute", Fault::Fail(disk_full));
    let error = world.app.services.computes.deregister_all(&world.fleet_id, Some(LOCATION)).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InternalServiceException);
    assert_eq!(world.hosted().as_deref(), Some(id.as_str()), "the process still hosts its session");
    assert!(world.store.get_compute(&world.fleet_id, "compute-1").await.unwrap().is_some());

    world.store.heal();
    world.app.services.computes.deregister_all(&world.fleet_id, Some(LOCATION)).await.unwrap();
    assert!(world.store.get_compute(&world.fleet_id, "compute-1").await.unwrap().is_none());
    let session = world.store.get_game_session(&id).await.unwrap().unwrap().value.game_session;
    assert_eq!(session.status, Some(GameSessionStatus::Terminated), "the retired process's session ended");
}

#[tokio::test]
async fn an_activation_timeout_ends_the_session_and_records_its_event_in_one_write_or_not_at_all() {
    let world = World::new().await;
    let id = world.create().await.unwrap().game_session.unwrap().game_session_id.unwrap();
    let events_before = world.store.events_after(0, 100).await.unwrap().len();
    let state = || async {
        let session = world.store.get_game_session(&id).await.unwrap().unwrap().value.game_session;
        (session.status, world.store.events_after(0, 100).await.unwrap().len() - events_before)
    };
    let timeout = openlift_core::fleet::DEFAULT_ACTIVATION_TIMEOUT_SECONDS.unsigned_abs();
    world.clock.advance(Duration::from_secs(u64::from(timeout)));

    world.store.inject("change_sessions", Fault::Fail(disk_full));
    let error = world.app.services.sessions.sweep().await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InternalServiceException);
    assert_eq!(state().await, (Some(GameSessionStatus::Activating), 0), "a failed write changed nothing");

    world.store.heal();
    world.app.services.sessions.sweep().await.unwrap();
    assert_eq!(state().await, (Some(GameSessionStatus::Terminated), 1));
    let events = world.store.events_after(0, 100).await.unwrap();
    let openlift_store::OutboxEvent::Fleet(event) = &events.last().unwrap().value;
    assert_eq!(event.event.event_code, Some(EventCode::GameSessionActivationTimeout));
}
