//! The SQLite writer thread and its group commit.
//!
//! The thread owns the only writing connection. It blocks for the next queued
//! write, then also takes whatever else is already queued (up to
//! [`MAX_BATCH`] jobs) and runs the batch in one `BEGIN IMMEDIATE ... COMMIT`.
//! Each job runs inside its own `SAVEPOINT`: a job that fails (a duplicate key,
//! a version conflict) is rolled back to its savepoint alone and keeps its own
//! error, while the others go on. Nobody is answered before the `COMMIT`
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

use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::StoreError;
use crate::common::backend;

/// At most this many queued writes share one transaction.
pub(super) const MAX_BATCH: usize = 256;

/// A write queued for the writer thread.
pub(super) trait Job: Send {
    /// Runs the write on `conn`, inside the batch's transaction; `true` if it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the batch is over: with the write's own outcome, or,
    /// if it succeeded but the batch did not commit, with `batch`'s failure.
    fn finish(self: Box<Self>, batch: Result<(), &str>);
}

/// A write and the channel its caller waits on.
pub(super) struct Write<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Write<T, F> {
    /// The job running `work`, answering on `reply`.
    pub(super) fn new(work: F, reply: oneshot::Sender<Result<T, StoreError>>) -> Self {
        Write { work: Some(work), outcome: None, reply }
    }
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else { return false };
        let outcome = work(conn);
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

/// Runs queued writes in batches until every sender is gone.
pub(super) fn run(mut conn: Connection, jobs: mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = commit_batch(&mut conn, &mut batch).map_err(|err| err.to_string());
        for job in batch {
            job.finish(committed.as_ref().map(drop).map_err(String::as_str));
        }
    }
}

/// Runs every job of `batch` in its own savepoint of one immediate transaction
/// and commits it (or rolls back if no job succeeded).
fn commit_batch(conn: &mut Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
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
