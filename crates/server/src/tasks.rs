//! The background work of a running server: connection tasks and workers, tracked so that
//! the server waits for them, and cancelled together when it stops.

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The background work of a running server: every spawned task is tracked, and all of
/// them stop when `cancel` fires.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    /// Owns the tasks.
    pub tracker: TaskTracker,
    /// Stops them.
    pub cancel: CancellationToken,
}
