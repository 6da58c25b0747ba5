//! Game sessions: create, compare-and-swap, listings, creator counts and purging.

use openlift_core::records::GameSessionRecord;
use openlift_model::GameSessionStatus::{Activating, Active, Terminated};
use openlift_model::{ProtectionPolicy, Timestamp};
use openlift_store::{FIRST_VERSION, GameSessionFilter, PlayerSessionFilter, StoreError};

use super::page;
use crate::support::{Backend, game_session, player, with_players, with_status};

/// The IDs of listed game sessions.
fn ids(items: Vec<GameSessionRecord>) -> Vec<String> {
    items.into_iter().map(|s| s.id().to_owned()).collect()
}

/// A game session ARN with ID string `n`.
fn arn(n: &str) -> String {
    format!("arn:aws:gamelift:us-west-2::gamesession/fleet-1/{n}")
}

/// Create, duplicate (the idempotency case), get, compare-and-swap, conflicts and absence.
pub async fn game_session_lifecycle(backend: &Backend) {
    let store = backend.open().await;
    let created = game_session(&arn("token-1"), "fleet-1", "us-west-2", Some("creator"), 1000);
    store.create_game_session(&created).await.unwrap();
    let mut other = game_session(&arn("token-1"), "fleet-2", "us-west-2", None, 2000);
    other.request_digest = "another digest".into();
    assert!(matches!(store.create_game_session(&other).await, Err(StoreError::AlreadyExists)));
    let got = store.get_game_session(&arn("token-1")).await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (created.clone(), FIRST_VERSION), "a duplicate changes nothing");
    assert!(store.get_game_session(&arn("token-9")).await.unwrap().is_none());

    let mut active = with_status(&created, Active, None);
    active.protection_policy = ProtectionPolicy::FullProtection;
    active.process_id = Some("process-1".into());
    active.game_session.ip_address = Some("10.0.0.7".into());
    assert_eq!(store.update_game_session(&active, 1).await.unwrap(), 2);
    let got = store.get_game_session(&arn("token-1")).await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (active.clone(), 2));
    let stale = with_status(&created, Terminated, Some(5000));
    assert!(matches!(store.update_game_session(&stale, 1).await, Err(StoreError::VersionConflict)));
    let missing = game_session(&arn("token-9"), "fleet-1", "us-west-2", None, 1000);
    assert!(matches!(store.update_game_session(&missing, 1).await, Err(StoreError::NotFound)));
    assert_eq!(store.get_game_session(&arn("token-1")).await.unwrap().unwrap().value, active);
}

/// An idempotency token names one session in every fleet and location: a session with a
/// token already used is refused whatever its ID, the token finds the session through its
/// updates, and sessions without a token never collide. A purged session frees its token.
pub async fn game_session_tokens(backend: &Backend) {
    let store = backend.open().await;
    let first = game_session(&arn("token-1"), "fleet-1", "us-west-2", None, 1000);
    store.create_game_session(&first).await.unwrap();
    let elsewhere = "arn:aws:gamelift:us-west-2::gamesession/fleet-2/token-1";
    let other_fleet = game_session(elsewhere, "fleet-2", "us-west-2", None, 2000);
    assert!(matches!(store.create_game_session(&other_fleet).await, Err(StoreError::AlreadyExists)));
    assert!(store.get_game_session(elsewhere).await.unwrap().is_none());
    let found = store.get_game_session_by_token("token-1").await.unwrap().unwrap();
    assert_eq!((found.value, found.version), (first.clone(), FIRST_VERSION));
    assert!(store.get_game_session_by_token("token-2").await.unwrap().is_none());

    let ended = with_status(&first, Terminated, Some(3000));
    assert_eq!(store.update_game_session(&ended, FIRST_VERSION).await.unwrap(), 2);
    assert_eq!(store.get_game_session_by_token("token-1").await.unwrap().unwrap().value, ended);

    for n in ["gsess-a", "gsess-b"] {
        let mut untokened = game_session(&arn(n), "fleet-1", "us-west-2", None, 1000);
        untokened.idempotency_token = None;
        store.create_game_session(&untokened).await.unwrap();
    }

    assert_eq!(store.purge_game_sessions(Timestamp::from_millis(4000)).await.unwrap(), 1);
    assert!(store.get_game_session_by_token("token-1").await.unwrap().is_none());
    store.create_game_session(&other_fleet).await.expect("a purged session's token can be used again");
    assert_eq!(store.get_game_session_by_token("token-1").await.unwrap().unwrap().value, other_fleet);
}

/// Listings filter by fleet, location, status and age, in creation order, page
/// by page, and follow updates.
pub async fn list_game_sessions(backend: &Backend) {
    let store = backend.open().await;
    let specs = [
        ("a", "fleet-1", "us-west-2", 1000),
        ("b", "fleet-2", "us-west-2", 2000),
        ("c", "fleet-1", "custom-x", 3000),
        ("d", "fleet-1", "us-west-2", 4000),
        ("e", "fleet-1", "us-west-2", 5000),
    ];
    for (n, fleet, location, millis) in specs {
        store.create_game_session(&game_session(&arn(n), fleet, location, None, millis)).await.unwrap();
    }
    let activated = with_status(&game_session(&arn("d"), "fleet-1", "us-west-2", None, 4000), Active, None);
    store.update_game_session(&activated, 1).await.unwrap();
    let filter =
        |fleet: Option<&str>, location: Option<&str>, status: Option<&str>, before: Option<i64>| GameSessionFilter {
            fleet_id: fleet.map(str::to_owned),
            location: location.map(str::to_owned),
            status: status.map(str::to_owned),
            created_before: before.map(Timestamp::from_millis),
        };
    let list = |f: GameSessionFilter, after, limit| {
        let store = store.clone();
        async move { store.list_game_sessions(&f, page(after, limit)).await.unwrap() }
    };
    let all = list(filter(None, None, None, None), None, 10).await;
    assert_eq!((ids(all.items), all.next), (["a", "b", "c", "d", "e"].map(arn).to_vec(), None));
    let first = list(filter(Some("fleet-1"), None, None, None), None, 2).await;
    assert_eq!(ids(first.items), ["a", "c"].map(arn));
    let second = list(filter(Some("fleet-1"), None, None, None), first.next, 2).await;
    assert_eq!((ids(second.items), second.next), (["d", "e"].map(arn).to_vec(), None));
    let home = list(filter(Some("fleet-1"), Some("us-west-2"), None, None), None, 10).await;
    assert_eq!(ids(home.items), ["a", "d", "e"].map(arn));
    let activating = list(filter(Some("fleet-1"), None, Some("ACTIVATING"), None), None, 10).await;
    assert_eq!(ids(activating.items), ["a", "c", "e"].map(arn), "the status filter follows updates");
    let active = list(filter(None, None, Some("ACTIVE"), None), None, 10).await;
    assert_eq!(active.items, vec![activated]);
    let overdue = list(filter(None, None, Some("ACTIVATING"), Some(3000)), None, 10).await;
    assert_eq!(ids(overdue.items), ["a", "b"].map(arn), "created strictly before");
    let none = list(filter(Some("fleet-1"), Some("custom-x"), Some("ACTIVE"), None), None, 10).await;
    assert!(none.items.is_empty());
    assert!(list(filter(Some("fleet-9"), None, None, None), None, 10).await.items.is_empty());
}

/// Creator counts include the window's start, and are per fleet and per creator.
pub async fn count_game_sessions_by_creator(backend: &Backend) {
    let store = backend.open().await;
    let specs = [
        ("a", "fleet-1", Some("alice"), 1000),
        ("b", "fleet-1", Some("alice"), 2000),
        ("c", "fleet-1", Some("alice"), 3000),
        ("d", "fleet-1", Some("bob"), 3000),
        ("e", "fleet-2", Some("alice"), 3000),
        ("f", "fleet-1", None, 3000),
    ];
    for (n, fleet, creator, millis) in specs {
        store.create_game_session(&game_session(&arn(n), fleet, "us-west-2", creator, millis)).await.unwrap();
    }
    let count = |fleet: &'static str, creator: &'static str, since: i64| {
        let store = store.clone();
        async move { store.count_game_sessions_by_creator(fleet, creator, Timestamp::from_millis(since)).await.unwrap() }
    };
    assert_eq!(count("fleet-1", "alice", 0).await, 3);
    assert_eq!(count("fleet-1", "alice", 2000).await, 2, "a session created exactly at `since` counts");
    assert_eq!(count("fleet-1", "alice", 2001).await, 1);
    assert_eq!(count("fleet-1", "alice", 3001).await, 0);
    assert_eq!(count("fleet-1", "bob", 0).await, 1);
    assert_eq!(count("fleet-2", "alice", 0).await, 1);
    assert_eq!(count("fleet-1", "carol", 0).await, 0);
    let ended = with_status(&game_session(&arn("a"), "fleet-1", "us-west-2", Some("alice"), 1000), Terminated, Some(1));
    store.update_game_session(&ended, 1).await.unwrap();
    assert_eq!(count("fleet-1", "alice", 0).await, 3, "ended sessions still count until purged");
}

/// Purging removes sessions that ended strictly before the cutoff, with their
/// player sessions, and nothing else.
pub async fn purge_game_sessions(backend: &Backend) {
    let store = backend.open().await;
    let ends = [("old", Some(1000)), ("edge", Some(5000)), ("live", None), ("older", Some(10))];
    for (n, ended) in ends {
        let created = game_session(&arn(n), "fleet-1", "us-west-2", None, 1);
        store.create_game_session(&created).await.unwrap();
        let players =
            [player(&format!("psess-{n}-0"), &arn(n), "p0", 2), player(&format!("psess-{n}-1"), &arn(n), "p1", 3)];
        let version = store.add_player_sessions(&with_players(&created, 2), 1, &players).await.unwrap();
        if let Some(ended) = ended {
            store.update_game_session(&with_status(&created, Terminated, Some(ended)), version).await.unwrap();
        }
    }
    assert_eq!(store.purge_game_sessions(Timestamp::from_millis(5000)).await.unwrap(), 2);
    assert!(store.get_game_session(&arn("old")).await.unwrap().is_none());
    assert!(store.get_game_session(&arn("older")).await.unwrap().is_none());
    assert!(store.get_game_session(&arn("edge")).await.unwrap().is_some(), "ended exactly at the cutoff: kept");
    assert!(store.get_game_session(&arn("live")).await.unwrap().is_some());
    assert!(store.get_player_session("psess-old-0").await.unwrap().is_none());
    let remaining = store.list_player_sessions(&PlayerSessionFilter::default(), page(None, 10)).await.unwrap();
    let remaining: Vec<_> = remaining.items.into_iter().map(|p| p.player_session_id.unwrap()).collect();
    assert_eq!(remaining, ["psess-edge-0", "psess-edge-1", "psess-live-0", "psess-live-1"]);
    assert_eq!(store.purge_game_sessions(Timestamp::from_millis(5000)).await.unwrap(), 0);
    assert_eq!(store.purge_game_sessions(Timestamp::from_millis(i64::MAX)).await.unwrap(), 1);
    assert!(store.get_player_session("psess-edge-1").await.unwrap().is_none());
    assert!(store.get_game_session(&arn("live")).await.unwrap().is_some(), "a session that never ended stays");
    let reused = game_session(&arn("old"), "fleet-1", "us-west-2", None, 1);
    store.create_game_session(&reused).await.expect("a purged session's ID (token) can be used again");
    assert_eq!(store.get_game_session(&arn("old")).await.unwrap().unwrap().value.game_session.status, Some(Activating));
}
