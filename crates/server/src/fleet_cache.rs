//! A node-local cache of fleet records for the CreateGameSession hot path, so
//! placing a game session reads no fleet from the store.
//!
//! Invalidation: every fleet change this node makes goes through
//! [`Fleets::update`](crate::service::fleets::Fleets::update), which puts the record it committed
//! here with its new version, so this node sees its own changes (status, runtime
//! configuration, locations, deletion) at once. A record loaded from the store replaces a
//! cached one only if its version is not older, so a slow read cannot bring back a stale
//! fleet. Changes made by another node sharing a PostgreSQL database are seen once the
//! entry is [`TTL`] old and is read again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use openlift_core::records::Fleet;

/// How long a cached fleet is used before it is read from the store again.
pub const TTL: Duration = Duration::from_secs(1);

/// Fleets by ID, with their versions.
#[derive(Default)]
pub struct FleetCache {
    entries: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    fleet: Arc<Fleet>,
    version: i64,
    stored: Instant,
}

impl FleetCache {
    /// The cached fleet, if it was stored less than [`TTL`] ago.
    pub fn fresh(&self, fleet_id: &str) -> Option<Arc<Fleet>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(fleet_id).filter(|c| c.stored.elapsed() < TTL).map(|c| c.fleet.clone())
    }

    /// Caches `fleet` at `version` unless a newer version is cached; returns what is cached now.
    pub fn put(&self, fleet: Fleet, version: i64) -> Arc<Fleet> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get_mut(fleet.id()) {
            Some(cached) if cached.version > version => cached.fleet.clone(),
            Some(cached) => {
                *cached = Cached { fleet: Arc::new(fleet), version, stored: Instant::now() };
                cached.fleet.clone()
            }
            None => {
                let id = fleet.id().to_owned();
                let fleet = Arc::new(fleet);
                entries.insert(id, Cached { fleet: fleet.clone(), version, stored: Instant::now() });
                fleet
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use openlift_core::records::Fleet;
    use openlift_model::{FleetAttributes, FleetStatus};

    use super::*;

    fn fleet(status: FleetStatus) -> Fleet {
        let attributes =
            FleetAttributes { fleet_id: Some("fleet-1".into()), status: Some(status), ..Default::default() };
        Fleet { attributes, locations: Vec::new(), runtime_configuration: None }
    }

    #[test]
    fn a_newer_version_replaces_the_cached_fleet_and_an_older_one_does_not() {
        let cache = FleetCache::default();
        assert!(cache.fresh("fleet-1").is_none());
        cache.put(fleet(FleetStatus::Active), 2);
        let kept = cache.put(fleet(FleetStatus::Activating), 1);
        assert_eq!(kept.attributes.status, Some(FleetStatus::Active));
        cache.put(fleet(FleetStatus::Deleting), 3);
        assert_eq!(cache.fresh("fleet-1").unwrap().attributes.status, Some(FleetStatus::Deleting));
    }
}
