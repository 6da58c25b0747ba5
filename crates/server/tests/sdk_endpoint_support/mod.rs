//! Shared setup of the SDK endpoint tests: a real server on a port-0 listener with a
//! manual clock and access to its state (the process registry, the workers' statuses), an
//! `aws-sdk-gamelift` client, helpers to register a compute and wait for registry changes, and
//! a relay whose connections a test can cut as a dropped network does.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

pub mod games;
pub mod raw;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_gamelift::config::{BehaviorVersion, Region};
use aws_sdk_gamelift::operation::create_game_session::builders::CreateGameSessionFluentBuilder;
use aws_sdk_gamelift::types::{ComputeType, LocationConfiguration};
use openlift_core::clock::{Clock, ManualClock};
use openlift_model::Timestamp;
use openlift_server::app::App;
use openlift_server::config::{Config, DEFAULT_PROCESS_HEARTBEAT_TIMEOUT};
use openlift_server::credentials::CredentialEntry;
use openlift_server::hosting::registry::ProcessInfo;
use openlift_server::workers::Workers;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The Region the test servers serve.
pub const REGION: &str = "us-west-2";
/// The access key the test servers accept.
pub const ACCESS_KEY_ID: &str = "AKIDSDKENDPOINTTEST";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "sdk/endpoint+SECRET";
/// The custom location test computes are in.
pub const LOCATION: &str = "custom-lab";
/// The certificate path test computes register.
pub const CERTIFICATE_PATH: &str = "/local/certs/cert.pem";
/// How long [`Harness::wait_for`] waits before failing the test.
pub const WAIT: Duration = Duration::from_secs(20);

/// A server running in this process until dropped.
pub struct Harness {
    /// The server's state.
    pub app: Arc<App>,
    /// The server's background workers.
    pub workers: Arc<Workers>,
    /// The listen address.
    pub addr: SocketAddr,
    /// The server's clock.
    pub clock: Arc<ManualClock>,
    /// A control-plane client.
    pub gamelift: aws_sdk_gamelift::Client,
    heartbeat_timeout: Duration,
    configure: fn(&mut Config),
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
    data_dir: tempfile::TempDir,
}

/// Builds and runs a server on `listener` with its data in `data_dir`, its configuration
/// changed by `configure`.
async fn launch(
    listener: TcpListener,
    data_dir: &std::path::Path,
    heartbeat_timeout: Duration,
    configure: fn(&mut Config),
    clock: Arc<ManualClock>,
) -> (Arc<App>, Arc<Workers>, CancellationToken, JoinHandle<()>) {
    let addr = listener.local_addr().expect("listener address");
    let mut config = Config {
        region: REGION.into(),
        account_id: "111122223333".into(),
        credentials: vec![CredentialEntry {
            access_key_id: ACCESS_KEY_ID.into(),
            secret_access_key: SECRET_ACCESS_KEY.into(),
        }],
        process_heartbeat_timeout: heartbeat_timeout,
        ..Config::new(addr, data_dir.to_owned())
    };
    configure(&mut config);
    let injected: Arc<dyn Clock> = clock;
    let server = openlift_server::Server::build(config, addr, injected).await.expect("server builds");
    let app = server.app().clone();
    let workers = server.workers().clone();
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let task = tokio::spawn(async move { server.run(listener, token).await.expect("server runs") });
    (app, workers, shutdown, task)
}

/// A registered compute and an auth token for it.
#[derive(Debug, Clone)]
pub struct Compute {
    /// Its fleet.
    pub fleet_id: String,
    /// Its name.
    pub name: String,
    /// A fresh auth token.
    pub token: String,
}

/// A ManualClock start near the real time, so SigV4 signatures stay within the skew.
pub fn near_now() -> Timestamp {
    let millis = Timestamp::now().as_millis();
    Timestamp::from_millis(millis - millis % 1000)
}

impl Harness {
    /// Starts a server with the default heartbeat timeout.
    pub async fn start() -> Self {
        Self::start_with(DEFAULT_PROCESS_HEARTBEAT_TIMEOUT).await
    }

    /// Starts a server with this heartbeat timeout.
    pub async fn start_with(heartbeat_timeout: Duration) -> Self {
        Self::launch(heartbeat_timeout, |_| {}).await
    }

    /// Starts a server with the default heartbeat timeout whose other settings `configure`
    /// changes.
    pub async fn start_configured(configure: fn(&mut Config)) -> Self {
        Self::launch(DEFAULT_PROCESS_HEARTBEAT_TIMEOUT, configure).await
    }

    async fn launch(heartbeat_timeout: Duration, configure: fn(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("temporary data dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("listener address");
        let clock = Arc::new(ManualClock::new(near_now()));
        let (app, workers, shutdown, task) =
            launch(listener, data_dir.path(), heartbeat_timeout, configure, clock.clone()).await;
        let gamelift = aws_sdk_gamelift::Client::from_conf(
            aws_sdk_gamelift::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(format!("http://{addr}"))
                .region(Region::new(REGION))
                .credentials_provider(Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "tests"))
                .http_client(aws_smithy_http_client::Builder::new().build_http())
                .build(),
        );
        Harness {
            app,
            workers,
            addr,
            clock,
            gamelift,
            heartbeat_timeout,
            configure,
            shutdown,
            task: Some(task),
            data_dir,
        }
    }

    /// Stops the server and starts a new one on the same address, data and clock, as a
    /// control-plane restart does.
    pub async fn restart(&mut self) {
        self.restart_after(Duration::ZERO).await;
    }

    /// [`restart`](Self::restart) with the clock advanced by `outage` while the server is down.
    pub async fn restart_after(&mut self, outage: Duration) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
        self.clock.advance(outage);
        let listener = TcpListener::bind(self.addr).await.expect("bind the same address again");
        let (app, workers, shutdown, task) =
            launch(listener, self.data_dir.path(), self.heartbeat_timeout, self.configure, self.clock.clone()).await;
        (self.app, self.workers, self.shutdown, self.task) = (app, workers, shutdown, Some(task));
    }

    /// The SDK endpoint URL RegisterCompute returns.
    pub fn sdk_url(&self) -> String {
        self.app.sdk_endpoint.clone()
    }

    /// Creates an Anywhere fleet in [`LOCATION`] with one compute, and gets a token for it.
    pub async fn fleet_with_compute(&self, compute_name: &str) -> Compute {
        let _ = self.gamelift.create_location().location_name(LOCATION).send().await;
        let fleet = self
            .gamelift
            .create_fleet()
            .name("sdk-endpoint-test")
            .compute_type(ComputeType::Anywhere)
            .locations(LocationConfiguration::builder().location(LOCATION).build())
            .send()
            .await
            .expect("CreateFleet");
        let fleet_id = fleet.fleet_attributes().and_then(|a| a.fleet_id()).expect("FleetId").to_owned();
        self.add_compute(&fleet_id, compute_name).await
    }

    /// Registers another compute with `fleet_id` and gets a token for it.
    pub async fn add_compute(&self, fleet_id: &str, compute_name: &str) -> Compute {
        let registered = self
            .gamelift
            .register_compute()
            .fleet_id(fleet_id)
            .compute_name(compute_name)
            .location(LOCATION)
            .ip_address("10.1.1.1")
            .certificate_path(CERTIFICATE_PATH)
            .send()
            .await
            .expect("RegisterCompute");
        let endpoint = registered.compute().and_then(|c| c.game_lift_service_sdk_endpoint()).expect("SDK endpoint");
        assert_eq!(endpoint, self.sdk_url());
        let token = self.token(fleet_id, compute_name).await;
        Compute { fleet_id: fleet_id.to_owned(), name: compute_name.to_owned(), token }
    }

    /// A new auth token for a compute.
    pub async fn token(&self, fleet_id: &str, compute_name: &str) -> String {
        let token = self.gamelift.get_compute_auth_token().fleet_id(fleet_id).compute_name(compute_name).send().await;
        token.expect("GetComputeAuthToken").auth_token().expect("AuthToken").to_owned()
    }

    /// A CreateGameSession request on `compute`'s fleet in [`LOCATION`], for at most
    /// `max_players` players; the caller adds the rest and sends it.
    pub fn create_game_session(&self, compute: &Compute, max_players: i32) -> CreateGameSessionFluentBuilder {
        let request = self.gamelift.create_game_session().fleet_id(&compute.fleet_id).location(LOCATION);
        request.maximum_player_session_count(max_players)
    }

    /// Waits until a run of `worker` that started on the clock as it stands now has finished,
    /// and fails the test if that run failed or none finished within [`WAIT`]. Call it after
    /// moving the clock forward, so that a run from before the move does not count.
    pub async fn a_run_of(&self, worker: &str) {
        let now = self.clock.now();
        let finished = async {
            loop {
                let status = self.workers.statuses().remove(worker).expect("the worker is running");
                if status.last_run.is_some_and(|started| started >= now) {
                    return status;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let status = tokio::time::timeout(WAIT, finished).await.expect("a run of the worker on the current clock");
        assert_eq!(status.last_error, None, "the {worker} run failed");
    }

    /// Waits until the registry's view of `process_id` satisfies `check`.
    pub async fn wait_for(&self, process_id: &str, what: &str, check: impl Fn(&ProcessInfo) -> bool) -> ProcessInfo {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(info) = self.app.sdk.processes.get(process_id)
                && check(&info)
            {
                return info;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:?}",
                self.app.sdk.processes.get(process_id)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The `(ActiveServerProcessCount, ActiveGameSessionCount)` DescribeFleetUtilization reports.
    pub async fn utilization(&self, fleet_id: &str) -> (i32, i32) {
        let output = self.gamelift.describe_fleet_utilization().fleet_ids(fleet_id).send().await;
        let output = output.expect("DescribeFleetUtilization");
        let utilization = &output.fleet_utilization()[0];
        (utilization.active_server_process_count().unwrap(), utilization.active_game_session_count().unwrap())
    }

    /// The event codes of a fleet, newest first.
    pub async fn event_codes(&self, fleet_id: &str) -> Vec<String> {
        let output =
            self.gamelift.describe_fleet_events().fleet_id(fleet_id).send().await.expect("DescribeFleetEvents");
        output.events().iter().filter_map(|e| e.event_code().map(|c| c.as_str().to_owned())).collect()
    }

    /// Waits until the fleet's newest event has this code (events are recorded just after
    /// the push that announces them).
    pub async fn wait_for_event(&self, fleet_id: &str, code: &str) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let codes = self.event_codes(fleet_id).await;
            if codes.first().map(String::as_str) == Some(code) {
                return codes;
            }
            assert!(Instant::now() < deadline, "timed out waiting for event {code}: {codes:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server and waits until it has finished.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A TCP relay to a server's port, standing for the network between a game server and the
/// SDK endpoint: [`cut`](Self::cut) breaks every connection through it without a close frame,
/// as a dropped network does, and later connections pass again.
pub struct Relay {
    /// The SDK endpoint URL through the relay.
    pub url: String,
    cut: Arc<std::sync::Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl Relay {
    /// Starts relaying to the SDK endpoint of `h`.
    pub async fn start(h: &Harness) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let url = format!("ws://{}", listener.local_addr().expect("relay address"));
        let cut: Arc<std::sync::Mutex<CancellationToken>> = Arc::default();
        let (target, stop) = (h.addr, CancellationToken::new());
        let (cuts, stopped) = (cut.clone(), stop.clone());
        tokio::spawn(async move {
            while let Some(Ok((mut game, _))) = stopped.run_until_cancelled(listener.accept()).await {
                let Ok(mut server) = tokio::net::TcpStream::connect(target).await else { continue };
                let cut = cuts.lock().expect("relay lock").clone();
                tokio::spawn(async move {
                    cut.run_until_cancelled(tokio::io::copy_bidirectional(&mut game, &mut server)).await;
                });
            }
        });
        Relay { url, cut, stop }
    }

    /// Breaks every connection through the relay.
    pub fn cut(&self) {
        std::mem::take(&mut *self.cut.lock().expect("relay lock")).cancel();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
