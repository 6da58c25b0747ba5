-- The log archives of server processes (GetGameSessionLogUrl), one per process,
-- deleted 14 days after they were stored. Times are epoch milliseconds.

CREATE TABLE process_logs (
    process_id TEXT PRIMARY KEY NOT NULL,
    fleet_id   TEXT NOT NULL,
    stored_at  {{int64}} NOT NULL,
    archive    {{bytes}} NOT NULL
);
CREATE INDEX process_logs_stored ON process_logs (stored_at);
