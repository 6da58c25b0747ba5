//! Computes and their auth tokens.

use openlift_model::Timestamp;
use openlift_store::{ComputeChange, StoreError};

use super::page;
use crate::support::{Backend, compute, token};

/// Register, duplicate, get, list by location with paging, deregister.
pub async fn computes(backend: &Backend) {
    let store = backend.open().await;
    let locations = ["custom-a", "custom-b", "custom-a", "custom-a", "custom-b"];
    for (i, location) in locations.iter().enumerate() {
        store.create_compute(&compute("fleet-1", &format!("c{i}"), location)).await.unwrap();
    }
    store.create_compute(&compute("fleet-2", "c0", "custom-a")).await.unwrap();
    let duplicate = compute("fleet-1", "c0", "custom-b");
    assert!(matches!(store.create_compute(&duplicate).await, Err(StoreError::AlreadyExists)));
    assert_eq!(store.get_compute("fleet-1", "c0").await.unwrap(), Some(compute("fleet-1", "c0", "custom-a")));
    assert_eq!(store.get_compute("fleet-1", "nope").await.unwrap(), None);

    let names = |items: Vec<openlift_core::records::ComputeRecord>| {
        items.into_iter().map(|c| c.compute.compute_name.unwrap()).collect::<Vec<_>>()
    };
    let all = store.list_computes("fleet-1", None, page(None, 10)).await.unwrap();
    assert_eq!(
        (names(all.items), all.next),
        (vec!["c0".into(), "c1".into(), "c2".into(), "c3".into(), "c4".into()], None)
    );
    let first = store.list_computes("fleet-1", Some("custom-a"), page(None, 2)).await.unwrap();
    assert_eq!(names(first.items), vec!["c0", "c2"]);
    let second = store.list_computes("fleet-1", Some("custom-a"), page(first.next, 2)).await.unwrap();
    assert_eq!((names(second.items), second.next), (vec!["c3".into()], None));
    let in_b = store.list_computes("fleet-1", Some("custom-b"), page(None, 10)).await.unwrap();
    assert_eq!(names(in_b.items), vec!["c1", "c4"]);
    assert!(store.list_computes("fleet-9", None, page(None, 10)).await.unwrap().items.is_empty());

    let mut impaired = compute("fleet-1", "c1", "custom-b");
    impaired.compute.compute_status = Some(openlift_model::ComputeStatus::Impaired);
    impaired.agent = true;
    let change = ComputeChange { status: Some(openlift_model::ComputeStatus::Impaired), agent: Some(true) };
    assert!(store.change_compute("fleet-1", "c1", change).await.unwrap());
    assert_eq!(store.get_compute("fleet-1", "c1").await.unwrap(), Some(impaired));
    assert!(!store.change_compute("fleet-1", "c1", change).await.unwrap(), "nothing left to change");
    assert!(matches!(store.change_compute("fleet-1", "nope", change).await, Err(StoreError::NotFound)));

    store.delete_compute("fleet-1", "c2").await.unwrap();
    assert!(matches!(store.delete_compute("fleet-1", "c2").await, Err(StoreError::NotFound)));
    assert_eq!(store.get_compute("fleet-1", "c2").await.unwrap(), None);
    store.create_compute(&compute("fleet-1", "c2", "custom-a")).await.unwrap();
    let again = store.list_computes("fleet-1", None, page(None, 10)).await.unwrap();
    assert_eq!(names(again.items), vec!["c0", "c1", "c3", "c4", "c2"], "re-registration sorts last");
}

/// An agent's connection and a liveness sweep change one compute at once: each change is
/// applied to the compute as committed, so neither undoes the other.
pub async fn compute_changes_made_at_once_both_land(backend: &Backend) {
    use openlift_model::ComputeStatus;
    let store = backend.open().await;
    for round in 0..20 {
        let name = format!("c{round}");
        store.create_compute(&compute("fleet-1", &name, "custom-a")).await.unwrap();
        let status = ComputeChange { status: Some(ComputeStatus::Impaired), agent: None };
        let agent = ComputeChange { status: None, agent: Some(true) };
        let (a, b) =
            tokio::join!(store.change_compute("fleet-1", &name, status), store.change_compute("fleet-1", &name, agent));
        assert!(a.unwrap() && b.unwrap());
        let stored = store.get_compute("fleet-1", &name).await.unwrap().unwrap();
        assert_eq!((stored.compute.compute_status, stored.agent), (Some(ComputeStatus::Impaired), true), "{name}");
    }
}

/// Tokens: stored, read back even when expired, purged on the next put, revoked with their computes.
pub async fn auth_tokens(backend: &Backend) {
    let store = backend.open().await;
    let now = Timestamp::from_millis(10_000);
    store.create_compute(&compute("fleet-1", "c0", "custom-a")).await.unwrap();
    store.create_compute(&compute("fleet-1", "c1", "custom-a")).await.unwrap();
    store.create_compute(&compute("fleet-2", "c0", "custom-a")).await.unwrap();
    store.put_auth_token(&token("old", "fleet-1", "c0", 5_000), Timestamp::from_millis(1_000)).await.unwrap();
    store.put_auth_token(&token("edge", "fleet-1", "c0", 10_000), Timestamp::from_millis(1_000)).await.unwrap();
    assert_eq!(store.get_auth_token("old").await.unwrap(), Some(token("old", "fleet-1", "c0", 5_000)));
    store.put_auth_token(&token("t0", "fleet-1", "c0", 20_000), now).await.unwrap();
    assert_eq!(store.get_auth_token("old").await.unwrap(), None, "expired before now: purged");
    assert!(store.get_auth_token("edge").await.unwrap().is_some(), "expiring exactly now is kept");
    store.put_auth_token(&token("t1", "fleet-1", "c1", 20_000), now).await.unwrap();
    store.put_auth_token(&token("t2", "fleet-2", "c0", 20_000), now).await.unwrap();
    assert_eq!(store.get_auth_token("t0").await.unwrap(), Some(token("t0", "fleet-1", "c0", 20_000)));
    assert_eq!(store.get_auth_token("missing").await.unwrap(), None);

    store.delete_compute("fleet-1", "c0").await.unwrap();
    assert_eq!(store.get_auth_token("t0").await.unwrap(), None);
    assert_eq!(store.get_auth_token("edge").await.unwrap(), None);
    assert!(store.get_auth_token("t1").await.unwrap().is_some());

    store.delete_compute("fleet-1", "c1").await.unwrap();
    assert!(store.list_computes("fleet-1", None, page(None, 10)).await.unwrap().items.is_empty());
    assert_eq!(store.get_auth_token("t1").await.unwrap(), None);
    assert!(store.get_auth_token("t2").await.unwrap().is_some(), "other fleets keep their tokens");
    assert!(store.get_compute("fleet-2", "c0").await.unwrap().is_some());
    assert!(matches!(store.delete_compute("fleet-1", "c1").await, Err(StoreError::NotFound)));
}
