//! The game-session life-cycle rules, seen through the API (`control-plane-api.md`
//! sections 7.9 and 7.10): the activation timeout, the 60-second player reservation, the
//! 30-day retention of ended sessions and of their idempotency tokens, and the players of
//! a session that ends.
//!
//! The server runs on a `ManualClock`; its sweeper applies the rules every second of real
//! time against that clock, so the tests move the clock and poll until the next sweep has
//! run. The client signs at the server's time, and the heartbeat timeout is a year so that
//! jumping weeks ahead does not end the game servers.

mod sdk_endpoint_support;

use std::time::{Duration, Instant};

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::primitives::DateTime;
use aws_sdk_gamelift::types::{
    EventCode, GameSession, GameSessionStatus, PlayerSession, PlayerSessionStatus, RuntimeConfiguration,
    TerminationMode,
};
use openlift_core::clock::Clock;
use sdk_endpoint_support::games::{Game, OnStart};
use sdk_endpoint_support::{Compute, Harness, LOCATION, WAIT};

const DAY: Duration = Duration::from_secs(24 * 3600);
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// A server whose processes never time out on heartbeats, with its fleet and compute.
async fn server() -> (Harness, Client, Compute) {
    let h = Harness::start_with(YEAR).await;
    let client = h.gamelift_at_server_time();
    let compute = h.fleet_with_compute("host-1").await;
    (h, client, compute)
}

/// The server's clock as the SDK shows timestamps.
fn server_now(h: &Harness) -> DateTime {
    DateTime::from_millis(h.clock.now().as_millis())
}

async fn session(client: &Client, id: &str) -> Option<GameSession> {
    let described = client.describe_game_sessions().game_session_id(id).send().await.expect("DescribeGameSessions");
    described.game_sessions().first().cloned()
}

async fn player(client: &Client, id: &str) -> Option<PlayerSession> {
    let described = client.describe_player_sessions().player_session_id(id).send().await;
    described.expect("DescribePlayerSessions").player_sessions().first().cloned()
}

/// Polls `check` until it holds; fails the test after [`WAIT`].
async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn create_session(client: &Client, compute: &Compute, max_players: i32, token: Option<&str>) -> GameSession {
    let request = client
        .create_game_session()
        .fleet_id(&compute.fleet_id)
        .location(LOCATION)
        .maximum_player_session_count(max_players)
        .set_idempotency_token(token.map(str::to_owned));
    let created = request.send().await.expect("CreateGameSession");
    created.game_session().cloned().expect("GameSession")
}

async fn wait_active(client: &Client, id: &str) -> GameSession {
    eventually("the session to become ACTIVE", || async {
        session(client, id).await.filter(|s| s.status() == Some(&GameSessionStatus::Active))
    })
    .await
}

#[tokio::test]
async fn a_session_not_activated_in_time_is_terminated_with_a_fleet_event() {
    let (h, client, compute) = server().await;
    let rc = RuntimeConfiguration::builder().game_session_activation_timeout_seconds(30).build();
    let update = client.update_runtime_configuration().fleet_id(&compute.fleet_id).runtime_configuration(rc);
    update.send().await.expect("UpdateRuntimeConfiguration");
    let mut game = Game::start(&h, &compute, 7000, OnStart::Ignore).await;

    let created = create_session(&client, &compute, 4, None).await;
    assert_eq!(created.status(), Some(&GameSessionStatus::Activating));
    let id = created.game_session_id().unwrap().to_owned();
    assert_eq!(game.next_session().await.game_session_id, id);

    h.clock.advance(Duration::from_secs(29));
    h.a_run_of("sdk-sweep").await;
    assert_eq!(session(&client, &id).await.unwrap().status(), Some(&GameSessionStatus::Activating));

    h.clock.advance(Duration::from_secs(2));
    let ended = eventually("the activation timeout", || async {
        session(&client, &id).await.filter(|s| s.status() == Some(&GameSessionStatus::Terminated))
    })
    .await;
    assert_eq!(ended.termination_time(), Some(&server_now(&h)));
    // GameLift's status reasons name a Spot interruption or a TerminateGameSession mode;
    // neither applies to a session that never became active.
    assert_eq!(ended.status_reason(), None);
    game.wait_terminated().await;

    // The sweep records the event just after it tells the process to terminate.
    let timeout = eventually("a GAME_SESSION_ACTIVATION_TIMEOUT event", || async {
        let events = client.describe_fleet_events().fleet_id(&compute.fleet_id).send().await;
        let events = events.expect("DescribeFleetEvents");
        events.events().iter().find(|e| e.event_code() == Some(&EventCode::GameSessionActivationTimeout)).cloned()
    })
    .await;
    let message = timeout.message().unwrap_or_default();
    assert!(message.contains(&id) && message.contains("30 seconds"), "{message}");
    assert_eq!(timeout.event_time(), Some(&server_now(&h)));
    assert_eq!(timeout.resource_id(), Some(compute.fleet_id.as_str()));
    h.stop().await;
}

#[tokio::test]
async fn a_player_not_accepted_within_sixty_seconds_times_out_and_frees_the_slot() {
    let (h, client, compute) = server().await;
    let game = Game::start(&h, &compute, 7000, OnStart::Activate).await;
    let id = create_session(&client, &compute, 2, None).await.game_session_id().unwrap().to_owned();
    wait_active(&client, &id).await;

    let reserved = client.create_player_sessions().game_session_id(&id).player_ids("ana").player_ids("ben");
    let reserved = reserved.send().await.expect("CreatePlayerSessions");
    let ids: Vec<String> =
        reserved.player_sessions().iter().map(|p| p.player_session_id().unwrap().to_owned()).collect();
    game.sdk.accept_player_session(&ids[0]).await.expect("AcceptPlayerSession");
    assert_eq!(session(&client, &id).await.unwrap().current_player_session_count(), Some(2));
    let full = client.create_player_session().game_session_id(&id).player_id("cid").send().await;
    assert!(full.unwrap_err().into_service_error().is_game_session_full_exception());

    h.clock.advance(Duration::from_secs(59));
    h.a_run_of("sdk-sweep").await;
    assert_eq!(player(&client, &ids[1]).await.unwrap().status(), Some(&PlayerSessionStatus::Reserved));

    h.clock.advance(Duration::from_secs(2));
    let timed_out = eventually("the reservation timeout", || async {
        player(&client, &ids[1]).await.filter(|p| p.status() == Some(&PlayerSessionStatus::Timedout))
    })
    .await;
    assert_eq!(timed_out.termination_time(), Some(&server_now(&h)));
    assert_eq!(player(&client, &ids[0]).await.unwrap().status(), Some(&PlayerSessionStatus::Active));
    let after = session(&client, &id).await.unwrap();
    assert_eq!(after.current_player_session_count(), Some(1));
    assert_eq!(after.status(), Some(&GameSessionStatus::Active));

    let timed_out_list = client
        .describe_player_sessions()
        .game_session_id(&id)
        .player_session_status_filter("TIMEDOUT")
        .send()
        .await
        .expect("DescribePlayerSessions");
    let listed: Vec<_> = timed_out_list.player_sessions().iter().filter_map(|p| p.player_id()).collect();
    assert_eq!(listed, ["ben"]);
    // The timed-out player cannot be accepted any more, and the freed slot takes a new player.
    assert!(game.sdk.accept_player_session(&ids[1]).await.is_err());
    client.create_player_session().game_session_id(&id).player_id("cid").send().await.expect("the freed slot");
    assert_eq!(session(&client, &id).await.unwrap().current_player_session_count(), Some(2));
    h.stop().await;
}

/// Ends a session the way a game without the GameLift Agent can: TRIGGER_ON_PROCESS_TERMINATE,
/// then the hosting process's `ProcessEnding`. Returns the session once TERMINATED.
async fn end_session(client: &Client, id: &str, host: &Game) -> GameSession {
    let terminate = client.terminate_game_session().game_session_id(id);
    let terminating = terminate.termination_mode(TerminationMode::TriggerOnProcessTerminate).send().await;
    let terminating = terminating.expect("TerminateGameSession");
    assert_eq!(terminating.game_session().and_then(|s| s.status()), Some(&GameSessionStatus::Terminating));
    host.wait_terminated().await;
    host.sdk.process_ending().await.expect("ProcessEnding");
    eventually("the session to end", || async {
        session(client, id).await.filter(|s| s.status() == Some(&GameSessionStatus::Terminated))
    })
    .await
}

#[tokio::test]
async fn ended_sessions_and_their_tokens_are_kept_thirty_days_then_purged() {
    let (h, client, compute) = server().await;
    let mut first = Game::start(&h, &compute, 7000, OnStart::Activate).await;
    let second = Game::start(&h, &compute, 7001, OnStart::Activate).await;
    let original = create_session(&client, &compute, 4, Some("rematch-1")).await;
    let id = original.game_session_id().unwrap().to_owned();
    let live = create_session(&client, &compute, 4, None).await.game_session_id().unwrap().to_owned();
    wait_active(&client, &id).await;
    wait_active(&client, &live).await;
    let host = if first.next_session().await.game_session_id == id { &first } else { &second };
    let reserved = client.create_player_session().game_session_id(&id).player_id("ana").send().await.unwrap();
    let player_id = reserved.player_session().and_then(|p| p.player_session_id()).unwrap().to_owned();

    end_session(&client, &id, host).await;

    // One second short of 30 days after the end, the token still answers the original.
    h.clock.advance(30 * DAY - Duration::from_secs(1));
    h.a_run_of("sdk-sweep").await;
    let repeated = create_session(&client, &compute, 4, Some("rematch-1")).await;
    assert_eq!(repeated.game_session_id(), Some(id.as_str()));
    assert_eq!(repeated.status(), Some(&GameSessionStatus::Terminated));
    assert_eq!(repeated.creation_time(), original.creation_time());
    let mismatch = client
        .create_game_session()
        .fleet_id(&compute.fleet_id)
        .location(LOCATION)
        .maximum_player_session_count(8)
        .idempotency_token("rematch-1")
        .send()
        .await;
    let mismatch = mismatch.unwrap_err().into_service_error();
    assert!(mismatch.is_idempotent_parameter_mismatch_exception(), "{mismatch:?}");
    assert!(player(&client, &player_id).await.is_some());

    // Past 30 days the ended session and its players are gone; the live one stays.
    h.clock.advance(Duration::from_secs(2));
    eventually("the purge", || async { session(&client, &id).await.is_none().then_some(()) }).await;
    assert!(player(&client, &player_id).await.is_none());
    let players = client.describe_player_sessions().player_id("ana").send().await.unwrap();
    assert!(players.player_sessions().is_empty(), "{players:?}");
    let fleet_sessions = client.describe_game_sessions().fleet_id(&compute.fleet_id).send().await.unwrap();
    let left: Vec<_> = fleet_sessions.game_sessions().iter().filter_map(|s| s.game_session_id()).collect();
    assert_eq!(left, [live.as_str()]);

    // The token is free again: the same ID names a new session on a new process.
    let token = client.get_compute_auth_token().fleet_id(&compute.fleet_id).compute_name(&compute.name).send().await;
    let token = token.expect("GetComputeAuthToken").auth_token().unwrap().to_owned();
    let fresh = Compute { token, ..compute.clone() };
    let _third = Game::start(&h, &fresh, 7002, OnStart::Activate).await;
    let reused = create_session(&client, &compute, 8, Some("rematch-1")).await;
    assert_eq!(reused.game_session_id(), Some(id.as_str()));
    assert_eq!(reused.status(), Some(&GameSessionStatus::Activating));
    assert_eq!(reused.maximum_player_session_count(), Some(8));
    assert_eq!(reused.creation_time(), Some(&server_now(&h)));
    h.stop().await;
}

#[tokio::test]
async fn a_reservation_accepted_after_sixty_seconds_is_refused_as_timed_out() {
    let (h, client, compute) = server().await;
    let game = Game::start(&h, &compute, 7000, OnStart::Activate).await;
    let id = create_session(&client, &compute, 2, None).await.game_session_id().unwrap().to_owned();
    wait_active(&client, &id).await;
    let reserved = client.create_player_session().game_session_id(&id).player_id("ana").send().await.unwrap();
    let player_id = reserved.player_session().and_then(|p| p.player_session_id()).unwrap().to_owned();

    // Whether or not a sweep got there first, the late acceptance fails and the slot is freed.
    h.clock.advance(Duration::from_secs(60));
    assert!(game.sdk.accept_player_session(&player_id).await.is_err());
    assert_eq!(player(&client, &player_id).await.unwrap().status(), Some(&PlayerSessionStatus::Timedout));
    assert_eq!(session(&client, &id).await.unwrap().current_player_session_count(), Some(0));
    h.stop().await;
}

#[tokio::test]
async fn a_session_that_ends_completes_its_reserved_and_active_players() {
    let (h, client, compute) = server().await;
    let game = Game::start(&h, &compute, 7000, OnStart::Activate).await;
    let id = create_session(&client, &compute, 4, None).await.game_session_id().unwrap().to_owned();
    wait_active(&client, &id).await;
    let reserved = client.create_player_sessions().game_session_id(&id).player_ids("ana").player_ids("ben");
    let reserved = reserved.send().await.expect("CreatePlayerSessions");
    let ids: Vec<String> =
        reserved.player_sessions().iter().map(|p| p.player_session_id().unwrap().to_owned()).collect();
    game.sdk.accept_player_session(&ids[0]).await.expect("AcceptPlayerSession");

    h.clock.advance(Duration::from_secs(5));
    // The game runs without the GameLift Agent: a forced termination is refused, as on AWS.
    let forced = client.terminate_game_session().game_session_id(&id).termination_mode(TerminationMode::ForceTerminate);
    let refused = forced.send().await.unwrap_err().into_service_error();
    assert!(refused.is_invalid_request_exception(), "{refused:?}");
    let message = refused.meta().message().unwrap_or_default();
    assert!(message.contains("FORCE_TERMINATE") && message.contains(&compute.name), "{message}");
    assert_eq!(session(&client, &id).await.unwrap().status(), Some(&GameSessionStatus::Active));

    let ended = end_session(&client, &id, &game).await;
    assert_eq!(ended.current_player_session_count(), Some(0));
    for id in &ids {
        let p = player(&client, id).await.unwrap();
        assert_eq!((p.status(), p.termination_time()), (Some(&PlayerSessionStatus::Completed), Some(&server_now(&h))));
    }
    assert!(game.sdk.accept_player_session(&ids[1]).await.is_err());
    h.stop().await;
}

/// Activation starts from the session as it was pushed to the process; a change made
/// in between (here UpdateGameSession) is not lost: the activation reads the session again.
#[tokio::test]
async fn a_session_changed_before_its_activation_keeps_the_change() {
    let (h, client, compute) = server().await;
    let mut game = Game::start(&h, &compute, 7000, OnStart::Ignore).await;
    let id = create_session(&client, &compute, 4, None).await.game_session_id().unwrap().to_owned();
    assert_eq!(game.next_session().await.game_session_id, id);
    let update = client.update_game_session().game_session_id(&id).name("renamed").maximum_player_session_count(8);
    update.send().await.expect("UpdateGameSession");

    game.sdk.activate_game_session().await.expect("ActivateGameSession");
    let active = session(&client, &id).await.unwrap();
    assert_eq!(active.status(), Some(&GameSessionStatus::Active));
    assert_eq!((active.name(), active.maximum_player_session_count()), (Some("renamed"), Some(8)));
    h.stop().await;
}
