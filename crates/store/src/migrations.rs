//! The schema migrations, each written once (`migrations/NNNN_name.sql`) for both backends.
//!
//! A migration is SQL that SQLite and PostgreSQL both accept, except where their types
//! differ: there it names the type with a token that [`Migration::sql`] spells in the
//! backend's dialect.
//!
//! | token | SQLite | PostgreSQL |
//! |---|---|---|
//! | `{{cursor}}` | `INTEGER PRIMARY KEY AUTOINCREMENT` | `BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY` |
//! | `{{int64}}` | `INTEGER` | `BIGINT` |
//! | `{{bool}}` | `INTEGER` | `BOOLEAN` |
//! | `{{bytes}}` | `BLOB` | `BYTEA` |
//! | `{{bytewise}}` | (nothing) | ` COLLATE "C"` |
//! | `{{doc.FIELD}}` | `json_extract(doc, '$.FIELD')` | `doc::jsonb ->> 'FIELD'` |
//!
//! Databases created by earlier releases record applied migrations by version only, so a
//! migration, once released, must keep creating exactly the same schema on each backend:
//! the tests of `sqlite::migrate` and `postgres::migrate` compare what each migration
//! creates with `migrations/schema/{sqlite,postgres}.txt`.

use crate::StoreError;
use crate::common::backend;
use crate::sql::Dialect;

/// One schema migration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Its version, the order in which migrations apply; recorded once applied.
    pub version: i64,
    /// Its name, recorded with the version.
    pub name: &'static str,
    /// Its SQL, with the dialect tokens of the module documentation.
    template: &'static str,
}

/// The migrations, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    migration(1, "initial", include_str!("../migrations/0001_initial.sql")),
    migration(2, "game_sessions", include_str!("../migrations/0002_game_sessions.sql")),
    migration(3, "process_logs", include_str!("../migrations/0003_process_logs.sql")),
    migration(4, "server_processes", include_str!("../migrations/0004_server_processes.sql")),
    migration(5, "partial_indexes", include_str!("../migrations/0005_partial_indexes.sql")),
    migration(6, "idempotency_tokens", include_str!("../migrations/0006_idempotency_tokens.sql")),
    migration(7, "process_hosts", include_str!("../migrations/0007_process_hosts.sql")),
    migration(8, "event_outbox", include_str!("../migrations/0008_event_outbox.sql")),
];

const fn migration(version: i64, name: &'static str, template: &'static str) -> Migration {
    Migration { version, name, template }
}

impl Migration {
    /// The migration's SQL in `dialect`.
    pub(crate) fn sql(&self, dialect: Dialect) -> Result<String, StoreError> {
        let mut sql = String::with_capacity(self.template.len());
        let mut rest = self.template;
        while let Some(start) = rest.find("{{") {
            sql.push_str(&rest[..start]);
            let token = &rest[start + 2..];
            let end = token.find("}}").ok_or_else(|| self.malformed("a token with no closing }}".into()))?;
            let spelled = spell(&token[..end], dialect);
            sql.push_str(&spelled.ok_or_else(|| self.malformed(format!("the unknown token {:?}", &token[..end])))?);
            rest = &token[end + 2..];
        }
        sql.push_str(rest);
        Ok(sql)
    }

    /// The error of a template that holds something other than a known token.
    fn malformed(&self, what: String) -> StoreError {
        let message = format!("migration {:04}_{} holds {what}", self.version, self.name);
        backend(std::io::Error::other(message))
    }
}

/// How `dialect` spells `token`; `None` if it is not a token.
fn spell(token: &str, dialect: Dialect) -> Option<String> {
    let sqlite = dialect == Dialect::Sqlite;
    let fixed = match token {
        "cursor" if sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        "cursor" => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "int64" | "bool" if sqlite => "INTEGER",
        "int64" => "BIGINT",
        "bool" => "BOOLEAN",
        "bytes" if sqlite => "BLOB",
        "bytes" => "BYTEA",
        "bytewise" if sqlite => "",
        "bytewise" => " COLLATE \"C\"",
        _ => {
            let field = token.strip_prefix("doc.").filter(|f| !f.is_empty() && f.chars().all(is_field_char))?;
            return Some(match dialect {
                Dialect::Sqlite => format!("json_extract(doc, '$.{field}')"),
                Dialect::Postgres => format!("doc::jsonb ->> '{field}'"),
            });
        }
    };
    Some(fixed.to_owned())
}

/// Whether `c` may appear in a document field name of a `{{doc.FIELD}}` token.
fn is_field_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Appends to `changes` what `migration` changed in the schema: a heading, then each object
/// it created or changed (`+`, with its definition) and each it dropped (`-`); `before` and
/// `after` map the objects to their definitions. The schema tests of both backends use it.
#[cfg(test)]
pub(crate) fn describe_changes(
    changes: &mut String,
    migration: &Migration,
    before: &std::collections::BTreeMap<String, String>,
    after: &std::collections::BTreeMap<String, String>,
) {
    changes.push_str(&format!("-- {:04}_{}\n", migration.version, migration.name));
    for (object, definition) in after {
        if before.get(object) != Some(definition) {
            changes.push_str(&format!("+ {object} {definition}\n"));
        }
    }
    for object in before.keys().filter(|object| !after.contains_key(*object)) {
        changes.push_str(&format!("- {object}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every migration renders in both dialects, with no token left behind.
    #[test]
    fn every_migration_renders_in_both_dialects() {
        for migration in MIGRATIONS {
            for dialect in [Dialect::Sqlite, Dialect::Postgres] {
                let sql = migration.sql(dialect).unwrap();
                assert!(!sql.contains("{{") && !sql.contains("}}"), "{} in {dialect:?}: {sql}", migration.name);
            }
        }
    }

    /// A token the renderer does not know is an error, not SQL with a hole in it.
    #[test]
    fn an_unknown_token_is_refused() {
        for template in ["CREATE TABLE t (a {{int32}})", "CREATE TABLE t (a {{int64)", "SELECT {{doc.}}"] {
            let migration = migration(99, "broken", template);
            assert!(migration.sql(Dialect::Sqlite).is_err(), "{template}");
        }
    }
}
