//! Test fixtures: a fresh, isolated database per test on either backend, and
//! builders for the records the cases store.

use std::sync::Arc;

use openlift_core::records::{
    AliasRecord, AuthToken, ComputeRecord, Fleet, FleetEvent, GameSessionRecord, Location, PlayerSessionRecord,
};
use openlift_model::{
    Compute, ComputeStatus, Event, EventCode, FleetAttributes, FleetStatus, GameProperty, GameSession,
    GameSessionStatus, LocationState, PlayerSession, PlayerSessionCreationPolicy, PlayerSessionStatus,
    ProtectionPolicy, RoutingStrategy, RoutingStrategyType, Tag, Timestamp,
};
use openlift_store::Store;

#[path = "../../../../tests/support/postgres_schema.rs"]
mod postgres_schema;

use postgres_schema::PostgresSchema;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A file in a fresh temporary directory.
    Sqlite,
    /// A fresh schema on the server at `OPENLIFT_TEST_DATABASE_URL`.
    Postgres,
}

/// An empty database of its own for one test.
pub struct Backend {
    url: String,
    postgres: Option<PostgresSchema>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    /// A fresh database: an SQLite file in a new temporary directory, or a new
    /// uniquely named PostgreSQL schema (reached through `search_path`). `None`
    /// only when PostgreSQL is explicitly skipped.
    pub async fn new(kind: Kind) -> Option<Backend> {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("create a temporary directory");
                let path = dir.path().join("nested").join("store.sqlite3");
                Some(Backend { url: format!("sqlite://{}", path.display()), postgres: None, _dir: Some(dir) })
            }
            Kind::Postgres => {
                let schema = PostgresSchema::create().await?;
                Some(Backend { url: schema.url(), postgres: Some(schema), _dir: None })
            }
        }
    }

    /// The database URL to give `openlift_store::open`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Opens (again) the store on this database.
    pub async fn open(&self) -> Arc<dyn Store> {
        openlift_store::open(&self.url).await.expect("open the store")
    }

    /// Drops the test's PostgreSQL schema (the SQLite directory goes with `self`).
    pub async fn cleanup(self) {
        if let Some(schema) = &self.postgres {
            schema.drop_schema().await;
        }
    }
}

/// A tag.
pub fn tag(key: &str, value: &str) -> Tag {
    Tag { key: key.into(), value: value.into() }
}

/// A custom location.
pub fn location(name: &str) -> Location {
    Location {
        name: name.into(),
        arn: format!("arn:aws:gamelift:us-west-2::location/{name}"),
        creation_time: Timestamp::from_millis(1_700_000_000_123),
    }
}

/// A fleet in `status` running in `locations`.
pub fn fleet(id: &str, status: FleetStatus, locations: &[&str]) -> Fleet {
    Fleet {
        attributes: FleetAttributes {
            fleet_id: Some(id.into()),
            fleet_arn: Some(format!("arn:aws:gamelift:us-west-2:123456789012:fleet/{id}")),
            name: Some(format!("name of {id}")),
            status: Some(status),
            creation_time: Some(Timestamp::from_millis(1_700_000_000_000)),
            ..FleetAttributes::default()
        },
        locations: locations
            .iter()
            .map(|l| LocationState { location: Some((*l).into()), status: Some(status), ..LocationState::default() })
            .collect(),
        runtime_configuration: None,
    }
}

/// Event `n` of a fleet, at `millis`.
pub fn event(fleet_id: &str, n: u32, millis: i64) -> FleetEvent {
    FleetEvent {
        fleet_id: fleet_id.into(),
        event: Event {
            event_id: Some(format!("{fleet_id}-event-{n}")),
            event_code: Some(EventCode::GenericEvent),
            event_time: Some(Timestamp::from_millis(millis)),
            message: Some(format!("event {n} ✓")),
            resource_id: Some(fleet_id.into()),
            ..Event::default()
        },
    }
}

/// A compute of `fleet_id` in `location`.
pub fn compute(fleet_id: &str, name: &str, location: &str) -> ComputeRecord {
    ComputeRecord {
        compute: Compute {
            fleet_id: Some(fleet_id.into()),
            compute_name: Some(name.into()),
            location: Some(location.into()),
            compute_status: Some(ComputeStatus::Active),
            ip_address: Some("10.0.0.1".into()),
            ..Compute::default()
        },
        certificate_path: Some("/etc/cert.pem".into()),
        agent: false,
    }
}

/// An auth token of a compute expiring at `millis`.
pub fn token(digest: &str, fleet_id: &str, compute_name: &str, millis: i64) -> AuthToken {
    AuthToken {
        digest: digest.into(),
        fleet_id: fleet_id.into(),
        compute_name: compute_name.into(),
        expires_at: Timestamp::from_millis(millis),
    }
}

/// An alias routing to a fleet (`SIMPLE`) or terminal.
pub fn alias(id: &str, name: &str, routing: RoutingStrategyType) -> AliasRecord {
    AliasRecord {
        alias_id: Some(id.into()),
        alias_arn: Some(format!("arn:aws:gamelift:us-west-2::alias/{id}")),
        name: Some(name.into()),
        description: Some("an alias".into()),
        routing_strategy: Some(RoutingStrategy {
            r#type: Some(routing),
            fleet_id: (routing == RoutingStrategyType::Simple).then(|| "fleet-1".into()),
            message: (routing == RoutingStrategyType::Terminal).then(|| "gone".into()),
        }),
        creation_time: Some(Timestamp::from_millis(1_700_000_000_000)),
        last_updated_time: None,
    }
}

/// An `ACTIVATING` game session `id` of `fleet_id` in `location`, created at `millis` by `creator`.
pub fn game_session(id: &str, fleet_id: &str, location: &str, creator: Option<&str>, millis: i64) -> GameSessionRecord {
    GameSessionRecord {
        game_session: GameSession {
            game_session_id: Some(id.into()),
            name: Some(format!("session {id} ✓")),
            fleet_id: Some(fleet_id.into()),
            fleet_arn: Some(format!("arn:aws:gamelift:us-west-2:123456789012:fleet/{fleet_id}")),
            creation_time: Some(Timestamp::from_millis(millis)),
            current_player_session_count: Some(0),
            maximum_player_session_count: Some(10),
            status: Some(GameSessionStatus::Activating),
            game_properties: Some(vec![GameProperty { key: "mode".into(), value: "ranked".into() }]),
            player_session_creation_policy: Some(PlayerSessionCreationPolicy::AcceptAll),
            creator_id: creator.map(str::to_owned),
            location: Some(location.into()),
            ..GameSession::default()
        },
        protection_policy: ProtectionPolicy::NoProtection,
        process_id: None,
        idempotency_token: Some(id.rsplit('/').next().unwrap_or(id).into()),
        request_digest: format!("digest of {id}"),
        log_paths: Vec::new(),
    }
}

/// `session` with its status (and, when ending, termination time) changed.
pub fn with_status(session: &GameSessionRecord, status: GameSessionStatus, ended: Option<i64>) -> GameSessionRecord {
    let mut session = session.clone();
    session.game_session.status = Some(status);
    session.game_session.termination_time = ended.map(Timestamp::from_millis);
    session
}

/// `session` counting `players` more player sessions.
pub fn with_players(session: &GameSessionRecord, players: i32) -> GameSessionRecord {
    let mut session = session.clone();
    let count = session.game_session.current_player_session_count.get_or_insert(0);
    *count += players;
    session
}

/// A `RESERVED` player session `id` of `player_id` in `game_session_id`, created at `millis`.
pub fn player(id: &str, game_session_id: &str, player_id: &str, millis: i64) -> PlayerSessionRecord {
    PlayerSession {
        player_session_id: Some(id.into()),
        player_id: Some(player_id.into()),
        game_session_id: Some(game_session_id.into()),
        fleet_id: Some("fleet-1".into()),
        creation_time: Some(Timestamp::from_millis(millis)),
        status: Some(PlayerSessionStatus::Reserved),
        ip_address: Some("10.0.0.1".into()),
        port: Some(7777),
        player_data: Some(format!("data of {player_id}")),
        ..PlayerSession::default()
    }
}
