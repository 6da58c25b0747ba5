//! Builds a binary of another package of the workspace for an integration test. Included
//! with `#[path]` by the server's and the agent's tests, which share no test crate.

use std::ffi::OsStr;
use std::path::PathBuf;

/// Whether `name` is one of the variables Cargo sets for a running test about the test's
/// own package. Build scripts (ring's, for one) ask to be rerun when such a variable
/// changes, so a nested `cargo build` that inherited them would rebuild those crates and
/// everything above them, and the next `cargo test` would rebuild them back.
fn describes_the_test_package(name: &OsStr) -> bool {
    const SET_FOR_TESTS: [&str; 7] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    let name = name.to_string_lossy();
    SET_FOR_TESTS.iter().any(|prefix| name.starts_with(prefix))
}

/// Builds the workspace into the test binary's own target directory and profile
/// (`<target>/<profile>/`) and returns the path of its binary `name`.
///
/// It builds what `scripts/test` builds (`--workspace --all-targets`), so after that build
/// it finds nothing to do. Building one package (`-p`) would resolve that package's features
/// alone, and compile some fifty dependencies a second time with another feature set.
pub async fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("<target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("<target>");
    let mut build = tokio::process::Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "--workspace", "--all-targets"]).env("CARGO_TARGET_DIR", target_dir);
    for (variable, _) in std::env::vars_os().filter(|(variable, _)| describes_the_test_package(variable)) {
        build.env_remove(variable);
    }
    if profile_dir.file_name().is_some_and(|profile| profile == "release") {
        build.arg("--release");
    }
    let status = build.status().await.expect("cargo runs");
    assert!(status.success(), "building the workspace for {name} failed");
    profile_dir.join(name)
}
