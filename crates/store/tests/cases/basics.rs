//! Secrets, locations and tags.

use openlift_store::StoreError;

use super::page;
use crate::support::{Backend, location, tag};

/// A secret is created once, has the requested length and survives reopening.
pub async fn secrets_are_stable(backend: &Backend) {
    let store = backend.open().await;
    let key = store.secret("page-token-key", 32).await.unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(store.secret("page-token-key", 32).await.unwrap(), key);
    let other = store.secret("other", 32).await.unwrap();
    assert_ne!(other, key, "each name has its own random secret");
    drop(store);
    let reopened = backend.open().await;
    assert_eq!(reopened.secret("page-token-key", 32).await.unwrap(), key);
    assert_eq!(reopened.secret("other", 16).await.unwrap(), other, "the stored secret wins over a new length");
}

/// Concurrent first callers (on two store instances) all get the same secret.
pub async fn secrets_under_concurrent_callers(backend: &Backend) {
    let (a, b) = (backend.open().await, backend.open().await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move { store.secret("shared", 24).await.unwrap() });
    }
    let values = tasks.join_all().await;
    assert!(values.iter().all(|v| *v == values[0] && v.len() == 24));
}

/// Locations: create, duplicate, get, page through, delete with their tags.
pub async fn locations(backend: &Backend) {
    let store = backend.open().await;
    let names: Vec<String> = (0..5).map(|i| format!("custom-loc-{i}")).collect();
    for name in &names {
        store.create_location(&location(name), &[tag("b", "2"), tag("a", "1")]).await.unwrap();
    }
    assert!(matches!(store.create_location(&location(&names[0]), &[]).await, Err(StoreError::AlreadyExists)));
    assert_eq!(store.get_location(&names[1]).await.unwrap(), Some(location(&names[1])));
    assert_eq!(store.get_location("custom-missing").await.unwrap(), None);

    let first = store.list_locations(page(None, 2)).await.unwrap();
    assert_eq!(first.items, vec![location(&names[0]), location(&names[1])]);
    let second = store.list_locations(page(first.next, 2)).await.unwrap();
    assert_eq!(second.items, vec![location(&names[2]), location(&names[3])]);
    let third = store.list_locations(page(second.next, 2)).await.unwrap();
    assert_eq!((third.items, third.next), (vec![location(&names[4])], None));
    let exact = store.list_locations(page(None, 5)).await.unwrap();
    assert_eq!((exact.items.len(), exact.next), (5, None), "no next page when the last item fills the page");

    let arn = location(&names[0]).arn;
    assert_eq!(store.list_tags(&arn).await.unwrap(), vec![tag("a", "1"), tag("b", "2")]);
    store.delete_location(&names[0]).await.unwrap();
    assert!(matches!(store.delete_location(&names[0]).await, Err(StoreError::NotFound)));
    assert_eq!(store.get_location(&names[0]).await.unwrap(), None);
    assert!(store.list_tags(&arn).await.unwrap().is_empty(), "tags go with the location");
    let rest = store.list_locations(page(None, 10)).await.unwrap();
    assert_eq!(rest.items.len(), 4);
    store.create_location(&location(&names[0]), &[]).await.unwrap();
    let again = store.list_locations(page(None, 10)).await.unwrap();
    assert_eq!(again.items.last(), Some(&location(&names[0])), "a re-created location sorts last");
}

/// Tags: sorted bytewise by key, overwritten, removed by key, removed all at once.
pub async fn tags(backend: &Backend) {
    let store = backend.open().await;
    let arn = "arn:aws:gamelift:us-west-2::fleet/fleet-1";
    assert!(store.list_tags(arn).await.unwrap().is_empty());
    store.tag_resource(arn, &[tag("zeta", "z"), tag("Alpha", "A"), tag("alpha", "a"), tag("_x", "x")]).await.unwrap();
    store.tag_resource("arn:other", &[tag("alpha", "other")]).await.unwrap();
    store.tag_resource(arn, &[tag("zeta", "z2")]).await.unwrap();
    let expected = vec![tag("Alpha", "A"), tag("_x", "x"), tag("alpha", "a"), tag("zeta", "z2")];
    assert_eq!(store.list_tags(arn).await.unwrap(), expected);
    store.untag_resource(arn, &["alpha".into(), "absent".into()]).await.unwrap();
    assert_eq!(store.list_tags(arn).await.unwrap(), vec![tag("Alpha", "A"), tag("_x", "x"), tag("zeta", "z2")]);
    store.delete_tags(arn).await.unwrap();
    assert!(store.list_tags(arn).await.unwrap().is_empty());
    assert_eq!(store.list_tags("arn:other").await.unwrap(), vec![tag("alpha", "other")]);
}
