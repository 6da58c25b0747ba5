//! The agent and the control plane together, over the agent WebSocket
//! (`server-sdk-protocol.md` section 9), with the sample game (`crates/sample-game`) as the
//! server process: readiness through `NotifyProcessRegistered` under the default readiness
//! timeout, a crash reported and replaced, a runtime configuration change,
//! TerminateGameSession `FORCE_TERMINATE` through the agent, a killed agent impairing its
//! compute and a restarted one restoring it, and a control-plane restart on SQLite.
//!
//! The sample game and the `openlift` binary live in other packages, so the tests build them
//! into this test's own target directory (a no-op when fresh).

mod common;
#[path = "../../../tests/support/workspace_binary.rs"]
mod workspace_binary;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_gamelift::config::{BehaviorVersion, Region};
use aws_sdk_gamelift::operation::create_game_session::builders::CreateGameSessionFluentBuilder;
use aws_sdk_gamelift::types::{
    ComputeStatus, ComputeType, EventCode, GameSessionStatus, GameSessionStatusReason, LocationConfiguration,
    RuntimeConfiguration, ServerProcess, TerminationMode,
};
use common::{PATIENCE, Workspace, wait_gone};
use openlift_agent::{
    Agent, AgentSettings, GameLiftControlPlane, PortRange, ProcessEvent, ProcessEventKind, ProcessInfo, Registration,
    Termination,
};
use openlift_server::app::App;
use openlift_server::config::Config;
use openlift_server::credentials::CredentialEntry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use workspace_binary::workspace_binary;

const ACCESS_KEY_ID: &str = "AKIDOPENLIFTAGENT";
const SECRET_ACCESS_KEY: &str = "agent/test+SECRET";
const REGION: &str = "us-east-1";
const LOCATION: &str = "custom-lab";

/// A control plane on a fixed address and data directory, which can be stopped and started again.
struct ControlPlane {
    addr: SocketAddr,
    data_dir: PathBuf,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    app: Arc<App>,
}

impl ControlPlane {
    async fn start(data_dir: &Path, addr: Option<SocketAddr>) -> Self {
        let listener = TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap())).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let config = Config {
            region: REGION.into(),
            account_id: "111122223333".into(),
            credentials: vec![CredentialEntry {
                access_key_id: ACCESS_KEY_ID.into(),
                secret_access_key: SECRET_ACCESS_KEY.into(),
            }],
            agent_heartbeat_timeout: Duration::from_secs(2),
            ..Config::new(addr, data_dir.to_owned())
        };
        let clock = Arc::new(openlift_core::clock::SystemClock);
        let server = openlift_server::Server::build(config, addr, clock).await.expect("server builds");
        let app = server.app().clone();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move { server.run(listener, token).await.expect("server runs") });
        ControlPlane { addr, data_dir: data_dir.to_owned(), shutdown, task, app }
    }

    async fn stop(self) -> (SocketAddr, PathBuf) {
        self.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.task).await.expect("server stops").unwrap();
        (self.addr, self.data_dir)
    }

    fn client(&self) -> aws_sdk_gamelift::Client {
        let config = aws_sdk_gamelift::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(format!("http://{}", self.addr))
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "agent-tests"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_gamelift::Client::from_conf(config)
    }
}

/// An Anywhere fleet running `count` sample games that log into `logs`.
async fn game_fleet(client: &aws_sdk_gamelift::Client, game: &Path, logs: &Path, count: i32) -> String {
    client.create_location().location_name(LOCATION).send().await.unwrap();
    let fleet = client
        .create_fleet()
        .name("agent-e2e")
        .compute_type(ComputeType::Anywhere)
        .locations(LocationConfiguration::builder().location(LOCATION).build())
        .send()
        .await
        .unwrap();
    let fleet_id = fleet.fleet_attributes().and_then(|a| a.fleet_id()).unwrap().to_owned();
    set_games(client, &fleet_id, game, logs, count).await;
    fleet_id
}

async fn set_games(client: &aws_sdk_gamelift::Client, fleet_id: &str, game: &Path, logs: &Path, count: i32) {
    let process = ServerProcess::builder()
        .launch_path(game.display().to_string())
        .parameters(format!("--port {{port}} --log-dir {}", logs.display()))
        .concurrent_executions(count)
        .build();
    let runtime = RuntimeConfiguration::builder().server_processes(process).build();
    client.update_runtime_configuration().fleet_id(fleet_id).runtime_configuration(runtime).send().await.unwrap();
}

fn settings(ws: &Workspace, fleet_id: &str, compute_name: &str, ports: PortRange) -> AgentSettings {
    let mut supervisor = ws.config();
    // Tests run in parallel: each has its own ports.
    supervisor.port_range = ports;
    // The default readiness timeout: readiness must come from NotifyProcessRegistered.
    supervisor.ready_timeout = Duration::from_secs(300);
    AgentSettings {
        fleet_id: fleet_id.into(),
        compute_name: compute_name.into(),
        poll_interval: Duration::from_millis(200),
        sdk_endpoint_override: None,
        supervisor,
        heartbeat_interval: Duration::from_millis(500),
    }
}

async fn start_agent(
    plane: &ControlPlane,
    ws: &Workspace,
    fleet_id: &str,
    ports: PortRange,
) -> (Agent, CancellationToken) {
    let registration = Registration {
        fleet_id: fleet_id.into(),
        compute_name: "box-1".into(),
        location: LOCATION.into(),
        ip_address: "127.0.0.1".into(),
        dns_name: None,
    };
    let control = Arc::new(GameLiftControlPlane::new(plane.client(), registration));
    let shutdown = CancellationToken::new();
    let agent =
        Agent::start(control, settings(ws, fleet_id, "box-1", ports), shutdown.clone()).await.expect("agent starts");
    (agent, shutdown)
}

/// Waits until `count` processes run and are ready, and returns them.
async fn ready_processes(agent: &Agent, count: usize) -> Vec<ProcessInfo> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let processes = agent.supervisor().processes().await;
        if processes.len() == count && processes.iter().all(|p| p.ready) {
            return processes;
        }
        assert!(tokio::time::Instant::now() < deadline, "not {count} ready processes: {processes:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next end of `process_id` among the agent's events.
async fn ended(agent: &mut Agent, process_id: &str) -> Termination {
    loop {
        let event = tokio::time::timeout(PATIENCE, agent.events().recv()).await.expect("an event").expect("events");
        if let ProcessEvent { process_id: id, kind: ProcessEventKind::Ended { termination, .. }, .. } = event
            && id == process_id
        {
            return termination;
        }
    }
}

/// A CreateGameSession request for four players in the fleet's custom location.
fn create_request(client: &aws_sdk_gamelift::Client, fleet_id: &str) -> CreateGameSessionFluentBuilder {
    client.create_game_session().fleet_id(fleet_id).location(LOCATION).maximum_player_session_count(4)
}

async fn create_session(client: &aws_sdk_gamelift::Client, fleet_id: &str) -> String {
    let created = create_request(client, fleet_id).send().await.expect("CreateGameSession");
    created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned()
}

async fn wait_session(
    client: &aws_sdk_gamelift::Client,
    id: &str,
    status: GameSessionStatus,
) -> aws_sdk_gamelift::types::GameSession {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let described = client.describe_game_sessions().game_session_id(id).send().await.unwrap();
        let session = described.game_sessions()[0].clone();
        if session.status() == Some(&status) {
            return session;
        }
        assert!(tokio::time::Instant::now() < deadline, "session never {status:?}: {session:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn compute_status(client: &aws_sdk_gamelift::Client, fleet_id: &str) -> Option<ComputeStatus> {
    let compute = client.describe_compute().fleet_id(fleet_id).compute_name("box-1").send().await.unwrap();
    compute.compute().and_then(|c| c.compute_status()).cloned()
}

async fn wait_compute(client: &aws_sdk_gamelift::Client, fleet_id: &str, status: ComputeStatus) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while compute_status(client, fleet_id).await != Some(status.clone()) {
        assert!(tokio::time::Instant::now() < deadline, "the compute never became {status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fleet_events(client: &aws_sdk_gamelift::Client, fleet_id: &str) -> Vec<EventCode> {
    let events = client.describe_fleet_events().fleet_id(fleet_id).send().await.unwrap();
    events.events().iter().filter_map(|e| e.event_code().cloned()).collect()
}

/// What every test starts from: a control plane with its data directory, a workspace and a
/// fleet running `count` copies of the sample game.
struct Stage {
    game: PathBuf,
    _data: tempfile::TempDir,
    plane: ControlPlane,
    client: aws_sdk_gamelift::Client,
    ws: Workspace,
    fleet_id: String,
}

impl Stage {
    async fn new(count: i32) -> Self {
        let game = workspace_binary("openlift-sample-game").await;
        let data = tempfile::tempdir().unwrap();
        let plane = ControlPlane::start(data.path(), None).await;
        let client = plane.client();
        let ws = Workspace::new();
        let fleet_id = game_fleet(&client, &game, &ws.path().join("game-logs"), count).await;
        Stage { game, _data: data, plane, client, ws, fleet_id }
    }
}

#[tokio::test]
async fn processes_become_ready_crash_and_get_replaced_and_force_terminate_goes_through_the_agent() {
    let Stage { game, _data, plane, client, ws, fleet_id } = Stage::new(1).await;
    let (mut agent, shutdown) = start_agent(&plane, &ws, &fleet_id, PortRange::new(41000, 41999)).await;

    let compute = client.describe_compute().fleet_id(&fleet_id).compute_name("box-1").send().await.unwrap();
    let endpoint = compute.compute().and_then(|c| c.game_lift_agent_endpoint()).unwrap();
    assert_eq!(endpoint, format!("ws://{}/agent", plane.addr));
    let first = ready_processes(&agent, 1).await.remove(0);

    // A crash: the session ends INTERRUPTED, the fleet records it, the logs go up, a new process starts.
    let session = create_session(&client, &fleet_id).await;
    wait_session(&client, &session, GameSessionStatus::Active).await;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first.pid as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    assert_eq!(ended(&mut agent, &first.process_id).await, Termination::Crashed);
    let crashed = wait_session(&client, &session, GameSessionStatus::Terminated).await;
    assert_eq!(crashed.status_reason(), Some(&GameSessionStatusReason::Interrupted));
    assert!(fleet_events(&client, &fleet_id).await.contains(&EventCode::ServerProcessCrashed));
    let replacement = ready_processes(&agent, 1).await.remove(0);
    assert_ne!(replacement.process_id, first.process_id);

    // A runtime configuration change is picked up.
    set_games(&client, &fleet_id, &game, &ws.path().join("game-logs"), 2).await;
    let both = ready_processes(&agent, 2).await;
    assert!(both.iter().any(|p| p.process_id == replacement.process_id));

    // FORCE_TERMINATE: the agent stops the hosting process.
    let session = create_session(&client, &fleet_id).await;
    wait_session(&client, &session, GameSessionStatus::Active).await;
    let host = both
        .iter()
        .map(|p| p.process_id.clone())
        .find(|id| plane.app.sdk.processes.hosts(id, &session))
        .expect("one of the processes hosts the session");
    client
        .terminate_game_session()
        .game_session_id(&session)
        .termination_mode(TerminationMode::ForceTerminate)
        .send()
        .await
        .expect("TerminateGameSession");
    assert_eq!(ended(&mut agent, &host).await, Termination::ForceTerminated);
    let pid = both.iter().find(|p| p.process_id == host).unwrap().pid;
    wait_gone(pid).await;
    let forced = wait_session(&client, &session, GameSessionStatus::Terminated).await;
    assert_eq!(forced.status_reason(), Some(&GameSessionStatusReason::ForceTerminated));
    ready_processes(&agent, 2).await;
    assert_eq!(compute_status(&client, &fleet_id).await, Some(ComputeStatus::Active));

    shutdown.cancel();
    tokio::time::timeout(PATIENCE, agent.stopped()).await.expect("agent stops");
    plane.stop().await;
}

/// Creates a game session, retrying while no process is available yet.
async fn create_session_eventually(client: &aws_sdk_gamelift::Client, fleet_id: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let created = create_request(client, fleet_id).send().await;
        match created {
            Ok(created) => return created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned(),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_fleet_capacity_exceeded_exception()) => {
                assert!(tokio::time::Instant::now() < deadline, "no process ever became available");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("CreateGameSession: {e:?}"),
        }
    }
}

#[tokio::test]
async fn the_agent_reconnects_after_a_control_plane_restart_and_keeps_hosting() {
    let Stage { _data, plane, ws, fleet_id, .. } = Stage::new(1).await;
    let (agent, shutdown) = start_agent(&plane, &ws, &fleet_id, PortRange::new(42000, 42999)).await;
    ready_processes(&agent, 1).await;

    let (addr, data_dir) = plane.stop().await;
    let plane = ControlPlane::start(&data_dir, Some(addr)).await;
    let client = plane.client();
    // The restarted control plane forgot which processes were ready: the agent replaces
    // those that stay unregistered, and the fleet hosts again.
    let session = create_session_eventually(&client, &fleet_id).await;
    wait_session(&client, &session, GameSessionStatus::Active).await;
    assert!(plane.app.agents.connected(&fleet_id, "box-1"));
    assert_eq!(compute_status(&client, &fleet_id).await, Some(ComputeStatus::Active));

    shutdown.cancel();
    tokio::time::timeout(PATIENCE, agent.stopped()).await.expect("agent stops");
    plane.stop().await;
}

/// An `openlift agent` process for compute box-1.
fn spawn_agent(openlift: &Path, plane: &ControlPlane, fleet_id: &str, ws: &Workspace) -> tokio::process::Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(ws.path().join("agent.log")).unwrap();
    tokio::process::Command::new(openlift)
        .arg("agent")
        .args(["--endpoint", &format!("http://{}", plane.addr), "--fleet-id", fleet_id, "--compute-name", "box-1"])
        .args(["--location", LOCATION, "--ip-address", "127.0.0.1", "--heartbeat-interval", "500ms"])
        .args(["--poll-interval", "1s", "--grace-period", "5s", "--port-range", "43000-43999"])
        .arg("--log-dir")
        .arg(ws.log_dir())
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", REGION)
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("openlift agent starts")
}

/// Waits until the fleet has `count` ready processes in the control plane.
async fn wait_active(plane: &ControlPlane, fleet_id: &str, count: usize) {
    // Two binaries start here, the agent and the games: allow a loaded machine more time.
    let deadline = tokio::time::Instant::now() + 3 * PATIENCE;
    while plane.app.sdk.processes.usage(fleet_id, None).active_server_processes < count {
        assert!(tokio::time::Instant::now() < deadline, "fewer than {count} ready processes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The operating-system process IDs of the sample games that logged into `logs`.
fn game_pids(logs: &Path) -> Vec<i32> {
    let names: Vec<_> =
        std::fs::read_dir(logs).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    names.iter().filter_map(|n| n.to_str()?.strip_prefix("chat-")?.strip_suffix(".log")?.parse().ok()).collect()
}

#[tokio::test]
async fn a_killed_agent_impairs_its_compute_and_a_restarted_one_makes_it_active_again() {
    let openlift = workspace_binary("openlift").await;
    let Stage { _data, plane, client, ws, fleet_id, .. } = Stage::new(2).await;
    let game_logs = ws.path().join("game-logs");

    let mut first = spawn_agent(&openlift, &plane, &fleet_id, &ws);
    wait_active(&plane, &fleet_id, 2).await;
    let session = create_session(&client, &fleet_id).await;
    wait_session(&client, &session, GameSessionStatus::Active).await;

    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let killed = tokio::time::Instant::now();
    wait_compute(&client, &fleet_id, ComputeStatus::Impaired).await;
    assert!(killed.elapsed() < Duration::from_secs(5), "impaired after {:?}", killed.elapsed());
    // The game servers outlive their agent: the session goes on, but no new one is placed
    // on the impaired compute although one of its processes is idle.
    assert_eq!(plane.app.sdk.processes.usage(&fleet_id, None).active_server_processes, 2);
    wait_session(&client, &session, GameSessionStatus::Active).await;
    let refused = create_request(&client, &fleet_id).send().await.unwrap_err();
    assert!(refused.as_service_error().is_some_and(|e| e.is_fleet_capacity_exceeded_exception()), "{refused:?}");
    let impaired = client
        .list_compute()
        .fleet_id(&fleet_id)
        .compute_status(aws_sdk_gamelift::types::ListComputeInputStatus::Impaired)
        .send()
        .await
        .unwrap();
    assert_eq!(impaired.compute_list().len(), 1);

    // A new agent reuses the registration and the compute is active again.
    let mut second = spawn_agent(&openlift, &plane, &fleet_id, &ws);
    wait_compute(&client, &fleet_id, ComputeStatus::Active).await;
    let placed = create_session_eventually(&client, &fleet_id).await;
    wait_session(&client, &placed, GameSessionStatus::Active).await;

    let agent_pid = nix::unistd::Pid::from_raw(second.id().unwrap() as i32);
    nix::sys::signal::kill(agent_pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let exit = tokio::time::timeout(PATIENCE, second.wait()).await.expect("the agent stops").unwrap();
    assert!(exit.success(), "{exit:?}");
    // The first agent's games were orphaned by the kill; stop them.
    for pid in game_pids(&game_logs) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    plane.stop().await;
}
