//! The server-process registry: every server process the SDK endpoint knows, keyed by its
//! process ID (`pID`), not by connection (`server-sdk-protocol.md` sections 5, 6 and 8.5–8.6).
//!
//! A process outlives its connections: a reconnect or a `RefreshConnection` attaches a new
//! connection to the same entry, which keeps its readiness, health and game session; pushes
//! go to the newest live connection, and are queued (boundedly) while none is attached.
//!
//! Life cycle: `Connected` (SDK initialised) → `Active` (`ActivateServerProcess`) →
//! `Terminating` (the service pushed `TerminateProcess`; the process has
//! [`TERMINATION_GRACE`] to call `ProcessEnding`) → `Ended`. An ended process ID is kept as
//! a tombstone for [`TOMBSTONE_RETENTION`] so it cannot come back.
//!
//! For game-session placement, [`Registry::claim`] atomically binds a game session
//! to one ready, healthy, idle process of a fleet location and returns a [`Claim`](crate::hosting::Claim) that
//! undoes itself when dropped uncommitted (its game session could not be created), and
//! [`Registry::push`] delivers the `CreateGameSession` push. A placement index (`registry_index`), updated with every
//! change to a process, makes a claim O(log n) and enforces the fleets'
//! `MaxConcurrentGameSessionActivations`. Everything is in memory behind one mutex whose
//! critical sections never await; ready processes are recorded in the store and restored
//! after a restart (`durable`), for their SDKs to reconnect to.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use openlift_core::records::GameSessionRecord;
use openlift_model::Timestamp;
use openlift_store::Versioned;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

pub(crate) use super::process::Activation;
pub use super::process::{
    AttachError, Delivery, EndReason, Expiry, GameSessionSlot, ProcessError, ProcessInfo, ProcessStatus, Swept, Usage,
};
use super::push::{Push, TerminateProcess};
use crate::socket::Outgoing;
use index::{Index, Place, Rank, Standing};

/// How long a process told to terminate has to call `ProcessEnding` before it is ended
/// (GameLift waits up to 5 minutes, section 6 step 8).
pub const TERMINATION_GRACE: Duration = Duration::from_secs(5 * 60);
/// How long an ended process ID stays known, so that it cannot connect again.
pub const TOMBSTONE_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
/// Responses remembered per process for repeated `RequestId`s (section 2, "Duplicates").
const REPLY_CACHE_LEN: usize = 64;
/// Pushes kept for a process while it has no connection.
const PENDING_PUSHES: usize = 16;
/// Frames waiting for one connection's writer; a connection that lets it fill up is dropped.
pub(crate) const OUTBOUND_CAPACITY: usize = 32;
/// Auth tokens remembered per process, accepted again on reconnect even once expired.
const TOKENS_PER_PROCESS: usize = 8;
/// A ready process is sent `RefreshConnection` when the credential its newest connection
/// presented expires within this span (GameLift's agent renews its token when less than 15
/// minutes remain). A SigV4 connection counts as expiring at once (`sdk::auth`).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

/// The registry's handle on one attached connection.
struct Link {
    generation: u64,
    outbound: mpsc::Sender<Outgoing>,
    kill: CancellationToken,
}

struct Entry {
    info: ProcessInfo,
    links: Vec<Link>,
    next_generation: u64,
    pending: VecDeque<String>,
    token_digests: VecDeque<String>,
    /// When the credential of its newest connection expires; `None` once it was sent
    /// `RefreshConnection` for it.
    credential_expires: Option<Timestamp>,
    replies: VecDeque<(String, String)>,
    /// The game session last pushed to it, as committed, for its activation to update
    /// without reading it back ([`Registry::push_session`]); dropped when the process ends.
    committed: Option<Versioned<GameSessionRecord>>,
    /// When [`Registry::sweep`] has next to look at it, as held in [`State::deadlines`].
    deadline: Option<Timestamp>,
}

/// A connection asking to attach to a process (the authenticated upgrade query).
#[derive(Debug, Clone)]
pub(crate) struct Attach {
    pub(crate) process_id: String,
    pub(crate) fleet_id: String,
    pub(crate) compute_name: String,
    pub(crate) location: String,
    pub(crate) certificate_path: Option<String>,
    /// The compute's IP address, as registered.
    pub(crate) ip_address: Option<String>,
    /// The compute's DNS name, as registered.
    pub(crate) dns_name: Option<String>,
    pub(crate) sdk_language: String,
    pub(crate) sdk_version: String,
    /// Digest of the auth token the connection presented (none for SigV4).
    pub(crate) token_digest: Option<String>,
    /// When the credential the connection presented expires (see [`REFRESH_MARGIN`]).
    pub(crate) credential_expires: Option<Timestamp>,
}

/// An attached connection: its generation, its outbound queue and its kill switch.
pub(crate) struct Attached {
    pub(crate) generation: u64,
    pub(crate) outbound: mpsc::Receiver<Outgoing>,
    pub(crate) kill: CancellationToken,
}

/// All server processes, keyed by process ID.
#[derive(Default)]
pub struct Registry {
    state: Mutex<State>,
}

/// What the registry's mutex guards.
#[derive(Default)]
struct State {
    processes: HashMap<String, Entry>,
    index: Index,
    /// Deregistered computes, as (fleet ID, compute name), until registered again.
    retired: HashSet<(String, String)>,
    /// Every process's next deadline (a timeout, or a credential to refresh), in order, so
    /// that a sweep visits only the processes due instead of all of them.
    deadlines: BTreeSet<(Timestamp, String)>,
    /// The heartbeat timeout of the last sweep, which the deadlines are computed with; until
    /// the first sweep every process is due at once.
    heartbeat_timeout: Option<Duration>,
}

impl State {
    /// Runs `f` on a process's entry and brings the placement index up to date.
    fn update<T>(
        &mut self,
        process_id: &str,
        f: impl FnOnce(&mut Entry) -> Result<T, ProcessError>,
    ) -> Result<T, ProcessError> {
        let entry = self.processes.get_mut(process_id).ok_or_else(|| ProcessError::Unknown(process_id.to_owned()))?;
        let before = entry.standing();
        let outcome = f(entry);
        self.index.apply(entry.place(), &before, &entry.standing());
        self.reschedule(process_id);
        outcome
    }

    /// Brings a process's place in [`deadlines`](Self::deadlines) up to date with its entry.
    fn reschedule(&mut self, process_id: &str) {
        let Some(entry) = self.processes.get_mut(process_id) else { return };
        let due = match self.heartbeat_timeout {
            Some(timeout) => entry.due(timeout),
            None => Some(Timestamp::from_millis(0)),
        };
        if due == entry.deadline {
            return;
        }
        if let Some(old) = entry.deadline.take() {
            self.deadlines.remove(&(old, process_id.to_owned()));
        }
        if let Some(new) = due {
            self.deadlines.insert((new, process_id.to_owned()));
        }
        entry.deadline = due;
    }

    /// Forgets a process, its deadline with it.
    fn forget(&mut self, process_id: &str) {
        if let Some(entry) = self.processes.remove(process_id)
            && let Some(deadline) = entry.deadline
        {
            self.deadlines.remove(&(deadline, process_id.to_owned()));
        }
    }
}

fn passed(since: Timestamp, span: Duration, now: Timestamp) -> bool {
    since.plus(span) <= now
}

impl Entry {
    /// When [`Registry::sweep_one`] next has something to do for this process, given the
    /// heartbeat timeout: the same conditions, solved for the time.
    fn due(&self, heartbeat_timeout: Duration) -> Option<Timestamp> {
        match self.info.status {
            ProcessStatus::Active => {
                let since = self.info.last_healthy.or(self.info.activated_at).unwrap_or(self.info.connected_at);
                let unhealthy = since.plus(heartbeat_timeout);
                let refresh =
                    self.credential_expires.filter(|_| !self.links.is_empty()).map(|at| at.minus(REFRESH_MARGIN));
                Some(refresh.map_or(unhealthy, |refresh| refresh.min(unhealthy)))
            }
            ProcessStatus::Terminating { since, .. } => Some(since.plus(TERMINATION_GRACE)),
            ProcessStatus::Connected => self.links.is_empty().then(|| self.info.last_seen.plus(heartbeat_timeout)),
            ProcessStatus::Ended { at, .. } => Some(at.plus(TOMBSTONE_RETENTION)),
        }
    }

    fn new(a: &Attach, now: Timestamp) -> Self {
        let info = ProcessInfo {
            process_id: a.process_id.clone(),
            fleet_id: a.fleet_id.clone(),
            compute_name: a.compute_name.clone(),
            location: a.location.clone(),
            certificate_path: a.certificate_path.clone(),
            ip_address: a.ip_address.clone(),
            dns_name: a.dns_name.clone(),
            sdk_language: a.sdk_language.clone(),
            sdk_version: a.sdk_version.clone(),
            sdk_tool_name: None,
            sdk_tool_version: None,
            port: None,
            log_paths: Vec::new(),
            status: ProcessStatus::Connected,
            healthy: true,
            last_healthy: None,
            connected_at: now,
            activated_at: None,
            last_seen: now,
            connections: 0,
            attachments: 0,
            game_session: None,
        };
        Entry {
            info,
            links: Vec::new(),
            next_generation: 0,
            pending: VecDeque::new(),
            token_digests: VecDeque::new(),
            credential_expires: None,
            replies: VecDeque::new(),
            committed: None,
            deadline: None,
        }
    }

    /// Where the process is, for the placement index.
    fn place(&self) -> Place<'_> {
        Place { fleet_id: &self.info.fleet_id, location: &self.info.location, compute_name: &self.info.compute_name }
    }

    /// What the placement index needs to know about the process now.
    fn standing(&self) -> Standing {
        let i = &self.info;
        if i.status != ProcessStatus::Active {
            return Standing::default();
        }
        let candidate = (i.healthy && i.connections > 0 && i.game_session.is_none())
            .then(|| Rank { ready_since: i.activated_at, process_id: i.process_id.clone() });
        Standing { candidate, activating: i.game_session.as_ref().is_some_and(|s| !s.activated) }
    }

    fn live_on(&self, fleet_id: &str, compute_name: &str) -> bool {
        self.live().is_ok() && self.info.fleet_id == fleet_id && self.info.compute_name == compute_name
    }

    fn live(&self) -> Result<(), ProcessError> {
        match self.info.status {
            ProcessStatus::Ended { .. } => Err(ProcessError::Ended(self.info.process_id.clone())),
            _ => Ok(()),
        }
    }

    /// Sends a frame to the newest connection able to take it, else queues it.
    fn deliver(&mut self, frame: String) -> Result<Delivery, ProcessError> {
        while let Some(link) = self.links.last() {
            match link.outbound.try_send(Outgoing::Frame(frame.clone())) {
                Ok(()) => return Ok(Delivery::Sent),
                Err(TrySendError::Full(_)) => {
                    tracing::warn!(process_id = %self.info.process_id, generation = link.generation,
                        "connection is not reading; dropping it");
                    link.kill.cancel();
                }
                Err(TrySendError::Closed(_)) => {}
            }
            self.links.pop();
        }
        self.info.connections = 0;
        if self.pending.len() >= PENDING_PUSHES {
            return Err(ProcessError::Backlog(self.info.process_id.clone()));
        }
        self.pending.push_back(frame);
        Ok(Delivery::Queued)
    }

    /// Ends the process, closing every connection but `keep` with a normal close.
    fn end(&mut self, reason: EndReason, now: Timestamp, keep: Option<u64>) {
        self.info.status = ProcessStatus::Ended { at: now, reason };
        let (kept, others): (Vec<Link>, Vec<Link>) = self.links.drain(..).partition(|l| Some(l.generation) == keep);
        for link in others {
            if link.outbound.try_send(Outgoing::Close(1000, "server process ended")).is_err() {
                link.kill.cancel();
            }
        }
        self.links = kept;
        self.info.connections = self.links.len();
        self.pending.clear();
        self.token_digests.clear();
        self.replies.clear();
        self.committed = None;
    }

    fn begin_termination(&mut self, reason: EndReason, now: Timestamp) {
        self.info.status = ProcessStatus::Terminating { since: now, reason };
        let push = Push::TerminateProcess(TerminateProcess { termination_time: now.plus(TERMINATION_GRACE) });
        if let Err(error) = self.deliver(push.to_frame()) {
            tracing::warn!(process_id = %self.info.process_id, %error, "could not send TerminateProcess");
        }
    }
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_entry<T>(
        &self,
        process_id: &str,
        f: impl FnOnce(&mut Entry) -> Result<T, ProcessError>,
    ) -> Result<T, ProcessError> {
        self.lock().update(process_id, f)
    }

    /// Attaches a connection, registering the process on its first connection.
    pub(crate) fn attach(&self, a: Attach, now: Timestamp) -> Result<Attached, AttachError> {
        let mut state = self.lock();
        if state.retired.contains(&(a.fleet_id.clone(), a.compute_name.clone())) {
            return Err(AttachError::Deregistered(a.compute_name));
        }
        let State { processes, index, .. } = &mut *state;
        let entry = processes.entry(a.process_id.clone()).or_insert_with(|| Entry::new(&a, now));
        let before = entry.standing();
        if matches!(entry.info.status, ProcessStatus::Ended { .. }) {
            return Err(AttachError::Ended(a.process_id));
        }
        if entry.info.fleet_id != a.fleet_id || entry.info.compute_name != a.compute_name {
            return Err(AttachError::Foreign(a.process_id));
        }
        entry.info.sdk_language = a.sdk_language;
        entry.info.sdk_version = a.sdk_version;
        if let Some(digest) = a.token_digest
            && !entry.token_digests.contains(&digest)
        {
            if entry.token_digests.len() >= TOKENS_PER_PROCESS {
                entry.token_digests.pop_front();
            }
            entry.token_digests.push_back(digest);
        }
        entry.credential_expires = a.credential_expires;
        let (sender, outbound) = mpsc::channel(OUTBOUND_CAPACITY);
        for frame in entry.pending.drain(..) {
            // The channel is new and larger than the pending queue.
            let _ = sender.try_send(Outgoing::Frame(frame));
        }
        let generation = entry.next_generation;
        entry.next_generation += 1;
        let kill = CancellationToken::new();
        entry.links.push(Link { generation, outbound: sender, kill: kill.clone() });
        entry.info.connections = entry.links.len();
        entry.info.attachments += 1;
        entry.info.last_seen = now;
        index.apply(entry.place(), &before, &entry.standing());
        state.reschedule(&a.process_id);
        Ok(Attached { generation, outbound, kill })
    }

    /// Detaches a connection that closed; the process stays.
    pub(crate) fn detach(&self, process_id: &str, generation: u64, now: Timestamp) {
        let _known = self.with_entry(process_id, |entry| {
            entry.links.retain(|l| l.generation != generation);
            entry.info.connections = entry.links.len();
            entry.info.last_seen = now;
            Ok(())
        });
    }

    /// Whether a live process of this fleet and compute already authenticated with the
    /// token of this digest, so a reconnect may reuse it after it expired (section 5).
    pub(crate) fn knows_token(&self, process_id: &str, fleet_id: &str, compute_name: &str, digest: &str) -> bool {
        self.lock()
            .processes
            .get(process_id)
            .is_some_and(|e| e.live_on(fleet_id, compute_name) && e.token_digests.iter().any(|d| d == digest))
    }

    /// Whether a process of this ID is known and live on this fleet and compute, so that its
    /// SDK may reconnect with a SigV4 URL signed longer ago than the skew allows.
    pub(crate) fn is_live_on(&self, process_id: &str, fleet_id: &str, compute_name: &str) -> bool {
        self.lock().processes.get(process_id).is_some_and(|e| e.live_on(fleet_id, compute_name))
    }

    /// A snapshot of one process.
    pub fn get(&self, process_id: &str) -> Option<ProcessInfo> {
        self.lock().processes.get(process_id).map(|e| e.info.clone())
    }

    /// `ActivateServerProcess`: the process is ready; activation counts as a healthy heartbeat.
    pub(crate) fn activate(
        &self,
        process_id: &str,
        activation: Activation,
        now: Timestamp,
    ) -> Result<(), ProcessError> {
        self.with_entry(process_id, |e| {
            e.live()?;
            if matches!(e.info.status, ProcessStatus::Terminating { .. }) {
                return Err(ProcessError::Terminating(process_id.to_owned()));
            }
            let info = &mut e.info;
            if info.status == ProcessStatus::Connected {
                info.status = ProcessStatus::Active;
                info.activated_at = Some(now);
            }
            info.port = activation.port;
            info.log_paths = activation.log_paths;
            info.sdk_tool_name = activation.sdk_tool_name;
            info.sdk_tool_version = activation.sdk_tool_version;
            info.healthy = true;
            info.last_healthy = Some(now);
            Ok(())
        })
    }

    /// `HeartbeatServerProcess`: records the reported health.
    pub(crate) fn heartbeat(&self, process_id: &str, healthy: bool, now: Timestamp) -> Result<(), ProcessError> {
        self.with_entry(process_id, |e| {
            e.live()?;
            e.info.healthy = healthy;
            if healthy {
                e.info.last_healthy = Some(now);
            }
            Ok(())
        })
    }

    /// `TerminateServerProcess`: the process ends; connections other than `generation` close.
    pub(crate) fn end(&self, process_id: &str, generation: u64, now: Timestamp) -> Result<ProcessInfo, ProcessError> {
        self.with_entry(process_id, |e| {
            if let ProcessStatus::Ended { .. } = e.info.status {
                return Ok(e.info.clone());
            }
            e.end(EndReason::ProcessEnding, now, Some(generation));
            Ok(e.info.clone())
        })
    }

    /// The response already sent for this request ID, if any.
    pub(crate) fn cached_reply(&self, process_id: &str, request_id: &str) -> Option<String> {
        let state = self.lock();
        let entry = state.processes.get(process_id)?;
        entry.replies.iter().find(|(id, _)| id == request_id).map(|(_, frame)| frame.clone())
    }

    /// Remembers the response to a request ID (the oldest is forgotten past the cache size).
    pub(crate) fn remember_reply(&self, process_id: &str, request_id: &str, frame: &str) {
        if let Some(entry) = self.lock().processes.get_mut(process_id)
            && entry.live().is_ok()
        {
            if entry.replies.len() >= REPLY_CACHE_LEN {
                entry.replies.pop_front();
            }
            entry.replies.push_back((request_id.to_owned(), frame.to_owned()));
        }
    }

    /// Sends a push to the process's newest connection, or queues it while it has none.
    pub fn push(&self, process_id: &str, push: &Push) -> Result<Delivery, ProcessError> {
        self.deliver(process_id, push, None)
    }

    /// Sends `push` as [`push`](Self::push) does and, if it went out or was queued, keeps
    /// `committed` as the game session last pushed to the process.
    fn deliver(
        &self,
        process_id: &str,
        push: &Push,
        committed: Option<Versioned<GameSessionRecord>>,
    ) -> Result<Delivery, ProcessError> {
        let frame = push.to_frame();
        self.with_entry(process_id, |e| {
            e.live()?;
            let delivery = e.deliver(frame)?;
            if committed.is_some() {
                e.committed = committed;
            }
            Ok(delivery)
        })
    }

    /// Tells a process to terminate (`TerminateProcess`, termination time now +
    /// [`TERMINATION_GRACE`]); it is ended when it calls `ProcessEnding` or the grace runs out.
    pub fn terminate(&self, process_id: &str, now: Timestamp) -> Result<ProcessInfo, ProcessError> {
        self.with_entry(process_id, |e| {
            e.live()?;
            if !matches!(e.info.status, ProcessStatus::Terminating { .. }) {
                e.begin_termination(EndReason::ForceTerminated, now);
            }
            Ok(e.info.clone())
        })
    }

    /// Applies the timeouts: active processes without a healthy heartbeat for
    /// `heartbeat_timeout` are told to terminate, or ended at once when no connection can
    /// tell them (a process that died without `ProcessEnding`); terminating processes past
    /// [`TERMINATION_GRACE`] end; processes that never became ready and stayed
    /// disconnected for `heartbeat_timeout` are abandoned; old tombstones are forgotten.
    /// Connected active processes whose credential expires within [`REFRESH_MARGIN`] are
    /// listed for `RefreshConnection`, once per connection.
    ///
    /// Only the processes whose deadline has come are visited.
    pub fn sweep(&self, now: Timestamp, heartbeat_timeout: Duration) -> Swept {
        let mut swept = Swept::default();
        let mut state = self.lock();
        if state.heartbeat_timeout != Some(heartbeat_timeout) {
            state.heartbeat_timeout = Some(heartbeat_timeout);
            let all: Vec<String> = state.processes.keys().cloned().collect();
            for process_id in all {
                state.reschedule(&process_id);
            }
        }
        let due: Vec<String> =
            state.deadlines.iter().take_while(|(at, _)| *at <= now).map(|(_, id)| id.clone()).collect();
        for process_id in due {
            let State { processes, index, .. } = &mut *state;
            let Some(e) = processes.get_mut(&process_id) else { continue };
            let before = e.standing();
            let keep = Self::sweep_one(e, now, heartbeat_timeout, &mut swept);
            index.apply(e.place(), &before, &e.standing());
            if keep {
                state.reschedule(&process_id);
            } else {
                state.forget(&process_id);
            }
        }
        swept
    }

    /// Applies the timeouts to one process; `false` if its tombstone is to be forgotten.
    fn sweep_one(e: &mut Entry, now: Timestamp, heartbeat_timeout: Duration, swept: &mut Swept) -> bool {
        match e.info.status {
            ProcessStatus::Active => {
                let since = e.info.last_healthy.or(e.info.activated_at).unwrap_or(e.info.connected_at);
                if !passed(since, heartbeat_timeout, now) {
                    let expiring = e.credential_expires.is_some_and(|at| at <= now.plus(REFRESH_MARGIN));
                    if expiring && !e.links.is_empty() {
                        e.credential_expires = None;
                        swept.refresh.push(e.info.clone());
                    }
                    return true;
                }
                if e.links.is_empty() {
                    e.end(EndReason::Unhealthy, now, None);
                    swept.ended.push((e.info.clone(), Expiry::Unhealthy));
                } else {
                    e.begin_termination(EndReason::Unhealthy, now);
                    swept.unhealthy.push(e.info.clone());
                }
                true
            }
            ProcessStatus::Terminating { since, reason } => {
                if passed(since, TERMINATION_GRACE, now) {
                    e.end(reason, now, None);
                    swept.ended.push((e.info.clone(), Expiry::Grace));
                }
                true
            }
            ProcessStatus::Connected => {
                if e.links.is_empty() && passed(e.info.last_seen, heartbeat_timeout, now) {
                    e.end(EndReason::Abandoned, now, None);
                    swept.ended.push((e.info.clone(), Expiry::Abandoned));
                }
                true
            }
            ProcessStatus::Ended { at, .. } => !passed(at, TOMBSTONE_RETENTION, now),
        }
    }
}

#[path = "registry_index.rs"]
mod index;
#[path = "registry_placement.rs"]
mod placement;

#[path = "registry_restore.rs"]
mod restore;
pub(crate) use restore::Endpoint;

#[path = "registry_agent.rs"]
mod agent;

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "registry_index_tests.rs"]
mod index_tests;
