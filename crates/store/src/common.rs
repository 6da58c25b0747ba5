//! Pieces both backends share: JSON documents, paging and the key columns
//! extracted from records.

use openlift_core::records::{AliasRecord, Fleet, FleetEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Page, StoreError};

/// Wraps any backend failure.
pub(crate) fn backend(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(err))
}

/// A record as the JSON document that is stored.
pub(crate) fn to_doc<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

/// A stored JSON document as a record.
pub(crate) fn from_doc<T: DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(backend)
}

/// How many rows to fetch for a page of `limit` items: one more, to learn whether more exist.
pub(crate) fn fetch_limit(limit: usize) -> i64 {
    i64::try_from(limit.max(1)).unwrap_or(i64::MAX - 1) + 1
}

/// Builds a page from `(cursor, document)` rows fetched with [`fetch_limit`].
pub(crate) fn page_of<T: DeserializeOwned>(mut rows: Vec<(i64, String)>, limit: usize) -> Result<Page<T>, StoreError> {
    let limit = limit.max(1);
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(cursor, _)| *cursor)
    } else {
        None
    };
    let items = rows.iter().map(|(_, doc)| from_doc(doc)).collect::<Result<_, _>>()?;
    Ok(Page { items, next })
}

/// The cursor to resume an ascending listing after.
pub(crate) fn after_ascending(after: Option<i64>) -> i64 {
    after.unwrap_or(0)
}

/// The cursor to resume a descending listing after.
pub(crate) fn after_descending(after: Option<i64>) -> i64 {
    after.unwrap_or(i64::MAX)
}

/// The columns a fleet row keeps next to its document.
pub(crate) struct FleetRow {
    pub id: String,
    pub arn: String,
    pub terminated: bool,
    pub locations: Vec<String>,
    pub doc: String,
}

impl FleetRow {
    /// Extracts the key columns of `fleet` and serializes it.
    pub(crate) fn new(fleet: &Fleet) -> Result<Self, StoreError> {
        let mut locations: Vec<String> = fleet.locations.iter().filter_map(|l| l.location.clone()).collect();
        locations.sort();
        locations.dedup();
        Ok(FleetRow {
            id: fleet.id().to_owned(),
            arn: fleet.attributes.fleet_arn.clone().unwrap_or_default(),
            terminated: fleet.attributes.status == Some(openlift_model::FleetStatus::Terminated),
            locations,
            doc: to_doc(fleet)?,
        })
    }
}

/// The columns an alias row keeps next to its document.
pub(crate) struct AliasRow {
    pub id: String,
    pub arn: String,
    pub name: Option<String>,
    pub routing_type: Option<&'static str>,
    pub doc: String,
}

impl AliasRow {
    /// Extracts the key columns of `alias` and serializes it.
    pub(crate) fn new(alias: &AliasRecord) -> Result<Self, StoreError> {
        Ok(AliasRow {
            id: alias.alias_id.clone().unwrap_or_default(),
            arn: alias.alias_arn.clone().unwrap_or_default(),
            name: alias.name.clone(),
            routing_type: alias.routing_strategy.as_ref().and_then(|r| r.r#type).map(|t| t.as_str()),
            doc: to_doc(alias)?,
        })
    }
}

/// A fleet event row: fleet ID, event time (milliseconds) and document.
pub(crate) type EventRow = (String, Option<i64>, String);

/// The rows of `events`.
pub(crate) fn event_rows(events: &[FleetEvent]) -> Result<Vec<EventRow>, StoreError> {
    events.iter().map(|e| Ok((e.fleet_id.clone(), e.event.event_time.map(|t| t.as_millis()), to_doc(e)?))).collect()
}

/// Random bytes for a new secret, from the operating system.
pub(crate) fn random_secret(len: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}
