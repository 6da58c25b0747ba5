//! [`Hosting`] on one node: every process and agent the services reach is connected to this
//! node, in its [`Registry`] and its [`Agents`].

use std::sync::Arc;

use async_trait::async_trait;
use openlift_core::records::GameSessionRecord;
use openlift_model::Timestamp;
use openlift_store::Versioned;

use super::agents::{Agents, Notice};
use super::push::Push;
use super::registry::{Delivery, ProcessError, ProcessInfo, Registry, Usage};
use super::{Claim, Hosting, Want};

/// The processes and agents connected to this node.
pub struct Local {
    processes: Arc<Registry>,
    agents: Arc<Agents>,
}

impl Local {
    /// Hosting over this node's `processes` and `agents`.
    pub fn new(processes: Arc<Registry>, agents: Arc<Agents>) -> Self {
        Local { processes, agents }
    }
}

#[async_trait]
impl Hosting for Local {
    async fn claim<'a>(&'a self, want: Want<'_>) -> Option<Claim<'a>> {
        self.processes.claim_within(want.fleet_id, want.location, want.game_session_id, want.now, want.max_activating)
    }

    async fn start_session(
        &self,
        claim: Claim<'_>,
        push: Push,
        committed: Versioned<GameSessionRecord>,
    ) -> Result<Delivery, ProcessError> {
        let delivery = self.processes.push_session(&claim.process_id, &push, committed);
        claim.commit();
        delivery
    }

    async fn process(&self, process_id: &str) -> Option<ProcessInfo> {
        self.processes.get(process_id)
    }

    async fn hosts(&self, process_id: &str, game_session_id: &str) -> bool {
        self.processes.hosts(process_id, game_session_id)
    }

    async fn take_committed(&self, process_id: &str, game_session_id: &str) -> Option<Versioned<GameSessionRecord>> {
        self.processes.take_committed(process_id, game_session_id)
    }

    async fn terminate(&self, process_id: &str, now: Timestamp) -> Result<ProcessInfo, ProcessError> {
        self.processes.terminate(process_id, now)
    }

    async fn force_exit(&self, process: &ProcessInfo, reason: &str) -> bool {
        self.agents.force_exit(process, reason)
    }

    async fn notify_agent(&self, process: &ProcessInfo, notice: Notice<'_>) {
        self.agents.notify(process, notice);
    }

    async fn retire_processes(&self, fleet_id: &str, compute_name: &str, now: Timestamp) -> Vec<ProcessInfo> {
        self.processes.retire_compute(fleet_id, compute_name, now)
    }

    async fn stop_agent(&self, fleet_id: &str, compute_name: &str) {
        self.agents.compute_deregistered(&self.processes, fleet_id, compute_name);
    }

    async fn compute_registered(&self, fleet_id: &str, compute_name: &str) {
        self.processes.compute_registered(fleet_id, compute_name);
    }

    async fn usage(&self, fleet_id: &str, location: Option<&str>) -> Usage {
        self.processes.usage(fleet_id, location)
    }
}
