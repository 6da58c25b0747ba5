-- The idempotency token (or deprecated custom game session ID) of the request that
-- created a game session. An ID string names one session in the whole Region, whatever
-- fleet or location a request names, so a token gets its own unique index. Sessions
-- created without one have none, and the partial index leaves them out.
--
-- Sessions created before this migration could share a token across fleets; the oldest
-- of each keeps it.

ALTER TABLE game_sessions ADD COLUMN idempotency_token TEXT;
UPDATE game_sessions SET idempotency_token = {{doc.idempotency_token}}
WHERE seq IN (
    SELECT MIN(seq) FROM game_sessions
    WHERE {{doc.idempotency_token}} IS NOT NULL
    GROUP BY {{doc.idempotency_token}}
);
CREATE UNIQUE INDEX game_sessions_idempotency_token ON game_sessions (idempotency_token)
    WHERE idempotency_token IS NOT NULL;
