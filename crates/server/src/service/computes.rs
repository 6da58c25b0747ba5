//! Taking computes out of service: a compute deregistered, or every compute of a fleet or
//! of one of its locations when those are deleted. This is the one place that retires a
//! compute, whoever asks.

use openlift_model::{ApiError, EventCode};
use openlift_store::{PageRequest, StoreError};

use crate::app::{App, MAX_PAGE, internal};

/// Takes a compute just deleted from the store out of service: its server processes are
/// told `TerminateProcess`, their connections closed, and they end as any process does
/// ([`super::sessions::process_ended`], with `SERVER_PROCESS_FORCE_TERMINATED`), ending
/// their game sessions; its agent, if connected, is told `StartComputeTermination`.
pub async fn retire(app: &App, fleet_id: &str, compute_name: &str) {
    for info in app.sdk.processes.retire_compute(fleet_id, compute_name, app.now()) {
        let message = format!(
            "Server process {} on compute {compute_name} was terminated: the compute was deregistered.",
            info.process_id
        );
        super::sessions::process_ended(app, &info, Some((EventCode::ServerProcessForceTerminated, message))).await;
    }
    crate::agent::compute_deregistered(app, fleet_id, compute_name);
}

/// Deregisters every compute of a fleet, or of one of its locations, as DeregisterCompute
/// does each: deleted from the store, then retired ([`retire`]). DeleteFleet and
/// DeleteFleetLocations use it.
pub async fn deregister_all(app: &App, fleet_id: &str, location: Option<&str>) -> Result<(), ApiError> {
    loop {
        let page = PageRequest { after: None, limit: MAX_PAGE };
        let computes = app.store.list_computes(fleet_id, location, page).await.map_err(internal)?;
        if computes.items.is_empty() {
            return Ok(());
        }
        for record in computes.items {
            let name = record.compute.compute_name.unwrap_or_default();
            match app.store.delete_compute(fleet_id, &name).await {
                Ok(()) => retire(app, fleet_id, &name).await,
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(internal(e)),
            }
        }
    }
}
