//! The agent against control planes: the real openlift server in this process
//! (RegisterCompute, reuse after a restart, GetComputeAuthToken, runtime configuration
//! polling) and a scripted one for token refresh (`server-sdk-protocol.md` section 9).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_gamelift::config::{BehaviorVersion, Region};
use aws_sdk_gamelift::types::{ComputeType, LocationConfiguration, RuntimeConfiguration, ServerProcess};
use common::{PATIENCE, Workspace, read_when_written};
use openlift_agent::control::{ComputeToken, ControlError, RegisteredCompute, ServerProcess as Entry};
use openlift_agent::{
    Agent, AgentSettings, ControlPlane, GameLiftControlPlane, ProcessEvent, ProcessEventKind, Registration,
};
use openlift_server::config::Config;
use openlift_server::credentials::CredentialEntry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const ACCESS_KEY_ID: &str = "AKIDOPENLIFTAGENT";
const SECRET_ACCESS_KEY: &str = "agent/test+SECRET";
const REGION: &str = "us-east-1";

/// Writes its environment, then runs until SIGTERM.
const ENV_DUMP: &str = "env > \"$OUT/env.tmp\" && mv \"$OUT/env.tmp\" \"$OUT/env-$GAMELIFT_SDK_PROCESS_ID\"\n\
                        trap 'exit 0' TERM\nwhile :; do sleep 0.05; done";

/// Starts the control plane on a port-0 listener; returns its address and data directory.
async fn start_server(shutdown: CancellationToken) -> (std::net::SocketAddr, tempfile::TempDir) {
    let data_dir = tempfile::tempdir().expect("data dir");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("address");
    let config = Config {
        region: REGION.into(),
        account_id: "111122223333".into(),
        credentials: vec![CredentialEntry {
            access_key_id: ACCESS_KEY_ID.into(),
            secret_access_key: SECRET_ACCESS_KEY.into(),
        }],
        ..Config::new(addr, data_dir.path().to_owned())
    };
    tokio::spawn(async move { openlift_server::serve(config, listener, shutdown).await.expect("server") });
    (addr, data_dir)
}

fn client(addr: std::net::SocketAddr) -> aws_sdk_gamelift::Client {
    let config = aws_sdk_gamelift::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "agent-tests"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_gamelift::Client::from_conf(config)
}

async fn set_processes(client: &aws_sdk_gamelift::Client, fleet_id: &str, launch_path: &str, count: i32) {
    let process = ServerProcess::builder().launch_path(launch_path).concurrent_executions(count).build();
    let runtime = RuntimeConfiguration::builder().server_processes(process).build();
    client.update_runtime_configuration().fleet_id(fleet_id).runtime_configuration(runtime).send().await.unwrap();
}

fn settings(ws: &Workspace, fleet_id: &str, compute_name: &str) -> AgentSettings {
    AgentSettings {
        fleet_id: fleet_id.into(),
        compute_name: compute_name.into(),
        poll_interval: Duration::from_millis(200),
        sdk_endpoint_override: None,
        supervisor: ws.config(),
        heartbeat_interval: Duration::from_secs(60),
    }
}

async fn next_start(agent: &mut Agent) -> String {
    loop {
        let event = tokio::time::timeout(PATIENCE, agent.events().recv()).await.expect("an event").expect("events");
        if let ProcessEvent { process_id, kind: ProcessEventKind::Started { .. }, .. } = event {
            return process_id;
        }
    }
}

#[tokio::test]
async fn the_agent_registers_launches_the_runtime_configuration_and_follows_its_changes() {
    let server_shutdown = CancellationToken::new();
    let (addr, _data) = start_server(server_shutdown.clone()).await;
    let client = client(addr);
    client.create_location().location_name("custom-lab").send().await.unwrap();
    let fleet = client
        .create_fleet()
        .name("agent-fleet")
        .compute_type(ComputeType::Anywhere)
        .locations(LocationConfiguration::builder().location("custom-lab").build())
        .send()
        .await
        .unwrap();
    let fleet_id = fleet.fleet_attributes().and_then(|a| a.fleet_id()).unwrap().to_owned();
    let ws = Workspace::new();
    let script = ws.script("game.sh", ENV_DUMP);
    set_processes(&client, &fleet_id, &script, 1).await;

    let registration = Registration {
        fleet_id: fleet_id.clone(),
        compute_name: "box-1".into(),
        location: "custom-lab".into(),
        ip_address: "10.0.0.9".into(),
        dns_name: None,
    };
    let control = Arc::new(GameLiftControlPlane::new(client.clone(), registration));
    let shutdown = CancellationToken::new();
    let mut agent = Agent::start(control.clone(), settings(&ws, &fleet_id, "box-1"), shutdown.clone()).await.unwrap();
    let first = next_start(&mut agent).await;
    let env = read_when_written(&ws.path().join(format!("env-{first}"))).await;
    assert!(env.contains(&format!("GAMELIFT_SDK_WEBSOCKET_URL=ws://{addr}\n")), "{env}");
    assert!(env.contains(&format!("GAMELIFT_SDK_FLEET_ID={fleet_id}\n")), "{env}");
    assert!(env.contains("GAMELIFT_SDK_HOST_ID=box-1\n"), "{env}");
    let token = env.lines().find_map(|l| l.strip_prefix("GAMELIFT_SDK_AUTH_TOKEN=")).expect("a token");
    assert!(!token.is_empty());
    let compute = client.describe_compute().fleet_id(&fleet_id).compute_name("box-1").send().await.unwrap();
    assert_eq!(compute.compute().and_then(|c| c.ip_address()), Some("10.0.0.9"));

    set_processes(&client, &fleet_id, &script, 2).await;
    let second = next_start(&mut agent).await;
    assert_ne!(second, first);
    assert_eq!(agent.supervisor().processes().await.len(), 2);

    shutdown.cancel();
    tokio::time::timeout(PATIENCE, agent.stopped()).await.expect("agent stops");

    // A restart finds the compute registered (ConflictException) and reuses it.
    assert!(control.register_compute().await.unwrap().reused);
    let shutdown = CancellationToken::new();
    let mut agent = Agent::start(control, settings(&ws, &fleet_id, "box-1"), shutdown.clone()).await.unwrap();
    next_start(&mut agent).await;
    next_start(&mut agent).await;
    shutdown.cancel();
    tokio::time::timeout(PATIENCE, agent.stopped()).await.expect("agent stops");
    server_shutdown.cancel();
}

/// A control plane whose tokens expire 1.5 s after they are issued.
struct ShortTokens {
    issued: AtomicUsize,
    processes: Mutex<Vec<Entry>>,
}

#[async_trait::async_trait]
impl ControlPlane for ShortTokens {
    async fn register_compute(&self) -> Result<RegisteredCompute, ControlError> {
        Ok(RegisteredCompute { sdk_endpoint: "ws://registered".into(), agent_endpoint: None, reused: false })
    }

    async fn compute_auth_token(&self) -> Result<ComputeToken, ControlError> {
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        Ok(ComputeToken {
            token: format!("token-{n}"),
            expires_at: Some(SystemTime::now() + Duration::from_millis(1500)),
        })
    }

    async fn runtime_configuration(&self) -> Result<Vec<Entry>, ControlError> {
        Ok(self.processes.lock().unwrap().clone())
    }
}

#[tokio::test]
async fn processes_launched_after_a_token_refresh_get_the_new_token() {
    let ws = Workspace::new();
    // Each run records its token and exits, so the supervisor keeps launching new ones.
    let script = ws.script(
        "short.sh",
        "echo \"$GAMELIFT_SDK_AUTH_TOKEN $GAMELIFT_SDK_WEBSOCKET_URL\" >> \"$OUT/tokens\"\nsleep 0.2",
    );
    let entry = Entry { launch_path: script, parameters: String::new(), concurrent_executions: 1 };
    let control = Arc::new(ShortTokens { issued: AtomicUsize::new(0), processes: Mutex::new(vec![entry]) });
    let mut settings = settings(&ws, "fleet-x", "box-2");
    settings.sdk_endpoint_override = Some("ws://override".into());
    let shutdown = CancellationToken::new();
    let agent = Agent::start(control.clone(), settings, shutdown.clone()).await.unwrap();

    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let tokens = tokio::fs::read_to_string(ws.path().join("tokens")).await.unwrap_or_default();
        assert!(tokens.lines().all(|l| l.ends_with(" ws://override")), "{tokens}");
        if tokens.lines().any(|l| l.starts_with("token-0 ")) && tokens.lines().any(|l| l.starts_with("token-1 ")) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no process got a refreshed token: {tokens}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(PATIENCE, agent.stopped()).await.expect("agent stops");
}
