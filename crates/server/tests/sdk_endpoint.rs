//! End-to-end tests of the SDK endpoint with `openlift-server-sdk` as the game server:
//! RegisterCompute and GetComputeAuthToken through the control plane, then the SDK's
//! whole lifecycle over a real WebSocket (`server-sdk-protocol.md` sections 3–6).

mod sdk_endpoint_support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_gamelift::types::{GameSessionStatus, PlayerSessionStatus};
use openlift_server::hosting::registry::{Delivery, EndReason, ProcessStatus};
use openlift_server_sdk::{
    ClientOptions, Credentials, Error, GameLiftServer, GameSession, GetFleetRoleCredentialsRequest, ProcessParameters,
    ServerHandler, ServerParameters, SigV4Credentials, Timings, TlsTrust,
};
use sdk_endpoint_support::{
    ACCESS_KEY_ID, CERTIFICATE_PATH, Compute, Harness, LOCATION, REGION, Relay, SECRET_ACCESS_KEY, WAIT,
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
    let process = ProcessParameters { port: 7777, log_paths: vec!["/local/game/logs".into()] };
    start_game(h, compute, healthy, options(heartbeat, 4), process).await
}

/// Connects a game server with `options` and makes it ready as `process` says; its health
/// checks answer `healthy`.
async fn start_game(
    h: &Harness,
    compute: &Compute,
    healthy: bool,
    options: ClientOptions,
    process: ProcessParameters,
) -> Running {
    let process_id = uuid::Uuid::new_v4().to_string();
    start_game_as(params(h, compute, &process_id), healthy, options, process).await
}

/// [`start_game`] with these parameters.
async fn start_game_as(
    params: ServerParameters,
    healthy: bool,
    options: ClientOptions,
    process: ProcessParameters,
) -> Running {
    let process_id = params.process_id.clone();
    let sdk = GameLiftServer::init(params, options).await.expect("InitSDK");
    let terminated = Arc::new(Notify::new());
    let (sessions_tx, sessions) = mpsc::unbounded_channel();
    let game = Game { sdk: sdk.clone(), healthy, terminated: terminated.clone(), sessions: sessions_tx };
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
async fn a_reconnect_after_the_network_drops_the_connection_keeps_readiness() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let relay = Relay::start(&h).await;
    let through = ServerParameters {
        web_socket_url: relay.url.clone(),
        ..params(&h, &compute, &uuid::Uuid::new_v4().to_string())
    };
    let process = ProcessParameters { port: 7777, log_paths: Vec::new() };
    let game = start_game_as(through, true, options(Duration::from_secs(60), 4), process).await;
    let pid = game.process_id.clone();
    h.wait_for(&pid, "activation", |i| i.status == ProcessStatus::Active).await;

    relay.cut();
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
async fn create_game_session_places_on_a_ready_process_which_activates_it_and_accepts_players() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    h.add_compute(&compute.fleet_id, "host-2").await;
    let mut game = ready_game(&h, &compute, true, Duration::from_secs(60)).await;
    let pid = game.process_id.clone();
    h.wait_for(&pid, "activation", |i| i.status == ProcessStatus::Active).await;

    let created = h
        .create_game_session(&compute, 4)
        .name("match")
        .idempotency_token("match-1")
        .send()
        .await
        .expect("CreateGameSession");
    let created = created.game_session().expect("GameSession");
    assert_eq!(created.status(), Some(&GameSessionStatus::Activating));
    let game_session_id = created.game_session_id().expect("GameSessionId").to_owned();
    assert_eq!(
        game_session_id,
        format!("arn:aws:gamelift:{REGION}::gamesession/{}/{LOCATION}/match-1", compute.fleet_id)
    );
    let pushed = tokio::time::timeout(WAIT, game.sessions.recv()).await.expect("CreateGameSession push").unwrap();
    assert_eq!((pushed.game_session_id.as_str(), pushed.port), (game_session_id.as_str(), 7777));
    h.wait_for(&pid, "ActivateGameSession", |i| i.game_session.as_ref().is_some_and(|s| s.activated)).await;

    let described = h.gamelift.describe_game_sessions().game_session_id(&game_session_id).send().await.unwrap();
    let session = &described.game_sessions()[0];
    assert_eq!(session.status(), Some(&GameSessionStatus::Active));
    assert_eq!((session.ip_address(), session.port()), (Some("10.1.1.1"), Some(7777)));

    let again = h
        .create_game_session(&compute, 4)
        .name("match")
        .idempotency_token("match-1")
        .send()
        .await
        .expect("repeated CreateGameSession");
    assert_eq!(again.game_session().and_then(|s| s.status()), Some(&GameSessionStatus::Active));
    let mismatch =
        h.create_game_session(&compute, 5).idempotency_token("match-1").send().await.unwrap_err().into_service_error();
    assert!(mismatch.is_idempotent_parameter_mismatch_exception(), "{mismatch:?}");
    let full = h.create_game_session(&compute, 4).send().await.unwrap_err().into_service_error();
    assert!(full.is_fleet_capacity_exceeded_exception(), "{full:?}");

    let player = h
        .gamelift
        .create_player_session()
        .game_session_id(&game_session_id)
        .player_id("ana")
        .send()
        .await
        .expect("CreatePlayerSession");
    let player = player.player_session().expect("PlayerSession");
    assert_eq!(player.status(), Some(&PlayerSessionStatus::Reserved));
    assert_eq!((player.ip_address(), player.port()), (Some("10.1.1.1"), Some(7777)));
    let player_session_id = player.player_session_id().unwrap().to_owned();
    game.sdk.accept_player_session(&player_session_id).await.expect("AcceptPlayerSession");
    let players = h.gamelift.describe_player_sessions().player_session_id(&player_session_id).send().await.unwrap();
    assert_eq!(players.player_sessions()[0].status(), Some(&PlayerSessionStatus::Active));
    assert_eq!(h.utilization(&compute.fleet_id).await, (1, 1));
    game.sdk.remove_player_session(&player_session_id).await.expect("RemovePlayerSession");
    let players = h.gamelift.describe_player_sessions().game_session_id(&game_session_id).send().await.unwrap();
    assert_eq!(players.player_sessions()[0].status(), Some(&PlayerSessionStatus::Completed));

    let capacity = h.gamelift.describe_fleet_capacity().fleet_ids(&compute.fleet_id).send().await.unwrap();
    let counts = capacity.fleet_capacity()[0].instance_counts().unwrap();
    assert_eq!((counts.active(), counts.idle(), counts.desired()), (Some(2), Some(1), Some(2)));

    game.sdk.process_ending().await.expect("ProcessEnding");
    let described = h.gamelift.describe_game_sessions().game_session_id(&game_session_id).send().await.unwrap();
    assert_eq!(described.game_sessions()[0].status(), Some(&GameSessionStatus::Terminated));
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

/// SigV4 credentials for the test key with this secret.
fn sigv4(secret: &str) -> Credentials {
    Credentials::SigV4(SigV4Credentials {
        region: REGION.into(),
        access_key: ACCESS_KEY_ID.into(),
        secret_key: secret.into(),
        session_token: None,
    })
}

#[tokio::test]
async fn sigv4_signed_connections_are_checked_against_the_configured_keys() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
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

/// `GET`s `url` over a plain TCP connection: the status code and the body.
async fn http_get(url: &str) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut stream = tokio::net::TcpStream::connect(authority).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block") + 4;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(&response[split..])
    } else {
        response[split..].to_vec()
    };
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

#[tokio::test]
async fn logs_of_an_ended_session_download_from_a_url_that_expires_and_are_kept_fourteen_days() {
    use openlift_core::records::ProcessLogs;
    use openlift_server::logs::{self, LogFile};
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let mut game = ready_game(&h, &compute, true, Duration::from_secs(60)).await;
    h.wait_for(&game.process_id, "activation", |i| i.status == ProcessStatus::Active).await;
    let created = h.create_game_session(&compute, 2);
    let created = created.send().await.expect("CreateGameSession");
    let game_session_id = created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned();
    tokio::time::timeout(WAIT, game.sessions.recv()).await.expect("CreateGameSession push");

    let not_yet = h.gamelift.get_game_session_log_url().game_session_id(&game_session_id).send().await;
    let not_yet = not_yet.unwrap_err().into_service_error();
    assert!(not_yet.is_not_found_exception(), "no logs before the process ends: {not_yet:?}");
    assert!(not_yet.meta().message().unwrap_or_default().contains(&game_session_id), "{not_yet:?}");

    game.sdk.process_ending().await.expect("ProcessEnding");
    let files = vec![
        LogFile { name: "/local/game/logs/server.log".into(), content: b"match started\nmatch over\n".to_vec() },
        LogFile { name: "stdout.log".into(), content: vec![b'x'; 10_000] },
    ];
    logs::ingest(&h.app, &compute.fleet_id, &compute.name, &game.process_id, files).await.expect("ingest");
    let too_big = vec![LogFile { name: "huge.log".into(), content: vec![0; logs::MAX_LOG_BYTES + 1] }];
    let refused = logs::ingest(&h.app, &compute.fleet_id, &compute.name, &game.process_id, too_big).await.unwrap_err();
    assert_eq!(refused.code.as_str(), "LimitExceededException");

    let url = h.gamelift.get_game_session_log_url().game_session_id(&game_session_id).send().await.unwrap();
    let url = url.pre_signed_url().expect("PreSignedUrl").to_owned();
    assert!(url.starts_with(&format!("http://{}/openlift/logs/", h.addr)), "{url}");
    let (status, body) = http_get(&url).await;
    assert_eq!(status, 200);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("a zip archive");
    let mut server_log = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("local/game/logs/server.log").unwrap(), &mut server_log)
        .unwrap();
    assert_eq!(server_log, "match started\nmatch over\n");
    assert_eq!(archive.by_name("stdout.log").unwrap().size(), 10_000);

    let tampered = url.replace(&game.process_id, "another-process");
    assert_eq!(http_get(&tampered).await.0, 403, "the token is bound to its process");
    assert_eq!(http_get(&url[..url.len() - 2]).await.0, 403, "an altered token is refused");
    h.clock.advance(logs::URL_LIFETIME + Duration::from_secs(1));
    assert_eq!(http_get(&url).await.0, 403, "the URL expires after 15 minutes");

    // The client signs with the real time, now more than the SigV4 skew behind the
    // server's clock: call the operation's handler directly from here on.
    let ask = || openlift_model::GetGameSessionLogUrlInput { game_session_id: game_session_id.clone() };
    let fresh = logs::url(&h.app, ask()).await.expect("a fresh URL");
    assert_eq!(http_get(&fresh.pre_signed_url.unwrap()).await.0, 200, "a new URL works again");
    h.clock.advance(ProcessLogs::RETENTION);
    let gone = logs::url(&h.app, ask()).await.unwrap_err();
    assert_eq!(gone.code.as_str(), "NotFoundException", "logs are kept 14 days");
    let deadline = std::time::Instant::now() + WAIT;
    while h.app.store.get_process_logs(&game.process_id).await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "the sweep deletes logs past retention");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let unknown = openlift_model::GetGameSessionLogUrlInput { game_session_id: "gsess-unknown".into() };
    assert_eq!(logs::url(&h.app, unknown).await.unwrap_err().code.as_str(), "NotFoundException");
    game.sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn a_control_plane_restart_keeps_ready_processes_and_their_game_sessions() {
    let mut h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let reconnecting = || options(Duration::from_secs(60), 100);
    let process = ProcessParameters { port: 7777, log_paths: vec![] };
    let Running { sdk, process_id, mut sessions, .. } = start_game(&h, &compute, true, reconnecting(), process).await;
    let created = h.create_game_session(&compute, 2);
    let created = created.send().await.expect("CreateGameSession");
    let game_session_id = created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned();
    tokio::time::timeout(WAIT, sessions.recv()).await.expect("CreateGameSession push");
    let host = process_id.clone();
    h.wait_for(&host, "ActivateGameSession", |i| i.game_session.as_ref().is_some_and(|s| s.activated)).await;
    let process = ProcessParameters { port: 7778, log_paths: vec![] };
    let other = start_game(&h, &compute, true, reconnecting(), process).await;
    let busy = other.process_id;
    other.sdk.process_ending().await.expect("ProcessEnding of a second process");
    other.sdk.destroy().await;

    h.restart().await;
    let info = h.wait_for(&host, "the reconnect after the restart", |i| i.connections == 1).await;
    assert_eq!((info.status, info.port), (ProcessStatus::Active, Some(7777)), "readiness survived");
    assert_eq!(
        info.game_session.as_ref().map(|s| (s.game_session_id.as_str(), s.activated)),
        Some((game_session_id.as_str(), true))
    );
    assert!(h.app.sdk.processes.get(&busy).is_none(), "an ended process is not restored");
    let described = h.gamelift.describe_game_sessions().game_session_id(&game_session_id).send().await.unwrap();
    assert_eq!(described.game_sessions()[0].status(), Some(&GameSessionStatus::Active));

    let player = h.gamelift.create_player_session().game_session_id(&game_session_id).player_id("ana");
    let player = player.send().await.expect("CreatePlayerSession after the restart");
    let player_session_id = player.player_session().and_then(|p| p.player_session_id()).unwrap().to_owned();
    sdk.accept_player_session(&player_session_id).await.expect("AcceptPlayerSession after the restart");
    let full = h.create_game_session(&compute, 2);
    let full = full.send().await.unwrap_err().into_service_error();
    assert!(full.is_fleet_capacity_exceeded_exception(), "the restored process still hosts its session: {full:?}");

    sdk.process_ending().await.expect("ProcessEnding");
    let described = h.gamelift.describe_game_sessions().game_session_id(&game_session_id).send().await.unwrap();
    assert_eq!(described.game_sessions()[0].status(), Some(&GameSessionStatus::Terminated));
    h.restart().await;
    assert!(h.app.sdk.processes.get(&host).is_none(), "an ended process is forgotten");
    sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn a_sigv4_process_keeps_working_across_a_restart_20_minutes_after_it_started() {
    let mut h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let pid = uuid::Uuid::new_v4().to_string();
    let signed = ServerParameters { credentials: sigv4(SECRET_ACCESS_KEY), ..params(&h, &compute, &pid) };
    let process = ProcessParameters { port: 7777, log_paths: vec![] };
    let Running { sdk, mut sessions, .. } =
        start_game_as(signed, true, options(Duration::from_secs(60), 100), process).await;
    let info = h.wait_for(&pid, "RefreshConnection once ready", |i| i.attachments == 2 && i.connections == 1).await;
    assert_eq!(info.status, ProcessStatus::Active, "a signature is good for 15 minutes: the SDK gets a token");

    h.clock.advance(Duration::from_secs(20 * 60));
    h.restart().await;
    h.wait_for(&pid, "the reconnect after the restart", |i| i.connections == 1).await;
    let gamelift = h.gamelift_at_server_time();
    let created = gamelift.create_game_session().fleet_id(&compute.fleet_id).location(LOCATION);
    let created = created.maximum_player_session_count(2).send().await.expect("CreateGameSession after the restart");
    let game_session_id = created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned();
    let pushed = tokio::time::timeout(WAIT, sessions.recv()).await.expect("CreateGameSession push").unwrap();
    assert_eq!(pushed.game_session_id, game_session_id);
    h.wait_for(&pid, "ActivateGameSession", |i| i.game_session.as_ref().is_some_and(|s| s.activated)).await;

    // Down for longer than the refreshed token lives: the restored process still knows it.
    h.restart_after(openlift_server::sdk::AUTH_TOKEN_LIFETIME).await;
    let info = h.wait_for(&pid, "the reconnect with an expired token", |i| i.connections == 1).await;
    assert_eq!(info.status, ProcessStatus::Active);
    sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn a_live_process_may_reconnect_with_an_old_signature_but_not_a_forged_one() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let pid = uuid::Uuid::new_v4().to_string();
    let relay = Relay::start(&h).await;
    let signed = |secret: &str, pid: &str| ServerParameters {
        credentials: sigv4(secret),
        web_socket_url: relay.url.clone(),
        ..params(&h, &compute, pid)
    };
    let sdk = GameLiftServer::init(signed(SECRET_ACCESS_KEY, &pid), options(Duration::from_secs(60), 100)).await;
    let sdk = sdk.expect("SigV4 InitSDK");
    h.wait_for(&pid, "the connection", |i| i.connections == 1).await;

    // The SDK signs with the real time, now 20 minutes behind the server's: as stale as the
    // URL an official SDK signed at start and reuses on every reconnect.
    h.clock.advance(Duration::from_secs(20 * 60));
    relay.cut();
    h.wait_for(&pid, "the reconnect with an old signature", |i| i.attachments == 2 && i.connections == 1).await;

    let forged = GameLiftServer::init(signed("wrong", &pid), options(Duration::from_secs(60), 1)).await;
    assert!(matches!(forged, Err(Error::Connect { .. })), "a forged signature is refused for a live process too");
    let stranger = uuid::Uuid::new_v4().to_string();
    let unknown = GameLiftServer::init(signed(SECRET_ACCESS_KEY, &stranger), options(Duration::from_secs(60), 1)).await;
    assert!(matches!(unknown, Err(Error::Connect { .. })), "an old signature of an unknown process is refused");
    assert!(h.app.sdk.processes.get(&stranger).is_none());
    assert_eq!(h.app.sdk.processes.get(&pid).unwrap().attachments, 2);
    sdk.destroy().await;
    h.stop().await;
}

/// A game that activates its game session only once the test lets it.
struct SlowGame {
    sdk: GameLiftServer,
    pushed: mpsc::UnboundedSender<String>,
    go: Arc<Notify>,
}

impl ServerHandler for SlowGame {
    async fn on_start_game_session(&self, session: GameSession) {
        let _ = self.pushed.send(session.game_session_id);
        self.go.notified().await;
        // Sessions still held when the test ends fail to activate; the test checks the others.
        let _ = self.sdk.activate_game_session().await;
    }

    async fn on_process_terminate(&self) {}
}

/// Connects a game server that waits for `go` before activating its game session.
async fn slow_game(
    h: &Harness,
    compute: &Compute,
    pushed: &mpsc::UnboundedSender<String>,
) -> (GameLiftServer, Arc<Notify>) {
    let process_id = uuid::Uuid::new_v4().to_string();
    let sdk = GameLiftServer::init(params(h, compute, &process_id), options(Duration::from_secs(60), 4)).await.unwrap();
    let go = Arc::new(Notify::new());
    let game = SlowGame { sdk: sdk.clone(), pushed: pushed.clone(), go: go.clone() };
    sdk.process_ready(ProcessParameters { port: 7777, log_paths: Vec::new() }, game).await.expect("ProcessReady");
    h.wait_for(&process_id, "activation", |i| i.status == ProcessStatus::Active).await;
    (sdk, go)
}

async fn create_session(h: &Harness, fleet_id: &str) -> Result<String, String> {
    let created =
        h.gamelift.create_game_session().fleet_id(fleet_id).location(LOCATION).maximum_player_session_count(2);
    match created.send().await {
        Ok(output) => Ok(output.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned()),
        Err(e) => Err(e.into_service_error().meta().code().unwrap_or_default().to_owned()),
    }
}

async fn set_max_activations(h: &Harness, fleet_id: &str, max: i32) {
    let process = aws_sdk_gamelift::types::ServerProcess::builder()
        .launch_path("/local/game/server")
        .concurrent_executions(3)
        .build();
    let rc = aws_sdk_gamelift::types::RuntimeConfiguration::builder()
        .server_processes(process)
        .max_concurrent_game_session_activations(max)
        .build();
    let updated = h.gamelift.update_runtime_configuration().fleet_id(fleet_id).runtime_configuration(rc).send().await;
    updated.expect("UpdateRuntimeConfiguration");
}

async fn wait_until_active(h: &Harness, game_session_id: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let described = h.gamelift.describe_game_sessions().game_session_id(game_session_id).send().await.unwrap();
        if described.game_sessions()[0].status() == Some(&GameSessionStatus::Active) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{game_session_id} never became ACTIVE");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_compute_with_max_concurrent_activations_pending_gets_no_placement_until_one_activates() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let fleet_id = compute.fleet_id.clone();
    let (pushed_tx, mut pushed) = mpsc::unbounded_channel();
    let mut games = Vec::new();
    for _ in 0..3 {
        games.push(slow_game(&h, &compute, &pushed_tx).await);
    }
    let go_of = |games: &[(GameLiftServer, Arc<Notify>)], index: usize| games[index].1.clone();

    let first = create_session(&h, &fleet_id).await.expect("no limit yet");
    let first_pushed = tokio::time::timeout(WAIT, pushed.recv()).await.unwrap().unwrap();
    assert_eq!(first_pushed, first);
    set_max_activations(&h, &fleet_id, 1).await;
    assert_eq!(create_session(&h, &fleet_id).await, Err("FleetCapacityExceededException".to_owned()));

    let holder = games.iter().position(|(sdk, _)| sdk.get_game_session_id().as_deref() == Some(first.as_str()));
    go_of(&games, holder.expect("a process holds the first session")).notify_one();
    wait_until_active(&h, &first).await;
    let second = create_session(&h, &fleet_id).await.expect("the first activated");
    assert_eq!(tokio::time::timeout(WAIT, pushed.recv()).await.unwrap().unwrap(), second);
    assert_eq!(create_session(&h, &fleet_id).await, Err("FleetCapacityExceededException".to_owned()));

    set_max_activations(&h, &fleet_id, 2).await;
    let third = create_session(&h, &fleet_id).await.expect("the limit was raised");
    assert_eq!(tokio::time::timeout(WAIT, pushed.recv()).await.unwrap().unwrap(), third);
    for (sdk, go) in &games {
        go.notify_one();
        sdk.destroy().await;
    }
    h.stop().await;
}

#[tokio::test]
async fn a_deregistered_computes_process_is_told_to_terminate_ends_and_gets_no_game_session() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let game = ready_game(&h, &compute, true, Duration::from_secs(60)).await;
    h.wait_for(&game.process_id, "activation", |i| i.status == ProcessStatus::Active).await;

    h.gamelift.deregister_compute().fleet_id(&compute.fleet_id).compute_name("host-1").send().await.unwrap();
    assert_eq!(create_session(&h, &compute.fleet_id).await, Err("FleetCapacityExceededException".to_owned()));
    assert!(h.app.sdk.processes.get(&game.process_id).unwrap().game_session.is_none());
    retired(&h, &game).await;
    game.sdk.destroy().await;
    h.stop().await;
}

/// Checks that `game`'s compute was retired: the process ended `Deregistered`, was told
/// `TerminateProcess`, and its connection closed.
async fn retired(h: &Harness, game: &Running) {
    let info = h.app.sdk.processes.get(&game.process_id).unwrap();
    assert!(matches!(info.status, ProcessStatus::Ended { reason: EndReason::Deregistered, .. }), "{info:?}");
    notified(&game.terminated, "TerminateProcess before the connection closes").await;
    h.wait_for(&game.process_id, "the closed connection", |i| i.connections == 0).await;
}

#[tokio::test]
async fn deleting_a_fleet_ends_its_processes_and_their_game_sessions() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let mut game = ready_game(&h, &compute, true, Duration::from_secs(60)).await;
    h.wait_for(&game.process_id, "activation", |i| i.status == ProcessStatus::Active).await;
    let game_session_id = create_session(&h, &compute.fleet_id).await.expect("CreateGameSession");
    tokio::time::timeout(WAIT, game.sessions.recv()).await.expect("CreateGameSession push").unwrap();
    h.wait_for(&game.process_id, "ActivateGameSession", |i| i.game_session.as_ref().is_some_and(|s| s.activated)).await;

    h.gamelift.delete_fleet().fleet_id(&compute.fleet_id).send().await.unwrap();
    retired(&h, &game).await;
    let described = h.gamelift.describe_game_sessions().game_session_id(&game_session_id).send().await.unwrap();
    let session = &described.game_sessions()[0];
    assert_eq!(session.status(), Some(&GameSessionStatus::Terminated));
    assert_eq!(session.status_reason().map(|r| r.as_str()), Some("INTERRUPTED"));
    game.sdk.destroy().await;
    h.stop().await;
}

#[tokio::test]
async fn messages_many_times_the_read_buffer_cross_both_ways() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    // ActivateServerProcess of about 40 KiB, from the SDK to the server.
    let log_paths: Vec<String> = (0..400).map(|i| format!("/local/game/logs/{i:04}/{}", "l".repeat(80))).collect();
    let process = ProcessParameters { port: 7777, log_paths: log_paths.clone() };
    let mut game = start_game(&h, &compute, true, options(Duration::from_secs(60), 4), process).await;
    let info = h.wait_for(&game.process_id, "activation", |i| i.status == ProcessStatus::Active).await;
    assert_eq!(info.log_paths, log_paths);

    // A CreateGameSession push of about 200 KiB, from the server to the SDK.
    let data: String = (0..200_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let created = h.create_game_session(&compute, 4).game_session_data(&data).send().await.expect("CreateGameSession");
    let pushed = tokio::time::timeout(WAIT, game.sessions.recv()).await.expect("CreateGameSession push").unwrap();
    assert_eq!(Some(pushed.game_session_id.as_str()), created.game_session().and_then(|s| s.game_session_id()));
    assert_eq!(pushed.game_session_data, data);
    game.sdk.destroy().await;
    h.stop().await;
}
