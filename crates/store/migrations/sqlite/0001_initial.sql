-- The initial schema: each record is a JSON document (`doc`) with the columns
-- used for keys, filters and ordering extracted next to it. `seq` is the
-- per-table, monotonically increasing paging cursor.

CREATE TABLE secrets (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);

CREATE TABLE locations (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    arn  TEXT NOT NULL,
    doc  TEXT NOT NULL
);

CREATE TABLE fleets (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    fleet_id   TEXT NOT NULL UNIQUE,
    arn        TEXT NOT NULL,
    terminated INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    doc        TEXT NOT NULL
);

CREATE TABLE fleet_locations (
    fleet_id TEXT NOT NULL,
    location TEXT NOT NULL,
    PRIMARY KEY (fleet_id, location)
);
CREATE INDEX fleet_locations_location ON fleet_locations (location);

CREATE TABLE fleet_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    fleet_id   TEXT NOT NULL,
    event_time INTEGER,
    doc        TEXT NOT NULL
);
CREATE INDEX fleet_events_fleet ON fleet_events (fleet_id, seq);

CREATE TABLE computes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    fleet_id     TEXT NOT NULL,
    compute_name TEXT NOT NULL,
    location     TEXT,
    doc          TEXT NOT NULL,
    UNIQUE (fleet_id, compute_name)
);

CREATE TABLE auth_tokens (
    digest       TEXT PRIMARY KEY NOT NULL,
    fleet_id     TEXT NOT NULL,
    compute_name TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX auth_tokens_compute ON auth_tokens (fleet_id, compute_name);
CREATE INDEX auth_tokens_expiry ON auth_tokens (expires_at);

CREATE TABLE aliases (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    alias_id     TEXT NOT NULL UNIQUE,
    arn          TEXT NOT NULL,
    name         TEXT,
    routing_type TEXT,
    version      INTEGER NOT NULL,
    doc          TEXT NOT NULL
);

CREATE TABLE tags (
    arn   TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);
