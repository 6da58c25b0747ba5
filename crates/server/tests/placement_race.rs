//! The placement race (`control-plane-api.md` section 7.9): many more concurrent
//! CreateGameSession calls than ready processes place exactly one game session per process
//! and refuse every other call with `FleetCapacityExceededException`.
//!
//! 1,000 real `openlift-server-sdk` processes (50 on each of 20 computes, GameLift's
//! per-compute limit) connect to the SDK endpoint; `aws-sdk-gamelift` then sends 10,000
//! CreateGameSession calls, a few hundred in flight at a time. Requests carry no CreatorId,
//! so the per-creator rate limit plays no part.

mod sdk_endpoint_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types::GameSession;
use futures_util::StreamExt;
use sdk_endpoint_support::games::{Game, OnStart};
use sdk_endpoint_support::{Harness, LOCATION, WAIT};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const COMPUTES: usize = 20;
const PROCESSES_PER_COMPUTE: usize = 50;
const PROCESSES: usize = COMPUTES * PROCESSES_PER_COMPUTE;
const REQUESTS: usize = 10 * PROCESSES;
/// CreateGameSession calls in flight at once.
const IN_FLIGHT: usize = 256;
/// Game servers connecting at once.
const CONNECTING: usize = 64;
/// Each process reports its own port, so a session's port names the process hosting it.
const FIRST_PORT: u16 = 10_000;

/// How one CreateGameSession call ended.
enum Outcome {
    Placed(String),
    CapacityExceeded { status: u16 },
    Other(String),
}

/// Every game session of the fleet, through DescribeGameSessions pages.
async fn all_sessions(client: &Client, fleet_id: &str) -> Vec<GameSession> {
    let mut sessions = Vec::new();
    let mut token = None;
    loop {
        let page = client.describe_game_sessions().fleet_id(fleet_id).set_next_token(token).send().await;
        let page = page.expect("DescribeGameSessions");
        sessions.extend(page.game_sessions().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return sessions;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_place_exactly_one_session_on_each_of_a_thousand_processes() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let first = h.fleet_with_compute("host-0").await;
    let fleet_id = first.fleet_id.clone();
    let mut computes = vec![first];
    for i in 1..COMPUTES {
        computes.push(h.add_compute(&fleet_id, &format!("host-{i}")).await);
    }

    let started = Instant::now();
    let slots: Vec<_> = (0..PROCESSES).map(|i| (&computes[i / PROCESSES_PER_COMPUTE], FIRST_PORT + i as u16)).collect();
    let mut games: Vec<Game> = futures_util::stream::iter(slots)
        .map(|(compute, port)| Game::start(&h, compute, port, OnStart::Activate))
        .buffer_unordered(CONNECTING)
        .collect()
        .await;
    assert_eq!(h.utilization(&fleet_id).await, (PROCESSES as i32, 0));
    eprintln!("{PROCESSES} game servers ready in {:?}", started.elapsed());

    let started = Instant::now();
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut calls = JoinSet::new();
    for _ in 0..REQUESTS {
        let permit = in_flight.clone().acquire_owned().await.expect("the semaphore stays open");
        let request =
            client.create_game_session().fleet_id(&fleet_id).location(LOCATION).maximum_player_session_count(10);
        calls.spawn(async move {
            let result = request.send().await;
            drop(permit);
            match result {
                Ok(output) => Outcome::Placed(output.game_session().and_then(|s| s.game_session_id()).unwrap().into()),
                Err(err) => {
                    let status = err.raw_response().map_or(0, |r| r.status().as_u16());
                    let err = err.into_service_error();
                    if err.is_fleet_capacity_exceeded_exception() {
                        Outcome::CapacityExceeded { status }
                    } else {
                        Outcome::Other(format!("{:?}: {:?}", err.code(), err.message()))
                    }
                }
            }
        });
    }
    let mut placed = BTreeSet::new();
    let mut refused = 0;
    let mut other = Vec::new();
    while let Some(outcome) = calls.join_next().await {
        match outcome.expect("the call task") {
            Outcome::Placed(id) => assert!(placed.insert(id.clone()), "{id} was returned twice"),
            Outcome::CapacityExceeded { status } => {
                assert_eq!(status, 400);
                refused += 1;
            }
            Outcome::Other(error) => other.push(error),
        }
    }
    eprintln!("{REQUESTS} CreateGameSession calls answered in {:?}", started.elapsed());
    assert!(other.is_empty(), "unexpected answers: {:?}", &other[..other.len().min(5)]);
    assert_eq!((placed.len(), refused), (PROCESSES, REQUESTS - PROCESSES));

    // Every process was told of exactly one game session, and activated it.
    let deadline = Instant::now() + WAIT;
    while games.iter().map(|g| g.pushes.load(Ordering::SeqCst)).sum::<usize>() < PROCESSES {
        assert!(Instant::now() < deadline, "not every process got its CreateGameSession push");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut pushed_to = BTreeMap::new();
    for game in &mut games {
        assert_eq!(game.pushes.load(Ordering::SeqCst), 1, "process {} got several sessions", game.process_id);
        let session = game.next_session().await;
        assert!(pushed_to.insert(session.game_session_id.clone(), game.port).is_none());
    }
    let deadline = Instant::now() + WAIT;
    let sessions = loop {
        let sessions = all_sessions(&client, &fleet_id).await;
        if sessions.iter().all(|s| s.status() == Some(&aws_sdk_gamelift::types::GameSessionStatus::Active)) {
            break sessions;
        }
        assert!(Instant::now() < deadline, "not every session became ACTIVE");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The fleet lists the same 1,000 sessions, each on the process that was told of it.
    let listed: BTreeSet<String> = sessions.iter().map(|s| s.game_session_id().unwrap().to_owned()).collect();
    assert_eq!(listed, placed);
    let endpoints: BTreeSet<(String, i32)> =
        sessions.iter().map(|s| (s.compute_name().unwrap().to_owned(), s.port().unwrap())).collect();
    assert_eq!(endpoints.len(), PROCESSES, "two sessions share a process");
    for session in &sessions {
        let id = session.game_session_id().unwrap();
        assert_eq!(session.port(), pushed_to.get(id).map(|p| i32::from(*p)), "{id}");
    }
    assert_eq!(h.utilization(&fleet_id).await, (PROCESSES as i32, PROCESSES as i32));
    h.stop().await;
}
