//! The placement index of the registry: for each fleet location, the processes a game
//! session may be placed on, in order of preference, so that a claim takes the best one in
//! O(log n) instead of scanning every process.
//!
//! A process is a candidate while it is active, reported healthy, connected (a process
//! whose connection is down could not be told its game session) and hosts no game session.
//! Candidates are ordered by [`Rank`]: ready the longest first, then by process ID.
//!
//! Each compute also counts its game sessions awaiting activation (claimed, not yet
//! reported by `ActivateGameSession`, on a process that is still active). A compute with
//! as many as its fleet's `MaxConcurrentGameSessionActivations` gets no further placement
//! until one activates or ends (`control-plane-api.md` section 7.8). So the index keeps,
//! per location, the best candidate of every compute below that limit ([`Pool::open`]);
//! the first of those is the process to claim. A compute whose agent stopped heartbeating
//! is held out of [`Pool::open`] the same way until its agent returns ([`Index::set_held`]).
//!
//! The registry computes a process's [`Standing`] before and after every change to it and
//! hands both to [`Index::apply`], which keeps the index exact.

use std::collections::{BTreeSet, HashMap, HashSet};

use openlift_model::Timestamp;

/// The order of preference among candidates: smaller is better.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Rank {
    /// When the process became ready.
    pub(super) ready_since: Option<Timestamp>,
    /// Ties are broken by process ID, so the order is total.
    pub(super) process_id: String,
}

/// What the index needs to know about one process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Standing {
    /// Its rank, if a game session may be placed on it.
    pub(super) candidate: Option<Rank>,
    /// Whether it hosts a game session awaiting activation.
    pub(super) activating: bool,
}

/// Where a process is: its fleet, location and compute, which never change.
pub(super) struct Place<'a> {
    pub(super) fleet_id: &'a str,
    pub(super) location: &'a str,
    pub(super) compute_name: &'a str,
}

/// One compute of a location.
#[derive(Default)]
struct Compute {
    /// Its candidates.
    idle: BTreeSet<Rank>,
    /// Its game sessions awaiting activation.
    activating: u32,
    /// Its entry in [`Pool::open`], if any.
    head: Option<Rank>,
}

impl Compute {
    fn is_empty(&self) -> bool {
        self.idle.is_empty() && self.activating == 0 && self.head.is_none()
    }
}

/// The computes of one fleet location.
#[derive(Default)]
struct Pool {
    computes: HashMap<String, Compute>,
    /// The best candidate of each compute below the activation limit.
    open: BTreeSet<Rank>,
}

impl Pool {
    /// Puts the compute's best candidate in [`Pool::open`], or takes it out when the
    /// compute has none, is at the activation limit or is `held`; forgets a compute left
    /// with nothing.
    fn reopen(&mut self, compute_name: &str, limit: Option<u32>, held: bool) {
        let Some(compute) = self.computes.get_mut(compute_name) else { return };
        let open = !held && limit.is_none_or(|limit| compute.activating < limit);
        let head = if open { compute.idle.first().cloned() } else { None };
        if head != compute.head {
            if let Some(old) = compute.head.take() {
                self.open.remove(&old);
            }
            if let Some(new) = &head {
                self.open.insert(new.clone());
            }
            compute.head = head;
        }
        if compute.is_empty() {
            self.computes.remove(compute_name);
        }
    }
}

/// Candidates and activation counts of every fleet location, and the fleets' activation limits.
#[derive(Default)]
pub(super) struct Index {
    /// Fleet ID → location → pool.
    pools: HashMap<String, HashMap<String, Pool>>,
    /// Fleet ID → `MaxConcurrentGameSessionActivations`, for fleets that set one.
    limits: HashMap<String, u32>,
    /// Fleet ID → computes held out of placement.
    held: HashMap<String, HashSet<String>>,
}

/// Whether compute `compute_name` of `fleet_id` is held out of placement.
fn is_held(held: &HashMap<String, HashSet<String>>, fleet_id: &str, compute_name: &str) -> bool {
    held.get(fleet_id).is_some_and(|computes| computes.contains(compute_name))
}

impl Index {
    /// Records that a process at `place` went from standing `before` to `after`.
    pub(super) fn apply(&mut self, place: Place<'_>, before: &Standing, after: &Standing) {
        if before == after {
            return;
        }
        let limit = self.limits.get(place.fleet_id).copied();
        let held = is_held(&self.held, place.fleet_id, place.compute_name);
        let locations = match self.pools.get_mut(place.fleet_id) {
            Some(locations) => locations,
            None => self.pools.entry(place.fleet_id.to_owned()).or_default(),
        };
        let pool = match locations.get_mut(place.location) {
            Some(pool) => pool,
            None => locations.entry(place.location.to_owned()).or_default(),
        };
        let compute = match pool.computes.get_mut(place.compute_name) {
            Some(compute) => compute,
            None => pool.computes.entry(place.compute_name.to_owned()).or_default(),
        };
        if let Some(rank) = &before.candidate {
            compute.idle.remove(rank);
        }
        if let Some(rank) = &after.candidate {
            compute.idle.insert(rank.clone());
        }
        compute.activating = compute.activating + u32::from(after.activating) - u32::from(before.activating);
        pool.reopen(place.compute_name, limit, held);
        if pool.computes.is_empty() {
            locations.remove(place.location);
            if locations.is_empty() {
                self.pools.remove(place.fleet_id);
            }
        }
    }

    /// The best candidate of a fleet location on a compute below the activation limit.
    pub(super) fn best(&self, fleet_id: &str, location: &str) -> Option<&str> {
        let pool = self.pools.get(fleet_id)?.get(location)?;
        pool.open.first().map(|rank| rank.process_id.as_str())
    }

    /// Sets a fleet's `MaxConcurrentGameSessionActivations` (`None`: no limit) and
    /// re-evaluates its computes if it changed.
    pub(super) fn set_limit(&mut self, fleet_id: &str, limit: Option<u32>) {
        if self.limits.get(fleet_id).copied() == limit {
            return;
        }
        match limit {
            Some(limit) => self.limits.insert(fleet_id.to_owned(), limit),
            None => self.limits.remove(fleet_id),
        };
        for pool in self.pools.get_mut(fleet_id).into_iter().flat_map(HashMap::values_mut) {
            let names: Vec<String> = pool.computes.keys().cloned().collect();
            for name in names {
                pool.reopen(&name, limit, is_held(&self.held, fleet_id, &name));
            }
        }
    }

    /// Holds a compute's processes out of placement (`held`), or lets them back in.
    pub(super) fn set_held(&mut self, fleet_id: &str, compute_name: &str, held: bool) {
        let changed = if held {
            self.held.entry(fleet_id.to_owned()).or_default().insert(compute_name.to_owned())
        } else {
            let removed = self.held.get_mut(fleet_id).is_some_and(|computes| computes.remove(compute_name));
            if self.held.get(fleet_id).is_some_and(HashSet::is_empty) {
                self.held.remove(fleet_id);
            }
            removed
        };
        if !changed {
            return;
        }
        let limit = self.limits.get(fleet_id).copied();
        for pool in self.pools.get_mut(fleet_id).into_iter().flat_map(HashMap::values_mut) {
            pool.reopen(compute_name, limit, held);
        }
    }
}
