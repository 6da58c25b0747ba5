-- Which compute ran each server process, written when the process first becomes
-- ready and never changed, so that only that compute's agent may upload the
-- process's logs, also after a restart. `ended_at` (epoch milliseconds) is set
-- when the process ends; the row goes with the logs' retention after that.

CREATE TABLE process_hosts (
    process_id   TEXT PRIMARY KEY NOT NULL,
    fleet_id     TEXT NOT NULL,
    compute_name TEXT NOT NULL,
    ended_at     BIGINT
);
CREATE INDEX process_hosts_ended ON process_hosts (ended_at) WHERE ended_at IS NOT NULL;
