//! The SQLite backend, the embedded default.
//!
//! Driver: `rusqlite` with the bundled SQLite. It is synchronous, which fits the
//! one-writer model exactly: a dedicated writer thread owns the only writing
//! connection, while reads run on a small pool of read-only connections via
//! `spawn_blocking`. The tokio runtime is never blocked, and there is no async
//! wrapper between the code and the SQL.
//!
//! Writes use group commit (see `writer`): the writer thread runs the writes
//! queued at the same moment (up to 256) in one `BEGIN IMMEDIATE ... COMMIT`; a
//! failing write is undone alone and gets its own error (with a `SAVEPOINT` per
//! write when it had already changed something). Every caller is answered only
//! after the `COMMIT`, so an acknowledged write is durable; concurrent writes just
//! share one fsync. A lone write is its own transaction, as without batching.
//!
//! The writer thread also checkpoints: every 100 ms, between two batches, or when it has
//! been idle that long, it copies the WAL into the database file (see `writer::run`).
//!
//! Every connection runs in WAL mode with `synchronous=FULL`, so a write is on
//! disk (the WAL is fsynced at commit) before it is acknowledged. A connection that meets
//! another one's lock retries every 100 µs for up to 10 s, so several processes opening
//! the same file wait for each other.

mod migrate;
mod queries;
mod sessions;
mod store;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::StoreError;
use crate::common::backend;
use writer::Checkpointing;

/// How long a connection waits for another one's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection sleeps between two tries of a lock another one holds.
const BUSY_RETRY: Duration = Duration::from_micros(100);
/// At most this many idle read connections are kept open.
const MAX_IDLE_READERS: usize = 8;
/// The writer connection's page cache, in KiB.
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// How often the writer copies the WAL into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// The [`Store`](crate::Store) on an SQLite file.
pub struct SqliteStore {
    writer: mpsc::Sender<Box<dyn writer::Job>>,
    readers: Arc<Readers>,
}

/// The read connections not in use.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed, with its parent directory) the database file at
    /// `path` and applies pending migrations.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path.as_ref(), Checkpointing { interval: CHECKPOINT_INTERVAL, attempts: None }).await
    }

    async fn open_with(path: &Path, checkpointing: Checkpointing) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let (conn, readers) = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(backend)?;
            }
            let mut conn = Connection::open(&path).map_err(backend)?;
            configure(&mut conn, false)?;
            migrate::apply(&mut conn)?;
            let readers = Readers { path, idle: Mutex::new(Vec::new()) };
            let reader = readers.take()?;
            readers.put(reader);
            Ok((conn, readers))
        })
        .await
        .map_err(backend)??;
        let (writer, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("openlift-sqlite-writer".into())
            .spawn(move || writer::run(conn, jobs, checkpointing))
            .map_err(backend)?;
        Ok(SqliteStore { writer, readers: Arc::new(readers) })
    }

    /// Runs `f` on the writer connection inside a write transaction (possibly
    /// shared with other writes, see `writer`), after every write queued before
    /// it; returns once that transaction has committed. An `Err` from `f` rolls
    /// back what `f` did, and only that. `f` may run more than once (the batch is
    /// rerun when a job fails after having written), each time from the same state.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnMut(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, result) = tokio::sync::oneshot::channel();
        self.writer.send(Box::new(writer::Write::new(f, reply))).map_err(|_| writer_gone())?;
        result.await.map_err(|_| writer_gone())?
    }

    /// Runs `f` on a read connection, off the async runtime.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let conn = readers.take()?;
            let result = f(&conn);
            readers.put(conn);
            result
        })
        .await
        .map_err(backend)?
    }
}

impl Readers {
    /// An idle read connection, or a new one.
    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().map_err(|_| poisoned())?.pop() {
            return Ok(conn);
        }
        let mut conn = Connection::open(&self.path).map_err(backend)?;
        configure(&mut conn, true)?;
        Ok(conn)
    }

    /// Returns a read connection to the pool (or closes it when enough are idle).
    fn put(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
    }
}

/// Sets the pragmas of a connection: the writer switches the file to WAL (a
/// persistent setting) with `synchronous=FULL` and keeps its temporary files in memory;
/// readers are read-only.
fn configure(conn: &mut Connection, read_only: bool) -> Result<(), StoreError> {
    retry_while_busy(conn)?;
    if read_only {
        return conn.pragma_update(None, "query_only", true).map_err(backend);
    }
    enable_wal(conn)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(backend)?;
    // A batch rerun with a savepoint per job (see `writer`) journals the pages each job
    // changes; in memory, that costs no file writes.
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(backend)?;
    // A 64 MiB page cache (instead of 2 MiB) holds what a busy writer keeps touching.
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB).map_err(backend)?;
    // The writer copies the WAL into the database file on its own schedule, not in a commit.
    conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(backend)
}

/// Makes `conn` retry a lock held by another connection every [`BUSY_RETRY`], for up to
/// [`BUSY_TIMEOUT`]. SQLite's own `busy_timeout` sleeps 1, 2, 5, 10, 15 ms and longer
/// between tries, so a write that meets another process's lock (held for a millisecond
/// or two) would sleep several milliseconds more than the lock was held.
fn retry_while_busy(conn: &mut Connection) -> Result<(), StoreError> {
    let mut first_try = Instant::now();
    let retry = move |attempt: i32| {
        if attempt == 0 {
            first_try = Instant::now();
        }
        let waiting = first_try.elapsed() < BUSY_TIMEOUT;
        if waiting {
            std::thread::sleep(BUSY_RETRY);
        }
        waiting
    };
    conn.busy_handler(Some(retry)).map_err(backend)
}

/// Switches to WAL mode. Switching takes an exclusive lock without calling the
/// busy handler, so a concurrent open of a new file is retried here instead.
fn enable_wal(conn: &Connection) -> Result<(), StoreError> {
    let started = Instant::now();
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                let message = format!("SQLite refused WAL mode (journal_mode={mode})");
                return Err(backend(std::io::Error::other(message)));
            }
            Err(err)
                if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => return Err(backend(err)),
        }
    }
}

/// The error when the writer thread is gone (a write that panics fails alone, so only a
/// panic of the writer's own code, outside any write, stops it).
fn writer_gone() -> StoreError {
    backend(std::io::Error::other("the SQLite writer thread has stopped"))
}

/// The error when the reader pool's lock is poisoned.
fn poisoned() -> StoreError {
    backend(std::io::Error::other("the SQLite reader pool is poisoned"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::prelude::*;

    /// Every statement of the SQLite backend, and every listing, prepares on a migrated
    /// database, with its placeholders `?1` to `?n` in the positions their numbers name.
    #[test]
    fn every_statement_prepares_with_its_numbered_placeholders() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate::apply(&mut conn).unwrap();
        let shared = crate::sql::SHARED.iter().map(|(name, statement)| (*name, statement.sqlite.to_owned()));
        let only = crate::sql::sqlite::ALL.iter().map(|(name, text)| (*name, (*text).to_owned()));
        let listings =
            crate::common::every_listing(crate::sql::Dialect::Sqlite).into_iter().map(|l| ("listing", l.sql));
        for (name, sql) in shared.chain(only).chain(listings) {
            let stmt = conn.prepare(&sql).unwrap_or_else(|err| panic!("{name}: {err}\n{sql}"));
            let numbers = crate::sql::placeholders(&sql, '?').unwrap();
            assert_eq!(stmt.parameter_count(), numbers.len(), "{name}: {sql}");
            for position in 1..=stmt.parameter_count() {
                assert_eq!(stmt.parameter_name(position), Some(format!("?{position}").as_str()), "{name}: {sql}");
            }
        }
    }

    /// What [`write_secrets`] writes: 300 secrets of 1 KiB.
    const SECRETS_BYTES: u64 = 300 * 1024;

    /// Writes 300 secrets of 1 KiB, all at once.
    async fn write_secrets(store: &Arc<SqliteStore>) {
        let mut writes = tokio::task::JoinSet::new();
        for i in 0..300 {
            let store = Arc::clone(store);
            writes.spawn(async move { store.secret(&format!("secret-{i}"), 1024).await.map(drop) });
        }
        while let Some(written) = writes.join_next().await {
            written.unwrap().unwrap();
        }
    }

    /// Waits, `wait` at most, until the database file at `path` holds more than
    /// [`SECRETS_BYTES`]: a checkpoint copied the secrets out of the WAL.
    async fn wait_until_copied(path: &Path, wait: Duration) {
        let deadline = Instant::now() + wait;
        loop {
            let copied = std::fs::metadata(path).unwrap().len();
            if copied > SECRETS_BYTES {
                return;
            }
            assert!(Instant::now() < deadline, "the database file still holds {copied} bytes");
            tokio::time::sleep(CHECKPOINT_INTERVAL).await;
        }
    }

    /// Commits leave their pages in the WAL; a checkpoint of the writer's, not a commit,
    /// copies them into the database file, also once the writes have stopped.
    #[tokio::test]
    async fn checkpoints_copy_committed_pages_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openlift.db");
        // A long interval: the writes are over long before it, so only the checkpoint of
        // an idle writer can copy them.
        let interval = Duration::from_secs(2);
        let store = Arc::new(SqliteStore::open_with(&path, Checkpointing { interval, attempts: None }).await.unwrap());
        write_secrets(&store).await;
        wait_until_copied(&path, interval + Duration::from_secs(10)).await;
        drop(store);
        let reopened = SqliteStore::open(&path).await.unwrap();
        assert_eq!(reopened.secret("secret-299", 1024).await.unwrap().len(), 1024);
    }

    /// A reader on an old snapshot keeps the writer's checkpoint from copying what was
    /// committed after it; once the reader is done, the writer copies the rest without
    /// waiting for another write.
    #[tokio::test]
    async fn frames_a_reader_kept_in_the_wal_are_copied_once_it_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openlift.db");
        let attempts = Arc::new(AtomicU64::new(0));
        let checkpointing = Checkpointing { interval: CHECKPOINT_INTERVAL, attempts: Some(Arc::clone(&attempts)) };
        let store = Arc::new(SqliteStore::open_with(&path, checkpointing).await.unwrap());
        store.secret("first", 16).await.unwrap();
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let secrets: i64 = reader.query_row("SELECT count(*) FROM secrets", [], |r| r.get(0)).unwrap();
        assert!(secrets <= 1);
        write_secrets(&store).await;
        // The writer checkpoints after it has answered a batch: one more checkpoint than
        // now means one ran after the last secret was committed.
        let before = attempts.load(Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(10);
        while attempts.load(Ordering::Relaxed) == before {
            assert!(Instant::now() < deadline, "the writer ran no checkpoint after the writes");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let held = std::fs::metadata(&path).unwrap().len();
        assert!(held < SECRETS_BYTES, "the database file holds {held} bytes while the reader reads");
        reader.execute_batch("COMMIT").unwrap();
        wait_until_copied(&path, Duration::from_secs(10)).await;
    }

    /// Under writes that never pause, the WAL still starts over after each checkpoint,
    /// instead of growing with every commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_under_steady_writes() {
        const WRITERS: usize = 16;
        const WRITES: usize = 150;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openlift.db");
        let checkpointing = Checkpointing { interval: Duration::from_millis(10), attempts: None };
        let store = Arc::new(SqliteStore::open_with(&path, checkpointing).await.unwrap());
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..WRITERS {
            let store = Arc::clone(&store);
            writers.spawn(async move {
                for write in 0..WRITES {
                    store.secret(&format!("secret-{writer}-{write}"), 4096).await.unwrap();
                }
            });
        }
        while let Some(joined) = writers.join_next().await {
            joined.unwrap();
        }
        // Every secret spans two pages or more: without a restart the WAL would hold
        // more than 2 × 2,400 frames of 4 KiB.
        let wal = std::fs::metadata(dir.path().join("openlift.db-wal")).unwrap().len();
        let written = u64::try_from(2 * WRITERS * WRITES * 4096).unwrap();
        assert!(wal < written / 4, "the WAL grew to {wal} bytes for {written} bytes of secrets");
        assert_eq!(store.secret("secret-15-149", 4096).await.unwrap().len(), 4096);
    }

    /// A write that meets another connection's write lock waits for it, not fails.
    #[tokio::test]
    async fn a_write_waits_for_another_connections_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openlift.db");
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let writing = Arc::clone(&store);
        let write = tokio::spawn(async move {
            let written = writing.secret("waited", 16).await;
            (written, Instant::now())
        });
        // Time for the write to meet the lock; it must not end before the lock is released.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let released = Instant::now();
        other.execute_batch("COMMIT").unwrap();
        let (written, finished) = write.await.unwrap();
        assert_eq!(written.unwrap().len(), 16);
        assert!(finished >= released, "the write went on while another connection held the lock");
    }
}
