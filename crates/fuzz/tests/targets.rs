//! Every fuzz target over its whole seed corpus and a few thousand mutations of it, with
//! a fixed seed: what CI runs on each change (`cargo test -p openlift-fuzz`).

use openlift_fuzz::targets::{TARGETS, Target, target, verify_text};
use openlift_fuzz::{Budget, corpus, fuzz};

/// Mutations per target; together the run stays within a few seconds.
const MUTATIONS: u64 = 3000;

fn run(target: &Target) {
    let seeds = corpus(target).expect("the corpus directory");
    assert!(seeds.len() >= 3, "{}: a corpus of a few real inputs", target.name);
    let report = fuzz(target, &seeds, Budget::Executions(MUTATIONS), 0x0de1f7);
    assert_eq!(report.executions, seeds.len() as u64 + MUTATIONS);
    let findings: Vec<String> =
        report.findings.iter().map(|f| format!("{} on {:?}", f.message, String::from_utf8_lossy(&f.input))).collect();
    assert!(findings.is_empty(), "{}: {findings:#?}", target.name);
}

#[test]
fn every_target_survives_its_corpus_and_mutations() {
    for target in TARGETS {
        run(target);
    }
}

#[test]
fn the_sigv4_seeds_are_real_signed_requests() {
    let target = target("sigv4").expect("the sigv4 target");
    for seed in corpus(target).expect("the corpus") {
        let verified = verify_text(&seed).expect("a seed is an HTTP request");
        assert_eq!(verified.as_deref(), Ok("AKIDEXAMPLE"), "{}", String::from_utf8_lossy(&seed));
    }
}

#[test]
fn a_panicking_target_is_a_finding_with_its_input() {
    fn fragile(data: &[u8]) {
        assert!(!data.contains(&b'!'), "found the bang");
    }
    let target = Target { name: "fragile", about: "panics on '!'", run: fragile, dictionary: &[b"!"] };
    let report = fuzz(&target, &[b"hello".to_vec()], Budget::Executions(2000), 1);
    assert_eq!(report.findings.len(), 1, "one finding per distinct message");
    assert!(report.findings[0].input.contains(&b'!'));
    assert!(report.findings[0].message.starts_with("found the bang at "), "{}", report.findings[0].message);
}
