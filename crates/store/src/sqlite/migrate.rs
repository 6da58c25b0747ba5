//! The SQLite schema migrations, embedded and applied at open.
//!
//! Each migration runs once, in its own `BEGIN IMMEDIATE` transaction that also
//! creates `schema_migrations` if needed and records the migration there. Taking
//! the write lock before reading anything makes concurrent opens of the same
//! file (several processes) wait for each other instead of failing with a stale
//! snapshot, and apply each migration exactly once.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::StoreError;
use crate::common::backend;

/// The migrations, in order: version, name and SQL.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/sqlite/0001_initial.sql")),
    (2, "game_sessions", include_str!("../../migrations/sqlite/0002_game_sessions.sql")),
    (3, "process_logs", include_str!("../../migrations/sqlite/0003_process_logs.sql")),
    (4, "server_processes", include_str!("../../migrations/sqlite/0004_server_processes.sql")),
    (5, "partial_indexes", include_str!("../../migrations/portable/0005_partial_indexes.sql")),
];

/// Applies every migration not yet recorded in `schema_migrations`.
pub(super) fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    for &(version, name, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY NOT NULL,
                name       TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            )",
        )
        .map_err(backend)?;
        let applied = tx
            .query_row("SELECT 1 FROM schema_migrations WHERE version = ?1", [version], |_| Ok(()))
            .optional()
            .map_err(backend)?
            .is_some();
        if !applied {
            tx.execute_batch(sql).map_err(backend)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, unixepoch())",
                rusqlite::params![version, name],
            )
            .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
    }
    Ok(())
}
