//! Pieces both backends share: JSON documents, paging, the key columns
//! extracted from records, and the filtered listings of sessions.

use openlift_core::records::{AliasRecord, Fleet, FleetEvent, GameSessionRecord, PlayerSessionRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::sql::Dialect;
use crate::{GameSessionFilter, OutboxEvent, Page, PlayerSessionFilter, Sequenced, StoreError};

/// Wraps any backend failure.
pub(crate) fn backend(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(err))
}

/// A record as the JSON document that is stored.
pub(crate) fn to_doc<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

/// A stored JSON document as a record.
pub(crate) fn from_doc<T: DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(backend)
}

/// How many rows to fetch for a page of `limit` items: one more, to learn whether more exist.
pub(crate) fn fetch_limit(limit: usize) -> i64 {
    i64::try_from(limit.max(1)).unwrap_or(i64::MAX - 1) + 1
}

/// Builds a page from `(cursor, document)` rows fetched with [`fetch_limit`].
pub(crate) fn page_of<T: DeserializeOwned>(mut rows: Vec<(i64, String)>, limit: usize) -> Result<Page<T>, StoreError> {
    let limit = limit.max(1);
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(cursor, _)| *cursor)
    } else {
        None
    };
    let items = rows.iter().map(|(_, doc)| from_doc(doc)).collect::<Result<_, _>>()?;
    Ok(Page { items, next })
}

/// The cursor to resume an ascending listing after.
pub(crate) fn after_ascending(after: Option<i64>) -> i64 {
    after.unwrap_or(0)
}

/// The cursor to resume a descending listing after.
pub(crate) fn after_descending(after: Option<i64>) -> i64 {
    after.unwrap_or(i64::MAX)
}

/// The columns a fleet row keeps next to its document.
pub(crate) struct FleetRow {
    pub id: String,
    pub arn: String,
    pub terminated: bool,
    pub locations: Vec<String>,
    pub doc: String,
}

impl FleetRow {
    /// Extracts the key columns of `fleet` and serializes it.
    pub(crate) fn new(fleet: &Fleet) -> Result<Self, StoreError> {
        let mut locations: Vec<String> = fleet.locations.iter().filter_map(|l| l.location.clone()).collect();
        locations.sort();
        locations.dedup();
        Ok(FleetRow {
            id: fleet.id().to_owned(),
            arn: fleet.attributes.fleet_arn.clone().unwrap_or_default(),
            terminated: fleet.attributes.status == Some(openlift_model::FleetStatus::Terminated),
            locations,
            doc: to_doc(fleet)?,
        })
    }
}

/// The columns an alias row keeps next to its document.
pub(crate) struct AliasRow {
    pub id: String,
    pub arn: String,
    pub name: Option<String>,
    pub routing_type: Option<&'static str>,
    pub doc: String,
}

impl AliasRow {
    /// Extracts the key columns of `alias` and serializes it.
    pub(crate) fn new(alias: &AliasRecord) -> Result<Self, StoreError> {
        Ok(AliasRow {
            id: alias.alias_id.clone().unwrap_or_default(),
            arn: alias.alias_arn.clone().unwrap_or_default(),
            name: alias.name.clone(),
            routing_type: alias.routing_strategy.as_ref().and_then(|r| r.r#type).map(|t| t.as_str()),
            doc: to_doc(alias)?,
        })
    }
}

/// The outbox `source` of fleet events.
const FLEET_SOURCE: &str = "fleet";

/// An outbox row: the event's source, resource ID, time (milliseconds) and document.
pub(crate) struct EventRow {
    pub source: &'static str,
    pub resource_id: String,
    pub time: Option<i64>,
    pub doc: String,
}

/// The outbox rows of fleet events.
pub(crate) fn fleet_event_rows(events: &[FleetEvent]) -> Result<Vec<EventRow>, StoreError> {
    events.iter().map(fleet_event_row).collect()
}

/// The outbox rows of `events`.
pub(crate) fn event_rows(events: &[OutboxEvent]) -> Result<Vec<EventRow>, StoreError> {
    events.iter().map(|OutboxEvent::Fleet(event)| fleet_event_row(event)).collect()
}

fn fleet_event_row(event: &FleetEvent) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        source: FLEET_SOURCE,
        resource_id: event.fleet_id.clone(),
        time: event.event.event_time.map(|t| t.as_millis()),
        doc: to_doc(event)?,
    })
}

/// Decodes `(sequence, source, document)` outbox rows.
pub(crate) fn outbox_events(rows: Vec<(i64, String, String)>) -> Result<Vec<Sequenced<OutboxEvent>>, StoreError> {
    rows.into_iter()
        .map(|(sequence, source, doc)| {
            let value = match source.as_str() {
                FLEET_SOURCE => OutboxEvent::Fleet(from_doc(&doc)?),
                other => return Err(backend(std::io::Error::other(format!("unknown outbox source {other:?}")))),
            };
            Ok(Sequenced { sequence, value })
        })
        .collect()
}

/// The columns a game session row keeps next to its document. A session's fleet,
/// location, creator and creation time are fixed when it is created; updates write only
/// its status, termination time and document.
pub(crate) struct GameSessionRow {
    pub id: String,
    pub fleet_id: String,
    pub location: Option<String>,
    pub status: Option<&'static str>,
    pub creator_id: Option<String>,
    pub creation_time: Option<i64>,
    pub termination_time: Option<i64>,
    pub idempotency_token: Option<String>,
    pub doc: String,
}

impl GameSessionRow {
    /// Extracts the key columns of `session` and serializes it.
    pub(crate) fn new(session: &GameSessionRecord) -> Result<Self, StoreError> {
        let g = &session.game_session;
        Ok(GameSessionRow {
            id: session.id().to_owned(),
            fleet_id: g.fleet_id.clone().unwrap_or_default(),
            location: g.location.clone(),
            status: g.status.map(|s| s.as_str()),
            creator_id: g.creator_id.clone(),
            creation_time: g.creation_time.map(|t| t.as_millis()),
            termination_time: g.termination_time.map(|t| t.as_millis()),
            idempotency_token: session.idempotency_token.clone(),
            doc: to_doc(session)?,
        })
    }
}

/// The columns a player session row keeps next to its document.
pub(crate) struct PlayerSessionRow {
    pub id: String,
    pub game_session_id: String,
    pub player_id: Option<String>,
    pub status: Option<&'static str>,
    pub creation_time: Option<i64>,
    pub doc: String,
}

impl PlayerSessionRow {
    /// Extracts the key columns of `player` and serializes it.
    pub(crate) fn new(player: &PlayerSessionRecord) -> Result<Self, StoreError> {
        Ok(PlayerSessionRow {
            id: player.player_session_id.clone().unwrap_or_default(),
            game_session_id: player.game_session_id.clone().unwrap_or_default(),
            player_id: player.player_id.clone(),
            status: player.status.map(|s| s.as_str()),
            creation_time: player.creation_time.map(|t| t.as_millis()),
            doc: to_doc(player)?,
        })
    }

    /// The rows of `players`.
    pub(crate) fn all(players: &[PlayerSessionRecord]) -> Result<Vec<Self>, StoreError> {
        players.iter().map(Self::new).collect()
    }
}

/// A value bound to a [`Listing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    /// A `TEXT` value.
    Text(String),
    /// An integer (`INTEGER` / `BIGINT`) value.
    Int(i64),
}

/// A `SELECT seq, doc` listing with a condition only for each filter that is set,
/// so that every combination gets a plan using its index (a generic
/// `(? IS NULL OR column = ?)` defeats the index on both backends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listing {
    /// The SQL, in one dialect.
    pub sql: String,
    /// The values of the placeholders, in order.
    pub params: Vec<Param>,
}

impl Listing {
    /// Game sessions matching `filter` after cursor `after`, in `dialect`.
    pub(crate) fn game_sessions(filter: &GameSessionFilter, after: i64, limit: usize, dialect: Dialect) -> Self {
        let text = |column, value: &Option<String>| value.clone().map(|v| (column, Param::Text(v)));
        let conditions = [
            text("fleet_id = {}", &filter.fleet_id),
            text("location = {}", &filter.location),
            text("status = {}", &filter.status),
            filter.created_before.map(|t| ("creation_time < {}", Param::Int(t.as_millis()))),
        ];
        Self::build("game_sessions", conditions.into_iter().flatten(), after, limit, dialect)
    }

    /// Player sessions matching `filter` after cursor `after`, in `dialect`.
    pub(crate) fn player_sessions(filter: &PlayerSessionFilter, after: i64, limit: usize, dialect: Dialect) -> Self {
        let text = |column, value: &Option<String>| value.clone().map(|v| (column, Param::Text(v)));
        let conditions = [
            text("game_session_id = {}", &filter.game_session_id),
            text("player_id = {}", &filter.player_id),
            text("status = {}", &filter.status),
            filter.created_before.map(|t| ("creation_time < {}", Param::Int(t.as_millis()))),
            text(
                "game_session_id IN (SELECT game_session_id FROM game_sessions WHERE fleet_id = {})",
                &filter.fleet_id,
            ),
        ];
        Self::build("player_sessions", conditions.into_iter().flatten(), after, limit, dialect)
    }

    /// `SELECT seq, doc FROM table WHERE seq > after AND <conditions> ORDER BY seq LIMIT n`;
    /// each condition's `{}` becomes its value's placeholder. The conditions are SQL both
    /// dialects read alike; only the placeholders differ.
    fn build(
        table: &str,
        conditions: impl Iterator<Item = (&'static str, Param)>,
        after: i64,
        limit: usize,
        dialect: Dialect,
    ) -> Self {
        let marker = dialect.placeholder();
        let mut sql = format!("SELECT seq, doc FROM {table} WHERE seq > {marker}1");
        let mut params = vec![Param::Int(after)];
        for (condition, value) in conditions {
            params.push(value);
            sql.push_str(" AND ");
            sql.push_str(&condition.replacen("{}", &format!("{marker}{}", params.len()), 1));
        }
        params.push(Param::Int(fetch_limit(limit)));
        sql.push_str(&format!(" ORDER BY seq LIMIT {marker}{}", params.len()));
        Listing { sql, params }
    }
}

/// Every listing the filters can make (each combination of set filters), in `dialect`.
#[cfg(test)]
pub(crate) fn every_listing(dialect: Dialect) -> Vec<Listing> {
    let text = |set: bool| set.then(|| "x".to_owned());
    let time = |set: bool| set.then(|| openlift_model::Timestamp::from_millis(1));
    let mut listings = Vec::new();
    for set in 0..32_u32 {
        let on = |bit: u32| set & (1 << bit) != 0;
        if set < 16 {
            let filter = GameSessionFilter {
                fleet_id: text(on(0)),
                location: text(on(1)),
                status: text(on(2)),
                created_before: time(on(3)),
            };
            listings.push(Listing::game_sessions(&filter, 0, 10, dialect));
        }
        let filter = PlayerSessionFilter {
            game_session_id: text(on(0)),
            player_id: text(on(1)),
            status: text(on(2)),
            created_before: time(on(3)),
            fleet_id: text(on(4)),
        };
        listings.push(Listing::player_sessions(&filter, 0, 10, dialect));
    }
    listings
}

/// Random bytes for a new secret, from the operating system.
pub(crate) fn random_secret(len: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}
