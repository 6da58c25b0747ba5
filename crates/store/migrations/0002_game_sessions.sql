-- Game sessions and player sessions. Besides the keys, the columns hold what
-- the listings filter on: a fleet's sessions (optionally by location or
-- status), sessions by status and age (the activation-timeout sweep), a
-- creator's recent sessions in a fleet (ResourceCreationLimitPolicy), ended
-- sessions (30-day retention), and player sessions by game session, player, or
-- status and age (the 60-second reservation timeout). Times are epoch
-- milliseconds.

CREATE TABLE game_sessions (
    seq              {{cursor}},
    game_session_id  TEXT NOT NULL UNIQUE,
    fleet_id         TEXT NOT NULL,
    location         TEXT,
    status           TEXT,
    creator_id       TEXT,
    creation_time    {{int64}},
    termination_time {{int64}},
    version          {{int64}} NOT NULL,
    doc              TEXT NOT NULL
);
CREATE INDEX game_sessions_fleet ON game_sessions (fleet_id, seq);
CREATE INDEX game_sessions_fleet_location ON game_sessions (fleet_id, location, seq);
CREATE INDEX game_sessions_status ON game_sessions (status, seq);
CREATE INDEX game_sessions_creator ON game_sessions (fleet_id, creator_id, creation_time);
CREATE INDEX game_sessions_termination ON game_sessions (termination_time);

CREATE TABLE player_sessions (
    seq               {{cursor}},
    player_session_id TEXT NOT NULL UNIQUE,
    game_session_id   TEXT NOT NULL,
    player_id         TEXT,
    status            TEXT,
    creation_time     {{int64}},
    doc               TEXT NOT NULL
);
CREATE INDEX player_sessions_game_session ON player_sessions (game_session_id, seq);
CREATE INDEX player_sessions_player ON player_sessions (player_id, seq);
CREATE INDEX player_sessions_status ON player_sessions (status, seq);
