//! The host agent endpoint: the WebSocket the GameLift Agent (and `openlift agent`) opens
//! to its compute's `GameLiftAgentEndpoint` (`server-sdk-protocol.md` section 9).
//!
//! * `upgrade`: [`AGENT_PATH`] on the API port, query `FleetId`, `ComputeName` and
//!   `Authorization` (a compute auth token), authenticated before the `101` like SDK
//!   connections.
//! * `connection`: one task per WebSocket answers the agent's requests (`handlers`:
//!   `SendHeartbeat`, `NotifyServerProcessTermination`, `DescribeRuntimeConfiguration`,
//!   `GetFleetRoleCredentials` and openlift's `UploadProcessLogs`) and writes pushes.
//! * [`crate::hosting::agents`]: the computes' agent connections and their liveness. Pushes
//!   (`NotifyProcessRegistered`, `NotifyGameSessionActivated`, `ForceExitServerProcess`,
//!   `StartComputeTermination`) go to the compute's newest connection; a reconnect
//!   replaces the old connection.
//!
//! Liveness: a compute whose agent has ever connected is marked `IMPAIRED` (in the store,
//! and in the process registry, whose placement index holds it out) when its agent sends no heartbeat for the agent
//! heartbeat timeout, connected or not; its processes are left to the SDK endpoint's own
//! heartbeat sweep. The next connection or heartbeat of its agent makes it `ACTIVE` again.
//! A restarted server expects every such agent back ([`restore`]): the timeout runs from the
//! start, and a compute stored `IMPAIRED` stays out of placement until its agent returns.

mod connection;
mod handlers;
mod query;
mod upgrade;

use std::time::Duration;

use openlift_model::ComputeStatus;
use openlift_store::{ComputeChange, PageRequest, StoreError};

pub use self::upgrade::upgrade;
use crate::app::App;
pub(crate) use crate::hosting::agents::Attached;

/// The path of the agent endpoint on the API port; every other path is the SDK endpoint.
pub const AGENT_PATH: &str = "/agent";
/// How often agent liveness is checked.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// Fleets and computes read per store call when the agents are restored at start-up.
const RESTORE_PAGE: usize = 100;
/// `GameLiftAgentEndpoint` for a server whose SDK endpoint is `sdk_endpoint`: the same scheme
/// and authority, with the path [`AGENT_PATH`].
pub fn endpoint_for(sdk_endpoint: &str) -> String {
    let (scheme, rest) = sdk_endpoint.split_once("://").unwrap_or(("ws", sdk_endpoint));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}{AGENT_PATH}")
}

/// Sets a compute's status in the store; a deregistered compute is left alone.
async fn set_compute_status(app: &App, fleet_id: &str, compute_name: &str, status: ComputeStatus) {
    change_compute(app, fleet_id, compute_name, ComputeChange { status: Some(status), agent: None }).await;
}

/// Records that an agent connected for the compute: the compute is `ACTIVE`, and a
/// restarted server will expect its agent back.
async fn agent_connected(app: &App, fleet_id: &str, compute_name: &str) {
    let change = ComputeChange { status: Some(ComputeStatus::Active), agent: Some(true) };
    change_compute(app, fleet_id, compute_name, change).await;
}

/// Applies `change` to a compute's record in one store transaction, so that a heartbeat, a
/// connection and the liveness sweep changing one compute at once never undo each other; a
/// compute deregistered meanwhile is left alone.
async fn change_compute(app: &App, fleet_id: &str, compute_name: &str, change: ComputeChange) {
    match app.store.change_compute(fleet_id, compute_name, change).await {
        Ok(_) | Err(StoreError::NotFound) => {}
        Err(error) => tracing::warn!(%error, fleet_id, compute = compute_name, "storing a compute failed"),
    }
}

/// At start-up, expects back the agent of every compute of a live fleet that had one; returns
/// how many.
pub async fn restore(app: &App) -> Result<usize, StoreError> {
    let now = app.now();
    let mut expected = 0;
    let mut fleets_after = None;
    loop {
        let fleets = app.store.list_fleets(false, PageRequest { after: fleets_after, limit: RESTORE_PAGE }).await?;
        for fleet in &fleets.items {
            let mut after = None;
            loop {
                let page = PageRequest { after, limit: RESTORE_PAGE };
                let computes = app.store.list_computes(fleet.id(), None, page).await?;
                for record in computes.items.iter().filter(|record| record.agent) {
                    let name = record.compute.compute_name.as_deref().unwrap_or_default();
                    let impaired = record.compute.compute_status == Some(ComputeStatus::Impaired);
                    app.agents.expect(&app.sdk.processes, fleet.id(), name, now, impaired);
                    expected += 1;
                }
                match computes.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        match fleets.next {
            Some(next) => fleets_after = Some(next),
            None => return Ok(expected),
        }
    }
}

/// Marks overdue computes impaired, once.
pub async fn sweep(app: &App) {
    for (fleet_id, compute_name) in app.agents.overdue(&app.sdk.processes, app.now()) {
        tracing::warn!(fleet_id = %fleet_id, compute = %compute_name,
            timeout_secs = app.agents.heartbeat_timeout().as_secs(), "agent stopped heartbeating; compute impaired");
        set_compute_status(app, &fleet_id, &compute_name, ComputeStatus::Impaired).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_endpoint_shares_the_sdk_endpoints_scheme_and_authority() {
        assert_eq!(endpoint_for("ws://127.0.0.1:9080"), "ws://127.0.0.1:9080/agent");
        assert_eq!(endpoint_for("wss://gl.example.net:7443/sdk?x=1"), "wss://gl.example.net:7443/agent");
    }
}
