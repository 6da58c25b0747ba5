//! Durability: a child process writes records and reports each acknowledged one
//! on stdout; it is killed with SIGKILL mid-stream, and every acknowledged
//! record must then be present and intact.
//!
//! The child is this test binary re-executed on the `durability::child_writer`
//! test with [`CHILD_URL_VAR`] set; without the variable that test does nothing.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use openlift_core::records::{Fleet, GameSessionRecord, Location, PlayerSessionRecord};
use openlift_model::FleetStatus;

use crate::support::{Backend, Kind, event, fleet, game_session, location, player, tag, with_players};

/// Set (to a database URL) only in the child process.
const CHILD_URL_VAR: &str = "OPENLIFT_DURABILITY_CHILD_URL";
/// How many acknowledgements the parent waits for before killing the child.
const ACKS_BEFORE_KILL: usize = 150;

/// The records of step `i`: a location, a fleet created then updated with an
/// event, and a game session created then given a player session.
struct Step {
    location: Location,
    fleet: Fleet,
    session: GameSessionRecord,
    player: PlayerSessionRecord,
}

/// The records of step `i`.
fn step_records(i: usize) -> Step {
    let id = format!("fleet-{i}");
    let session_id = format!("arn:aws:gamelift:us-west-2::gamesession/{id}/gs-{i}");
    Step {
        location: location(&format!("custom-{i}")),
        fleet: fleet(&id, FleetStatus::Active, &["custom-x"]),
        session: game_session(&session_id, &id, "us-west-2", Some("creator"), 1000),
        player: player(&format!("psess-{i}"), &session_id, "player", 2000),
    }
}

/// The child: writes until killed, printing `ACK i` after step `i` is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_writer() {
    let Ok(url) = std::env::var(CHILD_URL_VAR) else { return };
    let store = openlift_store::open(&url).await.expect("child opens the store");
    let mut stdout = std::io::stdout();
    for i in 0..100_000 {
        let step = step_records(i);
        let id = step.fleet.id().to_owned();
        store.create_location(&step.location, &[tag("step", &i.to_string())]).await.expect("create location");
        store.create_fleet(&fleet(&id, FleetStatus::New, &[]), &[], &[]).await.expect("create fleet");
        store.update_fleet(&step.fleet, 1, &[event(&id, 1, 1000)]).await.expect("update fleet");
        store.create_game_session(&step.session).await.expect("create game session");
        let joined = with_players(&step.session, 1);
        store.add_player_sessions(&joined, 1, &[step.player]).await.expect("add a player session");
        writeln!(stdout, "ACK {i}").and_then(|()| stdout.flush()).expect("report the acknowledgement");
    }
}

/// The step a line of the child's output acknowledges (libtest may prefix the first one).
fn ack(line: &str) -> Option<usize> {
    line.rsplit_once("ACK ").map(|(_, n)| n.trim().parse().expect("step number"))
}

/// Runs the child against `kind`, kills it, and checks every acknowledged step.
async fn acknowledged_writes_survive_sigkill(kind: Kind) {
    let Some(backend) = Backend::new(kind).await else { return };
    backend.open().await;
    let mut child = Command::new(std::env::current_exe().expect("test binary path"))
        .args(["--exact", "durability::child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL_VAR, backend.url())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the writer");
    let stdout = child.stdout.take().expect("child stdout");
    let acked = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut acked = Vec::new();
        while acked.len() < ACKS_BEFORE_KILL {
            let line = lines.next().expect("the writer stopped early").expect("read the writer's output");
            acked.extend(ack(&line));
        }
        child.kill().expect("SIGKILL the writer");
        acked.extend(lines.map_while(Result::ok).filter_map(|line| ack(&line)));
        let status = child.wait().expect("reap the writer");
        assert!(!status.success(), "the writer was killed, not finished: {status:?}");
        acked
    })
    .await
    .expect("reader task");

    let store = backend.open().await;
    for &i in &acked {
        let Step { location, fleet, session, player } = step_records(i);
        assert_eq!(store.get_location(&location.name).await.unwrap(), Some(location.clone()), "step {i}");
        assert_eq!(store.list_tags(&location.arn).await.unwrap(), vec![tag("step", &i.to_string())], "step {i}");
        let got = store.get_fleet(fleet.id()).await.unwrap().unwrap_or_else(|| panic!("fleet of step {i} lost"));
        assert_eq!((got.value, got.version), (fleet, 2), "step {i}");
        let got = store.get_game_session(session.id()).await.unwrap();
        let got = got.unwrap_or_else(|| panic!("game session of step {i} lost"));
        assert_eq!((got.value, got.version), (with_players(&session, 1), 2), "step {i}");
        let id = player.player_session_id.clone().unwrap();
        assert_eq!(store.get_player_session(&id).await.unwrap(), Some(player), "step {i}");
    }
    assert_eq!(acked, (0..acked.len()).collect::<Vec<_>>());
    drop(store);
    backend.cleanup().await;
}

/// SQLite (WAL, `synchronous=FULL`) keeps every acknowledged write across SIGKILL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_writes_survive_sigkill() {
    acknowledged_writes_survive_sigkill(Kind::Sqlite).await;
}

/// PostgreSQL keeps every acknowledged write across SIGKILL of the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledged_writes_survive_sigkill() {
    acknowledged_writes_survive_sigkill(Kind::Postgres).await;
}
