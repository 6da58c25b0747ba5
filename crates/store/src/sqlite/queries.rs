//! The SQLite backend's operations, one synchronous function each, running the
//! statements of `sql` in SQLite's dialect.
//! Writes run inside the writer's transaction (see `writer`), so they neither
//! begin nor commit; returning `Err` undoes everything the function did.

use openlift_core::records::ProcessLogs;
use openlift_model::{Tag, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use crate::common::{AliasRow, EventRow, FleetRow, backend, fetch_limit};
use crate::sql;
use crate::{ProcessHost, StoreError, Versioned};

/// `(cursor, document)` rows of a listing.
pub(super) type Rows = Vec<(i64, String)>;

/// Runs a listing query whose last parameter is the row limit.
fn rows(conn: &Connection, statement: &str, params: &[&dyn rusqlite::ToSql], limit: usize) -> Result<Rows, StoreError> {
    let limit = fetch_limit(limit);
    let mut all: Vec<&dyn rusqlite::ToSql> = params.to_vec();
    all.push(&limit);
    let mut stmt = conn.prepare_cached(statement).map_err(backend)?;
    let rows = stmt.query_map(all.as_slice(), |row| Ok((row.get(0)?, row.get(1)?))).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// The document of the single row `statement` selects, if any.
pub(super) fn doc(
    conn: &Connection,
    statement: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Option<String>, StoreError> {
    conn.prepare_cached(statement).map_err(backend)?.query_row(params, |row| row.get(0)).optional().map_err(backend)
}

/// The document and version of the single row `statement` selects, if any.
pub(super) fn versioned(
    conn: &Connection,
    statement: &str,
    key: &str,
) -> Result<Option<Versioned<String>>, StoreError> {
    let mut stmt = conn.prepare_cached(statement).map_err(backend)?;
    stmt.query_row([key], |row| Ok(Versioned { value: row.get(0)?, version: row.get(1)? })).optional().map_err(backend)
}

/// The secret named `name`, if it was created.
pub(super) fn stored_secret(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    conn.query_row(sql::SECRET_GET.sqlite, [name], |row| row.get(0)).optional().map_err(backend)
}

/// Stores a secret unless one with that name exists, then returns the stored one.
pub(super) fn secret(conn: &Connection, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
    conn.execute(sql::SECRET_INSERT.sqlite, params![name, fresh]).map_err(backend)?;
    conn.query_row(sql::SECRET_GET.sqlite, [name], |row| row.get(0)).map_err(backend)
}

/// Adds or overwrites tags of `arn`.
fn put_tags(conn: &Connection, arn: &str, tags: &[Tag]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(sql::TAG_PUT.sqlite).map_err(backend)?;
    for tag in tags {
        stmt.execute(params![arn, tag.key, tag.value]).map_err(backend)?;
    }
    Ok(())
}

/// Creates a location row and its tags.
pub(super) fn create_location(
    conn: &Connection,
    name: &str,
    arn: &str,
    doc: &str,
    tags: &[Tag],
) -> Result<(), StoreError> {
    let inserted = conn.execute(sql::LOCATION_INSERT.sqlite, params![name, arn, doc]).map_err(backend)?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists);
    }
    put_tags(conn, arn, tags)
}

/// Lists locations after cursor `after`.
pub(super) fn list_locations(conn: &Connection, after: i64, limit: usize) -> Result<Rows, StoreError> {
    rows(conn, sql::LOCATIONS_LIST.sqlite, &[&after], limit)
}

/// Deletes the row `statement` (a `DELETE ... RETURNING arn`) selects by `key`, and the tags of that ARN.
pub(super) fn delete_tagged(conn: &Connection, statement: &str, key: &str) -> Result<(), StoreError> {
    let arn: Option<String> = conn.query_row(statement, [key], |row| row.get(0)).optional().map_err(backend)?;
    let arn = arn.ok_or(StoreError::NotFound)?;
    conn.execute(sql::TAGS_DELETE.sqlite, [&arn]).map_err(backend)?;
    Ok(())
}

/// Replaces the location index rows of a fleet and appends its events.
fn fleet_children(conn: &Connection, row: &FleetRow, events: &[EventRow]) -> Result<(), StoreError> {
    conn.execute(sql::FLEET_LOCATIONS_DELETE.sqlite, [&row.id]).map_err(backend)?;
    let mut stmt = conn.prepare_cached(sql::FLEET_LOCATION_INSERT.sqlite).map_err(backend)?;
    for location in &row.locations {
        stmt.execute(params![row.id, location]).map_err(backend)?;
    }
    append_events(conn, events)
}

/// Appends events to the outbox, each numbered after the largest sequence (the writer is
/// the only one, so sequences follow commit order).
pub(super) fn append_events(conn: &Connection, events: &[EventRow]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(sql::EVENT_APPEND.sqlite).map_err(backend)?;
    for event in events {
        stmt.execute(params![event.source, event.resource_id, event.time, event.doc]).map_err(backend)?;
    }
    Ok(())
}

/// Up to `limit` outbox rows `(sequence, source, document)` after sequence `after`, in order.
pub(super) fn events_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(sql::EVENTS_AFTER.sqlite).map_err(backend)?;
    let rows =
        stmt.query_map(params![after, limit], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// Creates a fleet row with its locations, events and tags.
pub(super) fn create_fleet(
    conn: &Connection,
    row: &FleetRow,
    events: &[EventRow],
    tags: &[Tag],
) -> Result<(), StoreError> {
    let inserted =
        conn.execute(sql::FLEET_INSERT.sqlite, params![row.id, row.arn, row.terminated, row.doc]).map_err(backend)?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists);
    }
    fleet_children(conn, row, events)?;
    put_tags(conn, &row.arn, tags)
}

/// Lists fleets after cursor `after`.
pub(super) fn list_fleets(
    conn: &Connection,
    include_terminated: bool,
    after: i64,
    limit: usize,
) -> Result<Rows, StoreError> {
    rows(conn, sql::FLEETS_LIST.sqlite, &[&after, &include_terminated], limit)
}

/// IDs of live fleets in `location`.
pub(super) fn fleets_in_location(conn: &Connection, location: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(sql::FLEETS_IN_LOCATION.sqlite).map_err(backend)?;
    let ids = stmt.query_map([location], |row| row.get(0)).map_err(backend)?;
    ids.collect::<Result<_, _>>().map_err(backend)
}

/// Compare-and-swap of a fleet row, appending events.
pub(super) fn update_fleet(
    conn: &Connection,
    row: &FleetRow,
    expected: i64,
    events: &[EventRow],
) -> Result<i64, StoreError> {
    let version: Option<i64> = conn
        .query_row(sql::FLEET_UPDATE.sqlite, params![row.arn, row.terminated, row.doc, row.id, expected], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    let Some(version) = version else {
        return Err(missing_or_conflict(conn, sql::FLEET_EXISTS.sqlite, &row.id));
    };
    fleet_children(conn, row, events)?;
    Ok(version)
}

/// Why a compare-and-swap matched no row: the row is gone or its version moved.
pub(super) fn missing_or_conflict(conn: &Connection, statement: &str, key: &str) -> StoreError {
    match conn.query_row(statement, [key], |_| Ok(())).optional() {
        Ok(Some(())) => StoreError::VersionConflict,
        Ok(None) => StoreError::NotFound,
        Err(err) => backend(err),
    }
}

/// Lists a fleet's events, newest first, before cursor `before`.
pub(super) fn list_fleet_events(
    conn: &Connection,
    fleet_id: &str,
    start: Option<i64>,
    end: Option<i64>,
    before: i64,
    limit: usize,
) -> Result<Rows, StoreError> {
    rows(conn, sql::FLEET_EVENTS_LIST.sqlite, &[&fleet_id, &before, &start, &end], limit)
}

/// Registers a compute row.
pub(super) fn create_compute(
    conn: &Connection,
    fleet_id: &str,
    name: &str,
    location: Option<&str>,
    doc: &str,
) -> Result<(), StoreError> {
    let inserted = conn.execute(sql::COMPUTE_INSERT.sqlite, params![fleet_id, name, location, doc]).map_err(backend)?;
    if inserted == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) }
}

/// Replaces a compute row's document; returns how many rows changed.
pub(super) fn update_compute(conn: &Connection, fleet_id: &str, name: &str, doc: &str) -> Result<usize, StoreError> {
    conn.execute(sql::COMPUTE_UPDATE.sqlite, params![fleet_id, name, doc]).map_err(backend)
}

/// Lists a fleet's computes after cursor `after`.
pub(super) fn list_computes(
    conn: &Connection,
    fleet_id: &str,
    location: Option<&str>,
    after: i64,
    limit: usize,
) -> Result<Rows, StoreError> {
    rows(conn, sql::COMPUTES_LIST.sqlite, &[&fleet_id, &location, &after], limit)
}

/// Deletes computes (one, or all of a fleet when `name` is `None`) and their tokens;
/// returns how many computes were deleted.
pub(super) fn delete_compute(conn: &Connection, fleet_id: &str, name: &str) -> Result<usize, StoreError> {
    let deleted = conn.execute(sql::COMPUTE_DELETE.sqlite, params![fleet_id, name]).map_err(backend)?;
    conn.execute(sql::AUTH_TOKENS_OF_COMPUTE_DELETE.sqlite, params![fleet_id, name]).map_err(backend)?;
    Ok(deleted)
}

/// Purges tokens expired before `now`, then stores a token.
pub(super) fn put_auth_token(
    conn: &Connection,
    token: &openlift_core::records::AuthToken,
    doc: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(sql::AUTH_TOKENS_EXPIRED_DELETE.sqlite, [now]).map_err(backend)?;
    conn.execute(
        sql::AUTH_TOKEN_PUT.sqlite,
        params![token.digest, token.fleet_id, token.compute_name, token.expires_at.as_millis(), doc],
    )
    .map_err(backend)?;
    Ok(())
}

/// Creates an alias row and its tags.
pub(super) fn create_alias(conn: &Connection, row: &AliasRow, tags: &[Tag]) -> Result<(), StoreError> {
    let inserted = conn
        .execute(sql::ALIAS_INSERT.sqlite, params![row.id, row.arn, row.name, row.routing_type, row.doc])
        .map_err(backend)?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists);
    }
    put_tags(conn, &row.arn, tags)
}

/// Lists aliases after cursor `after`, filtered.
pub(super) fn list_aliases(
    conn: &Connection,
    routing_type: Option<&str>,
    name: Option<&str>,
    after: i64,
    limit: usize,
) -> Result<Rows, StoreError> {
    rows(conn, sql::ALIASES_LIST.sqlite, &[&after, &routing_type, &name], limit)
}

/// Compare-and-swap of an alias row.
pub(super) fn update_alias(conn: &Connection, row: &AliasRow, expected: i64) -> Result<i64, StoreError> {
    let version: Option<i64> = conn
        .query_row(
            sql::ALIAS_UPDATE.sqlite,
            params![row.arn, row.name, row.routing_type, row.doc, row.id, expected],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    let Some(version) = version else {
        return Err(missing_or_conflict(conn, sql::ALIAS_EXISTS.sqlite, &row.id));
    };
    Ok(version)
}

/// The tags of `arn`, sorted by key.
pub(super) fn list_tags(conn: &Connection, arn: &str) -> Result<Vec<Tag>, StoreError> {
    let mut stmt = conn.prepare_cached(sql::TAGS_LIST.sqlite).map_err(backend)?;
    let tags = stmt.query_map([arn], |row| Ok(Tag { key: row.get(0)?, value: row.get(1)? })).map_err(backend)?;
    tags.collect::<Result<_, _>>().map_err(backend)
}

/// Adds or overwrites tags of `arn`.
pub(super) fn tag_resource(conn: &Connection, arn: &str, tags: &[Tag]) -> Result<(), StoreError> {
    put_tags(conn, arn, tags)
}

/// Removes tags of `arn` by key (every tag when `keys` is `None`).
pub(super) fn untag_resource(conn: &Connection, arn: &str, keys: Option<&[String]>) -> Result<(), StoreError> {
    match keys {
        None => {
            conn.execute(sql::TAGS_DELETE.sqlite, [arn]).map_err(backend)?;
        }
        Some(keys) => {
            let mut stmt = conn.prepare_cached(sql::TAG_DELETE.sqlite).map_err(backend)?;
            for key in keys {
                stmt.execute(params![arn, key]).map_err(backend)?;
            }
        }
    }
    Ok(())
}

/// Stores a process's log archive, replacing any earlier one.
pub(super) fn put_process_logs(conn: &Connection, logs: &ProcessLogs) -> Result<(), StoreError> {
    conn.execute(
        sql::PROCESS_LOGS_INSERT.sqlite,
        params![logs.process_id, logs.fleet_id, logs.stored_at.as_millis(), logs.archive],
    )
    .map_err(backend)
    .and_then(|inserted| if inserted == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) })
}

/// Which fleet and compute ran a process.
pub(super) fn process_host(conn: &Connection, process_id: &str) -> Result<Option<ProcessHost>, StoreError> {
    conn.query_row(sql::PROCESS_HOST_GET.sqlite, [process_id], |r| {
        Ok(ProcessHost { fleet_id: r.get(0)?, compute_name: r.get(1)? })
    })
    .optional()
    .map_err(backend)
}

/// A process's log archive.
pub(super) fn process_logs(conn: &Connection, process_id: &str) -> Result<Option<ProcessLogs>, StoreError> {
    conn.query_row(sql::PROCESS_LOGS_GET.sqlite, [process_id], |r| {
        Ok(ProcessLogs {
            process_id: process_id.to_owned(),
            fleet_id: r.get(0)?,
            stored_at: Timestamp::from_millis(r.get(1)?),
            archive: r.get(2)?,
        })
    })
    .optional()
    .map_err(backend)
}
