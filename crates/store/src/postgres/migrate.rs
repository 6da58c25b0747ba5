//! The PostgreSQL schema migrations, embedded and applied at connect time.
//!
//! Each migration runs in its own transaction, which first takes a
//! transaction-scoped advisory lock (released at commit or rollback, even if the
//! connection dies), then creates `schema_migrations` if needed and applies the
//! migration unless it is recorded there. DDL is transactional in PostgreSQL, so
//! a migration is either applied and recorded or not at all.

use sqlx::PgPool;

use super::backend;
use crate::StoreError;

/// The advisory lock key serializing migrations ("openlift" in ASCII).
const MIGRATION_LOCK: i64 = 0x6f70_656e_6c69_6674;

/// The migrations, in order: version, name and SQL.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/postgres/0001_initial.sql")),
    (2, "game_sessions", include_str!("../../migrations/postgres/0002_game_sessions.sql")),
    (3, "process_logs", include_str!("../../migrations/postgres/0003_process_logs.sql")),
    (4, "server_processes", include_str!("../../migrations/postgres/0004_server_processes.sql")),
    (5, "partial_indexes", include_str!("../../migrations/portable/0005_partial_indexes.sql")),
    (6, "idempotency_tokens", include_str!("../../migrations/postgres/0006_idempotency_tokens.sql")),
    (7, "process_hosts", include_str!("../../migrations/portable/0007_process_hosts.sql")),
    (8, "event_outbox", include_str!("../../migrations/portable/0008_event_outbox.sql")),
];

/// Applies every migration not yet recorded in `schema_migrations`.
pub(super) async fn apply(pool: &PgPool) -> Result<(), StoreError> {
    for &(version, name, sql) in MIGRATIONS {
        let mut tx = pool.begin().await.map_err(backend)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    BIGINT PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let applied: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if applied.is_none() {
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(backend)?;
            sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                .bind(version)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
    }
    Ok(())
}
