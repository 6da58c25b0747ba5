//! Durable state for the control plane.
//!
//! [`Store`] speaks the domain's language; each backend implements it with its
//! own best primitives: SQLite (the embedded default, WAL, one writer) and
//! PostgreSQL (several control-plane nodes sharing one database). Both pass the
//! same conformance suite (`tests/conformance.rs`). A write that returns `Ok`
//! is durable: it survives the process being killed.
//!
//! [`Store`] is one trait per aggregate (see `traits`). Its methods are callable on a
//! `dyn Store` as they are; code holding a backend's own type brings the traits into
//! scope with `use openlift_store::prelude::*;`. Each SQL statement is
//! written once for both backends (see `sql`), and so is each migration (see
//! `migrations`).

mod common;
mod migrations;
pub mod postgres;
#[cfg(test)]
#[path = "../../../tests/support/postgres_schema.rs"]
mod postgres_schema;
mod sql;
pub mod sqlite;
mod traits;

use std::sync::Arc;

use openlift_core::records::{FleetEvent, GameSessionRecord, PlayerSessionRecord};
use openlift_model::Timestamp;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use traits::{
    Aliases, Computes, Fleets, Locations, LogArchives, Outbox, Secrets, ServerProcesses, Sessions, Store, Tags,
};

/// The store's traits, for callers of [`Store`] methods: `use openlift_store::prelude::*;`.
pub mod prelude {
    pub use crate::traits::{
        Aliases, Computes, Fleets, Locations, LogArchives, Outbox, Secrets, ServerProcesses, Sessions, Store, Tags,
    };
}

/// Opens the store at `database_url`, choosing the backend by its scheme:
/// `postgres://` or `postgresql://` is PostgreSQL, `sqlite://PATH` or a plain
/// path is an SQLite file (created with its parent directory if needed).
/// Pending migrations are applied before it returns.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        return Ok(Arc::new(PostgresStore::connect(database_url).await?));
    }
    let path = match database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:")) {
        Some(path) => path,
        None if database_url.contains("://") => {
            let message = format!("unsupported database URL scheme in {database_url:?}");
            return Err(StoreError::Backend(message.into()));
        }
        None => database_url,
    };
    Ok(Arc::new(SqliteStore::open(path).await?))
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record with the same key already exists.
    #[error("already exists")]
    AlreadyExists,
    /// The record to change or delete does not exist.
    #[error("not found")]
    NotFound,
    /// The record changed since it was read (compare-and-swap failed).
    #[error("version conflict")]
    VersionConflict,
    /// A text value holds a character the database cannot store: U+0000 on PostgreSQL.
    /// API input never brings one (the model refuses it in every string member); this is
    /// the typed answer should another path ever do so.
    #[error("a text value holds a character the database cannot store")]
    Unstorable,
    /// The database failed; the cause is for logs, never for clients.
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Which part of a listing to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Resume after this cursor (from a previous [`Page::next`]); `None` starts at the beginning.
    pub after: Option<i64>,
    /// At most this many items (at least 1).
    pub limit: usize,
}

/// One page of a listing, in a stable order (creation order unless stated).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page, `None` on the last page.
    pub next: Option<i64>,
}

/// The version of every record as created; each successful update adds one.
pub const FIRST_VERSION: i64 = 1;

/// A record together with the version to pass back for a compare-and-swap update.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The record.
    pub value: T,
    /// Its version; every successful update increments it.
    pub version: i64,
}

/// Filters of ListAliases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasFilter {
    /// Only aliases with this routing strategy type (`SIMPLE` / `TERMINAL`).
    pub routing_strategy_type: Option<String>,
    /// Only aliases with exactly this name.
    pub name: Option<String>,
}

/// An event a state change reported, as the outbox holds it (docs/decisions.md, "The event
/// outbox"). It is written in the same transaction as its change, or alone with
/// [`Outbox::append_events`] when the change is not a store write.
#[derive(Debug, Clone, PartialEq)]
pub enum OutboxEvent {
    /// An event of a fleet's log, as DescribeFleetEvents reports it.
    Fleet(FleetEvent),
}

/// What the agent endpoint changes of a registered compute: each field given replaces the
/// compute's, applied to the compute as it is when the change commits, so that two changes
/// made at once both land.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComputeChange {
    /// The new `ComputeStatus`.
    pub status: Option<openlift_model::ComputeStatus>,
    /// Whether an agent has connected for the compute.
    pub agent: Option<bool>,
}

impl ComputeChange {
    /// Applies the change to `compute`; `true` if that changed it.
    pub fn apply(&self, compute: &mut openlift_core::records::ComputeRecord) -> bool {
        let before = (compute.compute.compute_status, compute.agent);
        if let Some(status) = self.status {
            compute.compute.compute_status = Some(status);
        }
        if let Some(agent) = self.agent {
            compute.agent = agent;
        }
        before != (compute.compute.compute_status, compute.agent)
    }
}

/// One change of a game session together with what changes with it: a player leaving
/// changes the session's player count, a session ending completes its players, and a
/// change GameLift reports as an event is written with its event.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionChange<'a> {
    /// The game session, replaced if its version is still the given one.
    pub session: Option<(&'a GameSessionRecord, i64)>,
    /// Player sessions, each replaced.
    pub players: &'a [PlayerSessionRecord],
    /// Events appended to the outbox.
    pub events: &'a [OutboxEvent],
}

/// A value with its position in a totally ordered stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequenced<T> {
    /// Its position: increasing in commit order.
    pub sequence: i64,
    /// The value.
    pub value: T,
}

/// Selection of DescribeFleetEvents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events at or after this time.
    pub start: Option<Timestamp>,
    /// Only events at or before this time.
    pub end: Option<Timestamp>,
}

/// Selection of game sessions (DescribeGameSessions and the server's sweeps); unset fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GameSessionFilter {
    /// Only sessions of this fleet.
    pub fleet_id: Option<String>,
    /// Only sessions in this location.
    pub location: Option<String>,
    /// Only sessions in this status, as the wire string (`ACTIVATING`, `ACTIVE`, ...).
    pub status: Option<String>,
    /// Only sessions created strictly before this time (e.g. `ACTIVATING` past the activation timeout).
    pub created_before: Option<Timestamp>,
}

/// Selection of player sessions (DescribePlayerSessions and the reservation sweep); unset fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlayerSessionFilter {
    /// Only player sessions of this game session.
    pub game_session_id: Option<String>,
    /// Only player sessions of this player.
    pub player_id: Option<String>,
    /// Only player sessions in this status, as the wire string (`RESERVED`, `ACTIVE`, ...).
    pub status: Option<String>,
    /// Only player sessions created strictly before this time (e.g. `RESERVED` past the 60 s timeout).
    pub created_before: Option<Timestamp>,
    /// Only player sessions of this fleet's game sessions (what a game server may see).
    pub fleet_id: Option<String>,
}

/// Where a server process ran: the only compute whose agent may upload its logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessHost {
    /// The process's fleet.
    pub fleet_id: String,
    /// The compute it ran on.
    pub compute_name: String,
}
