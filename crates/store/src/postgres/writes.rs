//! The multi-statement writes of the PostgreSQL backend, each one transaction.

use openlift_model::Tag;
use sqlx::{PgConnection, PgPool, Postgres};

use super::backend;
use crate::StoreError;
use crate::common::{AliasRow, EventRow, FleetRow};

/// Adds or overwrites tags of `arn`.
pub(super) async fn put_tags(conn: &mut PgConnection, arn: &str, tags: &[Tag]) -> Result<(), StoreError> {
    for tag in tags {
        sqlx::query(
            "INSERT INTO tags (arn, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
        )
        .bind(arn)
        .bind(&tag.key)
        .bind(&tag.value)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    Ok(())
}

/// Runs an `INSERT ... ON CONFLICT DO NOTHING`: `AlreadyExists` if it inserted nothing.
pub(super) async fn insert_new(
    conn: &mut PgConnection,
    query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
) -> Result<(), StoreError> {
    match query.execute(conn).await.map_err(backend)?.rows_affected() {
        0 => Err(StoreError::AlreadyExists),
        _ => Ok(()),
    }
}

/// Creates a location row and its tags.
pub(super) async fn create_location(
    pool: &PgPool,
    name: &str,
    arn: &str,
    doc: &str,
    tags: &[Tag],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let insert =
        sqlx::query("INSERT INTO locations (name, arn, doc) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING");
    insert_new(&mut tx, insert.bind(name).bind(arn).bind(doc)).await?;
    put_tags(&mut tx, arn, tags).await?;
    tx.commit().await.map_err(backend)
}

/// Deletes the row `sql` (a `DELETE ... RETURNING arn`) selects by `key`, and the tags of that ARN.
pub(super) async fn delete_tagged(pool: &PgPool, sql: &'static str, key: &str) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let arn: Option<String> = sqlx::query_scalar(sql).bind(key).fetch_optional(&mut *tx).await.map_err(backend)?;
    let arn = arn.ok_or(StoreError::NotFound)?;
    sqlx::query("DELETE FROM tags WHERE arn = $1").bind(&arn).execute(&mut *tx).await.map_err(backend)?;
    tx.commit().await.map_err(backend)
}

/// Replaces the location index rows of a fleet and appends its events.
async fn fleet_children(conn: &mut PgConnection, row: &FleetRow, events: &[EventRow]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM fleet_locations WHERE fleet_id = $1")
        .bind(&row.id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    for location in &row.locations {
        sqlx::query("INSERT INTO fleet_locations (fleet_id, location) VALUES ($1, $2)")
            .bind(&row.id)
            .bind(location)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    append_events(conn, events).await
}

/// The advisory lock key serializing appends to the outbox ("outbox" in ASCII).
const OUTBOX_LOCK: i64 = 0x6f75_7462_6f78;

/// Appends events to the outbox in the caller's transaction, each numbered after the
/// largest sequence. The transaction holds the outbox lock from here to its end, so
/// appends commit one after another and sequences follow commit order (a reader that
/// has seen sequence N never later finds a smaller one). Taken last in the transaction,
/// the lock is held only for the appends and the commit.
pub(super) async fn append_events(conn: &mut PgConnection, events: &[EventRow]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(OUTBOX_LOCK).execute(&mut *conn).await.map_err(backend)?;
    for event in events {
        sqlx::query(
            "INSERT INTO events (seq, source, resource_id, event_time, doc) \
             SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4 FROM events",
        )
        .bind(event.source)
        .bind(&event.resource_id)
        .bind(event.time)
        .bind(&event.doc)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    Ok(())
}

/// Creates a fleet row with its locations, events and tags.
pub(super) async fn create_fleet(
    pool: &PgPool,
    row: &FleetRow,
    events: &[EventRow],
    tags: &[Tag],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let insert = sqlx::query(
        "INSERT INTO fleets (fleet_id, arn, terminated, version, doc) VALUES ($1, $2, $3, 1, $4) \
         ON CONFLICT (fleet_id) DO NOTHING",
    );
    insert_new(&mut tx, insert.bind(&row.id).bind(&row.arn).bind(row.terminated).bind(&row.doc)).await?;
    fleet_children(&mut tx, row, events).await?;
    put_tags(&mut tx, &row.arn, tags).await?;
    tx.commit().await.map_err(backend)
}

/// Why a compare-and-swap matched no row: the row is gone or its version moved.
pub(super) async fn missing_or_conflict(conn: &mut PgConnection, sql: &'static str, key: &str) -> StoreError {
    match sqlx::query_scalar::<_, i32>(sql).bind(key).fetch_optional(conn).await {
        Ok(Some(_)) => StoreError::VersionConflict,
        Ok(None) => StoreError::NotFound,
        Err(err) => backend(err),
    }
}

/// Compare-and-swap of a fleet row, appending events.
pub(super) async fn update_fleet(
    pool: &PgPool,
    row: &FleetRow,
    expected: i64,
    events: &[EventRow],
) -> Result<i64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let version: Option<i64> = sqlx::query_scalar(
        "UPDATE fleets SET arn = $1, terminated = $2, doc = $3, version = version + 1 \
         WHERE fleet_id = $4 AND version = $5 RETURNING version",
    )
    .bind(&row.arn)
    .bind(row.terminated)
    .bind(&row.doc)
    .bind(&row.id)
    .bind(expected)
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(version) = version else {
        return Err(missing_or_conflict(&mut tx, "SELECT 1 FROM fleets WHERE fleet_id = $1", &row.id).await);
    };
    fleet_children(&mut tx, row, events).await?;
    tx.commit().await.map_err(backend)?;
    Ok(version)
}

/// Registers a compute row.
pub(super) async fn create_compute(
    pool: &PgPool,
    fleet_id: &str,
    name: &str,
    location: Option<&str>,
    doc: &str,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(backend)?;
    let insert = sqlx::query(
        "INSERT INTO computes (fleet_id, compute_name, location, doc) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (fleet_id, compute_name) DO NOTHING",
    );
    insert_new(&mut conn, insert.bind(fleet_id).bind(name).bind(location).bind(doc)).await
}

/// Deletes computes (one, or all of a fleet when `name` is `None`) and their tokens;
/// returns how many computes were deleted.
pub(super) async fn delete_compute(pool: &PgPool, fleet_id: &str, name: &str) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let deleted = sqlx::query("DELETE FROM computes WHERE fleet_id = $1 AND compute_name = $2")
        .bind(fleet_id)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
    sqlx::query("DELETE FROM auth_tokens WHERE fleet_id = $1 AND compute_name = $2")
        .bind(fleet_id)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(deleted)
}

/// Purges tokens expired before `now`, then stores a token.
pub(super) async fn put_auth_token(
    pool: &PgPool,
    token: &openlift_core::records::AuthToken,
    doc: &str,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    sqlx::query("DELETE FROM auth_tokens WHERE expires_at < $1").bind(now).execute(&mut *tx).await.map_err(backend)?;
    sqlx::query(
        "INSERT INTO auth_tokens (digest, fleet_id, compute_name, expires_at, doc) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (digest) DO UPDATE SET fleet_id = excluded.fleet_id, compute_name = excluded.compute_name, \
         expires_at = excluded.expires_at, doc = excluded.doc",
    )
    .bind(&token.digest)
    .bind(&token.fleet_id)
    .bind(&token.compute_name)
    .bind(token.expires_at.as_millis())
    .bind(doc)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)
}

/// Creates an alias row and its tags.
pub(super) async fn create_alias(pool: &PgPool, row: &AliasRow, tags: &[Tag]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let insert = sqlx::query(
        "INSERT INTO aliases (alias_id, arn, name, routing_type, version, doc) VALUES ($1, $2, $3, $4, 1, $5) \
         ON CONFLICT (alias_id) DO NOTHING",
    );
    insert_new(&mut tx, insert.bind(&row.id).bind(&row.arn).bind(&row.name).bind(row.routing_type).bind(&row.doc))
        .await?;
    put_tags(&mut tx, &row.arn, tags).await?;
    tx.commit().await.map_err(backend)
}

/// Compare-and-swap of an alias row.
pub(super) async fn update_alias(pool: &PgPool, row: &AliasRow, expected: i64) -> Result<i64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let version: Option<i64> = sqlx::query_scalar(
        "UPDATE aliases SET arn = $1, name = $2, routing_type = $3, doc = $4, version = version + 1 \
         WHERE alias_id = $5 AND version = $6 RETURNING version",
    )
    .bind(&row.arn)
    .bind(&row.name)
    .bind(row.routing_type)
    .bind(&row.doc)
    .bind(&row.id)
    .bind(expected)
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(version) = version else {
        return Err(missing_or_conflict(&mut tx, "SELECT 1 FROM aliases WHERE alias_id = $1", &row.id).await);
    };
    tx.commit().await.map_err(backend)?;
    Ok(version)
}

/// Removes tags of `arn` by key.
pub(super) async fn untag_resource(pool: &PgPool, arn: &str, keys: &[String]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    for key in keys {
        sqlx::query("DELETE FROM tags WHERE arn = $1 AND key = $2")
            .bind(arn)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}
