//! A micro-benchmark of SQLite writes: game-session creates per second with 1,
//! 16 and 256 concurrent writers on one store, which shows what group commit
//! buys (a lone writer pays one fsync per create). Ignored by default; run with
//! `cargo test -p openlift-store --test conformance -- --ignored --nocapture bench`.
//! It prints figures and asserts nothing about speed.

use std::time::{Duration, Instant};

use crate::support::{Backend, Kind, game_session};

/// How long each configuration runs.
const RUN: Duration = Duration::from_secs(3);

/// Prints SQLite creates per second for each number of concurrent writers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints SQLite creates per second, run it explicitly"]
async fn sqlite_creates_per_second() {
    for writers in [1, 16, 256] {
        let backend = Backend::new(Kind::Sqlite).await.expect("SQLite is always available");
        let store = backend.open().await;
        let started = Instant::now();
        let deadline = started + RUN;
        let mut tasks = tokio::task::JoinSet::new();
        for writer in 0..writers {
            let store = store.clone();
            tasks.spawn(async move {
                let mut created = 0_u32;
                while Instant::now() < deadline {
                    let id = format!("gs-{writer}-{created}");
                    let session = game_session(&id, "fleet-1", "us-west-2", Some("creator"), 1000);
                    store.create_game_session(&session).await.expect("create a game session");
                    created += 1;
                }
                created
            });
        }
        let total: u32 = tasks.join_all().await.into_iter().sum();
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "sqlite, {writers:>3} concurrent writers: {total:>6} creates in {seconds:.2} s = {:>8.0} creates/s",
            f64::from(total) / seconds
        );
        drop(store);
        backend.cleanup().await;
    }
}
