//! The background-worker runner: every periodic job of the server (the SDK endpoint's
//! process and game session sweep, the agents' liveness sweep) is a named worker run by
//! [`Workers::spawn`] until the server stops.
//!
//! A run reports when the worker next wants to run, a deadline on the injected clock, or
//! `None` when it does not know. The runner waits until that deadline, but never longer than
//! the worker's bound of real time: tests move a `ManualClock`, which real time does not
//! advance, and rely on the next run within the bound. Each worker's [`Status`] (last run,
//! last error, next deadline) is kept for an admin surface to read.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openlift_core::clock::Clock;
use openlift_model::Timestamp;
use tokio::time::Instant;

use crate::tasks::Tasks;

/// What one run of a worker reports: when it next wants to run, or why it failed.
pub type Outcome = Result<Option<Timestamp>, String>;

/// What the runner knows of one worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// When its last run started.
    pub last_run: Option<Timestamp>,
    /// The error of its last run, if it failed.
    pub last_error: Option<String>,
    /// The deadline its last run asked for, if it named one.
    pub next_deadline: Option<Timestamp>,
}

/// The runner: starts workers on the server's tasks and keeps their statuses.
pub struct Workers {
    clock: Arc<dyn Clock>,
    tasks: Tasks,
    statuses: Mutex<BTreeMap<&'static str, Status>>,
}

impl Workers {
    /// A runner whose workers read `clock` and stop when `tasks` is cancelled.
    pub fn new(clock: Arc<dyn Clock>, tasks: Tasks) -> Arc<Self> {
        Arc::new(Workers { clock, tasks, statuses: Mutex::default() })
    }

    /// Runs `run` at once, then again at the deadline each run asks for or after `bound` of
    /// real time after the start of the run, whichever comes first, until the server stops. A run
    /// is never interrupted.
    pub fn spawn<F, Fut>(self: &Arc<Self>, name: &'static str, bound: Duration, mut run: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        self.lock().insert(name, Status::default());
        let workers = self.clone();
        self.tasks.tracker.spawn(async move {
            loop {
                let bounded = Instant::now() + bound;
                let started = workers.clock.now();
                let outcome = run().await;
                let next = workers.record(name, started, outcome).map_or(bounded, |deadline| {
                    let until = deadline.as_millis().saturating_sub(workers.clock.now().as_millis());
                    bounded.min(Instant::now() + Duration::from_millis(until.try_into().unwrap_or(0)))
                });
                tokio::select! {
                    () = workers.tasks.cancel.cancelled() => return,
                    () = tokio::time::sleep_until(next) => {}
                }
            }
        });
    }

    /// Every worker's status, by name.
    pub fn statuses(&self) -> BTreeMap<&'static str, Status> {
        self.lock().clone()
    }

    /// Records a run's outcome and returns the deadline it asked for.
    fn record(&self, name: &'static str, started: Timestamp, outcome: Outcome) -> Option<Timestamp> {
        let mut statuses = self.lock();
        let status = statuses.entry(name).or_default();
        status.last_run = Some(started);
        match outcome {
            Ok(deadline) => {
                status.last_error = None;
                status.next_deadline = deadline;
            }
            Err(error) => {
                tracing::warn!(worker = name, %error, "worker run failed");
                status.last_error = Some(error);
                status.next_deadline = None;
            }
        }
        status.next_deadline
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Status>> {
        self.statuses.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use openlift_core::clock::ManualClock;
    use tokio::sync::mpsc;

    use super::*;

    /// How long a test waits for a run before it fails instead of hanging.
    const PATIENCE: Duration = Duration::from_secs(10);
    const T0: Timestamp = Timestamp::from_millis(1_000_000);

    fn runner() -> Arc<Workers> {
        Workers::new(Arc::new(ManualClock::new(T0)), Tasks::default())
    }

    /// Starts a worker that answers its runs with `outcomes` in turn (the last one from then
    /// on) and sends the runner's statuses as they stood at the start of each run.
    fn scripted(
        workers: &Arc<Workers>,
        bound: Duration,
        outcomes: Vec<Outcome>,
    ) -> mpsc::UnboundedReceiver<BTreeMap<&'static str, Status>> {
        let (seen, runs) = mpsc::unbounded_channel();
        let observed = workers.clone();
        let mut run = 0;
        workers.spawn("scripted", bound, move || {
            let _ = seen.send(observed.statuses());
            let outcome = outcomes[run.min(outcomes.len() - 1)].clone();
            run += 1;
            async move { outcome }
        });
        runs
    }

    async fn next_run(runs: &mut mpsc::UnboundedReceiver<BTreeMap<&'static str, Status>>) -> Status {
        let statuses = tokio::time::timeout(PATIENCE, runs.recv()).await.expect("the worker ran").expect("a status");
        statuses["scripted"].clone()
    }

    #[tokio::test]
    async fn a_worker_runs_again_at_the_deadline_it_names_before_its_bound() {
        let workers = runner();
        let an_hour = Duration::from_secs(3600);
        let mut runs = scripted(&workers, an_hour, vec![Ok(Some(T0)), Ok(Some(T0)), Ok(Some(T0.plus(an_hour)))]);
        assert_eq!(next_run(&mut runs).await, Status::default(), "the first run starts at once");
        assert_eq!(next_run(&mut runs).await.next_deadline, Some(T0));
        let third = next_run(&mut runs).await;
        assert_eq!(third, Status { last_run: Some(T0), last_error: None, next_deadline: Some(T0) });
        workers.tasks.cancel.cancel();
    }

    #[tokio::test]
    async fn a_failed_run_is_recorded_until_the_next_run_succeeds_after_the_bound() {
        let workers = runner();
        let mut runs = scripted(&workers, Duration::from_millis(10), vec![Err("store down".into()), Ok(None)]);
        next_run(&mut runs).await;
        let after_failure = next_run(&mut runs).await;
        assert_eq!(after_failure.last_error.as_deref(), Some("store down"));
        assert_eq!(after_failure.last_run, Some(T0));
        assert_eq!(after_failure.next_deadline, None);
        assert_eq!(next_run(&mut runs).await.last_error, None, "a successful run clears the error");
        workers.tasks.cancel.cancel();
    }

    #[tokio::test]
    async fn workers_stop_when_the_server_stops() {
        let workers = runner();
        let mut runs = scripted(&workers, Duration::from_secs(3600), vec![Ok(None)]);
        next_run(&mut runs).await;
        workers.tasks.cancel.cancel();
        workers.tasks.tracker.close();
        tokio::time::timeout(PATIENCE, workers.tasks.tracker.wait()).await.expect("the worker stopped");
        assert!(runs.recv().await.is_none(), "the worker's closure was dropped");
    }
}
