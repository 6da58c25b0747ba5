//! Game servers for the game-session tests: real `openlift-server-sdk` processes that report
//! ready on a chosen port, count the `CreateGameSession` pushes they get, and activate each
//! game session or, to provoke the activation timeout, leave it `ACTIVATING`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use aws_credential_types::Credentials as AwsCredentials;
use aws_sdk_gamelift::config::{BehaviorVersion, Region};
use aws_smithy_async::time::TimeSource;
use openlift_core::clock::{Clock, ManualClock};
use openlift_server_sdk::{
    ClientOptions, Credentials, GameLiftServer, GameSession, ProcessParameters, ServerHandler, ServerParameters,
};
use tokio::sync::{Notify, mpsc};

use super::{ACCESS_KEY_ID, Compute, Harness, REGION, SECRET_ACCESS_KEY, WAIT};

/// What a game server does with the game sessions it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStart {
    /// Calls `ActivateGameSession` at once.
    Activate,
    /// Never activates, so the session stays `ACTIVATING`.
    Ignore,
}

/// A running game server process.
pub struct Game {
    /// Its SDK handle, to accept players or end the process.
    pub sdk: GameLiftServer,
    /// Its process ID.
    pub process_id: String,
    /// The port it reported ready on.
    pub port: u16,
    /// How many `CreateGameSession` pushes it received.
    pub pushes: Arc<AtomicUsize>,
    /// Notified when the service pushes `TerminateProcess`.
    pub terminated: Arc<Notify>,
    /// The game sessions it received, in order.
    pub sessions: mpsc::UnboundedReceiver<GameSession>,
}

struct Handler {
    sdk: GameLiftServer,
    on_start: OnStart,
    pushes: Arc<AtomicUsize>,
    terminated: Arc<Notify>,
    sessions: mpsc::UnboundedSender<GameSession>,
}

impl ServerHandler for Handler {
    async fn on_start_game_session(&self, session: GameSession) {
        self.pushes.fetch_add(1, Ordering::SeqCst);
        if self.on_start == OnStart::Activate {
            let activated = self.sdk.activate_game_session().await;
            assert!(activated.is_ok(), "ActivateGameSession: {activated:?}");
        }
        let _ = self.sessions.send(session);
    }

    async fn on_process_terminate(&self) {
        self.terminated.notify_one();
    }
}

impl Game {
    /// Connects a process to `compute` with its token and makes it ready on `port`.
    pub async fn start(h: &Harness, compute: &Compute, port: u16, on_start: OnStart) -> Game {
        let process_id = uuid::Uuid::new_v4().to_string();
        let params = ServerParameters {
            web_socket_url: h.sdk_url(),
            process_id: process_id.clone(),
            host_id: compute.name.clone(),
            fleet_id: compute.fleet_id.clone(),
            credentials: Credentials::AuthToken(compute.token.clone()),
        };
        let sdk = GameLiftServer::init(params, ClientOptions::default()).await.expect("InitSDK");
        let pushes = Arc::new(AtomicUsize::new(0));
        let terminated = Arc::new(Notify::new());
        let (sessions_tx, sessions) = mpsc::unbounded_channel();
        let handler = Handler {
            sdk: sdk.clone(),
            on_start,
            pushes: pushes.clone(),
            terminated: terminated.clone(),
            sessions: sessions_tx,
        };
        sdk.process_ready(ProcessParameters { port, log_paths: Vec::new() }, handler).await.expect("ProcessReady");
        Game { sdk, process_id, port, pushes, terminated, sessions }
    }

    /// The next game session pushed to this process.
    pub async fn next_session(&mut self) -> GameSession {
        let pushed = tokio::time::timeout(WAIT, self.sessions.recv()).await;
        pushed.expect("timed out waiting for a CreateGameSession push").expect("the handler is alive")
    }

    /// Waits for `TerminateProcess`.
    pub async fn wait_terminated(&self) {
        let notified = tokio::time::timeout(WAIT, self.terminated.notified()).await;
        notified.expect("timed out waiting for TerminateProcess");
    }
}

/// The server's manual clock as the AWS SDK's time source, so requests are signed at the
/// server's time however far a test moves it.
#[derive(Debug)]
struct ServerTime(Arc<ManualClock>);

impl TimeSource for ServerTime {
    fn now(&self) -> SystemTime {
        self.0.now().as_system_time()
    }
}

impl Harness {
    /// A control-plane client that signs at the server's (manual) time and never retries, so
    /// every answer the test sees is the server's first.
    ///
    /// The server's `Date` header carries the real time whatever its clock says, so the SDK's
    /// clock-skew correction is turned off.
    pub fn gamelift_at_server_time(&self) -> aws_sdk_gamelift::Client {
        aws_sdk_gamelift::Client::from_conf(
            aws_sdk_gamelift::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(format!("http://{}", self.addr))
                .region(Region::new(REGION))
                .credentials_provider(AwsCredentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "tests"))
                .time_source(ServerTime(self.clock.clone()))
                .disable_clock_skew_correction(true)
                .retry_config(aws_sdk_gamelift::config::retry::RetryConfig::disabled())
                .http_client(aws_smithy_http_client::Builder::new().build_http())
                .build(),
        )
    }
}
