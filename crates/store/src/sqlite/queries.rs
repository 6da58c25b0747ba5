//! The SQL of the SQLite backend: one synchronous function per store operation.
//! Writes run inside the writer's transaction (see `writer`), so they neither
//! begin nor commit; returning `Err` undoes everything the function did.

use openlift_core::records::ProcessLogs;
use openlift_model::{Tag, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use crate::common::{AliasRow, EventRow, FleetRow, backend, fetch_limit};
use crate::{ProcessHost, StoreError, Versioned};

/// `(cursor, document)` rows of a listing.
pub(super) type Rows = Vec<(i64, String)>;

/// Runs a listing query whose last parameter is the row limit.
fn rows(conn: &Connection, sql: &str, params: &[&dyn rusqlite::ToSql], limit: usize) -> Result<Rows, StoreError> {
    let limit = fetch_limit(limit);
    let mut all: Vec<&dyn rusqlite::ToSql> = params.to_vec();
    all.push(&limit);
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(all.as_slice(), |row| Ok((row.get(0)?, row.get(1)?))).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// The document of the single row `sql` selects, if any.
pub(super) fn doc(conn: &Connection, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Option<String>, StoreError> {
    conn.prepare_cached(sql).map_err(backend)?.query_row(params, |row| row.get(0)).optional().map_err(backend)
}

/// The document and version of the single row `sql` selects, if any.
pub(super) fn versioned(conn: &Connection, sql: &str, key: &str) -> Result<Option<Versioned<String>>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    stmt.query_row([key], |row| Ok(Versioned { value: row.get(0)?, version: row.get(1)? })).optional().map_err(backend)
}

/// The secret named `name`, if it was created.
pub(super) fn stored_secret(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    conn.query_row("SELECT value FROM secrets WHERE name = ?1", [name], |row| row.get(0)).optional().map_err(backend)
}

/// Stores a secret unless one with that name exists, then returns the stored one.
pub(super) fn secret(conn: &Connection, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
    conn.execute(
        "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name, fresh],
    )
    .map_err(backend)?;
    conn.query_row("SELECT value FROM secrets WHERE name = ?1", [name], |row| row.get(0)).map_err(backend)
}

/// Adds or overwrites tags of `arn`.
fn put_tags(conn: &Connection, arn: &str, tags: &[Tag]) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO tags (arn, key, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
        )
        .map_err(backend)?;
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
    let inserted = conn
        .execute(
            "INSERT INTO locations (name, arn, doc) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
            params![name, arn, doc],
        )
        .map_err(backend)?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists);
    }
    put_tags(conn, arn, tags)
}

/// Lists locations after cursor `after`.
pub(super) fn list_locations(conn: &Connection, after: i64, limit: usize) -> Result<Rows, StoreError> {
    rows(conn, "SELECT seq, doc FROM locations WHERE seq > ?1 ORDER BY seq LIMIT ?2", &[&after], limit)
}

/// Deletes the row of table `sql` names by `DELETE ... RETURNING arn`, and the tags of that ARN.
pub(super) fn delete_tagged(conn: &Connection, sql: &str, key: &str) -> Result<(), StoreError> {
    let arn: Option<String> = conn.query_row(sql, [key], |row| row.get(0)).optional().map_err(backend)?;
    let arn = arn.ok_or(StoreError::NotFound)?;
    conn.execute("DELETE FROM tags WHERE arn = ?1", [&arn]).map_err(backend)?;
    Ok(())
}

/// Replaces the location index rows of a fleet and appends its events.
fn fleet_children(conn: &Connection, row: &FleetRow, events: &[EventRow]) -> Result<(), StoreError> {
    conn.execute("DELETE FROM fleet_locations WHERE fleet_id = ?1", [&row.id]).map_err(backend)?;
    let mut stmt =
        conn.prepare_cached("INSERT INTO fleet_locations (fleet_id, location) VALUES (?1, ?2)").map_err(backend)?;
    for location in &row.locations {
        stmt.execute(params![row.id, location]).map_err(backend)?;
    }
    append_events(conn, events)
}

/// Appends events to the outbox, each numbered after the largest sequence (the writer is
/// the only one, so sequences follow commit order).
pub(super) fn append_events(conn: &Connection, events: &[EventRow]) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO events (seq, source, resource_id, event_time, doc) \
             SELECT COALESCE(MAX(seq), 0) + 1, ?1, ?2, ?3, ?4 FROM events",
        )
        .map_err(backend)?;
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
    let mut stmt = conn
        .prepare_cached("SELECT seq, source, doc FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        .map_err(backend)?;
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
    let inserted = conn
        .execute(
            "INSERT INTO fleets (fleet_id, arn, terminated, version, doc) VALUES (?1, ?2, ?3, 1, ?4) \
             ON CONFLICT (fleet_id) DO NOTHING",
            params![row.id, row.arn, row.terminated, row.doc],
        )
        .map_err(backend)?;
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
    rows(
        conn,
        "SELECT seq, doc FROM fleets WHERE seq > ?1 AND (?2 OR terminated = 0) ORDER BY seq LIMIT ?3",
        &[&after, &include_terminated],
        limit,
    )
}

/// IDs of live fleets in `location`.
pub(super) fn fleets_in_location(conn: &Connection, location: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT f.fleet_id FROM fleets f JOIN fleet_locations l ON l.fleet_id = f.fleet_id \
             WHERE l.location = ?1 AND f.terminated = 0 ORDER BY f.seq",
        )
        .map_err(backend)?;
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
        .query_row(
            "UPDATE fleets SET arn = ?1, terminated = ?2, doc = ?3, version = version + 1 \
             WHERE fleet_id = ?4 AND version = ?5 RETURNING version",
            params![row.arn, row.terminated, row.doc, row.id, expected],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    let Some(version) = version else {
        return Err(missing_or_conflict(conn, "SELECT 1 FROM fleets WHERE fleet_id = ?1", &row.id));
    };
    fleet_children(conn, row, events)?;
    Ok(version)
}

/// Why a compare-and-swap matched no row: the row is gone or its version moved.
pub(super) fn missing_or_conflict(conn: &Connection, sql: &str, key: &str) -> StoreError {
    match conn.query_row(sql, [key], |_| Ok(())).optional() {
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
    rows(
        conn,
        "SELECT seq, doc FROM events WHERE source = 'fleet' AND resource_id = ?1 AND seq < ?2 \
         AND (?3 IS NULL OR event_time >= ?3) AND (?4 IS NULL OR event_time <= ?4) \
         ORDER BY seq DESC LIMIT ?5",
        &[&fleet_id, &before, &start, &end],
        limit,
    )
}

/// Registers a compute row.
pub(super) fn create_compute(
    conn: &Connection,
    fleet_id: &str,
    name: &str,
    location: Option<&str>,
    doc: &str,
) -> Result<(), StoreError> {
    let inserted = conn
        .execute(
            "INSERT INTO computes (fleet_id, compute_name, location, doc) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (fleet_id, compute_name) DO NOTHING",
            params![fleet_id, name, location, doc],
        )
        .map_err(backend)?;
    if inserted == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) }
}

/// Replaces a compute row's document; returns how many rows changed.
pub(super) fn update_compute(conn: &Connection, fleet_id: &str, name: &str, doc: &str) -> Result<usize, StoreError> {
    conn.execute("UPDATE computes SET doc = ?3 WHERE fleet_id = ?1 AND compute_name = ?2", params![fleet_id, name, doc])
        .map_err(backend)
}

/// Lists a fleet's computes after cursor `after`.
pub(super) fn list_computes(
    conn: &Connection,
    fleet_id: &str,
    location: Option<&str>,
    after: i64,
    limit: usize,
) -> Result<Rows, StoreError> {
    rows(
        conn,
        "SELECT seq, doc FROM computes WHERE fleet_id = ?1 AND (?2 IS NULL OR location = ?2) AND seq > ?3 \
         ORDER BY seq LIMIT ?4",
        &[&fleet_id, &location, &after],
        limit,
    )
}

/// Deletes computes (one, or all of a fleet when `name` is `None`) and their tokens;
/// returns how many computes were deleted.
pub(super) fn delete_compute(conn: &Connection, fleet_id: &str, name: &str) -> Result<usize, StoreError> {
    let deleted = conn
        .execute("DELETE FROM computes WHERE fleet_id = ?1 AND compute_name = ?2", params![fleet_id, name])
        .map_err(backend)?;
    conn.execute("DELETE FROM auth_tokens WHERE fleet_id = ?1 AND compute_name = ?2", params![fleet_id, name])
        .map_err(backend)?;
    Ok(deleted)
}

/// Purges tokens expired before `now`, then stores a token.
pub(super) fn put_auth_token(
    conn: &Connection,
    token: &openlift_core::records::AuthToken,
    doc: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute("DELETE FROM auth_tokens WHERE expires_at < ?1", [now]).map_err(backend)?;
    conn.execute(
        "INSERT INTO auth_tokens (digest, fleet_id, compute_name, expires_at, doc) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (digest) DO UPDATE SET fleet_id = excluded.fleet_id, compute_name = excluded.compute_name, \
         expires_at = excluded.expires_at, doc = excluded.doc",
        params![token.digest, token.fleet_id, token.compute_name, token.expires_at.as_millis(), doc],
    )
    .map_err(backend)?;
    Ok(())
}

/// Creates an alias row and its tags.
pub(super) fn create_alias(conn: &Connection, row: &AliasRow, tags: &[Tag]) -> Result<(), StoreError> {
    let inserted = conn
        .execute(
            "INSERT INTO aliases (alias_id, arn, name, routing_type, version, doc) VALUES (?1, ?2, ?3, ?4, 1, ?5) \
             ON CONFLICT (alias_id) DO NOTHING",
            params![row.id, row.arn, row.name, row.routing_type, row.doc],
        )
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
    rows(
        conn,
        "SELECT seq, doc FROM aliases WHERE seq > ?1 AND (?2 IS NULL OR routing_type = ?2) \
         AND (?3 IS NULL OR name = ?3) ORDER BY seq LIMIT ?4",
        &[&after, &routing_type, &name],
        limit,
    )
}

/// Compare-and-swap of an alias row.
pub(super) fn update_alias(conn: &Connection, row: &AliasRow, expected: i64) -> Result<i64, StoreError> {
    let version: Option<i64> = conn
        .query_row(
            "UPDATE aliases SET arn = ?1, name = ?2, routing_type = ?3, doc = ?4, version = version + 1 \
             WHERE alias_id = ?5 AND version = ?6 RETURNING version",
            params![row.arn, row.name, row.routing_type, row.doc, row.id, expected],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    let Some(version) = version else {
        return Err(missing_or_conflict(conn, "SELECT 1 FROM aliases WHERE alias_id = ?1", &row.id));
    };
    Ok(version)
}

/// The tags of `arn`, sorted by key.
pub(super) fn list_tags(conn: &Connection, arn: &str) -> Result<Vec<Tag>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM tags WHERE arn = ?1 ORDER BY key").map_err(backend)?;
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
            conn.execute("DELETE FROM tags WHERE arn = ?1", [arn]).map_err(backend)?;
        }
        Some(keys) => {
            let mut stmt = conn.prepare_cached("DELETE FROM tags WHERE arn = ?1 AND key = ?2").map_err(backend)?;
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
        "INSERT INTO process_logs (process_id, fleet_id, stored_at, archive) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (process_id) DO NOTHING",
        params![logs.process_id, logs.fleet_id, logs.stored_at.as_millis(), logs.archive],
    )
    .map_err(backend)
    .and_then(|inserted| if inserted == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) })
}

/// Which fleet and compute ran a process.
pub(super) fn process_host(conn: &Connection, process_id: &str) -> Result<Option<ProcessHost>, StoreError> {
    conn.query_row("SELECT fleet_id, compute_name FROM process_hosts WHERE process_id = ?1", [process_id], |r| {
        Ok(ProcessHost { fleet_id: r.get(0)?, compute_name: r.get(1)? })
    })
    .optional()
    .map_err(backend)
}

/// A process's log archive.
pub(super) fn process_logs(conn: &Connection, process_id: &str) -> Result<Option<ProcessLogs>, StoreError> {
    conn.query_row("SELECT fleet_id, stored_at, archive FROM process_logs WHERE process_id = ?1", [process_id], |r| {
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
