//! The sample chat game (`crates/sample-game`), launched as a real process the way an agent
//! launches game servers (the `GAMELIFT_SDK_*` environment), against the real SDK endpoint:
//! ready, a game session placed by CreateGameSession, a reserved player accepted and a
//! stranger refused, then TerminateGameSession, `TerminateProcess` and a clean exit.
//!
//! The binary lives in another package, so the test builds it with `cargo build -p
//! openlift-sample-game` into this test's own target directory (a no-op when fresh).

mod sdk_endpoint_support;
#[path = "../../../tests/support/workspace_binary.rs"]
mod workspace_binary;

use std::process::Stdio;

use aws_sdk_gamelift::types::{GameSessionStatus, GameSessionStatusReason, PlayerSessionStatus, TerminationMode};
use openlift_server::sdk::registry::{EndReason, ProcessStatus};
use sdk_endpoint_support::{Harness, WAIT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use workspace_binary::workspace_binary;

#[tokio::test]
async fn the_sample_game_is_placed_refuses_an_unknown_player_and_exits_on_terminate() {
    let binary = workspace_binary("openlift-sample-game").await;
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let logs = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let process_id = uuid::Uuid::new_v4().to_string();
    let mut game = tokio::process::Command::new(binary)
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

    let player = TcpStream::connect(("127.0.0.1", port)).await.expect("the game listens");
    let (read, mut write) = player.into_split();
    write.write_all(format!("{player_session_id}\n").as_bytes()).await.unwrap();
    let mut lines = BufReader::new(read).lines();
    let answer = tokio::time::timeout(WAIT, lines.next_line()).await.unwrap().unwrap().unwrap_or_default();
    assert!(answer.starts_with("OK"), "{answer}");
    let players = h.gamelift.describe_player_sessions().player_session_id(&player_session_id).send().await.unwrap();
    assert_eq!(players.player_sessions()[0].status(), Some(&PlayerSessionStatus::Active));

    let stranger = TcpStream::connect(("127.0.0.1", port)).await.expect("the game listens");
    let (read, mut write) = stranger.into_split();
    write.write_all(b"psess-unknown\n").await.unwrap();
    let mut stranger_lines = BufReader::new(read).lines();
    let answer = tokio::time::timeout(WAIT, stranger_lines.next_line()).await.unwrap().unwrap().unwrap_or_default();
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
