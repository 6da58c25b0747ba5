//! The domain operations behind the API, the SDK and agent endpoints and the workers:
//! fleets as the others load and change them, computes taken out of service, placing a new
//! game session, the game session life cycle and player sessions.
//!
//! Each service is built once at start ([`Services::new`]) and holds only what it uses: the
//! store, the clock, the process registry, the agents, the services it calls.
//!
//! The dependency rule: API handlers ([`crate::api`]), the endpoints ([`crate::sdk`],
//! [`crate::agent`]) and the workers call the services; the services call the store, the
//! process registry and the agents' state, and never a handler, an endpoint or the
//! server's state ([`crate::app::App`]).

pub mod common;
pub mod computes;
pub mod fleets;
pub mod placement;
pub mod players;
pub mod sessions;

use std::sync::Arc;

use openlift_core::clock::Clock;
use openlift_store::Store;

use self::common::Paging;
use crate::hosting::Hosting;
use crate::locks::KeyedLocks;

/// The services of one node.
pub struct Services {
    /// Fleets.
    pub fleets: Arc<fleets::Fleets>,
    /// Player sessions.
    pub players: Arc<players::Players>,
    /// The game session life cycle.
    pub sessions: Arc<sessions::Sessions>,
    /// Placing new game sessions.
    pub placement: placement::Placement,
    /// Taking computes out of service.
    pub computes: computes::Computes,
    /// The server processes and agents, wherever they are connected.
    pub hosting: Arc<dyn Hosting>,
}

/// What the services are built from.
pub struct Parts {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The Region of the ARNs.
    pub region: String,
    /// Issues the `NextToken`s of listings.
    pub paging: Paging,
    /// Per-resource locks that keep this node's own updates from racing.
    pub locks: Arc<KeyedLocks>,
    /// The server processes and agents, wherever they are connected.
    pub hosting: Arc<dyn Hosting>,
}

impl Services {
    /// Builds every service from `parts`.
    pub fn new(parts: Parts) -> Self {
        let Parts { store, clock, region, paging, locks, hosting } = parts;
        let fleets = Arc::new(fleets::Fleets::new(store.clone(), locks.clone()));
        let players = Arc::new(players::Players::new(store.clone(), clock.clone(), paging));
        let sessions = Arc::new(sessions::Sessions::new(
            store.clone(),
            clock.clone(),
            hosting.clone(),
            fleets.clone(),
            players.clone(),
        ));
        let placement =
            placement::Placement::new(store.clone(), clock.clone(), region, locks, hosting.clone(), fleets.clone());
        let computes = computes::Computes::new(store, clock, hosting.clone(), sessions.clone());
        Services { fleets, players, sessions, placement, computes, hosting }
    }
}

#[cfg(test)]
mod tests;
