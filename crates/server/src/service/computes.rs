//! Taking computes out of service: a compute deregistered, or every compute of a fleet or
//! of one of its locations when those are deleted. This is the one place that retires a
//! compute, whoever asks.

use std::sync::Arc;

use openlift_core::clock::Clock;
use openlift_model::{ApiError, EventCode};
use openlift_store::{PageRequest, Store, StoreError};

use super::common::{MAX_PAGE, internal};
use super::sessions::Sessions;
use crate::hosting::Hosting;

/// Takes computes out of service.
pub struct Computes {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hosting: Arc<dyn Hosting>,
    sessions: Arc<Sessions>,
}

impl Computes {
    /// Computes in `store`, whose processes and agents `hosting` reaches;
    /// `sessions` ends what their processes hosted.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        hosting: Arc<dyn Hosting>,
        sessions: Arc<Sessions>,
    ) -> Self {
        Computes { store, clock, hosting, sessions }
    }

    /// Takes a compute just deleted from the store out of service: its server processes are
    /// told `TerminateProcess`, their connections closed, and they end as any process does
    /// ([`Sessions::process_ended`], with `SERVER_PROCESS_FORCE_TERMINATED`), ending
    /// their game sessions; its agent, if connected, is told `StartComputeTermination`.
    pub async fn retire(&self, fleet_id: &str, compute_name: &str) {
        for info in self.hosting.retire_processes(fleet_id, compute_name, self.clock.now()).await {
            let message = format!(
                "Server process {} on compute {compute_name} was terminated: the compute was deregistered.",
                info.process_id
            );
            self.sessions.process_ended(&info, Some((EventCode::ServerProcessForceTerminated, message))).await;
        }
        self.hosting.stop_agent(fleet_id, compute_name).await;
    }

    /// Deregisters every compute of a fleet, or of one of its locations, as DeregisterCompute
    /// does each: deleted from the store, then retired ([`retire`](Self::retire)). DeleteFleet and
    /// DeleteFleetLocations use it.
    pub async fn deregister_all(&self, fleet_id: &str, location: Option<&str>) -> Result<(), ApiError> {
        loop {
            let page = PageRequest { after: None, limit: MAX_PAGE };
            let computes = self.store.list_computes(fleet_id, location, page).await.map_err(internal)?;
            if computes.items.is_empty() {
                return Ok(());
            }
            for record in computes.items {
                let name = record.compute.compute_name.unwrap_or_default();
                match self.store.delete_compute(fleet_id, &name).await {
                    Ok(()) => self.retire(fleet_id, &name).await,
                    Err(StoreError::NotFound) => {}
                    Err(e) => return Err(internal(e)),
                }
            }
        }
    }
}
