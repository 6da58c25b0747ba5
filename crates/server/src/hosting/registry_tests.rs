//! Unit tests of the process registry: reconnects, pushes, claims and timeouts.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use openlift_model::Timestamp;

use super::*;
use crate::hosting::Claim;

const TIMEOUT: Duration = Duration::from_secs(180);
const TOKEN_LIFETIME: Duration = Duration::from_secs(3 * 60 * 60);

fn t0() -> Timestamp {
    Timestamp::from_millis(1_767_225_600_000)
}

fn attach(registry: &Registry, pid: &str, location: &str, now: Timestamp) -> Attached {
    registry
        .attach(
            Attach {
                process_id: pid.into(),
                fleet_id: "fleet-1".into(),
                compute_name: format!("host-{location}"),
                location: location.into(),
                certificate_path: None,
                ip_address: Some("10.0.0.1".into()),
                dns_name: None,
                sdk_language: "Go".into(),
                sdk_version: "5.6.0".into(),
                token_digest: Some(format!("digest-{pid}")),
                credential_expires: Some(now.plus(TOKEN_LIFETIME)),
            },
            now,
        )
        .expect("attach")
}

fn ready(registry: &Registry, pid: &str, location: &str, now: Timestamp) -> Attached {
    let attached = attach(registry, pid, location, now);
    registry.activate(pid, Activation { port: Some(7777), ..Default::default() }, now).unwrap();
    attached
}

fn next_frame(attached: &mut Attached) -> Outgoing {
    attached.outbound.try_recv().expect("a frame for the connection")
}

#[test]
fn a_reconnect_keeps_readiness_and_the_game_session() {
    let registry = Registry::default();
    let first = ready(&registry, "p1", "custom-a", t0());
    registry.claim("fleet-1", "custom-a", "gs-1", t0()).unwrap().commit();
    registry.detach("p1", first.generation, t0());
    assert_eq!(registry.get("p1").unwrap().connections, 0);
    let second = attach(&registry, "p1", "custom-a", t0());
    let info = registry.get("p1").unwrap();
    assert_eq!(info.status, ProcessStatus::Active);
    assert_eq!(info.port, Some(7777));
    assert_eq!(info.game_session.unwrap().game_session_id, "gs-1");
    assert!(second.generation > first.generation);
}

#[test]
fn an_ended_or_foreign_process_id_cannot_attach() {
    let registry = Registry::default();
    let attached = ready(&registry, "p1", "custom-a", t0());
    registry.end("p1", attached.generation, t0()).unwrap();
    let again = Attach {
        process_id: "p1".into(),
        fleet_id: "fleet-1".into(),
        compute_name: "host-custom-a".into(),
        location: "custom-a".into(),
        certificate_path: None,
        ip_address: None,
        dns_name: None,
        sdk_language: "Go".into(),
        sdk_version: "5.6.0".into(),
        token_digest: None,
        credential_expires: None,
    };
    assert_eq!(registry.attach(again.clone(), t0()).err(), Some(AttachError::Ended("p1".into())));
    ready(&registry, "p2", "custom-a", t0());
    let foreign = Attach { process_id: "p2".into(), compute_name: "other".into(), ..again };
    assert_eq!(registry.attach(foreign, t0()).err(), Some(AttachError::Foreign("p2".into())));
}

#[test]
fn ending_closes_the_other_connections_normally() {
    let registry = Registry::default();
    let mut old = ready(&registry, "p1", "custom-a", t0());
    let current = attach(&registry, "p1", "custom-a", t0());
    registry.end("p1", current.generation, t0()).unwrap();
    assert_eq!(next_frame(&mut old), Outgoing::Close(1000, "server process ended"));
    assert!(matches!(
        registry.get("p1").unwrap().status,
        ProcessStatus::Ended { reason: EndReason::ProcessEnding, .. }
    ));
}

#[test]
fn pushes_go_to_the_newest_connection_and_wait_while_none_is_attached() {
    let registry = Registry::default();
    let mut old = ready(&registry, "p1", "custom-a", t0());
    let mut new = attach(&registry, "p1", "custom-a", t0());
    let push = Push::TerminateProcess(TerminateProcess { termination_time: t0() });
    assert_eq!(registry.push("p1", &push), Ok(Delivery::Sent));
    assert_eq!(next_frame(&mut new), Outgoing::Frame(push.to_frame()));
    assert!(old.outbound.try_recv().is_err());

    registry.detach("p1", new.generation, t0());
    drop(new);
    assert_eq!(registry.push("p1", &push), Ok(Delivery::Sent));
    assert_eq!(next_frame(&mut old), Outgoing::Frame(push.to_frame()));

    registry.detach("p1", old.generation, t0());
    assert_eq!(registry.push("p1", &push), Ok(Delivery::Queued));
    let mut back = attach(&registry, "p1", "custom-a", t0());
    assert_eq!(next_frame(&mut back), Outgoing::Frame(push.to_frame()));
    assert_eq!(registry.push("nobody", &push), Err(ProcessError::Unknown("nobody".into())));
}

#[test]
fn a_connection_that_stops_reading_is_dropped_and_the_push_queued() {
    let registry = Registry::default();
    let stuck = ready(&registry, "p1", "custom-a", t0());
    let push = Push::TerminateProcess(TerminateProcess { termination_time: t0() });
    for _ in 0..OUTBOUND_CAPACITY {
        assert_eq!(registry.push("p1", &push), Ok(Delivery::Sent));
    }
    assert_eq!(registry.push("p1", &push), Ok(Delivery::Queued));
    assert!(stuck.kill.is_cancelled());
}

#[test]
fn claims_pick_only_active_healthy_idle_processes_of_the_location() {
    let registry = Registry::default();
    attach(&registry, "connected-only", "custom-a", t0());
    ready(&registry, "elsewhere", "custom-b", t0());
    ready(&registry, "sick", "custom-a", t0());
    registry.heartbeat("sick", false, t0()).unwrap();
    assert_eq!(registry.claim("fleet-1", "custom-a", "gs-1", t0()).map(Claim::commit), None);

    ready(&registry, "good", "custom-a", t0());
    let claimed = registry.claim("fleet-1", "custom-a", "gs-1", t0()).unwrap().commit();
    assert_eq!(claimed.process_id, "good");
    assert_eq!(registry.claim("fleet-1", "custom-a", "gs-2", t0()).map(Claim::commit), None);
    assert!(registry.hosts("good", "gs-1"));
    assert!(!registry.release("good", "gs-other"));
    assert!(registry.release("good", "gs-1"));
    assert_eq!(registry.claim("fleet-1", "custom-a", "gs-3", t0()).unwrap().commit().process_id, "good");
}

#[test]
fn a_claim_dropped_uncommitted_releases_the_process_and_a_committed_one_keeps_it() {
    let registry = Registry::default();
    ready(&registry, "p1", "custom-a", t0());
    let claim = registry.claim("fleet-1", "custom-a", "gs-1", t0()).unwrap();
    assert_eq!(claim.process_id, "p1");
    assert!(registry.hosts("p1", "gs-1"));
    assert!(registry.claim("fleet-1", "custom-a", "gs-2", t0()).is_none(), "held while the claim lives");
    drop(claim);
    assert_eq!(registry.get("p1").unwrap().game_session, None);

    let committed = registry.claim("fleet-1", "custom-a", "gs-3", t0()).unwrap().commit();
    assert_eq!(committed.process_id, "p1");
    assert!(registry.hosts("p1", "gs-3"));
    assert!(registry.claim("fleet-1", "custom-a", "gs-4", t0()).is_none(), "a committed claim keeps the process");
}

#[test]
fn the_pushed_session_is_kept_for_its_activation_once_while_the_process_lives() {
    let registry = Registry::default();
    let mut connection = ready(&registry, "p1", "custom-a", t0());
    registry.claim("fleet-1", "custom-a", "gs-1", t0()).unwrap().commit();
    let record = GameSessionRecord {
        game_session: openlift_model::GameSession { game_session_id: Some("gs-1".into()), ..Default::default() },
        protection_policy: openlift_model::ProtectionPolicy::NoProtection,
        process_id: Some("p1".into()),
        idempotency_token: None,
        request_digest: String::new(),
        log_paths: Vec::new(),
    };
    let committed = Versioned { value: record, version: 1 };
    let push = Push::TerminateProcess(TerminateProcess { termination_time: t0() });
    assert_eq!(registry.push_session("p1", &push, committed.clone()), Ok(Delivery::Sent));
    assert_eq!(next_frame(&mut connection), Outgoing::Frame(push.to_frame()));

    assert_eq!(registry.take_committed("p1", "gs-other"), None);
    assert_eq!(registry.take_committed("p1", "gs-1"), Some(committed.clone()));
    assert_eq!(registry.take_committed("p1", "gs-1"), None, "handed out once");
    assert_eq!(registry.take_committed("nobody", "gs-1"), None);

    registry.push_session("p1", &push, committed.clone()).unwrap();
    assert_eq!(registry.push("p1", &push), Ok(Delivery::Sent));
    assert_eq!(registry.take_committed("p1", "gs-1"), Some(committed.clone()), "other pushes keep it");
    registry.push_session("p1", &push, committed).unwrap();
    registry.end("p1", connection.generation, t0()).unwrap();
    assert_eq!(registry.take_committed("p1", "gs-1"), None, "an ended process keeps none");
}

#[test]
fn concurrent_claims_never_hand_out_one_process_twice() {
    let registry = Arc::new(Registry::default());
    let processes = 40;
    let mut connections = Vec::new();
    for i in 0..processes {
        connections.push(ready(&registry, &format!("p{i}"), "custom-a", t0()));
    }
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let registry = registry.clone();
            std::thread::spawn(move || {
                let mut won = Vec::new();
                for attempt in 0..20 {
                    if let Some(claim) = registry.claim("fleet-1", "custom-a", &format!("gs-{thread}-{attempt}"), t0())
                    {
                        let info = claim.commit();
                        won.push((info.process_id, info.game_session.unwrap().game_session_id));
                    }
                }
                won
            })
        })
        .collect();
    let won: Vec<(String, String)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(won.len(), processes);
    let distinct: HashSet<&String> = won.iter().map(|(pid, _)| pid).collect();
    assert_eq!(distinct.len(), processes);
    for (pid, game_session) in &won {
        assert!(registry.hosts(pid, game_session));
    }
}

#[test]
fn a_process_without_a_healthy_heartbeat_is_told_to_terminate_then_ended() {
    let registry = Registry::default();
    let mut connection = ready(&registry, "p1", "custom-a", t0());
    let later = t0().plus(Duration::from_secs(120));
    registry.heartbeat("p1", false, later).unwrap();
    assert!(registry.sweep(t0().plus(Duration::from_secs(179)), TIMEOUT).unhealthy.is_empty());

    let due = t0().plus(TIMEOUT);
    let swept = registry.sweep(due, TIMEOUT);
    assert_eq!(swept.unhealthy.len(), 1);
    let expected = Push::TerminateProcess(TerminateProcess { termination_time: due.plus(TERMINATION_GRACE) });
    assert_eq!(next_frame(&mut connection), Outgoing::Frame(expected.to_frame()));
    assert!(matches!(registry.get("p1").unwrap().status, ProcessStatus::Terminating { .. }));
    assert_eq!(registry.usage("fleet-1", None).active_server_processes, 0);
    assert!(registry.sweep(due.plus(Duration::from_secs(1)), TIMEOUT).unhealthy.is_empty());

    let swept = registry.sweep(due.plus(TERMINATION_GRACE), TIMEOUT);
    assert_eq!(swept.ended.len(), 1);
    assert_eq!(next_frame(&mut connection), Outgoing::Close(1000, "server process ended"));
    assert!(matches!(registry.get("p1").unwrap().status, ProcessStatus::Ended { reason: EndReason::Unhealthy, .. }));

    registry.sweep(due.plus(TERMINATION_GRACE).plus(TOMBSTONE_RETENTION), TIMEOUT);
    assert_eq!(registry.get("p1"), None);
}

#[test]
fn a_sweep_with_another_heartbeat_timeout_applies_it_to_every_process() {
    let registry = Registry::default();
    let _connection = ready(&registry, "p1", "custom-a", t0());
    let short = Duration::from_secs(30);
    assert!(registry.sweep(t0().plus(short), TIMEOUT).unhealthy.is_empty(), "within the long timeout");
    let swept = registry.sweep(t0().plus(short), short);
    assert_eq!(swept.unhealthy.len(), 1, "past the short one");
}

#[test]
fn a_process_without_a_healthy_heartbeat_nor_a_connection_ends_at_once() {
    let registry = Registry::default();
    let connection = ready(&registry, "p1", "custom-a", t0());
    registry.claim("fleet-1", "custom-a", "gs-1", t0()).unwrap().commit();
    registry.detach("p1", connection.generation, t0().plus(Duration::from_secs(10)));
    assert!(registry.sweep(t0().plus(Duration::from_secs(179)), TIMEOUT).ended.is_empty());

    let swept = registry.sweep(t0().plus(TIMEOUT), TIMEOUT);
    assert!(swept.unhealthy.is_empty(), "nobody to tell TerminateProcess");
    let [(info, expiry)] = &swept.ended[..] else { panic!("one process ends: {swept:?}") };
    assert_eq!(*expiry, Expiry::Unhealthy);
    assert_eq!(info.status, ProcessStatus::Ended { at: t0().plus(TIMEOUT), reason: EndReason::Unhealthy });
    assert_eq!(info.game_session.as_ref().map(|s| s.game_session_id.as_str()), Some("gs-1"));
    assert_eq!(registry.usage("fleet-1", None), Usage::default());
}

#[test]
fn a_connected_ready_process_is_listed_for_refresh_once_its_credential_nears_expiry() {
    let registry = Registry::default();
    let connection = ready(&registry, "p1", "custom-a", t0());
    attach(&registry, "p2", "custom-a", t0());
    let early = t0().plus(TOKEN_LIFETIME - REFRESH_MARGIN - Duration::from_secs(1));
    registry.heartbeat("p1", true, early).unwrap();
    assert!(registry.sweep(early, TIMEOUT).refresh.is_empty());

    let due = early.plus(Duration::from_secs(1));
    registry.heartbeat("p1", true, due).unwrap();
    let refresh: Vec<String> = registry.sweep(due, TIMEOUT).refresh.into_iter().map(|i| i.process_id).collect();
    assert_eq!(refresh, ["p1"], "only ready processes are refreshed");
    assert!(registry.sweep(due, TIMEOUT).refresh.is_empty(), "once per connection");

    registry.detach("p1", connection.generation, due);
    attach(&registry, "p1", "custom-a", due.minus(TOKEN_LIFETIME));
    let again = registry.sweep(due, TIMEOUT).refresh;
    assert_eq!(again.len(), 1, "a reconnect with an old credential is refreshed again");
}

#[test]
fn healthy_heartbeats_keep_a_process_active() {
    let registry = Registry::default();
    ready(&registry, "p1", "custom-a", t0());
    for minute in 1..10 {
        let now = t0().plus(Duration::from_secs(60 * minute));
        registry.heartbeat("p1", true, now).unwrap();
        assert!(registry.sweep(now, TIMEOUT).unhealthy.is_empty());
    }
    assert_eq!(registry.get("p1").unwrap().status, ProcessStatus::Active);
}

#[test]
fn a_process_that_never_became_ready_and_left_is_abandoned() {
    let registry = Registry::default();
    let connection = attach(&registry, "p1", "custom-a", t0());
    assert!(registry.sweep(t0().plus(TIMEOUT), TIMEOUT).ended.is_empty(), "still connected");
    registry.detach("p1", connection.generation, t0());
    let swept = registry.sweep(t0().plus(TIMEOUT), TIMEOUT);
    assert_eq!(swept.ended.len(), 1);
    assert!(matches!(registry.get("p1").unwrap().status, ProcessStatus::Ended { reason: EndReason::Abandoned, .. }));
}

#[test]
fn replies_are_remembered_per_process_within_a_bound() {
    let registry = Registry::default();
    ready(&registry, "p1", "custom-a", t0());
    for i in 0..=REPLY_CACHE_LEN {
        registry.remember_reply("p1", &format!("r{i}"), &format!("frame {i}"));
    }
    assert_eq!(registry.cached_reply("p1", "r0"), None);
    assert_eq!(registry.cached_reply("p1", "r1").as_deref(), Some("frame 1"));
    assert_eq!(registry.cached_reply("p2", "r1"), None);
}

#[test]
fn a_token_is_known_only_to_its_live_process() {
    let registry = Registry::default();
    let connection = ready(&registry, "p1", "custom-a", t0());
    assert!(registry.knows_token("p1", "fleet-1", "host-custom-a", "digest-p1"));
    assert!(!registry.knows_token("p1", "fleet-1", "host-other", "digest-p1"));
    assert!(!registry.knows_token("p1", "fleet-1", "host-custom-a", "digest-p2"));
    registry.end("p1", connection.generation, t0()).unwrap();
    assert!(!registry.knows_token("p1", "fleet-1", "host-custom-a", "digest-p1"));
}

#[test]
fn usage_counts_active_processes_and_their_game_sessions() {
    let registry = Registry::default();
    ready(&registry, "p1", "custom-a", t0());
    ready(&registry, "p2", "custom-a", t0());
    ready(&registry, "p3", "custom-b", t0());
    attach(&registry, "p4", "custom-b", t0());
    registry.claim("fleet-1", "custom-b", "gs-1", t0()).unwrap().commit();
    assert_eq!(registry.usage("fleet-1", Some("custom-a")).active_server_processes, 2);
    let all = registry.usage("fleet-1", None);
    assert_eq!((all.active_server_processes, all.game_sessions), (3, 1));
    assert_eq!(all.busy_computes.into_iter().collect::<Vec<_>>(), ["host-custom-b"]);
    assert_eq!(registry.usage("fleet-2", None), Usage::default());
}
