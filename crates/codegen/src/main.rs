//! Generates `openlift-model`'s shapes, enums and operation list from the botocore
//! GameLift model (`service-2.json`, plain or gzipped).
//!
//! Only facts are carried over (names, types, constraints); AWS's documentation
//! text is never copied. Usage:
//!
//! ```text
//! openlift-codegen --model path/to/service-2.json.gz [--out crates/model/src] [--check]
//! ```
//!
//! `--check` regenerates in memory and fails if the checked-in files differ.

mod naming;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

/// Operations not served yet whose input and output shapes (and everything they reach) are
/// generated too, ahead of their handlers; every other operation still appears in the
/// `Operation` enum.
const GENERATED_AHEAD: &[&str] = &[
    "CreateGameSessionQueue",
    "DescribeGameSessionQueues",
    "UpdateGameSessionQueue",
    "DeleteGameSessionQueue",
    "StartGameSessionPlacement",
    "DescribeGameSessionPlacement",
    "StopGameSessionPlacement",
];

/// Operations openlift serves, whose shapes are generated: the dispatcher matches
/// exhaustively over the generated `Implemented` enum made of them, and answers every other
/// operation as not supported.
const IMPLEMENTED_OPERATIONS: &[&str] = &[
    "CreateLocation",
    "ListLocations",
    "DeleteLocation",
    "CreateFleet",
    "DescribeFleetAttributes",
    "ListFleets",
    "UpdateFleetAttributes",
    "DeleteFleet",
    "UpdateRuntimeConfiguration",
    "DescribeRuntimeConfiguration",
    "DescribeFleetEvents",
    "DescribeFleetCapacity",
    "DescribeFleetUtilization",
    "DescribeFleetLocationCapacity",
    "DescribeFleetLocationUtilization",
    "CreateFleetLocations",
    "DeleteFleetLocations",
    "DescribeFleetLocationAttributes",
    "RegisterCompute",
    "DeregisterCompute",
    "DescribeCompute",
    "ListCompute",
    "GetComputeAuthToken",
    "CreateAlias",
    "DescribeAlias",
    "ListAliases",
    "UpdateAlias",
    "DeleteAlias",
    "ResolveAlias",
    "CreateGameSession",
    "DescribeGameSessions",
    "DescribeGameSessionDetails",
    "SearchGameSessions",
    "UpdateGameSession",
    "TerminateGameSession",
    "GetGameSessionLogUrl",
    "CreatePlayerSession",
    "CreatePlayerSessions",
    "DescribePlayerSessions",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// One operation of the model.
pub struct Operation {
    /// Its name, e.g. `CreateFleet`.
    pub name: String,
    /// Input shape name, if any.
    pub input: Option<String>,
    /// Output shape name, if any.
    pub output: Option<String>,
    /// Names of the exception shapes it declares.
    pub errors: Vec<String>,
    /// Whether openlift serves it ([`IMPLEMENTED_OPERATIONS`]).
    pub implemented: bool,
}

/// The parts of the model the generator reads.
pub struct Model {
    /// Every shape by name, as botocore writes it.
    pub shapes: BTreeMap<String, Json>,
    /// Every operation, sorted by name.
    pub operations: Vec<Operation>,
    /// Shapes reachable from [`IMPLEMENTED_OPERATIONS`] and [`GENERATED_AHEAD`], exceptions excluded.
    pub reachable: BTreeSet<String>,
}

fn main() -> Result<()> {
    let mut model_path = None;
    let mut out = PathBuf::from("crates/model/src");
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--model" => model_path = Some(PathBuf::from(args.next().context("--model needs a path")?)),
            "--out" => out = PathBuf::from(args.next().context("--out needs a directory")?),
            "--check" => check = true,
            other => bail!("unknown argument {other}; usage: openlift-codegen --model PATH [--out DIR] [--check]"),
        }
    }
    let model = load(&model_path.context("--model PATH is required")?)?;
    let files = [
        ("generated_enums.rs", render::enums(&model)?),
        ("generated_shapes.rs", render::shapes(&model)?),
        ("generated_operations.rs", render::operations(&model)),
    ];
    let mut stale = Vec::new();
    for (name, text) in files {
        let text = rustfmt(&text).with_context(|| format!("formatting {name}"))?;
        let path = out.join(name);
        if check {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if current != text {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if !stale.is_empty() {
        bail!("generated files are out of date (run openlift-codegen without --check): {}", stale.join(", "));
    }
    Ok(())
}

/// Formats generated text with the workspace's rustfmt settings, so `cargo fmt` leaves it unchanged.
fn rustfmt(text: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--config", "max_width=120,use_small_heuristics=Max"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running rustfmt")?;
    child.stdin.take().context("rustfmt stdin")?.write_all(text.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("rustfmt failed on generated code");
    }
    Ok(String::from_utf8(output.stdout)?)
}

fn load(path: &Path) -> Result<Model> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text)?;
        text
    } else {
        String::from_utf8(bytes)?
    };
    let json: Json = serde_json::from_str(&text)?;
    let shapes: BTreeMap<String, Json> = json["shapes"]
        .as_object()
        .context("model has no shapes")?
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut operations: Vec<Operation> = json["operations"]
        .as_object()
        .context("model has no operations")?
        .iter()
        .map(|(name, op)| Operation {
            name: name.clone(),
            input: op["input"]["shape"].as_str().map(str::to_owned),
            output: op["output"]["shape"].as_str().map(str::to_owned),
            errors: op["errors"]
                .as_array()
                .map(|errors| errors.iter().filter_map(|e| e["shape"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            implemented: IMPLEMENTED_OPERATIONS.contains(&name.as_str()),
        })
        .collect();
    operations.sort_by(|a, b| a.name.cmp(&b.name));

    let mut reachable = BTreeSet::new();
    for name in IMPLEMENTED_OPERATIONS.iter().chain(GENERATED_AHEAD) {
        let op =
            operations.iter().find(|op| op.name == *name).with_context(|| format!("operation {name} not in model"))?;
        for shape in op.input.iter().chain(&op.output) {
            reach(&shapes, shape, &mut reachable)?;
        }
    }
    Ok(Model { shapes, operations, reachable })
}

fn reach(shapes: &BTreeMap<String, Json>, name: &str, seen: &mut BTreeSet<String>) -> Result<()> {
    if !seen.insert(name.to_owned()) {
        return Ok(());
    }
    let shape = shapes.get(name).with_context(|| format!("shape {name} not in model"))?;
    let targets: Vec<&str> = match shape["type"].as_str() {
        Some("structure") => shape["members"]
            .as_object()
            .context("structure without members")?
            .values()
            .filter_map(|m| m["shape"].as_str())
            .collect(),
        Some("list") => shape["member"]["shape"].as_str().into_iter().collect(),
        Some("map") => {
            [shape["key"]["shape"].as_str(), shape["value"]["shape"].as_str()].into_iter().flatten().collect()
        }
        _ => Vec::new(),
    };
    for target in targets {
        reach(shapes, target, seen)?;
    }
    Ok(())
}
