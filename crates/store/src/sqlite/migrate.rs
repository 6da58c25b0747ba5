//! Applies the schema migrations (`crate::migrations`, in SQLite's dialect) at open.
//!
//! Each migration runs once, in its own `BEGIN IMMEDIATE` transaction that also
//! creates `schema_migrations` if needed and records the migration there. Taking
//! the write lock before reading anything makes concurrent opens of the same
//! file (several processes) wait for each other instead of failing with a stale
//! snapshot, and apply each migration exactly once.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::StoreError;
use crate::common::backend;
use crate::migrations::{MIGRATIONS, Migration};
use crate::sql::{self, Dialect};

/// Applies every migration not yet recorded in `schema_migrations`.
pub(super) fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    apply_these(conn, MIGRATIONS)
}

/// Applies those of `migrations` not yet recorded in `schema_migrations`.
fn apply_these(conn: &mut Connection, migrations: &[Migration]) -> Result<(), StoreError> {
    for migration in migrations {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        tx.execute_batch(sql::sqlite::MIGRATIONS_TABLE).map_err(backend)?;
        let applied = tx
            .query_row(sql::MIGRATION_APPLIED.sqlite, [migration.version], |_| Ok(()))
            .optional()
            .map_err(backend)?
            .is_some();
        if !applied {
            tx.execute_batch(&migration.sql(Dialect::Sqlite)?).map_err(backend)?;
            tx.execute(sql::sqlite::MIGRATION_RECORD, rusqlite::params![migration.version, migration.name])
                .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each migration changed in the schema, as `sqlite_master` holds it (the text of
    /// the statement that created each table and index): one section per migration, listing
    /// the objects it created or replaced (`+`, with their text) and dropped (`-`).
    fn schema_changes_of_each_migration() -> String {
        let mut conn = Connection::open_in_memory().unwrap();
        let mut before = std::collections::BTreeMap::new();
        let mut changes = String::new();
        for (applied, migration) in MIGRATIONS.iter().enumerate() {
            apply_these(&mut conn, &MIGRATIONS[..=applied]).unwrap();
            let mut stmt = conn.prepare("SELECT name, type, tbl_name, sql FROM sqlite_master").unwrap();
            let after: std::collections::BTreeMap<String, String> = stmt
                .query_map([], |r| {
                    let (kind, table, sql): (String, String, Option<String>) = (r.get(1)?, r.get(2)?, r.get(3)?);
                    let text = sql.map(|sql| format!("\n{sql}")).unwrap_or_default();
                    Ok((r.get(0)?, format!("{kind} on {table}{text}")))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            crate::migrations::describe_changes(&mut changes, migration, &before, &after);
            before = after;
        }
        changes
    }

    /// Databases in users' hands were created by earlier releases, which record applied
    /// migrations by version only: each migration must create exactly the schema it
    /// always did (`migrations/schema/sqlite.txt`, captured from the SQLite files of the
    /// migrations before each was written once for both backends).
    #[test]
    fn each_migration_creates_the_schema_it_always_did() {
        let expected = include_str!("../../migrations/schema/sqlite.txt");
        assert_eq!(schema_changes_of_each_migration(), expected);
    }

    /// Sessions from before migration 6 could share a token across fleets: the oldest keeps
    /// it, the others and sessions without one get none, and the token is unique from then on.
    #[test]
    fn the_oldest_session_of_a_token_keeps_it() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply_these(&mut conn, &MIGRATIONS[..5]).unwrap();
        let sessions = [
            ("gs-1", "fleet-1", r#"{"idempotency_token":"duel-7"}"#),
            ("gs-2", "fleet-2", r#"{"idempotency_token":"duel-7"}"#),
            ("gs-3", "fleet-1", r#"{"idempotency_token":null}"#),
            ("gs-4", "fleet-2", r#"{"idempotency_token":"lobby-1"}"#),
        ];
        for (id, fleet, doc) in sessions {
            conn.execute(
                "INSERT INTO game_sessions (game_session_id, fleet_id, version, doc) VALUES (?1, ?2, 1, ?3)",
                [id, fleet, doc],
            )
            .unwrap();
        }
        apply(&mut conn).unwrap();
        let mut stmt =
            conn.prepare("SELECT game_session_id, idempotency_token FROM game_sessions ORDER BY seq").unwrap();
        let tokens: Vec<(String, Option<String>)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
        let expected = [("gs-1", Some("duel-7")), ("gs-2", None), ("gs-3", None), ("gs-4", Some("lobby-1"))];
        assert_eq!(tokens, expected.map(|(id, token)| (id.to_owned(), token.map(str::to_owned))));
        let taken = conn.execute(
            "INSERT INTO game_sessions (game_session_id, fleet_id, idempotency_token, version, doc) \
             VALUES ('gs-5', 'fleet-3', 'duel-7', 1, '{}')",
            [],
        );
        assert!(taken.is_err(), "a token already used is refused");
    }

    /// Fleet events from before migration 8 move into the outbox with their sequence, so
    /// DescribeFleetEvents page tokens issued before the upgrade stay valid.
    #[test]
    fn fleet_events_move_into_the_outbox_with_their_sequence() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply_these(&mut conn, &MIGRATIONS[..7]).unwrap();
        for (seq, fleet, time) in [(3, "fleet-1", Some(1000)), (7, "fleet-2", None), (9, "fleet-1", Some(2000))] {
            conn.execute(
                "INSERT INTO fleet_events (seq, fleet_id, event_time, doc) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![seq, fleet, time, format!("{{\"n\":{seq}}}")],
            )
            .unwrap();
        }
        apply(&mut conn).unwrap();
        let mut stmt =
            conn.prepare("SELECT seq, source, resource_id, event_time, doc FROM events ORDER BY seq").unwrap();
        let moved: Vec<(i64, String, String, Option<i64>, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let row = |seq: i64, fleet: &str, time| (seq, "fleet".into(), fleet.into(), time, format!("{{\"n\":{seq}}}"));
        assert_eq!(moved, [row(3, "fleet-1", Some(1000)), row(7, "fleet-2", None), row(9, "fleet-1", Some(2000))]);
        let old = conn.query_row("SELECT 1 FROM sqlite_master WHERE name = 'fleet_events'", [], |_| Ok(()));
        assert_eq!(old.optional().unwrap(), None, "the old table is gone");
    }
}
