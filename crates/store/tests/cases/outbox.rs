//! The event outbox: one sequence in commit order, events written with their change.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use openlift_core::records::FleetEvent;
use openlift_model::FleetStatus;
use openlift_store::{EventFilter, OutboxEvent, Sequenced, Store, StoreError};

use super::{page, race};
use crate::support::{Backend, event, fleet};

/// Every outbox event after `after`, read in pages of `limit`.
async fn all_after(store: &dyn Store, after: i64, limit: usize) -> Vec<Sequenced<OutboxEvent>> {
    let mut read = Vec::new();
    let mut after = after;
    loop {
        let batch = store.events_after(after, limit).await.unwrap();
        assert!(batch.len() <= limit);
        let Some(last) = batch.last() else { return read };
        after = last.sequence;
        read.extend(batch);
    }
}

/// The fleet events of `read`, in order.
fn fleet_events(read: &[Sequenced<OutboxEvent>]) -> Vec<FleetEvent> {
    read.iter()
        .map(|e| match &e.value {
            OutboxEvent::Fleet(event) => event.clone(),
        })
        .collect()
}

/// Creates, updates and appends land in one sequence, read in order after any point; an
/// append leaves the fleet row alone, and a conflicting or missing update appends nothing.
pub async fn outbox_sequence(backend: &Backend) {
    let store = backend.open().await;
    assert!(store.events_after(0, 10).await.unwrap().is_empty());
    let created = [event("fleet-1", 0, 1000), event("fleet-1", 1, 1000)];
    store.create_fleet(&fleet("fleet-1", FleetStatus::New, &[]), &created, &[]).await.unwrap();
    store.create_fleet(&fleet("fleet-2", FleetStatus::New, &[]), &[event("fleet-2", 0, 1500)], &[]).await.unwrap();
    store.update_fleet(&fleet("fleet-1", FleetStatus::Active, &[]), 1, &[event("fleet-1", 2, 2000)]).await.unwrap();
    let appended = [OutboxEvent::Fleet(event("fleet-1", 3, 3000)), OutboxEvent::Fleet(event("fleet-2", 1, 3000))];
    store.append_events(&appended).await.unwrap();
    assert_eq!(store.get_fleet("fleet-1").await.unwrap().unwrap().version, 2, "an append leaves the fleet alone");

    let (stale, missing) = (fleet("fleet-1", FleetStatus::Error, &[]), fleet("fleet-9", FleetStatus::Error, &[]));
    let stale = store.update_fleet(&stale, 1, &[event("fleet-1", 8, 8000)]).await;
    assert!(matches!(stale, Err(StoreError::VersionConflict)));
    let missing = store.update_fleet(&missing, 1, &[event("fleet-9", 0, 8000)]).await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    let duplicate = fleet("fleet-2", FleetStatus::New, &[]);
    let duplicate = store.create_fleet(&duplicate, &[event("fleet-2", 9, 9000)], &[]).await;
    assert!(matches!(duplicate, Err(StoreError::AlreadyExists)));

    let read = all_after(store.as_ref(), 0, 2).await;
    let expected = [
        event("fleet-1", 0, 1000),
        event("fleet-1", 1, 1000),
        event("fleet-2", 0, 1500),
        event("fleet-1", 2, 2000),
        event("fleet-1", 3, 3000),
        event("fleet-2", 1, 3000),
    ];
    assert_eq!(fleet_events(&read), expected, "in commit order, and no event of a failed write");
    assert!(read.windows(2).all(|w| w[0].sequence < w[1].sequence), "{read:?}");
    let third = read[2].sequence;
    assert_eq!(fleet_events(&store.events_after(third, 2).await.unwrap()), expected[3..5]);
    assert!(store.events_after(read[5].sequence, 10).await.unwrap().is_empty());

    let listed = store.list_fleet_events("fleet-1", &EventFilter { start: None, end: None }, page(None, 10)).await;
    let newest_first: Vec<_> = expected.iter().filter(|e| e.fleet_id == "fleet-1").rev().cloned().collect();
    assert_eq!(listed.unwrap().items, newest_first, "DescribeFleetEvents reads the outbox");
    drop(store);
    let reopened = backend.open().await;
    let later = [OutboxEvent::Fleet(event("fleet-2", 2, 4000))];
    reopened.append_events(&later).await.unwrap();
    let after_reopen = reopened.events_after(read[5].sequence, 10).await.unwrap();
    assert_eq!(fleet_events(&after_reopen), [event("fleet-2", 2, 4000)], "the sequence goes on after a reopen");
}

/// 40 writers (two store instances, appends and fleet updates) while a reader follows the
/// outbox with "after the last sequence read": the reader sees every event exactly once,
/// in increasing sequence, because sequences follow commit order.
pub async fn outbox_concurrent_writers(backend: &Backend) {
    const WRITERS: usize = 40;
    const EVENTS: u32 = 5;
    let store = backend.open().await;
    for writer in 0..WRITERS {
        store.create_fleet(&fleet(&format!("fleet-{writer}"), FleetStatus::New, &[]), &[], &[]).await.unwrap();
    }
    let writing = Arc::new(AtomicBool::new(true));
    let reader = {
        let (store, writing) = (backend.open().await, Arc::clone(&writing));
        tokio::spawn(async move {
            let mut read: Vec<Sequenced<OutboxEvent>> = Vec::new();
            loop {
                let done = !writing.load(Ordering::SeqCst);
                let after = read.last().map_or(0, |e| e.sequence);
                let batch = store.events_after(after, 7).await.unwrap();
                assert!(batch.iter().all(|e| e.sequence > after), "{batch:?} after {after}");
                if batch.is_empty() && done {
                    return read;
                }
                read.extend(batch);
                tokio::task::yield_now().await;
            }
        })
    };
    let results = race(backend, WRITERS, |store, writer| async move {
        let id = format!("fleet-{writer}");
        for n in 0..EVENTS {
            let one = event(&id, n, 1000);
            if writer % 2 == 0 {
                store.append_events(&[OutboxEvent::Fleet(one)]).await?;
            } else {
                let version = i64::from(n) + 1;
                store.update_fleet(&fleet(&id, FleetStatus::Active, &[]), version, &[one]).await?;
            }
        }
        Ok(())
    })
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    writing.store(false, Ordering::SeqCst);
    let read = reader.await.unwrap();
    assert!(read.windows(2).all(|w| w[0].sequence < w[1].sequence));
    let ids: BTreeSet<_> = fleet_events(&read).into_iter().filter_map(|e| e.event.event_id).collect();
    assert_eq!(read.len(), WRITERS * EVENTS as usize, "the reader missed or repeated events");
    assert_eq!(ids.len(), read.len());
    assert_eq!(all_after(store.as_ref(), 0, 50).await, read, "what the reader followed is the whole outbox");
}
