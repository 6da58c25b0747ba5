//! The supervisor with real processes: shell scripts in a temporary directory as launch
//! paths (`server-sdk-protocol.md` section 9, `STYLE.md` "Tasks and connections").

mod common;

use std::time::{Duration, Instant};

use common::{Harness, IGNORES_SIGTERM, UNTIL_SIGTERM, Workspace, read_when_written, wait_gone};
use openlift_agent::{ExitKind, ProcessEventKind, Termination};

#[tokio::test]
async fn a_process_gets_the_sdk_variables_its_arguments_and_a_port_and_its_output_is_logged() {
    let ws = Workspace::new();
    let script = ws.script(
        "game.sh",
        "echo to-stdout\necho to-stderr >&2\n\
         printf '%s\\n' \"$@\" > \"$OUT/args\"\n\
         env > \"$OUT/env.tmp\" && mv \"$OUT/env.tmp\" \"$OUT/env\"\n\
         exec sleep 1000",
    );
    let mut h = Harness::start(ws.config());
    h.run(&script, "--port {port} 'two words'", 1);
    let (id, _, port) = h.started().await;
    let port = port.expect("a port for {port}");
    assert!((42000..=42999).contains(&port));

    let env = read_when_written(&ws.path().join("env")).await;
    for expected in [
        "GAMELIFT_SDK_WEBSOCKET_URL=ws://127.0.0.1:1".to_owned(),
        "GAMELIFT_SDK_AUTH_TOKEN=token-1".to_owned(),
        format!("GAMELIFT_SDK_PROCESS_ID={id}"),
        "GAMELIFT_SDK_HOST_ID=compute-test".to_owned(),
        "GAMELIFT_SDK_FLEET_ID=fleet-test".to_owned(),
        format!("OPENLIFT_GAME_PORT={port}"),
    ] {
        assert!(env.lines().any(|line| line == expected), "{expected} missing from {env}");
    }
    assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 4), "{id} is a UUID v4");
    let args = read_when_written(&ws.path().join("args")).await;
    assert_eq!(args, format!("--port\n{port}\ntwo words\n"));

    let logs = ws.log_dir().join(&id);
    assert_eq!(read_when_written(&logs.join("stdout.log")).await, "to-stdout\n");
    assert_eq!(read_when_written(&logs.join("stderr.log")).await, "to-stderr\n");
    h.stop().await;
}

#[tokio::test]
async fn force_terminate_sends_sigterm_and_the_process_is_replaced() {
    let ws = Workspace::new();
    let script = ws.script("game.sh", UNTIL_SIGTERM);
    let mut h = Harness::start(ws.config());
    h.run(&script, "", 1);
    let (id, _, _) = h.started().await;
    ws.trapped(&id).await;

    assert!(h.supervisor.force_terminate(&id).await);
    assert_eq!(h.ended(&id).await, (Termination::ForceTerminated, ExitKind::Code(0)));
    let (replacement, _, _) = h.started().await;
    assert_ne!(replacement, id, "a replacement gets a fresh process ID");
    assert!(!h.supervisor.force_terminate(&id).await, "an ended process cannot be terminated again");
    h.stop().await;
}

#[tokio::test]
async fn a_process_ignoring_sigterm_is_killed_after_the_grace_period() {
    let ws = Workspace::new();
    let script = ws.script("stubborn.sh", IGNORES_SIGTERM);
    let mut config = ws.config();
    config.grace_period = Duration::from_millis(300);
    let mut h = Harness::start(config);
    h.run(&script, "", 1);
    let (id, pid, _) = h.started().await;
    ws.trapped(&id).await;

    let asked = Instant::now();
    assert!(h.supervisor.terminate_unhealthy(&id).await);
    let timeout = h.next().await;
    assert_eq!(timeout.kind, ProcessEventKind::ExitTimeout);
    assert_eq!(timeout.kind.event_code(), Some("SERVER_PROCESS_PROCESS_EXIT_TIMEOUT"));
    assert_eq!(h.ended(&id).await, (Termination::TerminatedUnhealthy, ExitKind::Signal(9)));
    assert!(asked.elapsed() >= Duration::from_millis(300), "SIGKILL waited for the grace period");
    wait_gone(pid).await;
    h.stop().await;
}

#[tokio::test]
async fn a_crash_is_reported_and_the_process_replaced_after_a_backoff() {
    let ws = Workspace::new();
    let script = ws.script("crash.sh", "exit 3");
    let mut h = Harness::start(ws.config());
    h.run(&script, "", 1);
    let (first, _, _) = h.started().await;
    let (termination, exit) = h.ended(&first).await;
    let crashed_at = Instant::now();
    assert_eq!((termination, exit), (Termination::Crashed, ExitKind::Code(3)));
    assert_eq!(termination.event_code(), Some("SERVER_PROCESS_CRASHED"));

    let (second, _, _) = h.started().await;
    assert_ne!(second, first);
    assert!(crashed_at.elapsed() >= Duration::from_millis(40), "the relaunch waited for the backoff");
    h.stop().await;
}

#[tokio::test]
async fn an_exit_0_is_a_normal_termination() {
    let ws = Workspace::new();
    let script = ws.script("done.sh", "echo bye");
    let mut h = Harness::start(ws.config());
    h.run(&script, "", 1);
    let (id, _, _) = h.started().await;
    let (termination, exit) = h.ended(&id).await;
    assert_eq!((termination, exit), (Termination::Normal, ExitKind::Code(0)));
    assert_eq!(termination.termination_reason(), "NORMAL_TERMINATION");
    h.started().await;
    h.stop().await;
}

#[tokio::test]
async fn stopping_a_process_kills_its_whole_group() {
    let ws = Workspace::new();
    // The child ignores SIGTERM and outlives its parent unless the group is SIGKILLed.
    let script = ws.script(
        "parent.sh",
        "sh -c \"trap '' TERM; echo \\$\\$ > '$OUT/child.tmp'; mv '$OUT/child.tmp' '$OUT/child'; exec sleep 1000\" &\nwait",
    );
    let mut h = Harness::start(ws.config());
    h.run(&script, "", 1);
    let (id, pid, _) = h.started().await;
    let child: u32 = read_when_written(&ws.path().join("child")).await.trim().parse().expect("child pid");

    assert!(h.supervisor.force_terminate(&id).await);
    let (termination, _) = h.ended(&id).await;
    assert_eq!(termination, Termination::ForceTerminated);
    wait_gone(pid).await;
    wait_gone(child).await;
    h.stop().await;
}

#[tokio::test]
async fn a_process_never_marked_ready_is_stopped_after_the_ready_timeout() {
    let ws = Workspace::new();
    let script = ws.script("slow.sh", UNTIL_SIGTERM);
    let mut config = ws.config();
    config.ready_timeout = Duration::from_millis(300);
    let mut h = Harness::start(config);
    h.run(&script, "", 1);
    let (id, _, _) = h.started().await;
    let (termination, _) = h.ended(&id).await;
    assert_eq!(termination, Termination::SdkInitializationTimeout);
    assert_eq!(termination.event_code(), Some("SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT"));
    h.stop().await;
}

#[tokio::test]
async fn a_process_marked_ready_in_time_keeps_running() {
    let ws = Workspace::new();
    let script = ws.script("fine.sh", UNTIL_SIGTERM);
    let mut config = ws.config();
    config.ready_timeout = Duration::from_millis(300);
    let mut h = Harness::start(config);
    h.run(&script, "", 1);
    let (id, _, _) = h.started().await;
    assert!(h.supervisor.mark_ready(&id).await);
    assert!(!h.supervisor.mark_ready("not-a-process").await);

    h.quiet_for(Duration::from_millis(800)).await;
    let processes = h.supervisor.processes().await;
    assert_eq!(processes.len(), 1);
    assert!(processes[0].ready);
    h.stop().await;
}

#[tokio::test]
async fn a_larger_configuration_starts_more_processes_and_a_smaller_one_stops_none() {
    let ws = Workspace::new();
    let script = ws.script("game.sh", UNTIL_SIGTERM);
    let mut h = Harness::start(ws.config());
    h.run(&script, "", 1);
    h.started().await;
    h.run(&script, "", 3);
    h.started().await;
    let (surplus, _, _) = h.started().await;

    h.run(&script, "", 1);
    h.quiet_for(Duration::from_millis(500)).await;
    assert_eq!(h.supervisor.processes().await.len(), 3, "running processes are never affected");

    assert!(h.supervisor.force_terminate(&surplus).await);
    h.ended(&surplus).await;
    h.quiet_for(Duration::from_millis(300)).await;
    assert_eq!(h.supervisor.processes().await.len(), 2, "a surplus process is not replaced");
    h.stop().await;
}

#[tokio::test]
async fn shutdown_stops_and_reports_every_process() {
    let ws = Workspace::new();
    let script = ws.script("game.sh", UNTIL_SIGTERM);
    let mut h = Harness::start(ws.config());
    h.run(&script, "", 2);
    let (a, pid_a, _) = h.started().await;
    let (b, pid_b, _) = h.started().await;

    let mut events = h.supervisor.subscribe();
    h.stop().await;
    let mut ended = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let ProcessEventKind::Ended { termination, .. } = event.kind {
            assert_eq!(termination, Termination::ForceTerminated);
            ended.push(event.process_id);
        }
    }
    ended.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(ended, expected);
    wait_gone(pid_a).await;
    wait_gone(pid_b).await;
}

#[tokio::test]
async fn a_missing_launch_path_is_reported_and_retried_with_backoff() {
    let ws = Workspace::new();
    let missing = ws.path().join("no-such-game").display().to_string();
    let mut h = Harness::start(ws.config());
    h.run(&missing, "", 1);
    let first = h.next().await;
    let failed_at = Instant::now();
    assert!(matches!(first.kind, ProcessEventKind::LaunchFailed { .. }), "{first:?}");
    assert_eq!(first.kind.event_code(), Some("SERVER_PROCESS_INVALID_PATH"));
    let second = h.next().await;
    assert!(matches!(second.kind, ProcessEventKind::LaunchFailed { .. }), "{second:?}");
    assert!(failed_at.elapsed() >= Duration::from_millis(40), "the retry waited for the backoff");
    h.stop().await;
}
