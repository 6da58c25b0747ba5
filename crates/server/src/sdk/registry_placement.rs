//! The placement half of the registry: binding game sessions to ready processes
//! (`server-sdk-protocol.md` section 6 steps 4–5) and counting what fleets use.
//!
//! Game-session placement (issue 4) calls [`Registry::claim`], then creates the game session
//! and sends the `CreateGameSession` push with [`Registry::push`]; if creating it fails, it
//! calls [`Registry::release`]. A claim happens under the registry's lock, so two concurrent
//! claims never get the same process.

use openlift_model::Timestamp;

use super::{Entry, GameSessionSlot, ProcessError, ProcessInfo, ProcessStatus, Registry, Usage};

impl Registry {
    /// Atomically picks a process of `fleet_id` in `location` that is active, reported
    /// healthy and hosts no game session, and binds `game_session_id` to it.
    ///
    /// Connected processes are preferred over momentarily disconnected ones, then the one
    /// ready the longest. `None` when no process is available. The caller then sends the
    /// `CreateGameSession` push with [`push`](Self::push), or [`release`](Self::release)s the
    /// claim if the game session cannot be created.
    pub fn claim(&self, fleet_id: &str, location: &str, game_session_id: &str, now: Timestamp) -> Option<ProcessInfo> {
        let mut processes = self.lock();
        let entry = processes
            .values_mut()
            .filter(|e| {
                let i = &e.info;
                i.fleet_id == fleet_id
                    && i.location == location
                    && i.status == ProcessStatus::Active
                    && i.healthy
                    && i.game_session.is_none()
            })
            .min_by(|a, b| {
                let key = |e: &Entry| (e.info.connections == 0, e.info.activated_at, e.info.process_id.clone());
                key(a).cmp(&key(b))
            })?;
        entry.info.game_session =
            Some(GameSessionSlot { game_session_id: game_session_id.to_owned(), activated: false, claimed_at: now });
        Some(entry.info.clone())
    }

    /// Undoes a claim: frees the process if it still holds `game_session_id`.
    pub fn release(&self, process_id: &str, game_session_id: &str) -> bool {
        let mut processes = self.lock();
        match processes.get_mut(process_id) {
            Some(e) if e.info.game_session.as_ref().is_some_and(|s| s.game_session_id == game_session_id) => {
                e.info.game_session = None;
                true
            }
            _ => false,
        }
    }

    /// Whether the process hosts this game session.
    pub fn hosts(&self, process_id: &str, game_session_id: &str) -> bool {
        self.lock()
            .get(process_id)
            .is_some_and(|e| e.info.game_session.as_ref().is_some_and(|s| s.game_session_id == game_session_id))
    }

    /// `ActivateGameSession`: marks the process's game session active.
    pub(crate) fn activate_game_session(&self, process_id: &str, game_session_id: &str) -> Result<(), ProcessError> {
        self.with_entry(process_id, |e| {
            e.live()?;
            match &mut e.info.game_session {
                Some(slot) if slot.game_session_id == game_session_id => {
                    slot.activated = true;
                    Ok(())
                }
                _ => Err(ProcessError::UnknownGameSession(game_session_id.to_owned())),
            }
        })
    }

    /// Counts of a fleet's active processes, in one location or all.
    pub fn usage(&self, fleet_id: &str, location: Option<&str>) -> Usage {
        let mut usage = Usage::default();
        for e in self.lock().values() {
            let i = &e.info;
            if i.fleet_id != fleet_id || location.is_some_and(|l| l != i.location) || i.status != ProcessStatus::Active
            {
                continue;
            }
            usage.active_server_processes += 1;
            if i.game_session.is_some() {
                usage.game_sessions += 1;
                usage.busy_computes.insert(i.compute_name.clone());
            }
        }
        usage
    }
}
