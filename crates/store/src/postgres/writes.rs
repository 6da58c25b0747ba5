//! The multi-statement writes of the PostgreSQL backend, each one transaction.

use openlift_model::Tag;
use sqlx::{PgConnection, PgPool, Postgres};

use super::backend;
use crate::StoreError;
use crate::common::{AliasRow, EventRow, FleetRow};
use crate::sql;

/// Adds or overwrites tags of `arn`.
pub(super) async fn put_tags(conn: &mut PgConnection, arn: &str, tags: &[Tag]) -> Result<(), StoreError> {
    for tag in tags {
        sqlx::query(sql::TAG_PUT.postgres)
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
    let insert = sqlx::query(sql::LOCATION_INSERT.postgres);
    insert_new(&mut tx, insert.bind(name).bind(arn).bind(doc)).await?;
    put_tags(&mut tx, arn, tags).await?;
    tx.commit().await.map_err(backend)
}

/// Deletes the row `statement` (a `DELETE ... RETURNING arn`) selects by `key`, and the tags of that ARN.
pub(super) async fn delete_tagged(pool: &PgPool, statement: &'static str, key: &str) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let arn: Option<String> =
        sqlx::query_scalar(statement).bind(key).fetch_optional(&mut *tx).await.map_err(backend)?;
    let arn = arn.ok_or(StoreError::NotFound)?;
    sqlx::query(sql::TAGS_DELETE.postgres).bind(&arn).execute(&mut *tx).await.map_err(backend)?;
    tx.commit().await.map_err(backend)
}

/// Replaces the location index rows of a fleet and appends its events.
async fn fleet_children(conn: &mut PgConnection, row: &FleetRow, events: &[EventRow]) -> Result<(), StoreError> {
    sqlx::query(sql::FLEET_LOCATIONS_DELETE.postgres).bind(&row.id).execute(&mut *conn).await.map_err(backend)?;
    for location in &row.locations {
        sqlx::query(sql::FLEET_LOCATION_INSERT.postgres)
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
    sqlx::query(sql::postgres::ADVISORY_LOCK).bind(OUTBOX_LOCK).execute(&mut *conn).await.map_err(backend)?;
    for event in events {
        sqlx::query(sql::EVENT_APPEND.postgres)
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
    let insert = sqlx::query(sql::FLEET_INSERT.postgres);
    insert_new(&mut tx, insert.bind(&row.id).bind(&row.arn).bind(row.terminated).bind(&row.doc)).await?;
    fleet_children(&mut tx, row, events).await?;
    put_tags(&mut tx, &row.arn, tags).await?;
    tx.commit().await.map_err(backend)
}

/// Why a compare-and-swap matched no row: the row is gone or its version moved.
pub(super) async fn missing_or_conflict(conn: &mut PgConnection, statement: &'static str, key: &str) -> StoreError {
    match sqlx::query_scalar::<_, i32>(statement).bind(key).fetch_optional(conn).await {
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
    let version: Option<i64> = sqlx::query_scalar(sql::FLEET_UPDATE.postgres)
        .bind(&row.arn)
        .bind(row.terminated)
        .bind(&row.doc)
        .bind(&row.id)
        .bind(expected)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    let Some(version) = version else {
        return Err(missing_or_conflict(&mut tx, sql::FLEET_EXISTS.postgres, &row.id).await);
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
    let insert = sqlx::query(sql::COMPUTE_INSERT.postgres);
    insert_new(&mut conn, insert.bind(fleet_id).bind(name).bind(location).bind(doc)).await
}

/// Deletes computes (one, or all of a fleet when `name` is `None`) and their tokens;
/// returns how many computes were deleted.
pub(super) async fn delete_compute(pool: &PgPool, fleet_id: &str, name: &str) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let deleted = sqlx::query(sql::COMPUTE_DELETE.postgres)
        .bind(fleet_id)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
    sqlx::query(sql::AUTH_TOKENS_OF_COMPUTE_DELETE.postgres)
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
    sqlx::query(sql::AUTH_TOKENS_EXPIRED_DELETE.postgres).bind(now).execute(&mut *tx).await.map_err(backend)?;
    sqlx::query(sql::AUTH_TOKEN_PUT.postgres)
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
    let insert = sqlx::query(sql::ALIAS_INSERT.postgres);
    insert_new(&mut tx, insert.bind(&row.id).bind(&row.arn).bind(&row.name).bind(row.routing_type).bind(&row.doc))
        .await?;
    put_tags(&mut tx, &row.arn, tags).await?;
    tx.commit().await.map_err(backend)
}

/// Compare-and-swap of an alias row.
pub(super) async fn update_alias(pool: &PgPool, row: &AliasRow, expected: i64) -> Result<i64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let version: Option<i64> = sqlx::query_scalar(sql::ALIAS_UPDATE.postgres)
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
        return Err(missing_or_conflict(&mut tx, sql::ALIAS_EXISTS.postgres, &row.id).await);
    };
    tx.commit().await.map_err(backend)?;
    Ok(version)
}

/// Removes tags of `arn` by key.
pub(super) async fn untag_resource(pool: &PgPool, arn: &str, keys: &[String]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    for key in keys {
        sqlx::query(sql::TAG_DELETE.postgres).bind(arn).bind(key).execute(&mut *tx).await.map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}
