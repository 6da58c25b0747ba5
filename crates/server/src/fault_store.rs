//! A [`Store`] for unit tests: the real SQLite store underneath, with chosen methods made
//! to fail or to wait forever, and every call counted, so the failure paths of the
//! operations can be driven.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use openlift_core::records::{
    AliasRecord, AuthToken, ComputeRecord, Fleet, FleetEvent, GameSessionRecord, Location, PlayerSessionRecord,
    ProcessLogs, ServerProcessRecord,
};
use openlift_model::{Tag, Timestamp};
use openlift_store::prelude::*;
use openlift_store::{
    AliasFilter, ComputeChange, EventFilter, GameSessionFilter, OutboxEvent, Page, PageRequest, PlayerSessionFilter,
    ProcessHost, Sequenced, SessionChange, StoreError, Versioned,
};
use tokio::sync::Notify;

/// What a method does instead of its work.
#[derive(Clone)]
pub enum Fault {
    /// Answers this error.
    Fail(fn() -> StoreError),
    /// Signals the notifier, then never returns (until its caller drops the future).
    Hold(Arc<Notify>),
}

/// The real store with faults injected by method name.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Mutex<HashMap<&'static str, Fault>>,
    calls: Mutex<HashMap<&'static str, usize>>,
}

impl FaultyStore {
    /// A SQLite store in `dir`, with no faults yet.
    pub async fn open(dir: &std::path::Path) -> Arc<Self> {
        let inner = openlift_store::open(&format!("sqlite://{}", dir.join("openlift.db").display())).await.unwrap();
        Arc::new(FaultyStore { inner, faults: Mutex::default(), calls: Mutex::default() })
    }

    /// Makes `method` do `fault` from now on.
    pub fn inject(&self, method: &'static str, fault: Fault) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).insert(method, fault);
    }

    /// Lets every method work again.
    pub fn heal(&self) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// How often `method` was called.
    pub fn calls(&self, method: &str) -> usize {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).get(method).copied().unwrap_or(0)
    }

    async fn fault(&self, method: &'static str) -> Result<(), StoreError> {
        *self.calls.lock().unwrap_or_else(PoisonError::into_inner).entry(method).or_default() += 1;
        let fault = self.faults.lock().unwrap_or_else(PoisonError::into_inner).get(method).cloned();
        match fault {
            None => Ok(()),
            Some(Fault::Fail(error)) => Err(error()),
            Some(Fault::Hold(entered)) => {
                entered.notify_one();
                std::future::pending().await
            }
        }
    }
}

/// Implements every method of each aggregate trait as: apply its fault, if any, then delegate.
macro_rules! delegate {
    ($($aggregate:ident { $($method:ident($($arg:ident: $ty:ty),*) -> $out:ty;)* })*) => {
        $(
            #[async_trait::async_trait]
            impl $aggregate for FaultyStore {
                $(async fn $method(&self, $($arg: $ty),*) -> Result<$out, StoreError> {
                    self.fault(stringify!($method)).await?;
                    self.inner.$method($($arg),*).await
                })*
            }
        )*
    };
}

delegate! {
    Secrets {
        secret(name: &str, len: usize) -> Vec<u8>;
    }
    Locations {
        create_location(location: &Location, tags: &[Tag]) -> ();
        get_location(name: &str) -> Option<Location>;
        list_locations(page: PageRequest) -> Page<Location>;
        delete_location(name: &str) -> ();
    }
    Fleets {
        create_fleet(fleet: &Fleet, events: &[FleetEvent], tags: &[Tag]) -> ();
        get_fleet(fleet_id: &str) -> Option<Versioned<Fleet>>;
        list_fleets(include_terminated: bool, page: PageRequest) -> Page<Fleet>;
        fleets_in_location(location: &str) -> Vec<String>;
        update_fleet(fleet: &Fleet, expected_version: i64, events: &[FleetEvent]) -> i64;
        list_fleet_events(fleet_id: &str, filter: &EventFilter, page: PageRequest) -> Page<FleetEvent>;
    }
    Computes {
        create_compute(compute: &ComputeRecord) -> ();
        get_compute(fleet_id: &str, compute_name: &str) -> Option<ComputeRecord>;
        list_computes(fleet_id: &str, location: Option<&str>, page: PageRequest) -> Page<ComputeRecord>;
        change_compute(fleet_id: &str, compute_name: &str, change: ComputeChange) -> bool;
        delete_compute(fleet_id: &str, compute_name: &str) -> ();
        put_auth_token(token: &AuthToken, now: Timestamp) -> ();
        get_auth_token(digest: &str) -> Option<AuthToken>;
    }
    Aliases {
        create_alias(alias: &AliasRecord, tags: &[Tag]) -> ();
        get_alias(alias_id: &str) -> Option<Versioned<AliasRecord>>;
        list_aliases(filter: &AliasFilter, page: PageRequest) -> Page<AliasRecord>;
        update_alias(alias: &AliasRecord, expected_version: i64) -> i64;
        delete_alias(alias_id: &str) -> ();
    }
    Tags {
        list_tags(arn: &str) -> Vec<Tag>;
        tag_resource(arn: &str, tags: &[Tag]) -> ();
        untag_resource(arn: &str, keys: &[String]) -> ();
        delete_tags(arn: &str) -> ();
    }
    Sessions {
        create_game_session(session: &GameSessionRecord) -> ();
        get_game_session(game_session_id: &str) -> Option<Versioned<GameSessionRecord>>;
        get_game_session_by_token(token: &str) -> Option<Versioned<GameSessionRecord>>;
        update_game_session(session: &GameSessionRecord, expected_version: i64) -> i64;
        list_game_sessions(filter: &GameSessionFilter, page: PageRequest) -> Page<GameSessionRecord>;
        count_game_sessions_by_creator(fleet_id: &str, creator_id: &str, since: Timestamp) -> usize;
        add_player_sessions(session: &GameSessionRecord, expected_version: i64, players: &[PlayerSessionRecord]) -> i64;
        change_sessions(change: SessionChange<'_>) -> ();
        get_player_session(player_session_id: &str) -> Option<PlayerSessionRecord>;
        list_player_sessions(filter: &PlayerSessionFilter, page: PageRequest) -> Page<PlayerSessionRecord>;
        purge_game_sessions(ended_before: Timestamp) -> usize;
    }
    LogArchives {
        put_process_logs(logs: &ProcessLogs) -> ();
        get_process_logs(process_id: &str) -> Option<ProcessLogs>;
        purge_process_logs(stored_before: Timestamp) -> usize;
    }
    ServerProcesses {
        put_server_process(process: &ServerProcessRecord) -> ();
        delete_server_process(process_id: &str, ended_at: Timestamp) -> ();
        process_host(process_id: &str) -> Option<ProcessHost>;
        list_server_processes() -> Vec<ServerProcessRecord>;
    }
    Outbox {
        append_events(events: &[OutboxEvent]) -> ();
        events_after(after: i64, limit: usize) -> Vec<Sequenced<OutboxEvent>>;
    }
}
