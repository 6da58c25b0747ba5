//! Aliases.

use openlift_model::RoutingStrategyType::{Simple, Terminal};
use openlift_store::{AliasFilter, StoreError};

use super::page;
use crate::support::{Backend, alias, tag};

/// Create, duplicate, get, filter and page, compare-and-swap, delete with tags.
pub async fn aliases(backend: &Backend) {
    let store = backend.open().await;
    let specs = [
        ("alias-0", "one", Simple),
        ("alias-1", "two", Terminal),
        ("alias-2", "one", Terminal),
        ("alias-3", "one", Simple),
    ];
    for (id, name, routing) in specs {
        store.create_alias(&alias(id, name, routing), &[tag("k", id)]).await.unwrap();
    }
    assert!(matches!(store.create_alias(&alias("alias-0", "x", Terminal), &[]).await, Err(StoreError::AlreadyExists)));
    let got = store.get_alias("alias-0").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (alias("alias-0", "one", Simple), 1));
    assert!(store.get_alias("alias-9").await.unwrap().is_none());

    let ids = |items: Vec<openlift_core::records::AliasRecord>| {
        items.into_iter().map(|a| a.alias_id.unwrap()).collect::<Vec<_>>()
    };
    let filter = |routing: Option<&str>, name: Option<&str>| AliasFilter {
        routing_strategy_type: routing.map(str::to_owned),
        name: name.map(str::to_owned),
    };
    let all = store.list_aliases(&AliasFilter::default(), page(None, 10)).await.unwrap();
    assert_eq!(ids(all.items), vec!["alias-0", "alias-1", "alias-2", "alias-3"]);
    let first = store.list_aliases(&filter(None, Some("one")), page(None, 2)).await.unwrap();
    assert_eq!(ids(first.items), vec!["alias-0", "alias-2"]);
    let second = store.list_aliases(&filter(None, Some("one")), page(first.next, 2)).await.unwrap();
    assert_eq!((ids(second.items), second.next), (vec!["alias-3".to_owned()], None));
    assert_eq!(
        ids(store.list_aliases(&filter(Some("TERMINAL"), None), page(None, 10)).await.unwrap().items),
        vec!["alias-1", "alias-2"]
    );
    let both = store.list_aliases(&filter(Some("SIMPLE"), Some("one")), page(None, 10)).await.unwrap();
    assert_eq!(ids(both.items), vec!["alias-0", "alias-3"]);
    assert!(store.list_aliases(&filter(None, Some("none")), page(None, 10)).await.unwrap().items.is_empty());

    let renamed = alias("alias-0", "renamed", Terminal);
    assert_eq!(store.update_alias(&renamed, 1).await.unwrap(), 2);
    let got = store.get_alias("alias-0").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (renamed.clone(), 2));
    assert!(matches!(store.update_alias(&alias("alias-0", "x", Simple), 1).await, Err(StoreError::VersionConflict)));
    assert!(matches!(store.update_alias(&alias("alias-9", "x", Simple), 1).await, Err(StoreError::NotFound)));
    let renamed_ids =
        ids(store.list_aliases(&filter(Some("TERMINAL"), Some("renamed")), page(None, 10)).await.unwrap().items);
    assert_eq!(renamed_ids, vec!["alias-0"], "filters follow updates");

    let arn = renamed.alias_arn.unwrap();
    assert_eq!(store.list_tags(&arn).await.unwrap(), vec![tag("k", "alias-0")]);
    store.delete_alias("alias-0").await.unwrap();
    assert!(matches!(store.delete_alias("alias-0").await, Err(StoreError::NotFound)));
    assert!(store.get_alias("alias-0").await.unwrap().is_none());
    assert!(store.list_tags(&arn).await.unwrap().is_empty());
}
