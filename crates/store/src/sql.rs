//! Every SQL statement of the two backends, each written once.
//!
//! A statement both backends run is written in the SQL they share, with PostgreSQL's
//! `$n` placeholders; its SQLite text is the same with `?n` instead, made at compile time
//! ([`Sql`]). `?n` is SQLite's numbered parameter, so each value binds to the position
//! its number names, as on PostgreSQL, whatever order the numbers appear in. What the
//! dialects spell differently is written so that both read it alike: `NOT terminated` for
//! a boolean column (an `INTEGER` 0 or 1 on SQLite, a `BOOLEAN` on PostgreSQL), and
//! `CAST($n AS TEXT)` where PostgreSQL needs a parameter's type.
//!
//! A few statements use a primitive of one backend (a PostgreSQL advisory lock or array,
//! the bookkeeping of applied migrations): they are written once, for their backend only.
//!
//! The tests prepare every statement on both databases (PostgreSQL through
//! `OPENLIFT_TEST_DATABASE_URL`, like the conformance suite) and check that its
//! placeholders are numbered 1 to n with none missing.

/// Which database a piece of SQL is spelled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite (`rusqlite`).
    Sqlite,
    /// PostgreSQL (`sqlx`).
    Postgres,
}

impl Dialect {
    /// The character that starts a numbered placeholder.
    pub(crate) fn placeholder(self) -> char {
        match self {
            Dialect::Sqlite => '?',
            Dialect::Postgres => '$',
        }
    }
}

/// A statement both backends run, in each one's dialect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sql {
    /// The text for PostgreSQL, as written.
    pub postgres: &'static str,
    /// The text for SQLite: the same with each `$` of a placeholder turned into `?`.
    pub sqlite: &'static str,
}

/// The SQLite text of `postgres` (`N` is its length): every `$` becomes `?`. Statements
/// hold `$` only in placeholders, which the tests check.
pub(crate) const fn sqlite_bytes<const N: usize>(postgres: &str) -> [u8; N] {
    let bytes = postgres.as_bytes();
    let mut sqlite = [0; N];
    let mut i = 0;
    while i < N {
        sqlite[i] = if bytes[i] == b'$' { b'?' } else { bytes[i] };
        i += 1;
    }
    sqlite
}

/// Defines statements both backends run as [`Sql`] constants, and (for the tests) the
/// list of them all.
macro_rules! shared {
    ($($(#[doc = $doc:literal])* $name:ident = $text:expr;)*) => {
        $(
            $(#[doc = $doc])*
            pub(crate) const $name: Sql = {
                const POSTGRES: &str = $text;
                const SQLITE: &[u8; POSTGRES.len()] = &sqlite_bytes(POSTGRES);
                match std::str::from_utf8(SQLITE) {
                    Ok(sqlite) => Sql { postgres: POSTGRES, sqlite },
                    Err(_) => panic!("a statement is not UTF-8"),
                }
            };
        )*
        /// Every statement both backends run, by name.
        #[cfg(test)]
        pub(crate) const SHARED: &[(&str, Sql)] = &[$((stringify!($name), $name)),*];
    };
}

/// Defines statements of one backend as constants in module `$module`, and (for the
/// tests) the list `$all` of them.
macro_rules! only {
    ($all:ident, $($(#[doc = $doc:literal])* $name:ident = $text:expr;)*) => {
        $(
            $(#[doc = $doc])*
            pub(crate) const $name: &str = $text;
        )*
        /// Every statement of this backend only, by name.
        #[cfg(test)]
        pub(crate) const $all: &[(&str, &str)] = &[$((stringify!($name), $name)),*];
    };
}

shared! {
    /// A secret by name.
    SECRET_GET = "SELECT value FROM secrets WHERE name = $1";
    /// Stores a secret unless one with that name exists.
    SECRET_INSERT = "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";

    /// Adds a tag or overwrites its value.
    TAG_PUT = "INSERT INTO tags (arn, key, value) VALUES ($1, $2, $3) \
               ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value";
    /// Removes one tag.
    TAG_DELETE = "DELETE FROM tags WHERE arn = $1 AND key = $2";
    /// Removes every tag of a resource.
    TAGS_DELETE = "DELETE FROM tags WHERE arn = $1";
    /// The tags of a resource, by key.
    TAGS_LIST = "SELECT key, value FROM tags WHERE arn = $1 ORDER BY key";

    /// Creates a location unless its name is taken.
    LOCATION_INSERT = "INSERT INTO locations (name, arn, doc) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING";
    /// A location's document.
    LOCATION_GET = "SELECT doc FROM locations WHERE name = $1";
    /// A page of locations.
    LOCATIONS_LIST = "SELECT seq, doc FROM locations WHERE seq > $1 ORDER BY seq LIMIT $2";
    /// Deletes a location, returning its ARN.
    LOCATION_DELETE = "DELETE FROM locations WHERE name = $1 RETURNING arn";

    /// Appends an event to the outbox, numbered after the largest sequence.
    EVENT_APPEND = "INSERT INTO events (seq, source, resource_id, event_time, doc) \
                    SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4 FROM events";
    /// Outbox events after a sequence.
    EVENTS_AFTER = "SELECT seq, source, doc FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";

    /// Creates a fleet unless its ID is taken.
    FLEET_INSERT = "INSERT INTO fleets (fleet_id, arn, terminated, version, doc) VALUES ($1, $2, $3, 1, $4) \
                    ON CONFLICT (fleet_id) DO NOTHING";
    /// A fleet's document and version.
    FLEET_GET = "SELECT doc, version FROM fleets WHERE fleet_id = $1";
    /// A page of fleets, the terminated ones only if `$2`.
    FLEETS_LIST = "SELECT seq, doc FROM fleets WHERE seq > $1 AND ($2 OR NOT terminated) ORDER BY seq LIMIT $3";
    /// IDs of the live fleets in a location.
    FLEETS_IN_LOCATION = "SELECT f.fleet_id FROM fleets f JOIN fleet_locations l ON l.fleet_id = f.fleet_id \
                          WHERE l.location = $1 AND NOT f.terminated ORDER BY f.seq";
    /// Compare-and-swap of a fleet, returning its new version.
    FLEET_UPDATE = "UPDATE fleets SET arn = $1, terminated = $2, doc = $3, version = version + 1 \
                    WHERE fleet_id = $4 AND version = $5 RETURNING version";
    /// Whether a fleet exists.
    FLEET_EXISTS = "SELECT 1 FROM fleets WHERE fleet_id = $1";
    /// Removes a fleet's location index rows.
    FLEET_LOCATIONS_DELETE = "DELETE FROM fleet_locations WHERE fleet_id = $1";
    /// Adds a location index row of a fleet.
    FLEET_LOCATION_INSERT = "INSERT INTO fleet_locations (fleet_id, location) VALUES ($1, $2)";
    /// A page of a fleet's events, newest first, between optional times.
    FLEET_EVENTS_LIST = "SELECT seq, doc FROM events WHERE source = 'fleet' AND resource_id = $1 AND seq < $2 \
                         AND (CAST($3 AS BIGINT) IS NULL OR event_time >= $3) \
                         AND (CAST($4 AS BIGINT) IS NULL OR event_time <= $4) \
                         ORDER BY seq DESC LIMIT $5";

    /// Registers a compute unless the fleet has one with that name.
    COMPUTE_INSERT = "INSERT INTO computes (fleet_id, compute_name, location, doc) VALUES ($1, $2, $3, $4) \
                      ON CONFLICT (fleet_id, compute_name) DO NOTHING";
    /// A compute's document.
    COMPUTE_GET = "SELECT doc FROM computes WHERE fleet_id = $1 AND compute_name = $2";
    /// A page of a fleet's computes, optionally in one location.
    COMPUTES_LIST = "SELECT seq, doc FROM computes WHERE fleet_id = $1 \
                     AND (CAST($2 AS TEXT) IS NULL OR location = $2) AND seq > $3 ORDER BY seq LIMIT $4";
    /// Replaces a compute's document.
    COMPUTE_UPDATE = "UPDATE computes SET doc = $3 WHERE fleet_id = $1 AND compute_name = $2";
    /// Deregisters a compute.
    COMPUTE_DELETE = "DELETE FROM computes WHERE fleet_id = $1 AND compute_name = $2";
    /// Revokes a compute's auth tokens.
    AUTH_TOKENS_OF_COMPUTE_DELETE = "DELETE FROM auth_tokens WHERE fleet_id = $1 AND compute_name = $2";
    /// Removes the auth tokens that expired.
    AUTH_TOKENS_EXPIRED_DELETE = "DELETE FROM auth_tokens WHERE expires_at < $1";
    /// Stores an auth token, replacing one with the same digest.
    AUTH_TOKEN_PUT = "INSERT INTO auth_tokens (digest, fleet_id, compute_name, expires_at, doc) \
                      VALUES ($1, $2, $3, $4, $5) \
                      ON CONFLICT (digest) DO UPDATE SET fleet_id = excluded.fleet_id, \
                      compute_name = excluded.compute_name, expires_at = excluded.expires_at, doc = excluded.doc";
    /// An auth token's document.
    AUTH_TOKEN_GET = "SELECT doc FROM auth_tokens WHERE digest = $1";

    /// Creates an alias unless its ID is taken.
    ALIAS_INSERT = "INSERT INTO aliases (alias_id, arn, name, routing_type, version, doc) \
                    VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (alias_id) DO NOTHING";
    /// An alias's document and version.
    ALIAS_GET = "SELECT doc, version FROM aliases WHERE alias_id = $1";
    /// A page of aliases, optionally by routing type and name.
    ALIASES_LIST = "SELECT seq, doc FROM aliases WHERE seq > $1 \
                    AND (CAST($2 AS TEXT) IS NULL OR routing_type = $2) \
                    AND (CAST($3 AS TEXT) IS NULL OR name = $3) ORDER BY seq LIMIT $4";
    /// Compare-and-swap of an alias, returning its new version.
    ALIAS_UPDATE = "UPDATE aliases SET arn = $1, name = $2, routing_type = $3, doc = $4, version = version + 1 \
                    WHERE alias_id = $5 AND version = $6 RETURNING version";
    /// Whether an alias exists.
    ALIAS_EXISTS = "SELECT 1 FROM aliases WHERE alias_id = $1";
    /// Deletes an alias, returning its ARN.
    ALIAS_DELETE = "DELETE FROM aliases WHERE alias_id = $1 RETURNING arn";

    /// Creates a game session unless its ID or its idempotency token is taken.
    GAME_SESSION_INSERT = "INSERT INTO game_sessions (game_session_id, fleet_id, location, status, creator_id, \
                           creation_time, termination_time, idempotency_token, version, doc) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9) ON CONFLICT DO NOTHING";
    /// A game session's document and version.
    GAME_SESSION_GET = "SELECT doc, version FROM game_sessions WHERE game_session_id = $1";
    /// The document and version of the game session created with an idempotency token.
    GAME_SESSION_BY_TOKEN = "SELECT doc, version FROM game_sessions WHERE idempotency_token = $1";
    /// Compare-and-swap of a game session's changing columns, returning its new version.
    GAME_SESSION_UPDATE = "UPDATE game_sessions SET status = $1, termination_time = $2, doc = $3, \
                           version = version + 1 WHERE game_session_id = $4 AND version = $5 RETURNING version";
    /// Whether a game session exists.
    GAME_SESSION_EXISTS = "SELECT 1 FROM game_sessions WHERE game_session_id = $1";
    /// How many game sessions a creator created in a fleet since a time.
    GAME_SESSIONS_BY_CREATOR = "SELECT COUNT(*) FROM game_sessions \
                                WHERE fleet_id = $1 AND creator_id = $2 AND creation_time >= $3";
    /// Creates a player session unless its ID is taken.
    PLAYER_SESSION_INSERT = "INSERT INTO player_sessions (player_session_id, game_session_id, player_id, status, \
                             creation_time, doc) VALUES ($1, $2, $3, $4, $5, $6) \
                             ON CONFLICT (player_session_id) DO NOTHING";
    /// Replaces a player session.
    PLAYER_SESSION_UPDATE = "UPDATE player_sessions SET game_session_id = $1, player_id = $2, status = $3, \
                             creation_time = $4, doc = $5 WHERE player_session_id = $6";
    /// A player session's document.
    PLAYER_SESSION_GET = "SELECT doc FROM player_sessions WHERE player_session_id = $1";

    /// Stores a process's log archive unless one is stored.
    PROCESS_LOGS_INSERT = "INSERT INTO process_logs (process_id, fleet_id, stored_at, archive) \
                           VALUES ($1, $2, $3, $4) ON CONFLICT (process_id) DO NOTHING";
    /// A process's log archive.
    PROCESS_LOGS_GET = "SELECT fleet_id, stored_at, archive FROM process_logs WHERE process_id = $1";
    /// Deletes the log archives stored before a time.
    PROCESS_LOGS_PURGE = "DELETE FROM process_logs WHERE stored_at < $1";

    /// Records which compute runs a process, unless recorded already.
    PROCESS_HOST_INSERT = "INSERT INTO process_hosts (process_id, fleet_id, compute_name) VALUES ($1, $2, $3) \
                           ON CONFLICT (process_id) DO NOTHING";
    /// Records when a process ended, the first time.
    PROCESS_HOST_END = "UPDATE process_hosts SET ended_at = $1 WHERE process_id = $2 AND ended_at IS NULL";
    /// Which fleet and compute ran a process.
    PROCESS_HOST_GET = "SELECT fleet_id, compute_name FROM process_hosts WHERE process_id = $1";
    /// Forgets which compute ran the processes that ended before a time.
    PROCESS_HOSTS_PURGE = "DELETE FROM process_hosts WHERE ended_at < $1";
    /// Records a ready server process, replacing its earlier record.
    SERVER_PROCESS_PUT = "INSERT INTO server_processes (process_id, doc) VALUES ($1, $2) \
                          ON CONFLICT (process_id) DO UPDATE SET doc = excluded.doc";
    /// Forgets a server process.
    SERVER_PROCESS_DELETE = "DELETE FROM server_processes WHERE process_id = $1";
    /// Every server process, by ID.
    SERVER_PROCESSES_LIST = "SELECT doc FROM server_processes ORDER BY process_id";

    /// Whether a migration is applied.
    MIGRATION_APPLIED = "SELECT version FROM schema_migrations WHERE version = $1";
}

/// The statements of the SQLite backend only.
pub(crate) mod sqlite {
    only! {
        ALL,
        /// Deletes the player sessions of the game sessions that ended before a time (before
        /// those go: the writer's transaction sees no other change in between).
        PLAYER_SESSIONS_PURGE = "DELETE FROM player_sessions WHERE game_session_id IN \
                                 (SELECT game_session_id FROM game_sessions WHERE termination_time < ?1)";
        /// Deletes the game sessions that ended before a time.
        GAME_SESSIONS_PURGE = "DELETE FROM game_sessions WHERE termination_time < ?1";
        /// Creates the table of applied migrations (times in epoch seconds).
        MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY NOT NULL,
                name       TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            )";
        /// Records an applied migration.
        MIGRATION_RECORD = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, unixepoch())";
    }
}

/// The statements of the PostgreSQL backend only.
pub(crate) mod postgres {
    only! {
        ALL,
        /// A compute's document, its row locked until the transaction ends.
        COMPUTE_LOCK = "SELECT doc FROM computes WHERE fleet_id = $1 AND compute_name = $2 FOR UPDATE";
        /// Takes a transaction-scoped advisory lock.
        ADVISORY_LOCK = "SELECT pg_advisory_xact_lock($1)";
        /// Deletes the game sessions that ended before a time, returning their IDs.
        GAME_SESSIONS_PURGE = "DELETE FROM game_sessions WHERE termination_time < $1 RETURNING game_session_id";
        /// Deletes the player sessions of the given game sessions.
        PLAYER_SESSIONS_OF_DELETE = "DELETE FROM player_sessions WHERE game_session_id = ANY($1)";
        /// Creates the table of applied migrations.
        MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    BIGINT PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )";
        /// Records an applied migration.
        MIGRATION_RECORD = "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)";
    }
}

/// The numbers of the placeholders `marker`N in `sql`, sorted, each once; `None` if a
/// `marker` starts no placeholder.
#[cfg(test)]
pub(crate) fn placeholders(sql: &str, marker: char) -> Option<Vec<usize>> {
    let mut numbers = Vec::new();
    for (_, rest) in sql.match_indices(marker).map(|(at, _)| sql.split_at(at + 1)) {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        numbers.push(rest[..digits].parse().ok()?);
    }
    numbers.sort_unstable();
    numbers.dedup();
    Some(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `numbers` are 1 to n, none missing.
    fn one_to_n(numbers: &[usize]) -> bool {
        numbers.iter().enumerate().all(|(i, &n)| n == i + 1)
    }

    /// In every statement `$` marks only placeholders, numbered 1 to n with none missing
    /// (`?` in the SQLite-only ones), so rendering `$` as `?` changes nothing else and
    /// every bound value has its place; the SQLite text holds the same numbers.
    #[test]
    fn placeholders_are_numbered_one_to_n() {
        for (name, statement) in SHARED {
            let numbers = placeholders(statement.postgres, '$').unwrap_or_else(|| panic!("{name}: a stray $"));
            assert!(one_to_n(&numbers), "{name}: placeholders {numbers:?}");
            assert!(!statement.sqlite.contains('$'), "{name}");
            assert_eq!(statement.sqlite, statement.postgres.replace('$', "?"), "{name}");
        }
        for (name, text) in sqlite::ALL {
            let numbers = placeholders(text, '?').unwrap_or_else(|| panic!("{name}: a stray ?"));
            assert!(one_to_n(&numbers) && !text.contains('$'), "{name}: placeholders {numbers:?}");
        }
        for (name, text) in postgres::ALL {
            let numbers = placeholders(text, '$').unwrap_or_else(|| panic!("{name}: a stray $"));
            assert!(one_to_n(&numbers), "{name}: placeholders {numbers:?}");
        }
    }
}
