-- The event outbox: every event a state change reports (fleet events today), written
-- in the same transaction as that change. `seq` orders the whole outbox and follows
-- commit order: the store assigns it as the largest sequence plus one while it holds
-- the outbox's write lock (SQLite's one writer, a PostgreSQL advisory lock), so a
-- reader that has seen sequence N never later finds a smaller one. `source` names the
-- kind of event (`fleet`) and the shape of `doc`, `resource_id` the resource whose log
-- holds it (the fleet ID), `event_time` is in epoch milliseconds.
--
-- The fleet events recorded so far move here with their sequence, so page tokens
-- of DescribeFleetEvents issued before the upgrade stay valid.

CREATE TABLE events (
    seq         BIGINT PRIMARY KEY NOT NULL,
    source      TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    event_time  BIGINT,
    doc         TEXT NOT NULL
);
CREATE INDEX events_resource ON events (source, resource_id, seq);

INSERT INTO events (seq, source, resource_id, event_time, doc)
    SELECT seq, 'fleet', fleet_id, event_time, doc FROM fleet_events;
DROP TABLE fleet_events;
