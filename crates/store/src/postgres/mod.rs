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
