//! Fleets as the other services use them: loading a live fleet (from the store or the
//! node's [`FleetCache`]), changing it with
//! compare-and-swap, and recording its events in the outbox.

use std::sync::Arc;

use openlift_core::records::{Fleet, FleetEvent};
use openlift_core::{alias, ids};
use openlift_model::ApiError;
use openlift_store::{OutboxEvent, Store, Versioned};

use super::common::internal;
use crate::cas;
use crate::fleet_cache::FleetCache;
use crate::locks::KeyedLocks;

/// Loads and changes fleets.
pub struct Fleets {
    store: Arc<dyn Store>,
    cache: FleetCache,
    locks: Arc<KeyedLocks>,
}

/// `NotFoundException` for a fleet that does not exist (or was deleted).
pub fn not_found(fleet_id: &str) -> ApiError {
    ApiError::not_found(format!("Fleet {fleet_id} not found."))
}

impl Fleets {
    /// Fleets in `store`; `locks` serialize this node's changes of one fleet.
    pub fn new(store: Arc<dyn Store>, locks: Arc<KeyedLocks>) -> Self {
        Fleets { store, cache: FleetCache::default(), locks }
    }

    /// The fleet with this ID or ARN, or [`not_found`] if it is absent or deleted (which
    /// [`dispatch`](crate::api::dispatch) answers as `InvalidRequestException` where the operation declares no
    /// `NotFoundException`).
    pub async fn load(&self, fleet_id_or_arn: &str) -> Result<Versioned<Fleet>, ApiError> {
        let id = ids::id_from_id_or_arn(fleet_id_or_arn);
        match self.store.get_fleet(id).await.map_err(internal)? {
            Some(fleet) if !openlift_core::fleet::is_deleted(&fleet.value) => Ok(fleet),
            _ => Err(not_found(id)),
        }
    }

    /// [`load`](Self::load) through the node's fleet cache (see [`crate::fleet_cache`] for when a
    /// change becomes visible), for hot paths that only read the fleet.
    pub async fn cached(&self, fleet_id_or_arn: &str) -> Result<Arc<Fleet>, ApiError> {
        let id = ids::id_from_id_or_arn(fleet_id_or_arn);
        let fleet = match self.cache.fresh(id) {
            Some(fleet) => fleet,
            None => match self.store.get_fleet(id).await.map_err(internal)? {
                Some(found) => self.cache.put(found.value, found.version),
                None => return Err(not_found(id)),
            },
        };
        if openlift_core::fleet::is_deleted(&fleet) {
            return Err(not_found(id));
        }
        Ok(fleet)
    }

    /// Applies `change` to a live fleet with compare-and-swap, retrying when another writer
    /// won the race; `change` returns the events to record with the new state.
    pub async fn update(
        &self,
        fleet_id_or_arn: &str,
        mut change: impl FnMut(&mut Fleet) -> Result<Vec<FleetEvent>, ApiError>,
    ) -> Result<Fleet, ApiError> {
        let _guard = self.locks.lock(&format!("fleet|{}", ids::id_from_id_or_arn(fleet_id_or_arn))).await;
        let resource = format!("Fleet {fleet_id_or_arn}");
        let mut attempts = cas::Attempts::new(&resource);
        loop {
            attempts.next()?;
            let Versioned { value: mut fleet, version } = self.load(fleet_id_or_arn).await?;
            let events = change(&mut fleet)?;
            let written = self.store.update_fleet(&fleet, version, &events).await;
            if let Some(version) = cas::written(written, || not_found(fleet.id()))? {
                self.cache.put(fleet.clone(), version);
                return Ok(fleet);
            }
        }
    }

    /// Appends one event to a live fleet's log in the outbox, logging (not failing) when it
    /// cannot. The fleet's row is only read, never written, so a burst of events does not
    /// contend with updates of the fleet.
    pub async fn record_event(&self, fleet_id: &str, event: FleetEvent) {
        let appended = match self.load(fleet_id).await {
            Ok(_) => self.store.append_events(&[OutboxEvent::Fleet(event)]).await.map_err(internal),
            Err(error) => Err(error),
        };
        if let Err(error) = appended {
            tracing::warn!(fleet_id = %fleet_id, message = %error.message, "could not record a fleet event");
        }
    }

    /// The fleet an input names by `FleetId` or `AliasId` (exactly one), resolving aliases.
    pub async fn target(&self, fleet_id: Option<&str>, alias_id: Option<&str>) -> Result<String, ApiError> {
        match (fleet_id, alias_id) {
            (Some(fleet), None) => Ok(ids::id_from_id_or_arn(fleet).to_owned()),
            (None, Some(alias_id)) => {
                let id = ids::id_from_id_or_arn(alias_id);
                let alias = self.store.get_alias(id).await.map_err(internal)?;
                let alias = alias.ok_or_else(|| ApiError::not_found(format!("Alias {id} not found.")))?;
                Ok(alias::resolve(&alias.value)?.to_owned())
            }
            (Some(_), Some(_)) => Err(ApiError::invalid_request("Give either FleetId or AliasId, not both.")),
            (None, None) => Err(ApiError::invalid_request("Either FleetId or AliasId is required.")),
        }
    }
}
