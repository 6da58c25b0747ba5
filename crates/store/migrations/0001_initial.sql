-- The initial schema: each record is a JSON document (`doc`) with the columns
-- used for keys, filters and ordering extracted next to it. `seq` is the
-- per-table, monotonically increasing paging cursor. Tag keys sort bytewise on
-- both backends (the "C" collation on PostgreSQL, SQLite's default).

CREATE TABLE secrets (
    name  TEXT PRIMARY KEY NOT NULL,
    value {{bytes}} NOT NULL
);

CREATE TABLE locations (
    seq  {{cursor}},
    name TEXT NOT NULL UNIQUE,
    arn  TEXT NOT NULL,
    doc  TEXT NOT NULL
);

CREATE TABLE fleets (
    seq        {{cursor}},
    fleet_id   TEXT NOT NULL UNIQUE,
    arn        TEXT NOT NULL,
    terminated {{bool}} NOT NULL,
    version    {{int64}} NOT NULL,
    doc        TEXT NOT NULL
);

CREATE TABLE fleet_locations (
    fleet_id TEXT NOT NULL,
    location TEXT NOT NULL,
    PRIMARY KEY (fleet_id, location)
);
CREATE INDEX fleet_locations_location ON fleet_locations (location);

CREATE TABLE fleet_events (
    seq        {{cursor}},
    fleet_id   TEXT NOT NULL,
    event_time {{int64}},
    doc        TEXT NOT NULL
);
CREATE INDEX fleet_events_fleet ON fleet_events (fleet_id, seq);

CREATE TABLE computes (
    seq          {{cursor}},
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
    expires_at   {{int64}} NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX auth_tokens_compute ON auth_tokens (fleet_id, compute_name);
CREATE INDEX auth_tokens_expiry ON auth_tokens (expires_at);

CREATE TABLE aliases (
    seq          {{cursor}},
    alias_id     TEXT NOT NULL UNIQUE,
    arn          TEXT NOT NULL,
    name         TEXT,
    routing_type TEXT,
    version      {{int64}} NOT NULL,
    doc          TEXT NOT NULL
);

CREATE TABLE tags (
    arn   TEXT NOT NULL,
    key   TEXT{{bytewise}} NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);
