//! The PostgreSQL backend, for several control-plane nodes sharing one database.
//!
//! Driver: `sqlx` (async, tokio, rustls) with a connection pool. Multi-statement
//! writes run in one transaction; updates are compare-and-swap on a `version`
//! column; cursors are identity columns. Migrations run at connect time, each in
//! its own transaction holding a transaction-scoped advisory lock, so nodes
//! starting together apply each migration exactly once.

mod migrate;
mod sessions;
mod store;
mod writes;

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{StoreError, common};

/// Connections kept in the pool.
const POOL_SIZE: u32 = 10;

/// The [`Store`](crate::Store) on a PostgreSQL database.
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, with the
    /// usual libpq-style query parameters such as `options=-c search_path=...`)
    /// and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let pool = PgPoolOptions::new().max_connections(POOL_SIZE).connect_with(options).await.map_err(backend)?;
        migrate::apply(&pool).await?;
        Ok(PostgresStore { pool })
    }
}

/// SQLSTATE `character_not_in_repertoire`: a text parameter holds U+0000.
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";

/// Wraps a database failure; a text value PostgreSQL cannot hold is
/// [`StoreError::Unstorable`] rather than a backend failure.
pub(crate) fn backend(err: sqlx::Error) -> StoreError {
    match err.as_database_error().and_then(|e| e.code()) {
        Some(code) if code == CHARACTER_NOT_IN_REPERTOIRE => StoreError::Unstorable,
        _ => common::backend(err),
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Either, Executor, SqlSafeStr, Statement};

    use super::*;
    use crate::postgres_schema::PostgresSchema;
    use crate::sql::{self, Dialect};

    /// Every statement of the PostgreSQL backend, and every listing, prepares on a migrated
    /// database and takes as many parameters as its placeholders `$1` to `$n` number.
    #[tokio::test]
    async fn every_statement_prepares_with_its_numbered_placeholders() {
        let Some(schema) = PostgresSchema::create().await else { return };
        let store = PostgresStore::connect(&schema.url()).await.unwrap();
        let shared = sql::SHARED.iter().map(|(name, statement)| (*name, statement.postgres.to_owned()));
        let only = sql::postgres::ALL.iter().map(|(name, text)| (*name, (*text).to_owned()));
        let listings = common::every_listing(Dialect::Postgres).into_iter().map(|l| ("listing", l.sql));
        let mut conn = store.pool.acquire().await.unwrap();
        for (name, text) in shared.chain(only).chain(listings) {
            let prepared = conn.prepare(sqlx::AssertSqlSafe(text.clone()).into_sql_str()).await;
            let statement = prepared.unwrap_or_else(|err| panic!("{name}: {err}\n{text}"));
            let parameters = match statement.parameters() {
                Some(Either::Left(types)) => types.len(),
                Some(Either::Right(count)) => count,
                None => 0,
            };
            assert_eq!(parameters, sql::placeholders(&text, '$').unwrap().len(), "{name}: {text}");
        }
        drop(conn);
        store.pool.close().await;
        schema.drop_schema().await;
    }
}
