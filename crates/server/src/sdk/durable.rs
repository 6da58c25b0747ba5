//! Ready server processes survive a control-plane restart: SDKs reconnect on their own
//! after a dropped connection, but never repeat `ProcessReady`, so a restarted control
//! plane must already know them.
//!
//! A process is recorded in the store when its `ActivateServerProcess` succeeds (before
//! the SDK is told) and forgotten when it ends. At startup, [`restore`] puts every recorded
//! process back into the registry as ready but disconnected, bound again to the game
//! session it was hosting; its SDK's reconnect then finds it. One that does not come back
//! misses its heartbeats and is ended by the sweep, ending its game session.

use openlift_core::records::ServerProcessRecord;
use openlift_model::GameSessionStatus;
use openlift_store::{GameSessionFilter, PageRequest, StoreError};

use crate::app::App;
use crate::hosting::registry::{Endpoint, GameSessionSlot};

/// Records a process that just became ready.
pub(crate) async fn remember(app: &App, process_id: &str) -> Result<(), StoreError> {
    let Some(info) = app.sdk.processes.get(process_id) else { return Ok(()) };
    let record = ServerProcessRecord {
        process_id: info.process_id,
        fleet_id: info.fleet_id,
        compute_name: info.compute_name,
        location: info.location,
        certificate_path: info.certificate_path,
        sdk_language: info.sdk_language,
        sdk_version: info.sdk_version,
        sdk_tool_name: info.sdk_tool_name,
        sdk_tool_version: info.sdk_tool_version,
        port: info.port,
        log_paths: info.log_paths,
        connected_at: info.connected_at,
        activated_at: info.activated_at.unwrap_or(info.connected_at),
        token_digests: app.sdk.processes.token_digests(process_id),
    };
    app.store.put_server_process(&record).await
}

/// Puts the recorded processes back into the registry, with the game sessions they host;
/// processes of computes deregistered meanwhile are dropped.
pub async fn restore(app: &App) -> Result<usize, StoreError> {
    let records = app.store.list_server_processes().await?;
    if records.is_empty() {
        return Ok(0);
    }
    let mut slots = std::collections::HashMap::new();
    for status in [GameSessionStatus::Activating, GameSessionStatus::Active, GameSessionStatus::Terminating] {
        let filter = GameSessionFilter { status: Some(status.as_str().to_owned()), ..Default::default() };
        let mut after = None;
        loop {
            let page = app.store.list_game_sessions(&filter, PageRequest { after, limit: 500 }).await?;
            for session in page.items {
                let Some(process_id) = session.process_id.clone() else { continue };
                let slot = GameSessionSlot {
                    game_session_id: session.id().to_owned(),
                    activated: status != GameSessionStatus::Activating,
                    claimed_at: session.game_session.creation_time.unwrap_or_else(|| app.now()),
                };
                slots.insert(process_id, slot);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    let now = app.now();
    let count = records.len();
    let mut endpoints = std::collections::HashMap::new();
    for record in records {
        let key = (record.fleet_id.clone(), record.compute_name.clone());
        if !endpoints.contains_key(&key) {
            let compute = app.store.get_compute(&key.0, &key.1).await?;
            let endpoint = compute.map(|c| Endpoint { ip_address: c.compute.ip_address, dns_name: c.compute.dns_name });
            endpoints.insert(key.clone(), endpoint);
        }
        match &endpoints[&key] {
            Some(endpoint) => {
                let slot = slots.remove(&record.process_id);
                app.sdk.processes.restore(record, endpoint.clone(), slot, now);
            }
            None => app.store.delete_server_process(&record.process_id, now).await?,
        }
    }
    tracing::info!(processes = count, "restored the ready server processes; waiting for their SDKs to reconnect");
    Ok(count)
}
