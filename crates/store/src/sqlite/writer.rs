//! The SQLite writer thread and its group commit.
//!
//! The thread owns the only writing connection. It blocks for the next queued
//! write, then also takes whatever else is already queued (up to
//! [`MAX_BATCH`] jobs) and runs the batch in one `BEGIN IMMEDIATE ... COMMIT`.
//! A job that fails (a duplicate key, a version conflict, a panic) keeps its own error
//! while the others go on, and none of its changes are committed. Most failing
//! jobs fail before changing anything (SQLite's change counter tells), so the
//! jobs first run one after the other directly in the transaction. Only when a
//! job fails after having changed something is the batch rolled back and run
//! again with each job inside its own `SAVEPOINT`, rolled back to alone if it
//! fails; savepoints cost a statement each and a copy of every page a job
//! touches, which is why they are not used always. Nobody is answered before the `COMMIT`
//! returns, and with `synchronous=FULL` that commit has fsynced the WAL, so
//! every acknowledged write is as durable as before; the batch merely shares
//! one fsync. Batching never waits for company: a lone write commits at once,
//! exactly as if it ran alone, and batches form only while a previous commit is
//! in flight, which is when writers queue up.
//!
//! If the batch's transaction fails as a whole (`BEGIN` times out on another
//! process's lock, `COMMIT` or a savepoint statement fails, or SQLite aborted the
//! transaction), every job that had succeeded is answered with that failure
//! instead, since none of its changes were kept.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::StoreError;
use crate::common::backend;

/// At most this many queued writes share one transaction.
pub(super) const MAX_BATCH: usize = 256;

/// A write queued for the writer thread.
pub(super) trait Job: Send {
    /// Runs the write on `conn`, inside the batch's transaction; `true` if it succeeded.
    /// It runs again, with the same effect, if the batch is rolled back and rerun.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the batch is over: with the write's own outcome, or,
    /// if it succeeded but the batch did not commit, with `batch`'s failure.
    fn finish(self: Box<Self>, batch: Result<(), &str>);
}

/// A write and the channel its caller waits on.
pub(super) struct Write<T, F> {
    work: F,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Write<T, F> {
    /// The job running `work`, answering on `reply`.
    pub(super) fn new(work: F, reply: oneshot::Sender<Result<T, StoreError>>) -> Self {
        Write { work, outcome: None, reply }
    }
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        // A write that panics fails alone, like one that returns an error, instead of
        // taking the writer thread, and every later write, down with it.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (self.work)(conn)))
            .unwrap_or_else(|_| Err(backend(std::io::Error::other("the SQLite write panicked"))));
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn finish(self: Box<Self>, batch: Result<(), &str>) {
        let outcome = match (self.outcome, batch) {
            (Some(Err(err)), _) => Err(err),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)) | None, Err(failure)) => Err(batch_failed(failure)),
            (None, Ok(())) => Err(batch_failed("the write never ran")),
        };
        // The caller may have gone away; the write stands regardless.
        let _ = self.reply.send(outcome);
    }
}

/// When the writer checkpoints, and who counts its checkpoints.
pub(super) struct Checkpointing {
    /// How long committed frames may wait in the WAL before a checkpoint.
    pub(super) interval: Duration,
    /// Counts every checkpoint the writer has run, when given: the signal that one ran.
    pub(super) attempts: Option<Arc<AtomicU64>>,
}

/// Runs queued writes in batches until every sender is gone, and checkpoints.
///
/// Every `checkpoint_interval`, between two batches (after answering the last one), or
/// once it has been idle that long after a write, the writer copies the WAL into the
/// database file with a passive checkpoint. It is the only writer, so the checkpoint
/// copies every committed frame, and SQLite then writes the next transaction at the WAL's
/// beginning. A reader still reading an older snapshot keeps the frames after it in the
/// WAL, and a checkpoint can fail (a full disk): then the writer tries again an interval
/// later, also if no write comes meanwhile.
/// Commits wait while it runs (a passive checkpoint took 1 to 6 ms under the benchmark's
/// load). A checkpointer thread of its own would let commits go on, but under steady
/// writes it never catches up with the last commit, so the WAL never starts over unless
/// commits are held off (SQLite's `RESTART`), and its database `fsync`s, concurrent with
/// the commits' WAL `fsync`s, made the slowest commits slower still.
pub(super) fn run(mut conn: Connection, jobs: mpsc::Receiver<Box<dyn Job>>, checkpointing: Checkpointing) {
    let Checkpointing { interval: checkpoint_interval, attempts } = checkpointing;
    let mut checkpointed = Instant::now();
    let mut copied = true;
    let mut failing = false;
    loop {
        if !copied && checkpointed.elapsed() >= checkpoint_interval {
            match checkpoint(&conn) {
                Ok(all) => {
                    if failing {
                        tracing::info!("SQLite checkpoints succeed again");
                    }
                    (copied, failing) = (all, false);
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(error = %err, "SQLite checkpoint failed; the WAL keeps the writes, retrying");
                    }
                    failing = true;
                }
            }
            checkpointed = Instant::now();
            if let Some(attempts) = &attempts {
                attempts.fetch_add(1, Ordering::Relaxed);
            }
        }
        let next = if copied {
            jobs.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            jobs.recv_timeout(checkpoint_interval.saturating_sub(checkpointed.elapsed()))
        };
        let first = match next {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = commit_batch(&mut conn, &mut batch).map_err(|err| err.to_string());
        answer(batch, &committed);
        copied = false;
    }
}

/// Copies the WAL into the database file, passively: it never waits for a lock. Returns
/// whether it copied every committed frame. Frames it did not copy stay in the WAL, where
/// they are as durable, for the next checkpoint.
fn checkpoint(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        let (busy, frames, copied): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        Ok(busy == 0 && copied == frames)
    })
}

/// Answers every job of `batch` once its transaction is over.
fn answer(batch: Vec<Box<dyn Job>>, committed: &Result<(), String>) {
    for job in batch {
        job.finish(committed.as_ref().map(drop).map_err(String::as_str));
    }
}

/// Runs every job of `batch` in one immediate transaction and commits it (or rolls
/// back if no job succeeded): directly if that leaves nothing of a failed job behind,
/// else each job in its own savepoint.
fn commit_batch(conn: &mut Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut any_succeeded = false;
    let mut clean = true;
    for job in batch.iter_mut() {
        let before = tx.total_changes();
        if job.run(&tx) {
            any_succeeded = true;
        } else if tx.total_changes() != before || tx.is_autocommit() {
            // It changed something before failing, or SQLite ended the transaction.
            clean = false;
            break;
        }
    }
    if clean {
        return if any_succeeded { tx.commit() } else { tx.rollback() };
    }
    tx.rollback()?;
    commit_in_savepoints(conn, batch)
}

/// Runs every job of `batch` in its own savepoint of one immediate transaction
/// and commits it (or rolls back if no job succeeded).
fn commit_in_savepoints(conn: &mut Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut any_succeeded = false;
    for job in batch.iter_mut() {
        let savepoint = tx.savepoint()?;
        if job.run(&savepoint) {
            savepoint.commit()?;
            any_succeeded = true;
        } else {
            // Dropping a savepoint rolls back to it and releases it; `finish` reports failures.
            savepoint.finish()?;
        }
    }
    if any_succeeded { tx.commit() } else { tx.rollback() }
}

/// The error of a write whose batch did not commit.
fn batch_failed(failure: &str) -> StoreError {
    backend(std::io::Error::other(format!("the SQLite write transaction failed: {failure}")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// How a test job ends.
    #[derive(Clone, Copy)]
    enum End {
        Succeeds,
        FailsBeforeWriting,
        FailsAfterWriting,
        PanicsAfterWriting,
    }

    /// A job inserting `id` into `t`, then ending as `end` says; counts its runs.
    fn insert(id: i64, end: End, runs: &Arc<AtomicUsize>) -> (Box<dyn Job>, oneshot::Receiver<Result<(), StoreError>>) {
        let (reply, answer) = oneshot::channel();
        let runs = Arc::clone(runs);
        let work = move |conn: &Connection| {
            runs.fetch_add(1, Ordering::SeqCst);
            if let End::FailsBeforeWriting = end {
                return Err(StoreError::VersionConflict);
            }
            conn.execute("INSERT INTO t (id) VALUES (?1)", [id]).map_err(backend)?;
            match end {
                End::FailsAfterWriting => Err(StoreError::AlreadyExists),
                End::PanicsAfterWriting => panic!("a test job panics after its insert"),
                End::Succeeds | End::FailsBeforeWriting => Ok(()),
            }
        };
        (Box::new(Write::new(work, reply)), answer)
    }

    fn run_batch(ends: &[End]) -> (Vec<i64>, Vec<Result<(), StoreError>>, usize) {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", []).unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let (mut batch, answers): (Vec<_>, Vec<_>) =
            ends.iter().zip(1..).map(|(end, id)| insert(id, *end, &runs)).unzip();
        let committed = commit_batch(&mut conn, &mut batch).map_err(|err| err.to_string());
        answer(batch, &committed);
        let mut stmt = conn.prepare("SELECT id FROM t ORDER BY id").unwrap();
        let ids = stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        let outcomes = answers.into_iter().map(|mut a| a.try_recv().unwrap()).collect();
        (ids, outcomes, runs.load(Ordering::SeqCst))
    }

    #[test]
    fn a_checkpoint_tells_whether_a_reader_kept_frames_in_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        let mode: String = writer.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        writer.execute_batch("PRAGMA wal_autocheckpoint=0; CREATE TABLE t (id INTEGER PRIMARY KEY)").unwrap();
        assert!(checkpoint(&writer).unwrap());
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let before: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(before, 0);
        writer.execute("INSERT INTO t (id) VALUES (1)", []).unwrap();
        assert!(!checkpoint(&writer).unwrap(), "the reader's snapshot predates the insert");
        reader.execute_batch("COMMIT").unwrap();
        assert!(checkpoint(&writer).unwrap());
    }

    #[test]
    fn a_job_failing_before_writing_fails_alone_and_nothing_runs_twice() {
        let (ids, outcomes, runs) = run_batch(&[End::Succeeds, End::FailsBeforeWriting, End::Succeeds]);
        assert_eq!(ids, vec![1, 3]);
        assert!(matches!(outcomes[1], Err(StoreError::VersionConflict)));
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok());
        assert_eq!(runs, 3);
    }

    #[test]
    fn a_job_failing_after_writing_is_undone_alone_by_rerunning_the_batch_in_savepoints() {
        let (ids, outcomes, runs) = run_batch(&[End::Succeeds, End::FailsAfterWriting, End::Succeeds]);
        assert_eq!(ids, vec![1, 3], "the failed job's insert is not committed");
        assert!(matches!(outcomes[1], Err(StoreError::AlreadyExists)));
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok());
        assert_eq!(runs, 2 + 3, "the first two ran directly, then all three in savepoints");
    }

    #[test]
    fn a_job_that_panics_fails_alone_and_the_others_commit() {
        let (ids, outcomes, runs) = run_batch(&[End::Succeeds, End::PanicsAfterWriting, End::Succeeds]);
        assert_eq!(ids, vec![1, 3], "the panicked job's insert is not committed");
        let Err(StoreError::Backend(err)) = &outcomes[1] else {
            panic!("expected a backend error, got {:?}", outcomes[1]);
        };
        assert!(err.to_string().contains("panicked"), "{err}");
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok());
        assert_eq!(runs, 2 + 3, "the first two ran directly, then all three in savepoints");
    }
}
