-- The creator index serves only ResourceCreationLimitPolicy counts, which always
-- name a creator, and the termination index only the 30-day retention of ended
-- sessions. Most sessions have no creator, and no session has a termination time
-- while it runs, so both indexes now leave those rows out: placing and
-- activating a session no longer writes a page of either.

DROP INDEX game_sessions_creator;
CREATE INDEX game_sessions_creator ON game_sessions (fleet_id, creator_id, creation_time)
    WHERE creator_id IS NOT NULL;
DROP INDEX game_sessions_termination;
CREATE INDEX game_sessions_termination ON game_sessions (termination_time)
    WHERE termination_time IS NOT NULL;
