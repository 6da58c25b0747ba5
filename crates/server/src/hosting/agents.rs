//! The computes' agents, as this node knows them: each compute's agent connection (the
//! newest replaces the older), its outbound queue of pushes, its last heartbeat and whether
//! the compute is impaired.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use openlift_model::Timestamp;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

use crate::hosting::registry::{ProcessInfo, Registry};

/// Pushes waiting for one agent connection's writer; a connection that lets it fill up is
/// dropped (the agent reconnects).
const OUTBOUND_CAPACITY: usize = 64;

/// A compute: (fleet ID, compute name).
pub(crate) type ComputeKey = (String, String);

fn key(fleet_id: &str, compute_name: &str) -> ComputeKey {
    (fleet_id.to_owned(), compute_name.to_owned())
}

/// One agent connection, as the registry of agents holds it.
struct Link {
    generation: u64,
    outbound: mpsc::Sender<String>,
    kill: CancellationToken,
    /// Processes this connection has been sent `NotifyProcessRegistered` for.
    notified: HashSet<String>,
}

/// What is known about one compute's agent.
struct ComputeAgent {
    link: Option<Link>,
    last_heartbeat: Timestamp,
    impaired: bool,
}

/// An attached agent connection: its generation, its outbound queue and its kill switch.
pub(crate) struct Attached {
    pub(crate) generation: u64,
    pub(crate) outbound: mpsc::Receiver<String>,
    pub(crate) kill: CancellationToken,
}

/// The computes' agents, keyed by fleet and compute name.
pub struct Agents {
    heartbeat_timeout: Duration,
    computes: Mutex<HashMap<ComputeKey, ComputeAgent>>,
    generations: AtomicU64,
}

impl Agents {
    /// No agent connected yet; a compute is impaired after `heartbeat_timeout` without a
    /// heartbeat from its agent.
    pub fn new(heartbeat_timeout: Duration) -> Self {
        Agents { heartbeat_timeout, computes: Mutex::default(), generations: AtomicU64::new(0) }
    }

    /// How long an agent may go without a heartbeat before its compute is impaired.
    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_timeout
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ComputeKey, ComputeAgent>> {
        self.computes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Attaches a new connection of a compute's agent, dropping the previous one; the
    /// connection counts as a heartbeat.
    pub(crate) fn attach(&self, registry: &Registry, fleet_id: &str, compute_name: &str, now: Timestamp) -> Attached {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let (sender, outbound) = mpsc::channel(OUTBOUND_CAPACITY);
        let kill = CancellationToken::new();
        let link = Link { generation, outbound: sender, kill: kill.clone(), notified: HashSet::new() };
        let mut computes = self.lock();
        let agent = computes.entry(key(fleet_id, compute_name)).or_insert(ComputeAgent {
            link: None,
            last_heartbeat: now,
            impaired: false,
        });
        if let Some(old) = agent.link.replace(link) {
            old.kill.cancel();
        }
        agent.last_heartbeat = now;
        if std::mem::replace(&mut agent.impaired, false) {
            registry.set_compute_impaired(fleet_id, compute_name, false);
        }
        Attached { generation, outbound, kill }
    }

    /// Detaches a connection that closed, unless a newer one replaced it.
    pub(crate) fn detach(&self, fleet_id: &str, compute_name: &str, generation: u64) {
        if let Some(agent) = self.lock().get_mut(&key(fleet_id, compute_name))
            && agent.link.as_ref().is_some_and(|l| l.generation == generation)
        {
            agent.link = None;
        }
    }

    /// Expects the agent of a compute that had one before the server started, as if it had
    /// heartbeated at `now`; `impaired` as the store last recorded it.
    pub(crate) fn expect(
        &self,
        registry: &Registry,
        fleet_id: &str,
        compute_name: &str,
        now: Timestamp,
        impaired: bool,
    ) {
        self.lock().entry(key(fleet_id, compute_name)).or_insert(ComputeAgent {
            link: None,
            last_heartbeat: now,
            impaired,
        });
        if impaired {
            registry.set_compute_impaired(fleet_id, compute_name, true);
        }
    }

    /// Records a heartbeat; `true` if the compute was impaired until now.
    pub(crate) fn heartbeat(&self, registry: &Registry, fleet_id: &str, compute_name: &str, now: Timestamp) -> bool {
        let was_impaired = match self.lock().get_mut(&key(fleet_id, compute_name)) {
            Some(agent) => {
                agent.last_heartbeat = now;
                std::mem::replace(&mut agent.impaired, false)
            }
            None => false,
        };
        if was_impaired {
            registry.set_compute_impaired(fleet_id, compute_name, false);
        }
        was_impaired
    }

    /// Records that connection `generation` is told about `process_id`; `false` if it
    /// already was (or is no longer the compute's connection).
    pub(crate) fn first_notice(&self, fleet_id: &str, compute_name: &str, generation: u64, process_id: &str) -> bool {
        self.lock()
            .get_mut(&key(fleet_id, compute_name))
            .and_then(|agent| agent.link.as_mut())
            .is_some_and(|link| link.generation == generation && link.notified.insert(process_id.to_owned()))
    }

    /// Whether the compute's agent is connected now.
    pub fn connected(&self, fleet_id: &str, compute_name: &str) -> bool {
        self.lock().get(&key(fleet_id, compute_name)).is_some_and(|agent| agent.link.is_some())
    }

    /// Whether the compute is impaired: its agent stopped heartbeating.
    pub fn is_impaired(&self, fleet_id: &str, compute_name: &str) -> bool {
        self.lock().get(&key(fleet_id, compute_name)).is_some_and(|agent| agent.impaired)
    }

    /// Sends a push to the compute's agent; `false` if no connection could take it.
    pub(crate) fn push(&self, fleet_id: &str, compute_name: &str, action: &str, fields: Value) -> Option<u64> {
        let mut computes = self.lock();
        let agent = computes.get_mut(&key(fleet_id, compute_name))?;
        let link = agent.link.as_ref()?;
        let generation = link.generation;
        match link.outbound.try_send(push_frame(action, fields)) {
            Ok(()) => Some(generation),
            Err(TrySendError::Full(_)) => {
                tracing::warn!(fleet_id, compute = compute_name, "agent connection is not reading; dropping it");
                link.kill.cancel();
                agent.link = None;
                None
            }
            Err(TrySendError::Closed(_)) => {
                agent.link = None;
                None
            }
        }
    }

    /// Forgets a compute (it was deregistered) and returns whether its agent was connected
    /// and told `StartComputeTermination`.
    pub(crate) fn forget(&self, registry: &Registry, fleet_id: &str, compute_name: &str) -> bool {
        let told = self.push(fleet_id, compute_name, "StartComputeTermination", json!({})).is_some();
        if self.lock().remove(&key(fleet_id, compute_name)).is_some_and(|agent| agent.impaired) {
            registry.set_compute_impaired(fleet_id, compute_name, false);
        }
        told
    }

    /// Tells a process's agent what became of it: `NotifyProcessRegistered` with the log
    /// paths it reported, once per agent connection, or `NotifyGameSessionActivated`.
    pub fn notify(&self, info: &ProcessInfo, notice: Notice<'_>) {
        let (fleet_id, compute) = (&info.fleet_id, &info.compute_name);
        match notice {
            Notice::ProcessRegistered => {
                let fields = registered_fields(info);
                if let Some(generation) = self.push(fleet_id, compute, "NotifyProcessRegistered", fields) {
                    self.first_notice(fleet_id, compute, generation, &info.process_id);
                    tracing::debug!(process_id = %info.process_id, compute = %compute, "agent told the process is registered");
                }
            }
            Notice::GameSessionActivated(game_session_id) => {
                let fields = json!({"ProcessId": info.process_id, "GameSessionId": game_session_id});
                self.push(fleet_id, compute, "NotifyGameSessionActivated", fields);
            }
        }
    }

    /// Asks the process's agent to stop it now (`ForceExitServerProcess`); `false` if its
    /// compute has no agent connected.
    pub fn force_exit(&self, info: &ProcessInfo, reason: &str) -> bool {
        let fields = json!({"ProcessId": info.process_id, "TerminationReason": reason});
        let sent = self.push(&info.fleet_id, &info.compute_name, "ForceExitServerProcess", fields).is_some();
        if sent {
            tracing::info!(process_id = %info.process_id, compute = %info.compute_name, reason, "agent told to stop a process");
        }
        sent
    }

    /// A compute was deregistered: its agent, if connected, is sent `StartComputeTermination`
    /// and shuts down; the compute is no longer watched.
    pub fn compute_deregistered(&self, registry: &Registry, fleet_id: &str, compute_name: &str) {
        if self.forget(registry, fleet_id, compute_name) {
            tracing::info!(fleet_id, compute = compute_name, "agent told to terminate the compute");
        }
    }

    /// Marks impaired the computes whose agent has not sent a heartbeat for the timeout,
    /// and returns them.
    pub(crate) fn overdue(&self, registry: &Registry, now: Timestamp) -> Vec<ComputeKey> {
        let mut overdue = Vec::new();
        for (key, agent) in self.lock().iter_mut() {
            if !agent.impaired && agent.last_heartbeat.plus(self.heartbeat_timeout) <= now {
                agent.impaired = true;
                overdue.push(key.clone());
            }
        }
        for (fleet_id, compute_name) in &overdue {
            registry.set_compute_impaired(fleet_id, compute_name, true);
        }
        overdue
    }
}

/// What an agent is told about one of its compute's processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice<'a> {
    /// The process became ready (`ActivateServerProcess`).
    ProcessRegistered,
    /// The process activated this game session.
    GameSessionActivated(&'a str),
}

/// The fields of `NotifyProcessRegistered`: the process and the log paths it reported.
pub(crate) fn registered_fields(info: &ProcessInfo) -> Value {
    json!({"ProcessId": info.process_id, "LogPaths": info.log_paths})
}

/// A push frame: `Action`, the fields, a unique `RequestId` and `StatusCode: 200`.
fn push_frame(action: &str, fields: Value) -> String {
    let mut frame = match fields {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    frame.insert("Action".into(), Value::String(action.to_owned()));
    frame.insert("RequestId".into(), Value::String(uuid::Uuid::new_v4().to_string()));
    frame.insert("StatusCode".into(), Value::from(200));
    Value::Object(frame).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_agent_impairs_its_compute_until_it_heartbeats_again() {
        let agents = Agents::new(Duration::from_secs(30));
        let registry = Registry::default();
        let t0 = Timestamp::from_millis(1_000_000);
        let attached = agents.attach(&registry, "fleet-1", "box", t0);
        assert!(agents.connected("fleet-1", "box"));
        assert!(agents.overdue(&registry, t0.plus(Duration::from_secs(29))).is_empty());
        assert_eq!(agents.overdue(&registry, t0.plus(Duration::from_secs(30))), vec![key("fleet-1", "box")]);
        assert!(agents.is_impaired("fleet-1", "box"));
        assert!(agents.overdue(&registry, t0.plus(Duration::from_secs(60))).is_empty(), "reported once");
        assert!(agents.heartbeat(&registry, "fleet-1", "box", t0.plus(Duration::from_secs(61))));
        assert!(!agents.is_impaired("fleet-1", "box"));

        agents.detach("fleet-1", "box", attached.generation);
        assert!(!agents.connected("fleet-1", "box"));
        assert_eq!(
            agents.overdue(&registry, t0.plus(Duration::from_secs(91))).len(),
            1,
            "a disconnected agent is silent too"
        );
        agents.attach(&registry, "fleet-1", "box", t0.plus(Duration::from_secs(92)));
        assert!(!agents.is_impaired("fleet-1", "box"), "a reconnect makes the compute active");
    }

    #[test]
    fn a_reconnect_replaces_the_old_connection() {
        let agents = Agents::new(Duration::from_secs(30));
        let registry = Registry::default();
        let t0 = Timestamp::from_millis(0);
        let first = agents.attach(&registry, "f", "c", t0);
        let mut second = agents.attach(&registry, "f", "c", t0);
        assert!(first.kill.is_cancelled());
        agents.detach("f", "c", first.generation);
        assert!(agents.connected("f", "c"), "the old connection's end does not detach the new one");
        assert!(agents.push("f", "c", "StartComputeTermination", json!({})).is_some());
        let frame: Value = serde_json::from_str(&second.outbound.try_recv().unwrap()).unwrap();
        assert_eq!(frame["Action"], "StartComputeTermination");
        assert_eq!(frame["StatusCode"], 200);
        assert!(frame["RequestId"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(agents.first_notice("f", "c", second.generation, "p1"));
        assert!(!agents.first_notice("f", "c", second.generation, "p1"));
    }
}
