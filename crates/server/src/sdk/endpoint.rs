//! The SDK endpoint's part of the server state: the process registry and the settings its
//! connections and sweep use.

use std::sync::Arc;
use std::time::Duration;

use crate::hosting::registry::Registry;
use crate::tasks::Tasks;

/// The SDK endpoint's part of the server state.
pub struct SdkEndpoint {
    /// The server processes.
    pub processes: Arc<Registry>,
    /// How long a process may go without a healthy heartbeat.
    pub heartbeat_timeout: Duration,
    /// Connection tasks and the sweeper.
    pub tasks: Tasks,
}

impl SdkEndpoint {
    /// An endpoint with no processes yet.
    pub fn new(heartbeat_timeout: Duration) -> Self {
        SdkEndpoint { processes: Arc::new(Registry::default()), heartbeat_timeout, tasks: Tasks::default() }
    }
}
