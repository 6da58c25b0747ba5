//! The conformance cases: each takes a fresh [`Backend`](crate::support::Backend)
//! and must behave identically on SQLite and PostgreSQL.

mod aliases;
mod basics;
mod computes;
mod concurrency;
mod edge_values;
mod fleets;
mod game_sessions;
mod group_commit;
mod outbox;
mod player_sessions;
mod process_logs;
mod server_processes;

pub use aliases::*;
pub use basics::*;
pub use computes::*;
pub use concurrency::*;
pub use edge_values::*;
pub use fleets::*;
pub use game_sessions::*;
pub use group_commit::*;
pub use outbox::*;
pub use player_sessions::*;
pub use process_logs::*;
pub use server_processes::*;

use openlift_store::PageRequest;

/// A page request.
pub fn page(after: Option<i64>, limit: usize) -> PageRequest {
    PageRequest { after, limit }
}
