//! The dependency rule inside the server, checked: each layer's files name nothing above it
//! (docs/ARCHITECTURE.md, "Inside `server`").

/// Every path of the crate that the hosting layer and the services may not use.
const ABOVE_HOSTING: [&str; 6] =
    ["crate::app", "crate::api", "crate::front", "crate::sdk", "crate::agent", "crate::logs"];

fn uses_nothing_of(layer: &str, sources: &[(&str, &str)], above: &[&str]) {
    for (file, source) in sources {
        let code = source.lines().filter(|line| !line.trim_start().starts_with("//"));
        for line in code {
            for path in above {
                assert!(!line.contains(path), "{layer}/{file} uses {path}: {line}");
            }
        }
    }
}

#[test]
fn services_use_nothing_above_them() {
    let sources = [
        ("common.rs", include_str!("service/common.rs")),
        ("computes.rs", include_str!("service/computes.rs")),
        ("fleets.rs", include_str!("service/fleets.rs")),
        ("mod.rs", include_str!("service/mod.rs")),
        ("placement.rs", include_str!("service/placement.rs")),
        ("players.rs", include_str!("service/players.rs")),
        ("sessions.rs", include_str!("service/sessions.rs")),
    ];
    uses_nothing_of("service", &sources, &ABOVE_HOSTING);
}

#[test]
fn hosting_uses_neither_the_services_nor_anything_above_them() {
    let sources = [
        ("agents.rs", include_str!("hosting/agents.rs")),
        ("local.rs", include_str!("hosting/local.rs")),
        ("mod.rs", include_str!("hosting/mod.rs")),
        ("process.rs", include_str!("hosting/process.rs")),
        ("push.rs", include_str!("hosting/push.rs")),
        ("registry.rs", include_str!("hosting/registry.rs")),
        ("registry_agent.rs", include_str!("hosting/registry_agent.rs")),
        ("registry_index.rs", include_str!("hosting/registry_index.rs")),
        ("registry_placement.rs", include_str!("hosting/registry_placement.rs")),
        ("registry_restore.rs", include_str!("hosting/registry_restore.rs")),
    ];
    let above: Vec<&str> = ABOVE_HOSTING.iter().copied().chain(["crate::service"]).collect();
    uses_nothing_of("hosting", &sources, &above);
}
