//! Unit tests of the placement index: the order of preference, the activation limit,
//! impaired and deregistered computes, and agreement with a full scan after random changes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use openlift_model::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::hosting::Claim;

fn t0() -> Timestamp {
    Timestamp::from_millis(1_767_225_600_000)
}

fn at(seconds: u64) -> Timestamp {
    t0().plus(Duration::from_secs(seconds))
}

fn attach_on(registry: &Registry, pid: &str, compute: &str, location: &str, now: Timestamp) -> Attached {
    let a = Attach {
        process_id: pid.into(),
        fleet_id: "fleet-1".into(),
        compute_name: compute.into(),
        location: location.into(),
        certificate_path: None,
        ip_address: Some(format!("ip-of-{compute}")),
        dns_name: None,
        sdk_language: "Rust".into(),
        sdk_version: "5.0.0".into(),
        token_digest: None,
        credential_expires: None,
    };
    registry.attach(a, now).expect("attach")
}

fn ready_on(registry: &Registry, pid: &str, compute: &str, now: Timestamp) -> Attached {
    let attached = attach_on(registry, pid, compute, "custom-a", now);
    registry.activate(pid, Activation::default(), now).unwrap();
    attached
}

fn claim(registry: &Registry, gs: &str, limit: Option<u32>) -> Option<String> {
    registry.claim_within("fleet-1", "custom-a", gs, t0(), limit).map(|c| c.commit().process_id)
}

#[test]
fn claims_pass_over_disconnected_processes_and_take_the_one_ready_the_longest() {
    let registry = Registry::default();
    let early = ready_on(&registry, "early", "c1", at(1));
    ready_on(&registry, "late", "c2", at(3));
    ready_on(&registry, "b-middle", "c1", at(2));
    ready_on(&registry, "a-middle", "c2", at(2));
    registry.detach("early", early.generation, at(4));

    let order: Vec<_> = (0..3).map(|i| claim(&registry, &format!("gs-{i}"), None).unwrap()).collect();
    assert_eq!(order, ["a-middle", "b-middle", "late"]);
    assert_eq!(claim(&registry, "gs-3", None), None, "a process whose connection is down gets nothing");
    attach_on(&registry, "early", "c1", "custom-a", at(5));
    assert_eq!(claim(&registry, "gs-3", None).as_deref(), Some("early"), "until it reconnects");
}

#[test]
fn a_claim_carries_the_compute_endpoint_given_at_attach() {
    let registry = Registry::default();
    ready_on(&registry, "p1", "c1", t0());
    let claimed = registry.claim_within("fleet-1", "custom-a", "gs-1", t0(), None).unwrap().commit();
    assert_eq!(claimed.ip_address.as_deref(), Some("ip-of-c1"));
}

#[test]
fn a_compute_at_the_activation_limit_gets_nothing_until_a_session_activates_or_ends() {
    let registry = Registry::default();
    for (i, pid) in ["a1", "a2", "a3", "a4"].iter().enumerate() {
        ready_on(&registry, pid, "busy", at(i as u64));
    }
    ready_on(&registry, "b1", "other", at(10));

    assert_eq!(claim(&registry, "gs-1", Some(2)).as_deref(), Some("a1"));
    assert_eq!(claim(&registry, "gs-2", Some(2)).as_deref(), Some("a2"));
    assert_eq!(claim(&registry, "gs-3", Some(2)).as_deref(), Some("b1"), "busy has two activating");
    assert_eq!(claim(&registry, "gs-4", Some(2)), None);

    registry.activate_game_session("a1", "gs-1").unwrap();
    assert_eq!(claim(&registry, "gs-4", Some(2)).as_deref(), Some("a3"));
    assert_eq!(claim(&registry, "gs-5", Some(2)), None);

    let a2 = registry.get("a2").unwrap();
    assert_eq!(a2.status, ProcessStatus::Active);
    registry.terminate("a2", at(20)).unwrap();
    assert_eq!(claim(&registry, "gs-5", Some(2)).as_deref(), Some("a4"), "a terminating process ends its session");
}

#[test]
fn a_released_claim_and_a_changed_limit_reopen_a_compute() {
    let registry = Registry::default();
    for (i, pid) in ["p1", "p2", "p3"].iter().enumerate() {
        ready_on(&registry, pid, "c1", at(i as u64));
    }
    assert_eq!(claim(&registry, "gs-1", Some(1)).as_deref(), Some("p1"));
    assert_eq!(claim(&registry, "gs-2", Some(1)), None);
    assert!(registry.release("p1", "gs-1"));
    assert_eq!(claim(&registry, "gs-2", Some(1)).as_deref(), Some("p1"));
    assert_eq!(
        registry.claim("fleet-1", "custom-a", "gs-3", t0()).map(Claim::commit),
        None,
        "the last limit still applies"
    );
    assert_eq!(claim(&registry, "gs-3", Some(2)).as_deref(), Some("p2"));
    assert_eq!(claim(&registry, "gs-4", Some(2)), None);
    assert_eq!(claim(&registry, "gs-4", None).as_deref(), Some("p3"));
}

#[test]
fn an_impaired_compute_is_held_out_of_placement_until_it_is_let_back() {
    let registry = Registry::default();
    ready_on(&registry, "silent-1", "silent", t0());
    ready_on(&registry, "silent-2", "silent", at(1));
    ready_on(&registry, "live-1", "live", at(5));
    registry.set_compute_impaired("fleet-1", "silent", true);
    assert_eq!(claim(&registry, "gs-1", None).as_deref(), Some("live-1"));
    assert_eq!(claim(&registry, "gs-2", None), None, "both idle processes are on the impaired compute");
    ready_on(&registry, "silent-3", "silent", at(6));
    assert_eq!(claim(&registry, "gs-2", Some(3)), None, "still held after new processes and a new limit");
    registry.set_compute_impaired("fleet-1", "silent", false);
    assert_eq!(claim(&registry, "gs-2", None).as_deref(), Some("silent-1"));
}

#[test]
fn a_deregistered_computes_processes_end_and_cannot_attach_again() {
    let registry = Registry::default();
    let mut gone = ready_on(&registry, "gone-1", "gone", t0());
    ready_on(&registry, "kept-1", "kept", at(5));
    let ended = registry.retire_compute("fleet-1", "gone", at(7));
    assert_eq!(ended.iter().map(|i| i.process_id.as_str()).collect::<Vec<_>>(), ["gone-1"]);
    let status = registry.get("gone-1").unwrap().status;
    assert_eq!(status, ProcessStatus::Ended { at: at(7), reason: EndReason::Deregistered });
    let told = Push::TerminateProcess(TerminateProcess { termination_time: at(7) });
    assert_eq!(gone.outbound.try_recv().unwrap(), Outgoing::Frame(told.to_frame()));
    assert_eq!(gone.outbound.try_recv().unwrap(), Outgoing::Close(1000, "server process ended"));
    assert!(registry.retire_compute("fleet-1", "gone", at(8)).is_empty(), "a process ends once");
    assert_eq!(claim(&registry, "gs-1", None).as_deref(), Some("kept-1"));
    assert_eq!(claim(&registry, "gs-2", None), None);
    let refused = registry.attach(
        Attach {
            process_id: "gone-2".into(),
            fleet_id: "fleet-1".into(),
            compute_name: "gone".into(),
            location: "custom-a".into(),
            certificate_path: None,
            ip_address: None,
            dns_name: None,
            sdk_language: "Rust".into(),
            sdk_version: "5.0.0".into(),
            token_digest: None,
            credential_expires: None,
        },
        t0(),
    );
    assert_eq!(refused.err(), Some(AttachError::Deregistered("gone".into())));
    registry.compute_registered("fleet-1", "gone");
    ready_on(&registry, "gone-2", "gone", at(6));
    assert_eq!(claim(&registry, "gs-2", None).as_deref(), Some("gone-2"));
}

#[test]
fn concurrent_claims_within_a_limit_never_share_a_process_nor_overfill_a_compute() {
    let registry = Arc::new(Registry::default());
    let mut connections = Vec::new();
    for i in 0..60 {
        connections.push(ready_on(&registry, &format!("p{i}"), &format!("c{}", i % 6), at(i)));
    }
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let registry = registry.clone();
            std::thread::spawn(move || {
                (0..20)
                    .filter_map(|attempt| {
                        registry
                            .claim_within("fleet-1", "custom-a", &format!("gs-{thread}-{attempt}"), t0(), Some(3))
                            .map(Claim::commit)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let won: Vec<ProcessInfo> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(won.len(), 18, "six computes, three activations each");
    let distinct: HashSet<&str> = won.iter().map(|i| i.process_id.as_str()).collect();
    assert_eq!(distinct.len(), won.len());
    let mut per_compute: HashMap<&str, usize> = HashMap::new();
    for info in &won {
        *per_compute.entry(info.compute_name.as_str()).or_default() += 1;
    }
    assert!(per_compute.values().all(|&n| n == 3), "{per_compute:?}");
}

/// The process a full scan would pick: the old claim, plus the activation limit.
fn scan(registry: &Registry, pids: &[String], location: &str, limit: Option<u32>) -> Option<String> {
    let infos: Vec<ProcessInfo> = pids.iter().filter_map(|p| registry.get(p)).collect();
    let mut activating: HashMap<&str, u32> = HashMap::new();
    for i in &infos {
        if i.status == ProcessStatus::Active && i.game_session.as_ref().is_some_and(|s| !s.activated) {
            *activating.entry(i.compute_name.as_str()).or_default() += 1;
        }
    }
    infos
        .iter()
        .filter(|i| {
            i.location == location
                && i.status == ProcessStatus::Active
                && i.healthy
                && i.connections > 0
                && i.game_session.is_none()
                && limit.is_none_or(|l| activating.get(i.compute_name.as_str()).copied().unwrap_or(0) < l)
        })
        .min_by_key(|i| (i.activated_at, i.process_id.clone()))
        .map(|i| i.process_id.clone())
}

#[test]
fn the_index_agrees_with_a_full_scan_after_random_changes() {
    let mut rng = StdRng::seed_from_u64(4);
    let registry = Registry::default();
    let mut pids: Vec<String> = Vec::new();
    let mut links: HashMap<String, Vec<Attached>> = HashMap::new();
    let limits = [None, Some(1), Some(2)];
    let mut limit = None;
    let mut second = 0;
    let (mut placed, mut refused) = (0, 0);
    for step in 0..3000 {
        second += rng.gen_range(0..3);
        let now = at(second);
        let pid = if pids.is_empty() || rng.gen_bool(0.1) {
            let pid = format!("p{step}");
            let location = if rng.gen_bool(0.5) { "custom-a" } else { "custom-b" };
            let compute = format!("{location}-c{}", rng.gen_range(0..3));
            links.entry(pid.clone()).or_default().push(attach_on(&registry, &pid, &compute, location, now));
            pids.push(pid.clone());
            pid
        } else {
            pids[rng.gen_range(0..pids.len())].clone()
        };
        let gs = format!("gs-{pid}");
        match rng.gen_range(0..10) {
            0 => {
                let _ = registry.activate(&pid, Activation::default(), now);
            }
            1 => {
                let _ = registry.heartbeat(&pid, rng.gen_bool(0.7), now);
            }
            2 => {
                if let Some(link) = links.get_mut(&pid).and_then(Vec::pop) {
                    registry.detach(&pid, link.generation, now);
                }
            }
            3 => {
                let info = registry.get(&pid).unwrap();
                if let Ok(link) = registry.attach(
                    Attach {
                        process_id: pid.clone(),
                        fleet_id: info.fleet_id,
                        compute_name: info.compute_name,
                        location: info.location,
                        certificate_path: None,
                        ip_address: None,
                        dns_name: None,
                        sdk_language: "Rust".into(),
                        sdk_version: "5.0.0".into(),
                        token_digest: None,
                        credential_expires: None,
                    },
                    now,
                ) {
                    links.entry(pid.clone()).or_default().push(link);
                }
            }
            4 => {
                limit = limits[rng.gen_range(0..limits.len())];
                let location = if rng.gen_bool(0.5) { "custom-a" } else { "custom-b" };
                let expected = scan(&registry, &pids, location, limit);
                let claimed = registry.claim_within("fleet-1", location, &format!("gs-{step}"), now, limit);
                assert_eq!(claimed.map(|c| c.commit().process_id), expected, "step {step}");
                if expected.is_some() { placed += 1 } else { refused += 1 }
            }
            5 => {
                let held = registry.get(&pid).unwrap().game_session.map_or(gs, |s| s.game_session_id);
                registry.release(&pid, &held);
            }
            6 => {
                if let Some(slot) = registry.get(&pid).unwrap().game_session {
                    let _ = registry.activate_game_session(&pid, &slot.game_session_id);
                }
            }
            7 => {
                let _ = registry.terminate(&pid, now);
            }
            8 => {
                let generation = links.get(&pid).and_then(|l| l.last()).map_or(0, |l| l.generation);
                let _ = registry.end(&pid, generation, now);
            }
            _ => {
                registry.sweep(now, Duration::from_secs(30));
            }
        }
        for location in ["custom-a", "custom-b"] {
            let best = registry.lock().index.best("fleet-1", location).map(str::to_owned);
            assert_eq!(best, scan(&registry, &pids, location, limit), "step {step}, {location}");
        }
    }
    assert!(placed > 25 && refused > 25, "the walk should both place and refuse: {placed} / {refused}");
}
