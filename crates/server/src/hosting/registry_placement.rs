//! The placement half of the registry: binding game sessions to ready processes
//! (`server-sdk-protocol.md` section 6 steps 4–5) and counting what fleets use.
//!
//! Game-session placement calls [`Registry::claim_within`], then creates the
//! game session, sends the `CreateGameSession` push with [`Registry::push_session`] and
//! [`commit`](Claim::commit)s the [`Claim`]. A claim dropped before that (the session could
//! not be created, or the request was cancelled while it was being stored) releases the
//! process. A claim happens under the registry's lock and takes the first process of the
//! placement index, so two concurrent claims never get the same process.

use openlift_core::records::GameSessionRecord;
use openlift_model::Timestamp;
use openlift_store::Versioned;

use super::{Delivery, EndReason, GameSessionSlot, ProcessError, ProcessInfo, ProcessStatus, Registry, State, Usage};
use crate::hosting::Claim;
use crate::hosting::push::{Push, TerminateProcess};

/// Binds `game_session_id` to the first process of the placement index.
fn claim<'a>(
    registry: &'a Registry,
    state: &mut State,
    fleet_id: &str,
    location: &str,
    game_session_id: &str,
    now: Timestamp,
) -> Option<Claim<'a>> {
    let process_id = state.index.best(fleet_id, location)?.to_owned();
    let slot = GameSessionSlot { game_session_id: game_session_id.to_owned(), activated: false, claimed_at: now };
    let claimed = state.update(&process_id, |e| {
        e.info.game_session = Some(slot);
        Ok(e.info.clone())
    });
    let info = claimed.ok()?;
    let game_session_id = game_session_id.to_owned();
    Some(Claim::new(info, move || {
        if registry.release(&process_id, &game_session_id) {
            tracing::debug!(process_id = %process_id, game_session_id = %game_session_id, "uncommitted claim released");
        }
    }))
}

impl Registry {
    /// Atomically picks a process of `fleet_id` in `location` that is active, reported
    /// healthy, hosts no game session and whose compute is below the fleet's activation
    /// limit as last given to [`claim_within`](Self::claim_within), and binds
    /// `game_session_id` to it.
    ///
    /// A process whose connection is down is passed over (it could not be told); among the
    /// others, the one ready the longest is taken. `None` when no process is available. The
    /// caller then sends the `CreateGameSession` push with `push_session`
    /// and commits the claim; dropping it instead releases the process.
    pub fn claim(&self, fleet_id: &str, location: &str, game_session_id: &str, now: Timestamp) -> Option<Claim<'_>> {
        claim(self, &mut self.lock(), fleet_id, location, game_session_id, now)
    }

    /// [`claim`](Self::claim) with the fleet's `MaxConcurrentGameSessionActivations`
    /// (`None`: unlimited): a compute with that many game sessions awaiting activation
    /// (claimed, not yet activated, on a process still active) gets no further one.
    pub fn claim_within(
        &self,
        fleet_id: &str,
        location: &str,
        game_session_id: &str,
        now: Timestamp,
        max_activating: Option<u32>,
    ) -> Option<Claim<'_>> {
        let mut state = self.lock();
        state.index.set_limit(fleet_id, max_activating);
        claim(self, &mut state, fleet_id, location, game_session_id, now)
    }

    /// Undoes a claim: frees the process if it still holds `game_session_id`.
    pub fn release(&self, process_id: &str, game_session_id: &str) -> bool {
        let released = self.lock().update(process_id, |e| {
            let held = e.info.game_session.as_ref().is_some_and(|s| s.game_session_id == game_session_id);
            if held {
                e.info.game_session = None;
            }
            Ok(held)
        });
        released.unwrap_or(false)
    }

    /// Sends a process the game session it was claimed for (`push`, a `CreateGameSession`)
    /// and keeps the session as `committed`, for [`take_committed`](Self::take_committed).
    pub(crate) fn push_session(
        &self,
        process_id: &str,
        push: &Push,
        committed: Versioned<GameSessionRecord>,
    ) -> Result<Delivery, ProcessError> {
        self.deliver(process_id, push, Some(committed))
    }

    /// The game session last pushed to the process, as committed then, if it is
    /// `game_session_id`. It is handed out once: whoever changes the session next takes it.
    pub(crate) fn take_committed(
        &self,
        process_id: &str,
        game_session_id: &str,
    ) -> Option<Versioned<GameSessionRecord>> {
        let mut state = self.lock();
        let entry = state.processes.get_mut(process_id)?;
        entry.committed.take_if(|c| c.value.id() == game_session_id)
    }

    /// Whether the process hosts this game session.
    pub fn hosts(&self, process_id: &str, game_session_id: &str) -> bool {
        self.lock()
            .processes
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

    /// A compute was deregistered: its live processes are sent `TerminateProcess` (due now)
    /// and ended, their connections closed normally, and processes of it cannot connect
    /// until it is registered again. Returns the processes this call ended.
    pub fn retire_compute(&self, fleet_id: &str, compute_name: &str, now: Timestamp) -> Vec<ProcessInfo> {
        let mut state = self.lock();
        state.retired.insert((fleet_id.to_owned(), compute_name.to_owned()));
        let on_compute: Vec<String> = state
            .processes
            .values()
            .filter(|e| e.info.fleet_id == fleet_id && e.info.compute_name == compute_name && e.live().is_ok())
            .map(|e| e.info.process_id.clone())
            .collect();
        let push = Push::TerminateProcess(TerminateProcess { termination_time: now });
        let mut ended = Vec::with_capacity(on_compute.len());
        for process_id in on_compute {
            let retired = state.update(&process_id, |e| {
                if let Err(error) = e.deliver(push.to_frame()) {
                    tracing::debug!(process_id = %e.info.process_id, %error, "could not send TerminateProcess");
                }
                e.end(EndReason::Deregistered, now, None);
                Ok(e.info.clone())
            });
            ended.extend(retired.ok());
        }
        ended
    }

    /// A compute was registered (again): processes of it may connect.
    pub fn compute_registered(&self, fleet_id: &str, compute_name: &str) {
        self.lock().retired.remove(&(fleet_id.to_owned(), compute_name.to_owned()));
    }

    /// Counts of a fleet's active processes, in one location or all.
    pub fn usage(&self, fleet_id: &str, location: Option<&str>) -> Usage {
        let mut usage = Usage::default();
        for e in self.lock().processes.values() {
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
