//! The agent's half of the registry: ending a process its compute's agent reports gone
//! (`server-sdk-protocol.md` section 9, `NotifyServerProcessTermination`), and holding the
//! processes of a compute whose agent went silent out of placement.

use openlift_model::Timestamp;

use super::{EndReason, ProcessInfo, ProcessStatus, Registry};

impl Registry {
    /// Holds the processes of compute `compute_name` of `fleet_id` out of placement while
    /// the compute is `impaired`, or lets them back in.
    pub fn set_compute_impaired(&self, fleet_id: &str, compute_name: &str, impaired: bool) {
        self.lock().index.set_held(fleet_id, compute_name, impaired);
    }

    /// Ends a process the agent of compute `compute_name` of `fleet_id` reports gone,
    /// closing its connections. Returns it if this call ended it; `None` if it is unknown,
    /// already ended, or on another compute.
    pub fn end_reported(
        &self,
        process_id: &str,
        fleet_id: &str,
        compute_name: &str,
        reason: EndReason,
        now: Timestamp,
    ) -> Option<ProcessInfo> {
        let mut state = self.lock();
        let entry = state.processes.get(process_id)?;
        if entry.info.fleet_id != fleet_id
            || entry.info.compute_name != compute_name
            || matches!(entry.info.status, ProcessStatus::Ended { .. })
        {
            return None;
        }
        state
            .update(process_id, |e| {
                e.end(reason, now, None);
                Ok(e.info.clone())
            })
            .ok()
    }
}
