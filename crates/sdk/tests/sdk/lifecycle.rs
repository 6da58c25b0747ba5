//! Process lifecycle against the fake service: connection query (spec §1.2), process_ready
//! (§3), request/response correlation and errors (§2), pushes (§4), process ending (§6).

use openlift_server_sdk::{
    DescribePlayerSessionsRequest, Error, PlayerSessionStatus, ServiceErrorKind, StartMatchBackfillRequest,
    UpdateReason,
};
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{Event, GSESS, Recorder, Service, become_ready, connect, hosting, ready};

#[tokio::test]
async fn init_connects_with_the_official_query_parameters() {
    let service = Service::bind().await;
    let (sdk, conn) = connect(&service).await;
    let q = &conn.query;
    assert_eq!(q["pID"], "pid-1");
    assert_eq!(q["ComputeId"], "host-1");
    assert_eq!(q["FleetId"], "fleet-1");
    assert_eq!(q["Authorization"], "tok-1");
    assert_eq!(q["sdkVersion"], openlift_server_sdk::SDK_VERSION);
    assert_eq!(q["sdkLanguage"], "Rust");
    assert!(uuid_like(&q["IdempotencyToken"]), "{}", q["IdempotencyToken"]);
    assert_eq!(conn.path, "/");
    sdk.destroy().await;
}

fn uuid_like(value: &str) -> bool {
    value.len() == 36 && value.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn process_ready_sends_activate_server_process_then_an_immediate_heartbeat() {
    let service = Service::bind().await;
    let (sdk, mut conn, _events) = ready(&service, false).await;
    let heartbeat = conn.expect("HeartbeatServerProcess").await;
    assert_eq!(heartbeat["HealthStatus"], false, "on_health_check's answer is reported");
    assert!(heartbeat["RequestId"].is_string());
    conn.ok(&heartbeat, json!({})).await;
    assert!(matches!(
        sdk.process_ready(Default::default(), Recorder::idle()).await,
        Err(Error::InvalidParameter { name: "Port", .. })
    ));
    sdk.destroy().await;
}

#[tokio::test]
async fn activate_server_process_carries_port_log_paths_and_sdk_identity() {
    let service = Service::bind().await;
    let (sdk, mut conn) = connect(&service).await;
    let process = openlift_server_sdk::ProcessParameters { port: 7777, log_paths: vec!["/local/game/logs".into()] };
    let answer = async {
        let request = conn.expect("ActivateServerProcess").await;
        assert_eq!(request["Port"], 7777);
        assert_eq!(request["LogPaths"], json!(["/local/game/logs"]));
        assert_eq!(request["SdkVersion"], openlift_server_sdk::SDK_VERSION);
        assert_eq!(request["SdkLanguage"], "Rust");
        conn.ok(&request, json!({})).await;
    };
    let (result, ()) = tokio::join!(sdk.process_ready(process, Recorder::idle()), answer);
    result.unwrap();
    sdk.destroy().await;
}

#[tokio::test]
async fn calls_that_need_a_ready_process_fail_locally_before_process_ready() {
    let service = Service::bind().await;
    let (sdk, _conn) = connect(&service).await;
    assert!(matches!(sdk.activate_game_session().await, Err(Error::ProcessNotReady)));
    assert!(matches!(sdk.get_compute_certificate().await, Err(Error::ProcessNotReady)));
    assert!(matches!(sdk.get_termination_time(), Err(Error::TerminationTimeNotSet)));
    sdk.destroy().await;
}

#[tokio::test]
async fn create_game_session_push_reaches_on_start_game_session() {
    let service = Service::bind().await;
    let (sdk, mut conn, mut events) = ready(&service, true).await;
    assert!(matches!(sdk.activate_game_session().await, Err(Error::GameSessionIdNotSet)));
    conn.send(crate::support::create_game_session(GSESS)).await;
    let Event::Started(session) = events.recv().await.unwrap() else {
        panic!("expected on_start_game_session");
    };
    assert_eq!(session.game_session_id, GSESS);
    assert_eq!(session.name, "match-42");
    assert_eq!(session.fleet_id, "fleet-1", "the SDK injects its own fleet ID");
    assert_eq!(session.game_properties["map"], "dust");
    assert_eq!(sdk.get_game_session_id().as_deref(), Some(GSESS));

    let answer = async {
        let request = conn.expect("ActivateGameSession").await;
        assert_eq!(request["GameSessionId"], GSESS);
        conn.ok(&request, json!({})).await;
    };
    let (result, ()) = tokio::join!(sdk.activate_game_session(), answer);
    result.unwrap();
    sdk.destroy().await;
}

#[tokio::test]
async fn a_push_before_process_ready_is_dropped() {
    let service = Service::bind().await;
    let (sdk, mut conn) = connect(&service).await;
    conn.send(crate::support::create_game_session("arn:aws:gamelift:us-east-1::gamesession/fleet-1/early")).await;
    // A TerminateProcess push sets the termination time even before process_ready, so
    // once it shows, the SDK has handled both pushes.
    conn.send(crate::support::terminate_process()).await;
    while sdk.get_termination_time().is_err() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert_eq!(sdk.get_game_session_id(), None);
    let mut received = become_ready(&sdk, &mut conn, true).await;
    // Pushes reach the handler in the order they arrive: the first is the one sent after
    // process_ready, not the two before.
    conn.send(crate::support::create_game_session(GSESS)).await;
    let Event::Started(session) = received.recv().await.unwrap() else {
        panic!("expected on_start_game_session");
    };
    assert_eq!(session.game_session_id, GSESS);
    sdk.destroy().await;
}

#[tokio::test]
async fn a_push_while_process_ready_waits_reaches_the_handler_once_ready() {
    let service = Service::bind().await;
    let (sdk, mut conn) = connect(&service).await;
    let (handler, mut received) = Recorder::recording(true);
    let process = openlift_server_sdk::ProcessParameters { port: 7777, log_paths: Vec::new() };
    let answer = async {
        let request = conn.expect("ActivateServerProcess").await;
        conn.send(crate::support::create_game_session(GSESS)).await;
        conn.ok(&request, json!({})).await;
    };
    let (result, ()) = tokio::join!(sdk.process_ready(process, handler), answer);
    result.unwrap();
    let held = tokio::time::timeout(std::time::Duration::from_secs(10), received.recv()).await;
    let Ok(Some(Event::Started(session))) = held else {
        panic!("expected on_start_game_session, got {held:?}");
    };
    assert_eq!(session.game_session_id, GSESS);
    assert_eq!(sdk.get_game_session_id().as_deref(), Some(GSESS));
    conn.answering("ActivateGameSession", sdk.activate_game_session()).await.unwrap();
    sdk.destroy().await;
}

#[tokio::test]
async fn update_game_session_push_reaches_on_update_game_session() {
    let service = Service::bind().await;
    let (sdk, mut conn, mut events) = hosting(&service).await;
    conn.send(json!({"Action":"UpdateGameSession","UpdateReason":"BACKFILL_FAILED",
                     "BackfillTicketId":"bf-1","GameSession":{"GameSessionId":GSESS,"Name":"m"}}))
        .await;
    let Event::Updated(update) = events.recv().await.unwrap() else {
        panic!("expected on_update_game_session");
    };
    assert_eq!(update.update_reason, UpdateReason::BackfillFailed);
    assert_eq!(update.backfill_ticket_id, "bf-1");
    assert_eq!(update.game_session.name, "m");
    sdk.destroy().await;
}

#[tokio::test]
async fn responses_are_matched_to_requests_by_request_id() {
    let service = Service::bind().await;
    let (sdk, mut conn, _events) = hosting(&service).await;
    let service_side = async {
        let accept = conn.expect("AcceptPlayerSession").await;
        let describe = conn.expect("DescribePlayerSessions").await;
        assert_ne!(accept["RequestId"], describe["RequestId"]);
        assert_eq!(accept["PlayerSessionId"], "psess-1");
        assert_eq!(accept["GameSessionId"], GSESS);
        assert_eq!(describe["PlayerSessionId"], "psess-1");
        // Answer in the opposite order to prove correlation is by RequestId.
        let session = json!({"PlayerSessionId":"psess-1","PlayerId":"p1","Status":"ACTIVE",
                             "Port":7777,"CreationTime":1767225600000_i64});
        conn.ok(&describe, json!({"NextToken": null, "PlayerSessions": [session]})).await;
        conn.ok(&accept, json!({})).await;
    };
    let describe = DescribePlayerSessionsRequest { player_session_id: Some("psess-1".into()), ..Default::default() };
    let (accepted, described, ()) =
        tokio::join!(sdk.accept_player_session("psess-1"), sdk.describe_player_sessions(describe), service_side);
    accepted.unwrap();
    let described = described.unwrap();
    assert_eq!(described.player_sessions.len(), 1);
    assert_eq!(described.player_sessions[0].status, PlayerSessionStatus::Active);
    assert_eq!(described.player_sessions[0].player_id, "p1");
    sdk.destroy().await;
}

#[tokio::test]
async fn service_errors_surface_as_typed_errors() {
    let service = Service::bind().await;
    let (sdk, mut conn, _events) = hosting(&service).await;
    let service_side = async {
        let request = conn.expect("AcceptPlayerSession").await;
        conn.fail(&request, 404, "player session psess-7 not found").await;
    };
    let (result, ()) = tokio::join!(sdk.accept_player_session("psess-7"), service_side);
    match result {
        Err(Error::Service { action, kind, status, message }) => {
            assert_eq!(action, "AcceptPlayerSession");
            assert_eq!(kind, ServiceErrorKind::NotFound);
            assert_eq!(status, 404);
            assert_eq!(message, "player session psess-7 not found");
        }
        other => panic!("expected a service error, got {other:?}"),
    }
    assert!(matches!(
        sdk.accept_player_session("bad id!").await,
        Err(Error::InvalidParameter { name: "PlayerSessionId", .. })
    ));
    sdk.destroy().await;
}

#[tokio::test]
async fn start_match_backfill_surfaces_the_service_answer() {
    let service = Service::bind().await;
    let (sdk, mut conn, _events) = hosting(&service).await;
    let request = StartMatchBackfillRequest {
        ticket_id: String::new(),
        game_session_arn: GSESS.into(),
        matchmaking_configuration_arn: "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/cfg".into(),
        players: vec![],
    };
    let service_side = async {
        let first = conn.expect("StartMatchBackfill").await;
        assert_eq!(first["GameSessionArn"], GSESS);
        conn.ok(&first, json!({"TicketId": "bf-123"})).await;
        let second = conn.expect("StartMatchBackfill").await;
        conn.fail(&second, 400, "FlexMatch is not configured").await;
    };
    let calls = async {
        let started = sdk.start_match_backfill(request.clone()).await.unwrap();
        assert_eq!(started.ticket_id, "bf-123");
        let refused = sdk.start_match_backfill(request.clone()).await.unwrap_err();
        assert_eq!(refused.service_kind(), Some(ServiceErrorKind::BadRequest));
    };
    tokio::join!(calls, service_side);
    sdk.destroy().await;
}

#[tokio::test]
async fn terminate_process_push_reaches_on_process_terminate() {
    let service = Service::bind().await;
    let (sdk, mut conn, mut events) = ready(&service, true).await;
    conn.send(crate::support::terminate_process()).await;
    assert!(matches!(events.recv().await.unwrap(), Event::Terminate));
    let at = sdk.get_termination_time().unwrap();
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(secs, 1_767_229_200);

    conn.answering("TerminateServerProcess", sdk.process_ending()).await.unwrap();
    sdk.destroy().await;
}

#[tokio::test]
async fn process_ending_succeeds_when_the_service_closes_instead_of_answering() {
    let service = Service::bind().await;
    let (sdk, mut conn, _events) = ready(&service, true).await;
    let service_side = async {
        conn.expect("TerminateServerProcess").await;
        conn.close(CloseCode::Normal).await;
    };
    let (ended, ()) = tokio::join!(sdk.process_ending(), service_side);
    ended.unwrap();
    assert!(matches!(sdk.activate_game_session().await, Err(Error::ProcessNotReady)));
    sdk.destroy().await;
}

#[tokio::test]
async fn destroy_closes_the_connection_normally() {
    let service = Service::bind().await;
    let (sdk, mut conn) = connect(&service).await;
    sdk.destroy().await;
    let close = conn.closed().await.expect("destroy sends a close frame");
    assert_eq!(close.code, CloseCode::Normal);
    assert!(matches!(sdk.process_ending().await, Err(Error::ConnectionClosed)));
}
