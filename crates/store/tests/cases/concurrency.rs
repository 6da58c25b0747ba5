//! Concurrent writers and opens, and what survives reopening.

use std::sync::Arc;

use openlift_model::FleetStatus;
use openlift_model::RoutingStrategyType::Terminal;
use openlift_store::{EventFilter, Store, StoreError};

use super::page;
use crate::support::{Backend, alias, event, fleet, location, tag};

/// Runs `attempts` concurrent calls of `op` (alternating between two store
/// instances) and returns their results.
pub async fn race<T, F, Fut>(backend: &Backend, attempts: usize, op: F) -> Vec<Result<T, StoreError>>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
{
    let (a, b) = (backend.open().await, backend.open().await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..attempts {
        tasks.spawn(op(if i % 2 == 0 { a.clone() } else { b.clone() }, i));
    }
    tasks.join_all().await
}

/// Asserts exactly one result is `Ok` and every other one is the expected error.
pub fn exactly_one_wins<T: std::fmt::Debug>(results: &[Result<T, StoreError>], loser: fn(&StoreError) -> bool) {
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "exactly one writer wins: {results:?}");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(loser), "{results:?}");
}

/// 50 updates of the same fleet version: one wins, the rest conflict.
pub async fn concurrent_fleet_updates(backend: &Backend) {
    let store = backend.open().await;
    store.create_fleet(&fleet("fleet-1", FleetStatus::New, &[]), &[], &[]).await.unwrap();
    let results = race(backend, 50, |store, i| async move {
        let events = [event("fleet-1", u32::try_from(i).unwrap(), 1000)];
        store.update_fleet(&fleet("fleet-1", FleetStatus::Active, &["custom-x"]), 1, &events).await
    })
    .await;
    exactly_one_wins(&results, |e| matches!(e, StoreError::VersionConflict));
    assert_eq!(store.get_fleet("fleet-1").await.unwrap().unwrap().version, 2);
    let events = store.list_fleet_events("fleet-1", &EventFilter { start: None, end: None }, page(None, 100)).await;
    assert_eq!(events.unwrap().items.len(), 1, "only the winner's events are appended");
    assert_eq!(store.fleets_in_location("custom-x").await.unwrap(), vec!["fleet-1"]);
}

/// 50 updates of the same alias version: one wins, the rest conflict.
pub async fn concurrent_alias_updates(backend: &Backend) {
    let store = backend.open().await;
    store.create_alias(&alias("alias-1", "a", Terminal), &[]).await.unwrap();
    let results = race(backend, 50, |store, i| async move {
        store.update_alias(&alias("alias-1", &format!("name-{i}"), Terminal), 1).await
    })
    .await;
    exactly_one_wins(&results, |e| matches!(e, StoreError::VersionConflict));
    assert_eq!(store.get_alias("alias-1").await.unwrap().unwrap().version, 2);
}

/// 20 creates of the same keys: one wins each time, the rest see `AlreadyExists`.
pub async fn concurrent_creates(backend: &Backend) {
    let results =
        race(
            backend,
            20,
            |store, _| async move { store.create_location(&location("custom-same"), &[tag("k", "v")]).await },
        )
        .await;
    exactly_one_wins(&results, |e| matches!(e, StoreError::AlreadyExists));
    let results = race(backend, 20, |store, _| async move {
        store.create_fleet(&fleet("fleet-same", FleetStatus::New, &[]), &[event("fleet-same", 0, 1)], &[]).await
    })
    .await;
    exactly_one_wins(&results, |e| matches!(e, StoreError::AlreadyExists));
}

/// Several stores opening a fresh database at once all succeed, and everything
/// written before is there after reopening.
pub async fn concurrent_opens_and_reopen(backend: &Backend) {
    let mut opens = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let url = backend.url().to_owned();
        opens.spawn(async move { openlift_store::open(&url).await.map(drop) });
    }
    for opened in opens.join_all().await {
        opened.expect("a concurrent open succeeds");
    }
    let store = backend.open().await;
    let created = fleet("fleet-1", FleetStatus::Active, &["custom-x"]);
    store.create_fleet(&created, &[event("fleet-1", 0, 5)], &[tag("a", "b")]).await.unwrap();
    store.create_alias(&alias("alias-1", "a", Terminal), &[]).await.unwrap();
    store.create_location(&location("custom-x"), &[]).await.unwrap();
    drop(store);
    let store = backend.open().await;
    assert_eq!(store.get_fleet("fleet-1").await.unwrap().unwrap().value, created);
    assert!(store.get_alias("alias-1").await.unwrap().is_some());
    assert!(store.get_location("custom-x").await.unwrap().is_some());
    assert_eq!(store.fleets_in_location("custom-x").await.unwrap(), vec!["fleet-1"]);
    assert_eq!(store.list_tags(created.attributes.fleet_arn.as_deref().unwrap()).await.unwrap(), vec![tag("a", "b")]);
}
