-- Ready server processes, so that a restarted control plane still knows the
-- processes whose SDKs reconnect (they never repeat ProcessReady). A row is
-- written when a process becomes ready and deleted when it ends.

CREATE TABLE server_processes (
    process_id TEXT PRIMARY KEY NOT NULL,
    doc        TEXT NOT NULL
);
