//! The domain operations behind the API, the SDK and agent endpoints and the workers:
//! fleets as the others load and change them, computes taken out of service, placing a new
//! game session, the game session life cycle and player sessions.
//!
//! The dependency rule: API handlers ([`crate::api`]), the endpoints ([`crate::sdk`],
//! [`crate::agent`]) and the workers call these modules; these modules call the store and
//! the process registry, and never an API handler.

pub mod computes;
pub mod fleets;
pub mod placement;
pub mod players;
pub mod sessions;

#[cfg(test)]
mod tests;
