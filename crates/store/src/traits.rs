//! The store's traits: one per aggregate, the records that change together, and
//! [`Store`], every one of them in one object.
//!
//! | trait | records |
//! |---|---|
//! | [`Secrets`] | named secrets shared by every node (the page-token key) |
//! | [`Locations`] | custom locations |
//! | [`Fleets`] | fleets, their location index, and their events (written to the outbox with the fleet) |
//! | [`Computes`] | registered computes and the auth tokens issued to them |
//! | [`Aliases`] | aliases |
//! | [`Tags`] | the tags of any resource, by ARN |
//! | [`Sessions`] | game sessions with their player sessions: one change of both is one transaction |
//! | [`LogArchives`] | the log archives of server processes |
//! | [`ServerProcesses`] | ready server processes, and which compute ran each |
//! | [`Outbox`] | the event outbox, read in commit order |
//!
//! Callers hold an `Arc<dyn Store>`, on which every aggregate's methods are callable
//! without importing its trait; code holding a backend's own type imports them with
//! `use openlift_store::prelude::*;`.

use async_trait::async_trait;
use openlift_core::records::{
    AliasRecord, AuthToken, ComputeRecord, Fleet, FleetEvent, GameSessionRecord, Location, PlayerSessionRecord,
    ProcessLogs, ServerProcessRecord,
};
use openlift_model::{Tag, Timestamp};

use crate::{
    AliasFilter, ComputeChange, EventFilter, GameSessionFilter, OutboxEvent, Page, PageRequest, PlayerSessionFilter,
    ProcessHost, Sequenced, SessionChange, StoreError, Versioned,
};

/// The control plane's durable state, in domain terms: every aggregate's trait. Each
/// backend implements the aggregate traits; this one comes with them.
pub trait Store:
    Secrets + Locations + Fleets + Computes + Aliases + Tags + Sessions + LogArchives + ServerProcesses + Outbox + 'static
{
}

impl<T> Store for T where
    T: Secrets
        + Locations
        + Fleets
        + Computes
        + Aliases
        + Tags
        + Sessions
        + LogArchives
        + ServerProcesses
        + Outbox
        + 'static
{
}

/// Named secrets, the same for every node sharing the database.
#[async_trait]
pub trait Secrets: Send + Sync {
    /// A random secret of `len` bytes named `name`, created on first use and the
    /// same for every node sharing the database (e.g. the page-token key).
    async fn secret(&self, name: &str, len: usize) -> Result<Vec<u8>, StoreError>;
}

/// Custom locations, with their tags.
#[async_trait]
pub trait Locations: Send + Sync {
    /// Creates a custom location with its tags; `AlreadyExists` if the name is taken.
    async fn create_location(&self, location: &Location, tags: &[Tag]) -> Result<(), StoreError>;
    /// The location named `name`.
    async fn get_location(&self, name: &str) -> Result<Option<Location>, StoreError>;
    /// Custom locations in creation order.
    async fn list_locations(&self, page: PageRequest) -> Result<Page<Location>, StoreError>;
    /// Deletes a location and its tags; `NotFound` if absent.
    async fn delete_location(&self, name: &str) -> Result<(), StoreError>;
}

/// Fleets, with their tags and their events (in the outbox).
#[async_trait]
pub trait Fleets: Send + Sync {
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
}

/// Registered computes and the auth tokens issued to them.
#[async_trait]
pub trait Computes: Send + Sync {
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
    /// Applies `change` to a registered compute atomically (read and written in one
    /// transaction); `true` if it changed the compute, `NotFound` if the compute is absent.
    async fn change_compute(
        &self,
        fleet_id: &str,
        compute_name: &str,
        change: ComputeChange,
    ) -> Result<bool, StoreError>;
    /// Deregisters a compute and revokes its auth tokens; `NotFound` if absent.
    async fn delete_compute(&self, fleet_id: &str, compute_name: &str) -> Result<(), StoreError>;
    /// Stores an auth token, first removing tokens that expired before `now`.
    async fn put_auth_token(&self, token: &AuthToken, now: Timestamp) -> Result<(), StoreError>;
    /// The token with this digest, whether or not it has expired.
    async fn get_auth_token(&self, digest: &str) -> Result<Option<AuthToken>, StoreError>;
}

/// Aliases, with their tags.
#[async_trait]
pub trait Aliases: Send + Sync {
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
}

/// The tags of any resource, by ARN.
#[async_trait]
pub trait Tags: Send + Sync {
    /// The tags of the resource with this ARN, sorted by key (empty if none).
    async fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, StoreError>;
    /// Adds tags to a resource, overwriting values of existing keys.
    async fn tag_resource(&self, arn: &str, tags: &[Tag]) -> Result<(), StoreError>;
    /// Removes the tags with these keys (absent keys are ignored).
    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), StoreError>;
    /// Removes every tag of a resource (it is being deleted).
    async fn delete_tags(&self, arn: &str) -> Result<(), StoreError>;
}

/// Game sessions and their player sessions: a change of one that changes the other is
/// one transaction.
#[async_trait]
pub trait Sessions: Send + Sync {
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
}

/// The log archives of server processes.
#[async_trait]
pub trait LogArchives: Send + Sync {
    /// Stores the log archive of a server process, once: `AlreadyExists` if its logs are
    /// stored already.
    async fn put_process_logs(&self, logs: &ProcessLogs) -> Result<(), StoreError>;
    /// The log archive of a server process.
    async fn get_process_logs(&self, process_id: &str) -> Result<Option<ProcessLogs>, StoreError>;
    /// Deletes the log archives stored before `stored_before` (14-day retention), and which
    /// compute ran the processes that ended before it; returns how many archives went.
    async fn purge_process_logs(&self, stored_before: Timestamp) -> Result<usize, StoreError>;
}

/// Ready server processes, and which compute ran each one.
#[async_trait]
pub trait ServerProcesses: Send + Sync {
    /// Records a ready server process, replacing an earlier record of it. The first record
    /// of a process ID also fixes which compute ran it ([`ServerProcesses::process_host`]).
    async fn put_server_process(&self, process: &ServerProcessRecord) -> Result<(), StoreError>;
    /// Forgets a server process that ended at `ended_at` (absent ones are ignored); which
    /// compute ran it is kept for the logs' retention after that.
    async fn delete_server_process(&self, process_id: &str, ended_at: Timestamp) -> Result<(), StoreError>;
    /// The fleet and compute that ran server process `process_id`, if it ever became ready.
    async fn process_host(&self, process_id: &str) -> Result<Option<ProcessHost>, StoreError>;
    /// Every recorded server process, in process ID order.
    async fn list_server_processes(&self) -> Result<Vec<ServerProcessRecord>, StoreError>;
}

/// The event outbox: the events state changes reported, in commit order.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Appends events to the outbox by themselves, changing no other record (what they
    /// report is not a store write, e.g. a server process crashed).
    async fn append_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError>;
    /// Up to `limit` outbox events with a sequence greater than `after`, in sequence order.
    /// Sequences follow commit order: once a reader has read sequence N, no event with a
    /// smaller sequence appears later, so "after the last one read" misses nothing.
    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<Sequenced<OutboxEvent>>, StoreError>;
}
