//! Thousands of concurrent writes on one store: on SQLite they share
//! transactions (group commit), which must not change what each caller sees.

use std::collections::BTreeSet;
use std::sync::Arc;

use openlift_core::records::GameSessionRecord;
use openlift_store::{GameSessionFilter, Store, StoreError};

use super::page;
use crate::support::{Backend, game_session};

/// How many distinct game sessions each case creates concurrently.
const WRITES: usize = 2000;

/// The game session every case creates for `id`.
fn session(id: &str) -> GameSessionRecord {
    game_session(id, "fleet-1", "us-west-2", Some("creator"), 1000)
}

/// Creates every record at once, one task each, on one store; returns each ID's result.
async fn create_all(store: &Arc<dyn Store>, records: Vec<GameSessionRecord>) -> Vec<(String, Result<(), StoreError>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for record in records {
        let store = Arc::clone(store);
        tasks.spawn(async move { (record.id().to_owned(), store.create_game_session(&record).await) });
    }
    tasks.join_all().await
}

/// The IDs of every stored game session, paging through all of them.
async fn stored_ids(store: &Arc<dyn Store>) -> Vec<String> {
    let (mut ids, mut after) = (Vec::new(), None);
    loop {
        let page = store.list_game_sessions(&GameSessionFilter::default(), page(after, 100)).await.unwrap();
        ids.extend(page.items.iter().map(|s| s.id().to_owned()));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
}

/// 2,000 concurrent creates all succeed, and all are there after reopening.
pub async fn concurrent_creates_all_commit(backend: &Backend) {
    let store = backend.open().await;
    let expected: BTreeSet<String> = (0..WRITES).map(|i| format!("gs-{i}")).collect();
    let results = create_all(&store, expected.iter().map(|id| session(id)).collect()).await;
    let failures: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
    assert!(failures.is_empty(), "every create succeeds: {failures:?}");
    drop(store);
    let store = backend.open().await;
    let ids = stored_ids(&store).await;
    assert_eq!(ids.len(), WRITES, "no create was lost or stored twice");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected);
    let got = store.get_game_session("gs-1234").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (session("gs-1234"), 1));
}

/// Duplicates mixed into a flood of creates get exactly their `AlreadyExists`,
/// change nothing, and every other create commits.
pub async fn concurrent_creates_with_duplicates(backend: &Backend) {
    let store = backend.open().await;
    let taken: Vec<String> = (0..5).map(|i| format!("gs-taken-{i}")).collect();
    for id in &taken {
        store.create_game_session(&session(id)).await.unwrap();
    }
    let twice: Vec<String> = (0..5).map(|i| format!("gs-twice-{i}")).collect();
    let mut records: Vec<GameSessionRecord> = (0..WRITES).map(|i| session(&format!("gs-{i}"))).collect();
    for (k, id) in taken.iter().chain(&twice).chain(&twice).enumerate() {
        let mut duplicate = session(id);
        duplicate.request_digest = format!("duplicate {k}");
        records.insert(130 * k + 7, duplicate);
    }
    let results = create_all(&store, records).await;

    for (id, result) in &results {
        if taken.contains(id) {
            assert!(matches!(result, Err(StoreError::AlreadyExists)), "{id}: {result:?}");
        } else if !twice.contains(id) {
            assert!(result.is_ok(), "{id}: {result:?}");
        }
    }
    for id in &twice {
        let outcomes: Vec<_> = results.iter().filter(|(i, _)| i == id).map(|(_, r)| r).collect();
        assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 1, "{id}: {outcomes:?}");
        assert_eq!(outcomes.iter().filter(|r| matches!(r, Err(StoreError::AlreadyExists))).count(), 1, "{id}");
    }
    drop(store);
    let store = backend.open().await;
    assert_eq!(stored_ids(&store).await.len(), WRITES + taken.len() + twice.len());
    for id in &taken {
        let got = store.get_game_session(id).await.unwrap().unwrap();
        assert_eq!((got.value, got.version), (session(id), 1), "a rejected duplicate changes nothing");
    }
    assert!(store.get_game_session("gs-1999").await.unwrap().is_some());
}
