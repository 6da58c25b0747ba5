//! Fleets and their event logs.

use openlift_model::{FleetStatus, Timestamp};
use openlift_store::{EventFilter, StoreError};

use super::page;
use crate::support::{Backend, event, fleet, tag};

/// Create, get, duplicate, compare-and-swap update, conflicts and absence.
pub async fn fleet_lifecycle(backend: &Backend) {
    let store = backend.open().await;
    let created = fleet("fleet-1", FleetStatus::New, &["us-west-2"]);
    store.create_fleet(&created, &[event("fleet-1", 0, 1000)], &[tag("team", "a")]).await.unwrap();
    let got = store.get_fleet("fleet-1").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (created.clone(), 1));
    let other = fleet("fleet-1", FleetStatus::Active, &[]);
    assert!(matches!(store.create_fleet(&other, &[], &[]).await, Err(StoreError::AlreadyExists)));
    assert_eq!(store.get_fleet("fleet-1").await.unwrap().unwrap().value, created, "a failed create changes nothing");
    assert_eq!(
        store.list_tags(created.attributes.fleet_arn.as_deref().unwrap()).await.unwrap(),
        vec![tag("team", "a")]
    );

    let active = fleet("fleet-1", FleetStatus::Active, &["us-west-2", "custom-a"]);
    assert_eq!(store.update_fleet(&active, 1, &[event("fleet-1", 1, 2000)]).await.unwrap(), 2);
    let got = store.get_fleet("fleet-1").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (active.clone(), 2));
    let stale = fleet("fleet-1", FleetStatus::Error, &[]);
    assert!(matches!(
        store.update_fleet(&stale, 1, &[event("fleet-1", 9, 9000)]).await,
        Err(StoreError::VersionConflict)
    ));
    let events = store.list_fleet_events("fleet-1", &no_filter(), page(None, 10)).await.unwrap();
    assert_eq!(
        events.items,
        vec![event("fleet-1", 1, 2000), event("fleet-1", 0, 1000)],
        "a failed update appends nothing"
    );
    let missing = fleet("fleet-missing", FleetStatus::Active, &[]);
    assert!(matches!(store.update_fleet(&missing, 1, &[]).await, Err(StoreError::NotFound)));
    assert!(store.get_fleet("fleet-missing").await.unwrap().is_none());
    assert_eq!(store.update_fleet(&active, 2, &[]).await.unwrap(), 3);
}

/// Listing hides terminated fleets unless asked, pages in creation order.
pub async fn list_fleets(backend: &Backend) {
    let store = backend.open().await;
    for i in 0..5 {
        let status = if i % 2 == 1 { FleetStatus::Terminated } else { FleetStatus::Active };
        store.create_fleet(&fleet(&format!("fleet-{i}"), status, &[]), &[], &[]).await.unwrap();
    }
    let ids = |fleets: Vec<openlift_core::records::Fleet>| fleets.iter().map(|f| f.id().to_owned()).collect::<Vec<_>>();
    let live = store.list_fleets(false, page(None, 10)).await.unwrap();
    assert_eq!((ids(live.items), live.next), (vec!["fleet-0".into(), "fleet-2".into(), "fleet-4".into()], None));
    let first = store.list_fleets(false, page(None, 2)).await.unwrap();
    assert_eq!(ids(first.items), vec!["fleet-0", "fleet-2"]);
    let second = store.list_fleets(false, page(first.next, 2)).await.unwrap();
    assert_eq!((ids(second.items), second.next), (vec!["fleet-4".into()], None));
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_fleets(true, page(after, 2)).await.unwrap();
        all.extend(ids(page.items));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(all, (0..5).map(|i| format!("fleet-{i}")).collect::<Vec<_>>());
    let terminated = fleet("fleet-0", FleetStatus::Terminated, &[]);
    store.update_fleet(&terminated, 1, &[]).await.unwrap();
    assert_eq!(ids(store.list_fleets(false, page(None, 10)).await.unwrap().items), vec!["fleet-2", "fleet-4"]);
}

/// Which live fleets run in a location, following updates.
pub async fn fleets_in_location(backend: &Backend) {
    let store = backend.open().await;
    store.create_fleet(&fleet("fleet-a", FleetStatus::Active, &["us-west-2", "custom-x"]), &[], &[]).await.unwrap();
    store.create_fleet(&fleet("fleet-b", FleetStatus::Active, &["custom-x"]), &[], &[]).await.unwrap();
    store.create_fleet(&fleet("fleet-c", FleetStatus::Terminated, &["custom-x"]), &[], &[]).await.unwrap();
    store.create_fleet(&fleet("fleet-d", FleetStatus::Active, &["custom-y"]), &[], &[]).await.unwrap();
    assert_eq!(store.fleets_in_location("custom-x").await.unwrap(), vec!["fleet-a", "fleet-b"]);
    assert!(store.fleets_in_location("custom-none").await.unwrap().is_empty());
    store.update_fleet(&fleet("fleet-a", FleetStatus::Active, &["us-west-2"]), 1, &[]).await.unwrap();
    store.update_fleet(&fleet("fleet-d", FleetStatus::Active, &["custom-x", "custom-y"]), 1, &[]).await.unwrap();
    assert_eq!(store.fleets_in_location("custom-x").await.unwrap(), vec!["fleet-b", "fleet-d"]);
    store.update_fleet(&fleet("fleet-b", FleetStatus::Terminated, &["custom-x"]), 1, &[]).await.unwrap();
    assert_eq!(store.fleets_in_location("custom-x").await.unwrap(), vec!["fleet-d"]);
}

/// An empty event filter.
fn no_filter() -> EventFilter {
    EventFilter { start: None, end: None }
}

/// Events come newest first, page backwards, filter by time, stay per fleet.
pub async fn fleet_events(backend: &Backend) {
    let store = backend.open().await;
    let initial: Vec<_> = (0..3).map(|n| event("fleet-1", n, 1000 * i64::from(n))).collect();
    store.create_fleet(&fleet("fleet-1", FleetStatus::New, &[]), &initial, &[]).await.unwrap();
    store.create_fleet(&fleet("fleet-2", FleetStatus::New, &[]), &[event("fleet-2", 0, 500)], &[]).await.unwrap();
    let later: Vec<_> = (3..7).map(|n| event("fleet-1", n, 1000 * i64::from(n))).collect();
    store.update_fleet(&fleet("fleet-1", FleetStatus::Active, &[]), 1, &later).await.unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_fleet_events("fleet-1", &no_filter(), page(after, 3)).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).rev().map(|n| event("fleet-1", n, 1000 * i64::from(n))).collect::<Vec<_>>());

    let window = EventFilter { start: Some(Timestamp::from_millis(2000)), end: Some(Timestamp::from_millis(4000)) };
    let first = store.list_fleet_events("fleet-1", &window, page(None, 2)).await.unwrap();
    assert_eq!(first.items, vec![event("fleet-1", 4, 4000), event("fleet-1", 3, 3000)]);
    let second = store.list_fleet_events("fleet-1", &window, page(first.next, 2)).await.unwrap();
    assert_eq!((second.items, second.next), (vec![event("fleet-1", 2, 2000)], None));
    let since = EventFilter { start: Some(Timestamp::from_millis(5500)), end: None };
    let recent = store.list_fleet_events("fleet-1", &since, page(None, 10)).await.unwrap();
    assert_eq!(recent.items, vec![event("fleet-1", 6, 6000)]);
    let until = EventFilter { start: None, end: Some(Timestamp::from_millis(0)) };
    assert_eq!(
        store.list_fleet_events("fleet-1", &until, page(None, 10)).await.unwrap().items,
        vec![event("fleet-1", 0, 0)]
    );
    let other = store.list_fleet_events("fleet-2", &no_filter(), page(None, 10)).await.unwrap();
    assert_eq!((other.items, other.next), (vec![event("fleet-2", 0, 500)], None));
    assert!(store.list_fleet_events("fleet-none", &no_filter(), page(None, 10)).await.unwrap().items.is_empty());
}
