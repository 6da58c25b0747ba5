//! `openlift-fuzz <target|all> [--seconds N] [--seed N] [--crashes DIR]`: runs fuzz targets
//! over their seed corpus and mutations of it for a bounded time (each target `N` seconds,
//! default 60), prints the executions, saves each panicking input under `DIR` (default
//! `fuzz-crashes`) and exits non-zero if there was any. `openlift-fuzz list` names the targets.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use openlift_fuzz::targets::{TARGETS, Target, target};
use openlift_fuzz::{Budget, corpus, fuzz, save};

struct Args {
    targets: Vec<&'static Target>,
    seconds: u64,
    seed: u64,
    crashes: PathBuf,
}

fn parse_args() -> Result<Option<Args>> {
    let mut args = std::env::args().skip(1);
    let which =
        args.next().context("usage: openlift-fuzz <target|all|list> [--seconds N] [--seed N] [--crashes DIR]")?;
    let targets = match which.as_str() {
        "list" => {
            for t in TARGETS {
                println!("{:<14} {}", t.name, t.about);
            }
            return Ok(None);
        }
        "all" => TARGETS.iter().collect(),
        name => vec![target(name).with_context(|| format!("no target {name:?}; `openlift-fuzz list` names them"))?],
    };
    let mut parsed = Args { targets, seconds: 60, seed: std::process::id().into(), crashes: "fuzz-crashes".into() };
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seconds" => parsed.seconds = value.parse().context("--seconds")?,
            "--seed" => parsed.seed = value.parse().context("--seed")?,
            "--crashes" => parsed.crashes = value.into(),
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(Some(parsed))
}

fn main() -> Result<ExitCode> {
    let Some(args) = parse_args()? else { return Ok(ExitCode::SUCCESS) };
    let mut found = 0;
    for target in &args.targets {
        let seeds = corpus(target).with_context(|| format!("reading the corpus of {}", target.name))?;
        let report = fuzz(target, &seeds, Budget::Time(Duration::from_secs(args.seconds)), args.seed);
        println!(
            "{}: {} executions ({} seeds), {} finding(s), seed {}",
            target.name,
            report.executions,
            seeds.len(),
            report.findings.len(),
            args.seed
        );
        for finding in &report.findings {
            let path = save(&args.crashes, target, finding)?;
            println!("  panic: {}\n  input: {}", finding.message, path.display());
        }
        found += report.findings.len();
    }
    Ok(if found == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
