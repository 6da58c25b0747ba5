//! End-to-end tests of the SDK endpoint with `openlift-server-sdk` as the game server:
//! RegisterCompute and GetComputeAuthToken through the control plane, then the SDK's
//! whole lifecycle over a real WebSocket (`server-sdk-protocol.md` sections 3–6).

mod sdk_endpoint_support;

use std::sync::Arc;
use std::time::Duration;

use openlift_server::sdk::push::{CreateGameSession, Push};
use openlift_server::sdk::registry::{Delivery, EndReason, ProcessStatus};
use openlift_server_sdk::{
    ClientOptions, Credentials, Error, GameLiftServer, GameSession, GetFleetRoleCredentialsRequest, ProcessParameters,
    ServerHandler, ServerParameters, SigV4Credentials, Timings, TlsTrust,
};
use sdk_endpoint_support::{
    ACCESS_KEY_ID, CERTIFICATE_PATH, Compute, Harness, LOCATION, REGION, SECRET_ACCESS_KEY, WAIT,
};
use tokio::sync::{Notify, mpsc};

/// The game: reports a fixed health, activates game sessions, and tells the test about pushes.
struct Game {
    sdk: GameLiftServer,
    healthy: bool,
    terminated: Arc<Notify>,
    sessions: mpsc::UnboundedSender<GameSession>,
}

impl ServerHandler for Game {
    async fn on_start_game_session(&self, session: GameSession) {
        let activated = self.sdk.activate_game_session().await;
        assert!(activated.is_ok(), "{activated:?}");
        let _ = self.sessions.send(session);
    }

    async fn on_process_terminate(&self) {
        self.terminated.notify_one();
    }

    async fn on_health_check(&self) -> bool {
        self.healthy
    }
}

/// Official timings, except fast reconnects and a chosen heartbeat interval.
fn options(heartbeat: Duration, connect_attempts: u32) -> ClientOptions {
    let mut timings = Timings::default();
    timings.health_check_interval = heartbeat;
    timings.health_check_jitter = Duration::ZERO;
    timings.connect_backoff = Duration::from_millis(50);
    timings.connect_backoff_max = Duration::from_millis(200);
    timings.connect_attempts = connect_attempts;
    timings.refresh_close_timeout = Duration::from_millis(200);
    ClientOptions::default().with_timings(timings)
}

fn params(h: &Harness, compute: &Compute, process_id: &str) -> ServerParameters {
    ServerParameters {
        web_socket_url: h.sdk_url(),
        process_id: process_id.to_owned(),
        host_id: compute.name.clone(),
        fleet_id: compute.fleet_id.clone(),
        credentials: Credentials::AuthToken(compute.token.clone()),
    }
}

struct Running {
    sdk: GameLiftServer,
    process_id: String,
    terminated: Arc<Notify>,
    sessions: mpsc::UnboundedReceiver<GameSession>,
}

/// Connects a game server and makes it ready on port 7777.
async fn ready_game(h: &Harness, compute: &Compute, healthy: bool, heartbeat: Duration) -> Running {
    let process_id = uuid::Uuid::new_v4().to_string();
    let sdk = GameLiftServer::init(params(h, compute, &process_id), options(heartbeat, 4)).await.expect("InitSDK");
    let terminated = Arc::new(Notify::new());
    let (sessions_tx, sessions) = mpsc::unbounded_channel();
    let game = Game { sdk: sdk.clone(), healthy, terminated: terminated.clone(), sessions: sessions_tx };
    let process = ProcessParameters { port: 7777, log_paths: vec!["/local/game/logs".into()] };
    sdk.process_ready(process, game).await.expect("ProcessReady");
    Running { sdk, process_id, terminated, sessions }
}

async fn notified(notify: &Notify, what: &str) {
    tokio::time::timeout(WAIT, notify.notified()).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

#[tokio::test]
async fn a_game_server_is_ready_heartbeats_ends_and_cannot_come_back() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let game = ready_game(&h, &compute, true, Duration::from_millis(100)).await;
    let pid = game.process_id.clone();

    let info = h.wait_for(&pid, "activation", |i| i.status == ProcessStatus::Active).await;
    assert_eq!((info.port, info.log_paths.clone()), (Some(7777), vec!["/local/game/logs".to_owned()]));
    assert_eq!((info.location.as_str(), info.sdk_language.as_str()), (LOCATION, "Rust"));
    h.clock.advance(Duration::from_secs(1));
    let now = h.app.now();
    h.wait_for(&pid, "a heartbeat after activation", |i| i.healthy && i.last_healthy == Some(now)).await;

    assert_eq!(h.utilization(&compute.fleet_id).await, (1, 0));
    let location = h.gamelift.describe_fleet_location_utilization().fleet_id(&compute.fleet_id).location(LOCATION);
    let location = location.send().await.unwrap();
    assert_eq!(location.fleet_utilization().unwrap().active_server_process_count(), Some(1));
    let home = h.gamelift.describe_fleet_location_utilization().fleet_id(&compute.fleet_id).location(REGION);
    assert_eq!(home.send().await.unwrap().fleet_utilization().unwrap().active_server_process_count(), Some(0));

    let certificate = game.sdk.get_compute_certificate().await.expect("GetComputeCertificate");
    assert_eq!(
        (certificate.certificate_path.as_str(), certificate.compute_name.as_str()),
        (CERTIFICATE_PATH, "host-1")
    );
    let request =
        GetFleetRoleCredentialsRequest { role_arn: "arn:aws:iam::111122223333:role/game".into(), ..Default::default() };
    assert!(matches!(game.sdk.get_fleet_role_credentials(request).await, Err(Error::NotManagedFleet)));

    game.sdk.process_ending().await.expect("ProcessEnding");
    let ended = h.wait_for(&pid, "the end", |i| i.connections == 0).await;
    assert!(matches!(ended.status, ProcessStatus::Ended { reason: EndReason::ProcessEnding, .. }));
    assert_eq!(h.utilization(&compute.fleet_id).await, (0, 0));
    game.sdk.destroy().await;

    let again = GameLiftServer::init(params(&h, &compute, &pid), options(Duration::from_secs(60), 1)).await;
    assert!(matches!(again, Err(Error::Connect { .. })), "an ended process ID must be refused");
    h.stop().await;
}

#[tokio::test]
async fn a_reconnect_after_the_server_drops_the_connection_keeps_readiness() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let game = ready_game(&h, &compute, true, Duration::from_secs(60)).await;
    let pid = game.process_id.clone();
    h.wait_for(&pid, "activation", |i| i.status == ProcessStatus::Active).await;

    assert_eq!(h.app.sdk.processes.drop_connections(&pid), 1);
    let info = h.wait_for(&pid, "the reconnect", |i| i.attachments == 2 && i.connections == 1).await;
    assert_eq!((info.status, info.port), (ProcessStatus::Active, Some(7777)));
    assert_eq!(h.utilization(&compute.fleet_id).await, (1, 0));

    h.app.sdk.processes.terminate(&pid, h.app.now()).expect("terminate");
    notified(&game.terminated, "TerminateProcess on the new connection").await;
    game.sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn refresh_connection_moves_the_process_to_a_new_connection() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let game = ready_game(&h, &compute, true, Duration::from_secs(60)).await;
    let pid = game.process_id.clone();
    h.wait_for(&pid, "activation", |i| i.status == ProcessStatus::Active).await;

    let delivery = openlift_server::sdk::refresh_connection(&h.app, &pid).await.expect("refresh");
    assert_eq!(delivery, Delivery::Sent);
    let info = h.wait_for(&pid, "the switch", |i| i.attachments == 2 && i.connections == 1).await;
    assert_eq!(info.status, ProcessStatus::Active);

    h.app.sdk.processes.terminate(&pid, h.app.now()).expect("terminate");
    notified(&game.terminated, "TerminateProcess on the refreshed connection").await;
    game.sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn a_claimed_process_gets_its_game_session_and_activates_it() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    h.add_compute(&compute.fleet_id, "host-2").await;
    let mut game = ready_game(&h, &compute, true, Duration::from_secs(60)).await;
    let pid = game.process_id.clone();
    h.wait_for(&pid, "activation", |i| i.status == ProcessStatus::Active).await;

    let game_session_id = format!("arn:aws:gamelift:{REGION}::gamesession/{}/gsess-1", compute.fleet_id);
    let claimed = h.app.sdk.processes.claim(&compute.fleet_id, LOCATION, &game_session_id, h.app.now());
    assert_eq!(claimed.expect("a ready process").process_id, pid);
    let push = Push::CreateGameSession(CreateGameSession {
        game_session_id: game_session_id.clone(),
        game_session_name: "match".into(),
        maximum_player_session_count: 4,
        port: 7777,
        ip_address: "10.1.1.1".into(),
        ..Default::default()
    });
    assert_eq!(h.app.sdk.processes.push(&pid, &push), Ok(Delivery::Sent));
    let session = tokio::time::timeout(WAIT, game.sessions.recv()).await.expect("CreateGameSession").unwrap();
    assert_eq!(
        (session.game_session_id.as_str(), session.fleet_id.as_str()),
        (game_session_id.as_str(), compute.fleet_id.as_str())
    );
    h.wait_for(&pid, "ActivateGameSession", |i| i.game_session.as_ref().is_some_and(|s| s.activated)).await;

    assert_eq!(h.utilization(&compute.fleet_id).await, (1, 1));
    let capacity = h.gamelift.describe_fleet_capacity().fleet_ids(&compute.fleet_id).send().await.unwrap();
    let counts = capacity.fleet_capacity()[0].instance_counts().unwrap();
    assert_eq!((counts.active(), counts.idle(), counts.desired()), (Some(2), Some(1), Some(2)));
    assert_eq!(capacity.fleet_capacity()[0].location(), Some(REGION));
    game.sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn an_unhealthy_process_is_told_to_terminate_and_recorded() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let game = ready_game(&h, &compute, false, Duration::from_millis(100)).await;
    let pid = game.process_id.clone();
    h.wait_for(&pid, "an unhealthy heartbeat", |i| !i.healthy).await;

    h.clock.advance(Duration::from_secs(180));
    notified(&game.terminated, "TerminateProcess").await;
    let info = h.wait_for(&pid, "terminating", |i| matches!(i.status, ProcessStatus::Terminating { .. })).await;
    assert!(matches!(info.status, ProcessStatus::Terminating { reason: EndReason::Unhealthy, .. }));
    assert!(game.sdk.get_termination_time().is_ok());
    h.wait_for_event(&compute.fleet_id, "SERVER_PROCESS_TERMINATED_UNHEALTHY").await;
    assert_eq!(h.utilization(&compute.fleet_id).await, (0, 0));

    game.sdk.process_ending().await.expect("ProcessEnding");
    h.wait_for(&pid, "the end", |i| matches!(i.status, ProcessStatus::Ended { reason: EndReason::ProcessEnding, .. }))
        .await;
    game.sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn the_sdk_connects_over_wss_to_the_same_port() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let process_id = uuid::Uuid::new_v4().to_string();
    let wss = ServerParameters { web_socket_url: format!("wss://{}", h.addr), ..params(&h, &compute, &process_id) };
    let options = options(Duration::from_secs(60), 1).with_tls(TlsTrust::AcceptAnyCertificate);
    let sdk = GameLiftServer::init(wss, options).await.expect("InitSDK over TLS");
    h.wait_for(&process_id, "the TLS connection", |i| i.connections == 1).await;
    sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn sigv4_signed_connections_are_checked_against_the_configured_keys() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let sigv4 = |secret: &str| {
        Credentials::SigV4(SigV4Credentials {
            region: REGION.into(),
            access_key: ACCESS_KEY_ID.into(),
            secret_key: secret.into(),
            session_token: None,
        })
    };
    let pid = uuid::Uuid::new_v4().to_string();
    let signed = ServerParameters { credentials: sigv4(SECRET_ACCESS_KEY), ..params(&h, &compute, &pid) };
    let sdk = GameLiftServer::init(signed, options(Duration::from_secs(60), 1)).await.expect("SigV4 InitSDK");
    h.wait_for(&pid, "the connection", |i| i.connections == 1).await;
    sdk.destroy().await;

    let other = uuid::Uuid::new_v4().to_string();
    let forged = ServerParameters { credentials: sigv4("wrong"), ..params(&h, &compute, &other) };
    let refused = GameLiftServer::init(forged, options(Duration::from_secs(60), 1)).await;
    assert!(matches!(refused, Err(Error::Connect { .. })));
    assert!(h.app.sdk.processes.get(&other).is_none());
    h.stop().await;
}

#[tokio::test]
async fn capacity_operations_follow_the_fleet_ids_and_location_rules() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let fleet_id = compute.fleet_id.as_str();

    let named = h.gamelift.describe_fleet_capacity().fleet_ids(fleet_id).fleet_ids("fleet-unknown").send().await;
    let named = named.unwrap();
    assert_eq!(named.fleet_capacity().len(), 1, "unknown fleets are left out");
    let counts = named.fleet_capacity()[0].instance_counts().unwrap();
    assert_eq!(
        (counts.active(), counts.idle(), counts.minimum(), counts.pending()),
        (Some(1), Some(1), Some(0), Some(0))
    );

    let all = h.gamelift.describe_fleet_utilization().send().await.unwrap();
    assert_eq!(all.fleet_utilization().len(), 1);
    assert_eq!(all.fleet_utilization()[0].active_server_process_count(), Some(0));

    let location = h.gamelift.describe_fleet_location_capacity().fleet_id(fleet_id).location(LOCATION).send().await;
    let location = location.unwrap();
    assert_eq!(location.fleet_capacity().unwrap().location(), Some(LOCATION));
    assert_eq!(location.fleet_capacity().unwrap().instance_counts().unwrap().active(), Some(1));

    let elsewhere =
        h.gamelift.describe_fleet_location_capacity().fleet_id(fleet_id).location("custom-nope").send().await;
    let error = elsewhere.unwrap_err().into_service_error();
    assert!(error.is_invalid_request_exception(), "{error:?}");
    let missing =
        h.gamelift.describe_fleet_location_utilization().fleet_id("fleet-unknown").location(LOCATION).send().await;
    assert!(missing.unwrap_err().into_service_error().is_not_found_exception());
    h.stop().await;
}
