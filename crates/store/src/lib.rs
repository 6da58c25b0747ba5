//! Durable state for the control plane.
//!
//! [`Store`] speaks the domain's language; each backend implements it with its
//! own best primitives: SQLite (the embedded default, WAL, one writer) and
//! PostgreSQL (several control-plane nodes sharing one database). Both pass the
//! same conformance suite (`tests/conformance.rs`). A write that returns `Ok`
//! is durable: it survives the process being killed.

mod common;
mod migrations;
pub mod postgres;
#[cfg(test)]
#[path = "../../../tests/support/postgres_schema.rs"]
mod postgres_schema;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use openlift_core::records::{
    AliasRecord, AuthToken, ComputeRecord, Fleet, FleetEvent, GameSessionRecord, Location, PlayerSessionRecord,
    ProcessLogs, ServerProcessRecord,
};
use openlift_model::{Tag, Timestamp};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

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
/// [`Store::append_events`] when the change is not a store write.
#[derive(Debug, Clone, PartialEq)]
pub enum OutboxEvent {
    /// An event of a fleet's log, as DescribeFleetEvents reports it.
    Fleet(FleetEvent),
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

/// The control plane's durable state, in domain terms.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A random secret of `len` bytes named `name`, created on first use and the
    /// same for every node sharing the database (e.g. the page-token key).
    async fn secret(&self, name: &str, len: usize) -> Result<Vec<u8>, StoreError>;

    /// Creates a custom location with its tags; `AlreadyExists` if the name is taken.
    async fn create_location(&self, location: &Location, tags: &[Tag]) -> Result<(), StoreError>;
    /// The location named `name`.
    async fn get_location(&self, name: &str) -> Result<Option<Location>, StoreError>;
    /// Custom locations in creation order.
    async fn list_locations(&self, page: PageRequest) -> Result<Page<Location>, StoreError>;
    /// Deletes a location and its tags; `NotFound` if absent.
    async fn delete_location(&self, name: &str) -> Result<(), StoreError>;

    /// Appends events to the outbox by themselves, changing no other record (what they
    /// report is not a store write, e.g. a server process crashed).
    async fn append_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError>;
    /// Up to `limit` outbox events with a sequence greater than `after`, in sequence order.
    /// Sequences follow commit order: once a reader has read sequence N, no event with a
    /// smaller sequence appears later, so "after the last one read" misses nothing.
    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<Sequenced<OutboxEvent>>, StoreError>;

    /// Creates a fleet with its first events (in the outbox) and tags; `AlreadyExists` if
    /// the ID is taken.
    async fn create_fleet(&self, fleet: &Fleet, events: &[FleetEvent], tags: &[Tag]) -> Result<(), StoreError>;
    /// The fleet with ID `fleet_id`, in any status.
    async fn get_fleet(&self, fleet_id: &str) -> Result<Option<Versioned<Fleet>>, StoreError>;
    /// Fleets in creation order; terminated fleets only when `include_terminated`.
    async fn list_fleets(&self, include_terminated: bool, page: PageRequest) -> Result<Page<Fleet>, StoreError>;
    /// IDs of fleets that are not terminated and have `location` among their locations.
    async fn fleets_in_location(&self, location: &str) -> Result<Vec<String>, StoreError>;
    /// Replaces a fleet if its version is still `expected_version`, appending `events` to the
    /// outbox in the same transaction (a failed update appends nothing); returns the new version (`VersionConflict`, `NotFound`).
    async fn update_fleet(
        &self,
        fleet: &Fleet,
        expected_version: i64,
        events: &[FleetEvent],
    ) -> Result<i64, StoreError>;
    /// A fleet's events from the outbox, newest first; the page cursor is the sequence.
    async fn list_fleet_events(
        &self,
        fleet_id: &str,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<FleetEvent>, StoreError>;

    /// Registers a compute; `AlreadyExists` if the fleet has one with that name.
    async fn create_compute(&self, compute: &ComputeRecord) -> Result<(), StoreError>;
    /// The compute `compute_name` of fleet `fleet_id`.
    async fn get_compute(&self, fleet_id: &str, compute_name: &str) -> Result<Option<ComputeRecord>, StoreError>;
    /// A fleet's computes in registration order, optionally only those in `location`.
    async fn list_computes(
        &self,
        fleet_id: &str,
        location: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<ComputeRecord>, StoreError>;
    /// Replaces a registered compute's record (its status changes); `NotFound` if absent.
    async fn update_compute(&self, compute: &ComputeRecord) -> Result<(), StoreError>;
    /// Deregisters a compute and revokes its auth tokens; `NotFound` if absent.
    async fn delete_compute(&self, fleet_id: &str, compute_name: &str) -> Result<(), StoreError>;

    /// Stores an auth token, first removing tokens that expired before `now`.
    async fn put_auth_token(&self, token: &AuthToken, now: Timestamp) -> Result<(), StoreError>;
    /// The token with this digest, whether or not it has expired.
    async fn get_auth_token(&self, digest: &str) -> Result<Option<AuthToken>, StoreError>;

    /// Creates an alias with its tags; `AlreadyExists` if the ID is taken.
    async fn create_alias(&self, alias: &AliasRecord, tags: &[Tag]) -> Result<(), StoreError>;
    /// The alias with ID `alias_id`.
    async fn get_alias(&self, alias_id: &str) -> Result<Option<Versioned<AliasRecord>>, StoreError>;
    /// Aliases in creation order matching `filter`.
    async fn list_aliases(&self, filter: &AliasFilter, page: PageRequest) -> Result<Page<AliasRecord>, StoreError>;
    /// Replaces an alias if its version is still `expected_version`; returns the new version.
    async fn update_alias(&self, alias: &AliasRecord, expected_version: i64) -> Result<i64, StoreError>;
    /// Deletes an alias and its tags; `NotFound` if absent.
    async fn delete_alias(&self, alias_id: &str) -> Result<(), StoreError>;

    /// The tags of the resource with this ARN, sorted by key (empty if none).
    async fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, StoreError>;
    /// Adds tags to a resource, overwriting values of existing keys.
    async fn tag_resource(&self, arn: &str, tags: &[Tag]) -> Result<(), StoreError>;
    /// Removes the tags with these keys (absent keys are ignored).
    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), StoreError>;
    /// Removes every tag of a resource (it is being deleted).
    async fn delete_tags(&self, arn: &str) -> Result<(), StoreError>;

    /// Creates a game session; `AlreadyExists` if the ID is taken, or if another session
    /// was created with the same idempotency token (in any fleet).
    async fn create_game_session(&self, session: &GameSessionRecord) -> Result<(), StoreError>;
    /// The game session with ID (ARN) `game_session_id`.
    async fn get_game_session(&self, game_session_id: &str)
    -> Result<Option<Versioned<GameSessionRecord>>, StoreError>;
    /// The game session created with idempotency token (or custom game session ID)
    /// `token`, in whichever fleet and location.
    async fn get_game_session_by_token(&self, token: &str) -> Result<Option<Versioned<GameSessionRecord>>, StoreError>;
    /// Replaces a game session if its version is still `expected_version`; returns the
    /// new version (`VersionConflict`, `NotFound`). The fleet, location, creator and
    /// creation time a session was created with are kept: they never change.
    async fn update_game_session(&self, session: &GameSessionRecord, expected_version: i64) -> Result<i64, StoreError>;
    /// Game sessions in creation order matching `filter`.
    async fn list_game_sessions(
        &self,
        filter: &GameSessionFilter,
        page: PageRequest,
    ) -> Result<Page<GameSessionRecord>, StoreError>;
    /// How many game sessions `creator_id` created in fleet `fleet_id` at or after
    /// `since` (the ResourceCreationLimitPolicy window).
    async fn count_game_sessions_by_creator(
        &self,
        fleet_id: &str,
        creator_id: &str,
        since: Timestamp,
    ) -> Result<usize, StoreError>;
    /// In one transaction, replaces `session` if its version is still `expected_version`
    /// (the caller has already counted the new players) and creates `players`; all or
    /// nothing. Returns the session's new version (`VersionConflict`, `NotFound`, or
    /// `AlreadyExists` if any player session ID is taken).
    async fn add_player_sessions(
        &self,
        session: &GameSessionRecord,
        expected_version: i64,
        players: &[PlayerSessionRecord],
    ) -> Result<i64, StoreError>;
    /// Applies `change` in one transaction, all or nothing (`VersionConflict` if its game
    /// session moved on, `NotFound` if it or one of its player sessions is absent).
    async fn change_sessions(&self, change: SessionChange<'_>) -> Result<(), StoreError>;
    /// The player session with ID `player_session_id`.
    async fn get_player_session(&self, player_session_id: &str) -> Result<Option<PlayerSessionRecord>, StoreError>;
    /// Player sessions in creation order matching `filter`.
    async fn list_player_sessions(
        &self,
        filter: &PlayerSessionFilter,
        page: PageRequest,
    ) -> Result<Page<PlayerSessionRecord>, StoreError>;
    /// Deletes the game sessions that ended (`TerminationTime`) before `ended_before`,
    /// with their player sessions (30-day retention); returns how many game sessions went.
    async fn purge_game_sessions(&self, ended_before: Timestamp) -> Result<usize, StoreError>;

    /// Stores the log archive of a server process, once: `AlreadyExists` if its logs are
    /// stored already.
    async fn put_process_logs(&self, logs: &ProcessLogs) -> Result<(), StoreError>;
    /// The log archive of a server process.
    async fn get_process_logs(&self, process_id: &str) -> Result<Option<ProcessLogs>, StoreError>;
    /// Deletes the log archives stored before `stored_before` (14-day retention), and which
    /// compute ran the processes that ended before it; returns how many archives went.
    async fn purge_process_logs(&self, stored_before: Timestamp) -> Result<usize, StoreError>;

    /// Records a ready server process, replacing an earlier record of it. The first record
    /// of a process ID also fixes which compute ran it ([`Store::process_host`]).
    async fn put_server_process(&self, process: &ServerProcessRecord) -> Result<(), StoreError>;
    /// Forgets a server process that ended at `ended_at` (absent ones are ignored); which
    /// compute ran it is kept for the logs' retention after that.
    async fn delete_server_process(&self, process_id: &str, ended_at: Timestamp) -> Result<(), StoreError>;
    /// The fleet and compute that ran server process `process_id`, if it ever became ready.
    async fn process_host(&self, process_id: &str) -> Result<Option<ProcessHost>, StoreError>;
    /// Every recorded server process, in process ID order.
    async fn list_server_processes(&self) -> Result<Vec<ServerProcessRecord>, StoreError>;
}
