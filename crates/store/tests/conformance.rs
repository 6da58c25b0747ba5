//! The conformance suite: the same cases run against SQLite (a temporary file)
//! and PostgreSQL (a fresh schema on `OPENLIFT_TEST_DATABASE_URL`; the
//! PostgreSQL tests fail when it is unset, unless `OPENLIFT_SKIP_POSTGRES=1`),
//! plus the kill -9 durability test and the (ignored) SQLite write benchmark.

mod bench;
mod cases;
mod durability;
mod support;

/// Instantiates every case for one backend, each on its own fresh database.
macro_rules! backend_tests {
    ($module:ident, $kind:expr, [$($case:ident),* $(,)?]) => {
        mod $module {
            use crate::support::{Backend, Kind};
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(backend) = Backend::new($kind).await else { return };
                    crate::cases::$case(&backend).await;
                    backend.cleanup().await;
                }
            )*
        }
    };
}

/// Instantiates every case for both backends.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        backend_tests!(sqlite, Kind::Sqlite, [$($case),*]);
        backend_tests!(postgres, Kind::Postgres, [$($case),*]);
    };
}

conformance!(
    secrets_are_stable,
    secrets_under_concurrent_callers,
    locations,
    tags,
    fleet_lifecycle,
    list_fleets,
    fleets_in_location,
    fleet_events,
    outbox_sequence,
    outbox_concurrent_writers,
    computes,
    compute_changes_made_at_once_both_land,
    auth_tokens,
    aliases,
    concurrent_fleet_updates,
    concurrent_alias_updates,
    concurrent_creates,
    concurrent_opens_and_reopen,
    game_session_lifecycle,
    game_session_tokens,
    list_game_sessions,
    count_game_sessions_by_creator,
    purge_game_sessions,
    player_sessions,
    add_player_sessions_all_or_nothing,
    concurrent_add_player_sessions,
    concurrent_creates_all_commit,
    concurrent_creates_with_duplicates,
    process_logs,
    server_processes,
    edge_value_tags,
    edge_value_aliases,
    edge_value_game_sessions,
    edge_value_players_and_events,
);

/// PostgreSQL answers U+0000 in text with a typed error, not a backend failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nul_in_text_is_unstorable() {
    let Some(backend) = support::Backend::new(support::Kind::Postgres).await else { return };
    cases::nul_in_text_is_unstorable(&backend).await;
    backend.cleanup().await;
}
