//! Restoring recorded processes into the registry at startup (see `sdk::durable`).

use openlift_core::records::ServerProcessRecord;
use openlift_model::Timestamp;

use super::{Attach, Entry, GameSessionSlot, ProcessStatus, Registry, State};

/// Where a restored process's compute is reached.
#[derive(Debug, Clone, Default)]
pub(crate) struct Endpoint {
    pub(crate) ip_address: Option<String>,
    pub(crate) dns_name: Option<String>,
}

impl Registry {
    /// Digests of the auth tokens the process's connections presented.
    pub(crate) fn token_digests(&self, process_id: &str) -> Vec<String> {
        let state = self.lock();
        state.processes.get(process_id).map(|e| e.token_digests.iter().cloned().collect()).unwrap_or_default()
    }

    /// Adds a recorded ready process of a compute at `endpoint`, disconnected, as if its
    /// last healthy heartbeat were `now`, hosting `game_session` if it did. A process
    /// already known is left as it is.
    pub(crate) fn restore(
        &self,
        record: ServerProcessRecord,
        endpoint: Endpoint,
        game_session: Option<GameSessionSlot>,
        now: Timestamp,
    ) {
        let attach = Attach {
            process_id: record.process_id.clone(),
            fleet_id: record.fleet_id,
            compute_name: record.compute_name,
            location: record.location,
            certificate_path: record.certificate_path,
            ip_address: endpoint.ip_address,
            dns_name: endpoint.dns_name,
            sdk_language: record.sdk_language,
            sdk_version: record.sdk_version,
            token_digest: None,
            credential_expires: None,
        };
        let mut state = self.lock();
        let State { processes, index, .. } = &mut *state;
        if processes.contains_key(&record.process_id) {
            return;
        }
        let mut entry = Entry::new(&attach, now);
        let before = entry.standing();
        let info = &mut entry.info;
        info.sdk_tool_name = record.sdk_tool_name;
        info.sdk_tool_version = record.sdk_tool_version;
        info.port = record.port;
        info.log_paths = record.log_paths;
        info.status = ProcessStatus::Active;
        info.connected_at = record.connected_at;
        info.activated_at = Some(record.activated_at);
        info.last_healthy = Some(now);
        info.game_session = game_session;
        entry.token_digests = record.token_digests.into();
        index.apply(entry.place(), &before, &entry.standing());
        let process_id = record.process_id;
        processes.insert(process_id.clone(), entry);
        state.reschedule(&process_id);
    }
}
