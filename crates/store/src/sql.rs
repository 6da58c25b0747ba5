//! The SQL dialects of the two backends.

/// Which database a piece of SQL is spelled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite (`rusqlite`).
    Sqlite,
    /// PostgreSQL (`sqlx`).
    Postgres,
}
