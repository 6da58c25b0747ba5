//! The conformance cases: each takes a fresh [`Backend`](crate::support::Backend)
//! and must behave identically on SQLite and PostgreSQL.

mod aliases;
mod basics;
mod computes;
mod concurrency;
mod fleets;

pub use aliases::*;
pub use basics::*;
pub use computes::*;
pub use concurrency::*;
pub use fleets::*;

use openlift_store::PageRequest;

/// A page request.
pub fn page(after: Option<i64>, limit: usize) -> PageRequest {
    PageRequest { after, limit }
}
