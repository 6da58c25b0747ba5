//! Game sessions and player sessions on PostgreSQL. Each write is its own
//! transaction; compare-and-swap updates lock the row, so of two concurrent
//! updates from the same version the second sees the new version and conflicts.

use sqlx::{PgConnection, PgPool};

use super::backend;
use super::writes::{insert_new, missing_or_conflict};
use crate::StoreError;
use crate::common::{self, EventRow, GameSessionRow, Listing, Param, PlayerSessionRow};
use crate::sql;

/// Creates a game session row, unless its ID or its idempotency token is taken.
pub(super) async fn create_game_session(pool: &PgPool, row: &GameSessionRow) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(backend)?;
    let insert = sqlx::query(sql::GAME_SESSION_INSERT.postgres)
        .bind(&row.id)
        .bind(&row.fleet_id)
        .bind(&row.location)
        .bind(row.status)
        .bind(&row.creator_id)
        .bind(row.creation_time)
        .bind(row.termination_time)
        .bind(&row.idempotency_token)
        .bind(&row.doc);
    insert_new(&mut conn, insert).await
}

/// Compare-and-swap of a game session row on `conn`; returns the new version. Only the
/// columns a session can change are written (see [`GameSessionRow`]).
async fn cas_game_session(conn: &mut PgConnection, row: &GameSessionRow, expected: i64) -> Result<i64, StoreError> {
    let version: Option<i64> = sqlx::query_scalar(sql::GAME_SESSION_UPDATE.postgres)
        .bind(row.status)
        .bind(row.termination_time)
        .bind(&row.doc)
        .bind(&row.id)
        .bind(expected)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    match version {
        Some(version) => Ok(version),
        None => Err(missing_or_conflict(conn, sql::GAME_SESSION_EXISTS.postgres, &row.id).await),
    }
}

/// Compare-and-swap of a game session row; returns the new version.
pub(super) async fn update_game_session(pool: &PgPool, row: &GameSessionRow, expected: i64) -> Result<i64, StoreError> {
    let mut conn = pool.acquire().await.map_err(backend)?;
    cas_game_session(&mut conn, row, expected).await
}

/// Runs a [`Listing`].
pub(super) async fn list(pool: &PgPool, listing: Listing) -> Result<Vec<(i64, String)>, StoreError> {
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(listing.sql));
    for param in listing.params {
        query = match param {
            Param::Text(text) => query.bind(text),
            Param::Int(int) => query.bind(int),
        };
    }
    query.fetch_all(pool).await.map_err(backend)
}

/// How many sessions `creator_id` created in `fleet_id` at or after `since` (milliseconds).
pub(super) async fn count_by_creator(
    pool: &PgPool,
    fleet_id: &str,
    creator_id: &str,
    since: i64,
) -> Result<usize, StoreError> {
    let count: i64 = sqlx::query_scalar(sql::GAME_SESSIONS_BY_CREATOR.postgres)
        .bind(fleet_id)
        .bind(creator_id)
        .bind(since)
        .fetch_one(pool)
        .await
        .map_err(backend)?;
    usize::try_from(count).map_err(common::backend)
}

/// Compare-and-swap of a game session and the insertion of player sessions, in one transaction.
pub(super) async fn add_player_sessions(
    pool: &PgPool,
    session: &GameSessionRow,
    expected: i64,
    players: &[PlayerSessionRow],
) -> Result<i64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let version = cas_game_session(&mut tx, session, expected).await?;
    for p in players {
        let insert = sqlx::query(sql::PLAYER_SESSION_INSERT.postgres)
            .bind(&p.id)
            .bind(&p.game_session_id)
            .bind(&p.player_id)
            .bind(p.status)
            .bind(p.creation_time)
            .bind(&p.doc);
        insert_new(&mut tx, insert).await?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(version)
}

/// A compare-and-swap of a game session if given, the replacement of player session rows
/// and the appending of events, in one transaction.
pub(super) async fn change(
    pool: &PgPool,
    session: Option<(&GameSessionRow, i64)>,
    players: &[PlayerSessionRow],
    events: &[EventRow],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    if let Some((session, expected)) = session {
        cas_game_session(&mut tx, session, expected).await?;
    }
    for player in players {
        let updated = sqlx::query(sql::PLAYER_SESSION_UPDATE.postgres)
            .bind(&player.game_session_id)
            .bind(&player.player_id)
            .bind(player.status)
            .bind(player.creation_time)
            .bind(&player.doc)
            .bind(&player.id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
    }
    super::writes::append_events(&mut tx, events).await?;
    tx.commit().await.map_err(backend)
}

/// Deletes game sessions that ended before `ended_before` (milliseconds) and their
/// player sessions; returns how many game sessions were deleted.
pub(super) async fn purge(pool: &PgPool, ended_before: i64) -> Result<usize, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let ended: Vec<String> = sqlx::query_scalar(sql::postgres::GAME_SESSIONS_PURGE)
        .bind(ended_before)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
    sqlx::query(sql::postgres::PLAYER_SESSIONS_OF_DELETE).bind(&ended).execute(&mut *tx).await.map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(ended.len())
}
