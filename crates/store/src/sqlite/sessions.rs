//! Game sessions and player sessions on SQLite, with the statements of `sql`. Writes run inside the
//! writer's transaction (see `writer`); returning `Err` undoes all they did.

use rusqlite::{Connection, OptionalExtension, params};

use super::queries::{Rows, append_events, missing_or_conflict};
use crate::StoreError;
use crate::common::{EventRow, GameSessionRow, Listing, Param, PlayerSessionRow, backend};
use crate::sql;

/// The statement telling a missing game session from a moved one.
const GAME_SESSION_EXISTS: &str = sql::GAME_SESSION_EXISTS.sqlite;

/// Creates a game session row, unless its ID or its idempotency token is taken.
pub(super) fn create_game_session(conn: &Connection, row: &GameSessionRow) -> Result<(), StoreError> {
    let inserted = conn
        .prepare_cached(sql::GAME_SESSION_INSERT.sqlite)
        .map_err(backend)?
        .execute(params![
            row.id,
            row.fleet_id,
            row.location,
            row.status,
            row.creator_id,
            row.creation_time,
            row.termination_time,
            row.idempotency_token,
            row.doc
        ])
        .map_err(backend)?;
    if inserted == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) }
}

/// Compare-and-swap of a game session row; returns the new version. Only the columns a
/// session can change are written (see [`GameSessionRow`]), so the indexes on the others
/// are left alone.
pub(super) fn update_game_session(conn: &Connection, row: &GameSessionRow, expected: i64) -> Result<i64, StoreError> {
    let version: Option<i64> = conn
        .prepare_cached(sql::GAME_SESSION_UPDATE.sqlite)
        .map_err(backend)?
        .query_row(params![row.status, row.termination_time, row.doc, row.id, expected], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    version.ok_or_else(|| missing_or_conflict(conn, GAME_SESSION_EXISTS, &row.id))
}

/// Runs a [`Listing`].
pub(super) fn list(conn: &Connection, listing: &Listing) -> Result<Rows, StoreError> {
    let params = listing.params.iter().map(|p| match p {
        Param::Text(text) => rusqlite::types::Value::Text(text.clone()),
        Param::Int(int) => rusqlite::types::Value::Integer(*int),
    });
    let mut stmt = conn.prepare_cached(&listing.sql).map_err(backend)?;
    let rows =
        stmt.query_map(rusqlite::params_from_iter(params), |row| Ok((row.get(0)?, row.get(1)?))).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// How many sessions `creator_id` created in `fleet_id` at or after `since` (milliseconds).
pub(super) fn count_by_creator(
    conn: &Connection,
    fleet_id: &str,
    creator_id: &str,
    since: i64,
) -> Result<usize, StoreError> {
    let count: i64 = conn
        .prepare_cached(sql::GAME_SESSIONS_BY_CREATOR.sqlite)
        .map_err(backend)?
        .query_row(params![fleet_id, creator_id, since], |r| r.get(0))
        .map_err(backend)?;
    usize::try_from(count).map_err(backend)
}

/// Compare-and-swap of a game session, then inserts player session rows.
pub(super) fn add_player_sessions(
    conn: &Connection,
    session: &GameSessionRow,
    expected: i64,
    players: &[PlayerSessionRow],
) -> Result<i64, StoreError> {
    let version = update_game_session(conn, session, expected)?;
    let mut insert = conn.prepare_cached(sql::PLAYER_SESSION_INSERT.sqlite).map_err(backend)?;
    for p in players {
        let inserted = insert
            .execute(params![p.id, p.game_session_id, p.player_id, p.status, p.creation_time, p.doc])
            .map_err(backend)?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists);
        }
    }
    Ok(version)
}

/// A compare-and-swap of a game session if given, then replaces player session rows and
/// appends events.
pub(super) fn change(
    conn: &Connection,
    session: Option<(&GameSessionRow, i64)>,
    players: &[PlayerSessionRow],
    events: &[EventRow],
) -> Result<(), StoreError> {
    if let Some((session, expected)) = session {
        update_game_session(conn, session, expected)?;
    }
    let mut update = conn.prepare_cached(sql::PLAYER_SESSION_UPDATE.sqlite).map_err(backend)?;
    for player in players {
        let updated = update
            .execute(params![
                player.game_session_id,
                player.player_id,
                player.status,
                player.creation_time,
                player.doc,
                player.id
            ])
            .map_err(backend)?;
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
    }
    append_events(conn, events)
}

/// Deletes game sessions that ended before `ended_before` (milliseconds) and their
/// player sessions; returns how many game sessions were deleted.
pub(super) fn purge(conn: &Connection, ended_before: i64) -> Result<usize, StoreError> {
    conn.execute(sql::sqlite::PLAYER_SESSIONS_PURGE, [ended_before]).map_err(backend)?;
    conn.execute(sql::sqlite::GAME_SESSIONS_PURGE, [ended_before]).map_err(backend)
}
