//! Mutation fuzzing of openlift's parsers on the stable toolchain.
//!
//! Each [`Target`](targets::Target) feeds bytes to one parser that reads untrusted input
//! (the awsJson and CBOR decoders with the input shapes, SigV4, the search grammar, and the
//! SDK and agent frame readers). [`fuzz`] runs a target over its seed corpus
//! (`corpus/<target>/`) and then over mutations of it until a budget is spent, catching
//! panics: every panic is a finding, saved with the message that names it.

pub mod mutate;
pub mod targets;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use mutate::Mutator;
use targets::Target;

/// Where the seed corpus lives: one directory per target.
pub const CORPUS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus");

/// How long a run goes on.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// Until this much time has passed.
    Time(Duration),
    /// For this many mutated inputs.
    Executions(u64),
}

/// An input that made a target panic.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The input.
    pub input: Vec<u8>,
    /// The panic message and where it was raised.
    pub message: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs run: seeds and mutations.
    pub executions: u64,
    /// Inputs that panicked (at most one per distinct message).
    pub findings: Vec<Finding>,
}

/// The seed inputs of `target`, sorted by file name.
pub fn corpus(target: &Target) -> std::io::Result<Vec<Vec<u8>>> {
    let dir = Path::new(CORPUS_DIR).join(target.name);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    paths.sort();
    paths.iter().map(std::fs::read).collect()
}

thread_local! {
    /// The message of the last panic on this thread, recorded by the quiet hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `target` on every seed, then on mutations of them (from RNG seed `seed`) until
/// `budget` is spent.
pub fn fuzz(target: &Target, seeds: &[Vec<u8>], budget: Budget, seed: u64) -> Report {
    // The panic hook is process-wide: runs on several threads (tests) take turns, so each
    // puts back the hook it found.
    static HOOK: Mutex<()> = Mutex::new(());
    let _turn = HOOK.lock().unwrap_or_else(PoisonError::into_inner);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(format!("{payload}{location}")));
    }));
    let mut report = Report::default();
    for input in seeds {
        run_one(target, input, &mut report);
    }
    if !seeds.is_empty() {
        let mut mutator = Mutator::new(seeds, target.dictionary, seed);
        let started = Instant::now();
        let mut mutated = 0;
        loop {
            let done = match budget {
                Budget::Time(limit) => mutated % 64 == 0 && started.elapsed() >= limit,
                Budget::Executions(limit) => mutated >= limit,
            };
            if done {
                break;
            }
            run_one(target, &mutator.next_input(), &mut report);
            mutated += 1;
        }
    }
    panic::set_hook(previous);
    report
}

fn run_one(target: &Target, input: &[u8], report: &mut Report) {
    report.executions += 1;
    if panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input))).is_ok() {
        return;
    }
    let message = LAST_PANIC.with(|last| last.borrow_mut().take()).unwrap_or_default();
    if !report.findings.iter().any(|f| f.message == message) {
        report.findings.push(Finding { input: input.to_vec(), message });
    }
}

/// Saves `finding` of `target` as `<dir>/<target>-<hash of the input>`; returns the path.
pub fn save(dir: &Path, target: &Target, finding: &Finding) -> std::io::Result<PathBuf> {
    // FNV-1a: a stable name, so the same input found twice is one file.
    let hash =
        finding.input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}-{hash:016x}", target.name));
    std::fs::write(&path, &finding.input)?;
    Ok(path)
}
