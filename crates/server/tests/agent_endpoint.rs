//! The agent endpoint with a raw WebSocket, sending exactly what the GameLift Agent sends
//! (`server-sdk-protocol.md` section 9): authentication before the upgrade, heartbeat answers
//! with arrays never null, `NotifyProcessRegistered` when a process's `ActivateServerProcess`
//! succeeds, a reported crash, logs, the runtime configuration, and `StartComputeTermination`
//! on DeregisterCompute.

mod sdk_endpoint_support;

use std::time::Duration;

use aws_sdk_gamelift::types::{ComputeStatus, RuntimeConfiguration, ServerProcess};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openlift_server::config::DEFAULT_AGENT_HEARTBEAT_TIMEOUT;
use openlift_server::hosting::registry::{EndReason, ProcessStatus};
use sdk_endpoint_support::raw::{Transport, Ws, call, connect, cpp_query, next_json, refused_status, send};
use sdk_endpoint_support::{Compute, Harness};
use serde_json::{Value, json};

fn agent_query(compute: &Compute, token: &str) -> String {
    let token: String = token.bytes().map(|b| format!("%{b:02X}")).collect();
    format!("/agent?FleetId={}&ComputeName={}&Authorization={token}", compute.fleet_id, compute.name)
}

/// Sends a request and returns its answer, with the pushes that came before it.
async fn agent_call(ws: &mut Ws, request: Value) -> (Value, Vec<Value>) {
    let request_id = request["RequestId"].clone();
    send(ws, request).await;
    let mut pushes = Vec::new();
    loop {
        let frame = next_json(ws).await;
        if frame["RequestId"] == request_id {
            return (frame, pushes);
        }
        pushes.push(frame);
    }
}

fn heartbeat(request_id: &str, processes: &[&str]) -> Value {
    json!({"Action": "SendHeartbeat", "RequestId": request_id, "Status": "Active", "ProcessList": processes,
        "HeartbeatTimeMillis": 1_700_000_000_000_i64})
}

#[tokio::test]
async fn agent_connections_are_authenticated_before_the_upgrade() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("box-1").await;
    let other = h.add_compute(&compute.fleet_id, "box-2").await;
    let registered = h.gamelift.describe_compute().fleet_id(&compute.fleet_id).compute_name("box-1").send().await;
    let endpoint = registered.unwrap().compute().and_then(|c| c.game_lift_agent_endpoint()).map(str::to_owned);
    assert_eq!(endpoint, Some(format!("ws://{}/agent", h.addr)));

    let no_token = format!("/agent?FleetId={}&ComputeName=box-1", compute.fleet_id);
    assert_eq!(refused_status(&h, &no_token).await, 401);
    assert_eq!(refused_status(&h, &agent_query(&compute, "not-a-token")).await, 403);
    assert_eq!(refused_status(&h, &agent_query(&compute, &other.token)).await, 403, "another compute's token");
    let mut ws = connect(&h, &agent_query(&compute, &compute.token), Transport::Plain).await;
    let (answer, _) = agent_call(&mut ws, heartbeat("h1", &[])).await;
    assert_eq!(answer["StatusCode"], 200);
    assert!(h.app.agents.connected(&compute.fleet_id, "box-1"));
    h.stop().await;
}

#[tokio::test]
async fn the_agent_learns_registrations_and_reports_a_crash_with_its_logs() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("box-1").await;
    let process = ServerProcess::builder().launch_path("/games/chat").concurrent_executions(3).build();
    let runtime = RuntimeConfiguration::builder().server_processes(process).build();
    let update = h.gamelift.update_runtime_configuration().fleet_id(&compute.fleet_id).runtime_configuration(runtime);
    update.send().await.unwrap();
    let mut agent = connect(&h, &agent_query(&compute, &compute.token), Transport::Plain).await;

    let (config, _) =
        agent_call(&mut agent, json!({"Action": "DescribeRuntimeConfiguration", "RequestId": "c1"})).await;
    assert_eq!(config["StatusCode"], 200);
    assert_eq!(config["ServerProcesses"], json!([{"LaunchPath": "/games/chat", "ConcurrentExecutions": 3}]));
    assert_eq!(config["GameSessionActivationTimeoutSeconds"], 600);

    let mut game = connect(&h, &cpp_query(&compute, "p-1", &compute.token), Transport::Plain).await;
    let (answer, _) = agent_call(&mut agent, heartbeat("h1", &["p-1", "p-2"])).await;
    assert_eq!(
        (&answer["Status"], &answer["UnhealthyProcesses"], &answer["UnregisteredProcesses"]),
        (&json!("Active"), &json!([]), &json!(["p-1", "p-2"]))
    );
    let activated = call(
        &mut game,
        json!({"Action": "ActivateServerProcess", "RequestId": "a1", "SdkVersion": "5.4.0", "SdkLanguage": "Cpp",
            "Port": 7777, "LogPaths": ["/var/log/chat.log"]}),
    )
    .await;
    assert_eq!(activated["StatusCode"], 200);
    let registered = next_json(&mut agent).await;
    assert_eq!(
        (&registered["Action"], &registered["ProcessId"], &registered["LogPaths"], &registered["StatusCode"]),
        (&json!("NotifyProcessRegistered"), &json!("p-1"), &json!(["/var/log/chat.log"]), &json!(200))
    );
    let (answer, _) = agent_call(&mut agent, heartbeat("h2", &["p-1"])).await;
    assert_eq!(answer["UnregisteredProcesses"], json!([]));
    // Pushes queued by a request follow its answer: none came for this connection.
    let (_, pushes) =
        agent_call(&mut agent, json!({"Action": "DescribeRuntimeConfiguration", "RequestId": "c2"})).await;
    assert!(pushes.is_empty(), "this connection was already told: {pushes:?}");

    // A new connection of the agent is told again after its first heartbeat.
    let mut agent = connect(&h, &agent_query(&compute, &compute.token), Transport::Plain).await;
    agent_call(&mut agent, heartbeat("h3", &["p-1"])).await;
    let again = next_json(&mut agent).await;
    assert_eq!((&again["Action"], &again["ProcessId"]), (&json!("NotifyProcessRegistered"), &json!("p-1")));

    let upload = json!({"Action": "UploadProcessLogs", "RequestId": "u1", "ProcessId": "p-1",
        "Files": [{"Name": "stdout.log", "Content": STANDARD.encode("last words\n")}]});
    assert_eq!(agent_call(&mut agent, upload).await.0["StatusCode"], 200);
    let bad = json!({"Action": "UploadProcessLogs", "RequestId": "u2", "ProcessId": "p-1",
        "Files": [{"Name": "stdout.log", "Content": "not base64!"}]});
    assert_eq!(agent_call(&mut agent, bad).await.0["StatusCode"], 400);

    let crash = json!({"Action": "NotifyServerProcessTermination", "RequestId": "t1", "ProcessId": "p-1",
        "EventCode": "SERVER_PROCESS_CRASHED", "TerminationReason": "SERVER_PROCESS_CRASHED"});
    assert_eq!(agent_call(&mut agent, crash).await.0["StatusCode"], 200);
    let info = h.app.sdk.processes.get("p-1").unwrap();
    assert!(matches!(info.status, ProcessStatus::Ended { reason: EndReason::Crashed, .. }), "{info:?}");
    h.wait_for_event(&compute.fleet_id, "SERVER_PROCESS_CRASHED").await;
    let (answer, _) = agent_call(&mut agent, heartbeat("h4", &["p-1"])).await;
    assert_eq!(answer["UnregisteredProcesses"], json!(["p-1"]));
    let unknown = agent_call(&mut agent, json!({"Action": "Dance", "RequestId": "x1"})).await.0;
    assert_eq!(unknown["StatusCode"], 400);

    // Deregistering the compute terminates it.
    h.gamelift.deregister_compute().fleet_id(&compute.fleet_id).compute_name("box-1").send().await.unwrap();
    let terminate = next_json(&mut agent).await;
    assert_eq!(terminate["Action"], "StartComputeTermination");
    let (answer, _) = agent_call(&mut agent, heartbeat("h5", &[])).await;
    assert_eq!(answer["Status"], "Terminating");
    h.stop().await;
}

async fn compute_status(h: &Harness, compute: &Compute) -> Option<ComputeStatus> {
    let described = h.gamelift.describe_compute().fleet_id(&compute.fleet_id).compute_name(&compute.name).send().await;
    described.unwrap().compute().and_then(|c| c.compute_status()).cloned()
}

async fn wait_status(h: &Harness, compute: &Compute, status: ComputeStatus) {
    let deadline = tokio::time::Instant::now() + sdk_endpoint_support::WAIT;
    while compute_status(h, compute).await != Some(status.clone()) {
        assert!(tokio::time::Instant::now() < deadline, "{} never became {status:?}", compute.name);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_restarted_control_plane_expects_back_the_agents_it_had() {
    let mut h = Harness::start().await;
    let compute = h.fleet_with_compute("box-1").await;
    let without_agent = h.add_compute(&compute.fleet_id, "box-2").await;
    let mut ws = connect(&h, &agent_query(&compute, &compute.token), Transport::Plain).await;
    agent_call(&mut ws, heartbeat("h1", &[])).await;
    drop(ws);

    // The agent does not come back after a restart: its compute is impaired after the timeout.
    h.restart().await;
    assert!(!h.app.agents.is_impaired(&compute.fleet_id, "box-1"));
    h.clock.advance(DEFAULT_AGENT_HEARTBEAT_TIMEOUT - Duration::from_secs(1));
    // A sweep that has run on this clock has left it alone.
    openlift_server::agent::sweep(&h.app).await;
    assert_eq!(compute_status(&h, &compute).await, Some(ComputeStatus::Active), "not yet overdue");
    h.clock.advance(Duration::from_secs(2));
    wait_status(&h, &compute, ComputeStatus::Impaired).await;
    assert!(h.app.agents.is_impaired(&compute.fleet_id, "box-1"));
    assert_eq!(compute_status(&h, &without_agent).await, Some(ComputeStatus::Active), "it never had an agent");

    // An impaired compute stays out of placement across a restart, until its agent returns.
    h.restart().await;
    assert!(h.app.agents.is_impaired(&compute.fleet_id, "box-1"));
    let token = h.token(&compute.fleet_id, "box-1").await;
    let mut ws = connect(&h, &agent_query(&compute, &token), Transport::Plain).await;
    agent_call(&mut ws, heartbeat("h2", &[])).await;
    wait_status(&h, &compute, ComputeStatus::Active).await;
    assert!(!h.app.agents.is_impaired(&compute.fleet_id, "box-1"));
    h.stop().await;
}

#[tokio::test]
async fn only_the_agent_of_the_compute_that_ran_a_process_uploads_its_logs_once_across_a_restart() {
    let mut h = Harness::start().await;
    let compute = h.fleet_with_compute("box-1").await;
    let other_fleet = h.fleet_with_compute("box-2").await;
    let mut game = connect(&h, &cpp_query(&compute, "p-1", &compute.token), Transport::Plain).await;
    let ready = json!({"Action": "ActivateServerProcess", "RequestId": "a1", "SdkVersion": "5.4.0", "SdkLanguage": "Cpp",
        "Port": 7777});
    assert_eq!(call(&mut game, ready).await["StatusCode"], 200);
    let created = h.create_game_session(&compute, 2).send().await.expect("CreateGameSession");
    let game_session_id = created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned();
    drop(game);

    h.restart().await;
    let upload = |request_id: &str, process_id: &str, content: &str| {
        json!({"Action": "UploadProcessLogs", "RequestId": request_id, "ProcessId": process_id,
            "Files": [{"Name": "stdout.log", "Content": STANDARD.encode(content)}]})
    };
    let token = h.token(&other_fleet.fleet_id, "box-2").await;
    let mut intruder = connect(&h, &agent_query(&other_fleet, &token), Transport::Plain).await;
    for (request_id, process_id) in [("u1", "p-1"), ("u2", "never-existed")] {
        let (answer, _) = agent_call(&mut intruder, upload(request_id, process_id, "forged")).await;
        assert_eq!(answer["StatusCode"], 400, "{answer}");
        let message = answer["ErrorMessage"].as_str().unwrap();
        assert!(message.contains(&format!("Server process {process_id} did not run on compute box-2")), "{message}");
    }
    assert!(h.app.store.get_process_logs("p-1").await.unwrap().is_none(), "nothing was stored");

    let token = h.token(&compute.fleet_id, "box-1").await;
    let mut owner = connect(&h, &agent_query(&compute, &token), Transport::Plain).await;
    assert_eq!(agent_call(&mut owner, upload("u3", "p-1", "last words\n")).await.0["StatusCode"], 200);
    let (again, _) = agent_call(&mut owner, upload("u4", "p-1", "replaced")).await;
    assert_eq!(again["StatusCode"], 400, "logs are uploaded once: {again}");

    let stored = h.app.store.get_process_logs("p-1").await.unwrap().expect("the owner's logs");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(stored.archive)).expect("a zip archive");
    let mut content = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("stdout.log").unwrap(), &mut content).unwrap();
    assert_eq!(content, "last words\n");
    let url = h.gamelift.get_game_session_log_url().game_session_id(&game_session_id).send().await;
    assert!(url.expect("GetGameSessionLogUrl").pre_signed_url().is_some());
    h.stop().await;
}

/// A burst of process ends reported by four agents while the fleet is updated ten times at
/// once: every update succeeds, every end is in DescribeFleetEvents, and the events went to
/// the outbox without touching the fleet's row (its version moved once per update only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_updates_succeed_during_a_burst_of_process_end_events() {
    const AGENTS: usize = 4;
    const ENDS: usize = 25;
    const UPDATES: usize = 10;
    let h = Harness::start().await;
    let first = h.fleet_with_compute("box-0").await;
    let fleet_id = first.fleet_id.clone();
    let mut computes = vec![first];
    for n in 1..AGENTS {
        computes.push(h.add_compute(&fleet_id, &format!("box-{n}")).await);
    }
    let before = h.app.store.get_fleet(&fleet_id).await.unwrap().unwrap().version;
    let mut agents = Vec::new();
    for compute in &computes {
        agents.push(connect(&h, &agent_query(compute, &compute.token), Transport::Plain).await);
    }

    let mut tasks = tokio::task::JoinSet::new();
    for (n, mut agent) in agents.into_iter().enumerate() {
        tasks.spawn(async move {
            for end in 0..ENDS {
                let report = json!({"Action": "NotifyServerProcessTermination", "RequestId": format!("t{end}"),
                    "ProcessId": format!("p-{n}-{end}"), "EventCode": "SERVER_PROCESS_CRASHED",
                    "TerminationReason": "SERVER_PROCESS_CRASHED"});
                send(&mut agent, report).await;
            }
            for _ in 0..ENDS {
                assert_eq!(next_json(&mut agent).await["StatusCode"], 200);
            }
        });
    }
    for n in 0..UPDATES {
        let update = h.gamelift.update_fleet_attributes().fleet_id(&fleet_id).description(format!("update {n}"));
        tasks.spawn(async move {
            update.send().await.expect("UpdateFleetAttributes during the burst");
        });
    }
    tasks.join_all().await;

    let mut crashes = 0;
    let mut token = None;
    loop {
        let page = h.gamelift.describe_fleet_events().fleet_id(&fleet_id).set_next_token(token).send().await;
        let page = page.expect("DescribeFleetEvents");
        crashes += page
            .events()
            .iter()
            .filter(|e| e.event_code().map(|c| c.as_str()) == Some("SERVER_PROCESS_CRASHED"))
            .count();
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(crashes, AGENTS * ENDS);
    let after = h.app.store.get_fleet(&fleet_id).await.unwrap().unwrap().version;
    assert_eq!(after - before, i64::try_from(UPDATES).unwrap(), "only the updates wrote the fleet's row");
    h.stop().await;
}
