//! The sample chat game (`crates/sample-game`), launched as a real process the way an agent
//! launches game servers (the `GAMELIFT_SDK_*` environment), against the real SDK endpoint:
//! ready, a game session placed by CreateGameSession, a reserved player accepted and a
//! stranger refused, then TerminateGameSession, `TerminateProcess` and a clean exit; and a
//! game killed with SIGKILL, whose game session ends when its heartbeats stop.
//!
//! The binary lives in another package, so the test builds it with `cargo build -p
//! openlift-sample-game` into this test's own target directory (a no-op when fresh).

mod sdk_endpoint_support;
#[path = "../../../tests/support/workspace_binary.rs"]
mod workspace_binary;

use std::process::Stdio;

use aws_sdk_gamelift::types::{GameSessionStatus, GameSessionStatusReason, PlayerSessionStatus, TerminationMode};
use openlift_server::config::DEFAULT_PROCESS_HEARTBEAT_TIMEOUT;
use openlift_server::hosting::registry::{EndReason, ProcessStatus};
use sdk_endpoint_support::{Compute, Harness, WAIT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Child;
use workspace_binary::workspace_binary;

/// A running sample game, its process ID and the port players connect to.
struct SampleGame {
    child: Child,
    process_id: String,
    port: u16,
    _logs: tempfile::TempDir,
}

/// Launches the sample game for `compute` as an agent would.
async fn launch(h: &Harness, compute: &Compute) -> SampleGame {
    let binary = workspace_binary("openlift-sample-game").await;
    let logs = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let process_id = uuid::Uuid::new_v4().to_string();
    let child = tokio::process::Command::new(binary)
        .args(["--port", &port.to_string(), "--log-dir"])
        .arg(logs.path())
        .env("GAMELIFT_SDK_WEBSOCKET_URL", h.sdk_url())
        .env("GAMELIFT_SDK_PROCESS_ID", &process_id)
        .env("GAMELIFT_SDK_HOST_ID", &compute.name)
        .env("GAMELIFT_SDK_FLEET_ID", &compute.fleet_id)
        .env("GAMELIFT_SDK_AUTH_TOKEN", &compute.token)
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the sample game starts");
    SampleGame { child, process_id, port, _logs: logs }
}

/// A player's connection to the game; the player leaves when it is dropped.
type Player = (Lines<BufReader<OwnedReadHalf>>, OwnedWriteHalf);

/// Connects to the game as the holder of `player_session_id` and returns its first answer
/// and the connection.
async fn join(port: u16, player_session_id: &str) -> (String, Player) {
    let player = TcpStream::connect(("127.0.0.1", port)).await.expect("the game listens");
    let (read, mut write) = player.into_split();
    write.write_all(format!("{player_session_id}\n").as_bytes()).await.unwrap();
    let mut lines = BufReader::new(read).lines();
    let answer = tokio::time::timeout(WAIT, lines.next_line()).await.unwrap().unwrap().unwrap_or_default();
    (answer, (lines, write))
}

#[tokio::test]
async fn the_sample_game_is_placed_refuses_an_unknown_player_and_exits_on_terminate() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let SampleGame { child: mut game, process_id, port, _logs } = launch(&h, &compute).await;

    let info = h.wait_for(&process_id, "the game to be ready", |i| i.status == ProcessStatus::Active).await;
    assert_eq!(info.port, Some(port));
    assert!(info.log_paths[0].contains("chat-"), "{:?}", info.log_paths);
    assert_eq!(h.utilization(&compute.fleet_id).await, (1, 0));

    let created = h.create_game_session(&compute, 4).name("chat").send().await.expect("CreateGameSession");
    let game_session_id = created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned();
    h.wait_for(&process_id, "ActivateGameSession", |i| i.game_session.as_ref().is_some_and(|s| s.activated)).await;
    assert_eq!(h.utilization(&compute.fleet_id).await, (1, 1));

    let reserved = h
        .gamelift
        .create_player_session()
        .game_session_id(&game_session_id)
        .player_id("ana")
        .send()
        .await
        .expect("CreatePlayerSession");
    let reserved = reserved.player_session().unwrap();
    assert_eq!(reserved.port(), Some(i32::from(port)));
    let player_session_id = reserved.player_session_id().unwrap().to_owned();

    let (answer, _player) = join(port, &player_session_id).await;
    assert!(answer.starts_with("OK"), "{answer}");
    let players = h.gamelift.describe_player_sessions().player_session_id(&player_session_id).send().await.unwrap();
    assert_eq!(players.player_sessions()[0].status(), Some(&PlayerSessionStatus::Active));

    let (answer, _stranger) = join(port, "psess-unknown").await;
    assert!(answer.starts_with("ERROR") && answer.contains("not found"), "{answer}");

    let terminating = h
        .gamelift
        .terminate_game_session()
        .game_session_id(&game_session_id)
        .termination_mode(TerminationMode::TriggerOnProcessTerminate)
        .send()
        .await
        .expect("TerminateGameSession");
    assert_eq!(terminating.game_session().and_then(|s| s.status()), Some(&GameSessionStatus::Terminating));
    let exit = tokio::time::timeout(WAIT, game.wait()).await.expect("the game exits").unwrap();
    assert!(exit.success(), "{exit:?}");
    let ended = h.wait_for(&process_id, "the end", |i| matches!(i.status, ProcessStatus::Ended { .. })).await;
    assert!(matches!(ended.status, ProcessStatus::Ended { reason: EndReason::ProcessEnding, .. }));
    let described = h.gamelift.describe_game_sessions().game_session_id(&game_session_id).send().await.unwrap();
    let session = &described.game_sessions()[0];
    assert_eq!(session.status(), Some(&GameSessionStatus::Terminated));
    assert_eq!(session.status_reason(), Some(&GameSessionStatusReason::TriggeredOnProcessTerminate));
    assert_eq!(h.utilization(&compute.fleet_id).await, (0, 0));
    h.stop().await;
}

#[tokio::test]
async fn a_game_killed_with_sigkill_ends_its_game_session_within_the_heartbeat_timeout() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let SampleGame { mut child, process_id, port, _logs } = launch(&h, &compute).await;
    h.wait_for(&process_id, "the game to be ready", |i| i.status == ProcessStatus::Active).await;
    let created = h.create_game_session(&compute, 4).send().await.expect("CreateGameSession");
    let game_session_id = created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned();
    h.wait_for(&process_id, "ActivateGameSession", |i| i.game_session.as_ref().is_some_and(|s| s.activated)).await;
    let player = |name: &str| h.gamelift.create_player_session().game_session_id(&game_session_id).player_id(name);
    let ana = player("ana").send().await.expect("CreatePlayerSession");
    let ana = ana.player_session().and_then(|p| p.player_session_id()).unwrap().to_owned();
    let (answer, _ana) = join(port, &ana).await;
    assert!(answer.starts_with("OK"), "{answer}");
    player("bo").send().await.expect("CreatePlayerSession of a player who never connects");
    assert_eq!(h.utilization(&compute.fleet_id).await, (1, 1));

    child.start_kill().expect("SIGKILL");
    child.wait().await.unwrap();
    h.wait_for(&process_id, "the dead connection", |i| i.connections == 0).await;
    assert_eq!(h.app.sdk.processes.get(&process_id).unwrap().status, ProcessStatus::Active, "no heartbeat missed yet");
    h.clock.advance(DEFAULT_PROCESS_HEARTBEAT_TIMEOUT);
    let ended = h.wait_for(&process_id, "the sweep", |i| matches!(i.status, ProcessStatus::Ended { .. })).await;
    assert!(matches!(ended.status, ProcessStatus::Ended { reason: EndReason::Unhealthy, .. }), "{ended:?}");
    let codes = h.wait_for_event(&compute.fleet_id, "SERVER_PROCESS_TERMINATED_UNHEALTHY").await;
    assert_eq!(codes.iter().filter(|c| *c == "SERVER_PROCESS_TERMINATED_UNHEALTHY").count(), 1, "{codes:?}");

    // The event, the session's end and its players' are one write: seeing one is seeing all.
    let described = h.gamelift.describe_game_sessions().game_session_id(&game_session_id).send().await.unwrap();
    let session = described.game_sessions()[0].clone();
    assert_eq!(session.status(), Some(&GameSessionStatus::Terminated));
    assert_eq!(session.status_reason(), Some(&GameSessionStatusReason::Interrupted));
    assert_eq!(session.current_player_session_count(), Some(0));
    let refused = player("cy").send().await.unwrap_err().into_service_error();
    assert!(refused.is_invalid_game_session_status_exception(), "{refused:?}");
    let players = h.gamelift.describe_player_sessions().game_session_id(&game_session_id).send().await.unwrap();
    let statuses: Vec<_> = players.player_sessions().iter().filter_map(|p| p.status()).collect();
    assert_eq!(statuses, [&PlayerSessionStatus::Completed, &PlayerSessionStatus::Completed]);
    assert_eq!(h.utilization(&compute.fleet_id).await, (0, 0));
    let full = h.create_game_session(&compute, 4).send().await.unwrap_err().into_service_error();
    assert!(full.is_fleet_capacity_exceeded_exception(), "the dead process gets nothing: {full:?}");
    h.stop().await;
}

#[tokio::test]
async fn deregistering_a_compute_or_deleting_its_location_ends_its_games_and_their_sessions() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let other = h.add_compute(&compute.fleet_id, "host-2").await;
    let mut games = [launch(&h, &compute).await, launch(&h, &other).await];
    for game in &games {
        h.wait_for(&game.process_id, "the game to be ready", |i| i.status == ProcessStatus::Active).await;
    }
    for _ in &games {
        h.create_game_session(&compute, 4).send().await.expect("CreateGameSession");
    }
    for game in &games {
        h.wait_for(&game.process_id, "ActivateGameSession", |i| i.game_session.as_ref().is_some_and(|s| s.activated))
            .await;
    }
    let hosted = |game: &SampleGame| h.app.sdk.processes.get(&game.process_id).and_then(|i| i.game_session);

    h.gamelift.deregister_compute().fleet_id(&compute.fleet_id).compute_name(&compute.name).send().await.unwrap();
    h.gamelift
        .delete_fleet_locations()
        .fleet_id(&compute.fleet_id)
        .locations(sdk_endpoint_support::LOCATION)
        .send()
        .await
        .expect("DeleteFleetLocations");
    for game in &mut games {
        let info = h.app.sdk.processes.get(&game.process_id).unwrap();
        assert!(matches!(info.status, ProcessStatus::Ended { reason: EndReason::Deregistered, .. }), "{info:?}");
        assert_eq!(info.connections, 0, "its connection is closed");
        tokio::time::timeout(WAIT, game.child.wait()).await.expect("the game exits on TerminateProcess").unwrap();
        let game_session_id = hosted(game).unwrap().game_session_id;
        let described = h.gamelift.describe_game_sessions().game_session_id(&game_session_id).send().await.unwrap();
        let session = &described.game_sessions()[0];
        assert_eq!(session.status(), Some(&GameSessionStatus::Terminated), "{game_session_id}");
        assert_eq!(session.status_reason(), Some(&GameSessionStatusReason::Interrupted));
    }
    let codes = h.event_codes(&compute.fleet_id).await;
    assert_eq!(codes.iter().filter(|c| *c == "SERVER_PROCESS_FORCE_TERMINATED").count(), 2, "{codes:?}");
    assert_eq!(h.utilization(&compute.fleet_id).await, (0, 0));
    h.stop().await;
}
