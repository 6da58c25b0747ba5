//! Connection behaviour against the fake service: reconnect after an abrupt disconnect and
//! `RefreshConnection` (spec §4, §5), a normal close, and the official timeouts and heartbeat
//! cadence under a paused clock.

use std::time::Duration;

use openlift_server_sdk::{Error, GameLiftServer, ProcessParameters};
use serde_json::json;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{Recorder, Service, connect, hosting, options, params, ready};

#[tokio::test]
async fn reconnects_after_the_service_drops_the_socket() {
    let service = Service::bind().await;
    let (sdk, conn, _events) = hosting(&service).await;
    let before = conn.query.clone();
    drop(conn);

    let mut conn = service.accept().await;
    assert_eq!(conn.query["pID"], before["pID"]);
    assert_eq!(conn.query["Authorization"], before["Authorization"]);
    assert_eq!(conn.query["IdempotencyToken"], before["IdempotencyToken"]);

    let service_side = async {
        let request = conn.next_request().await;
        assert_eq!(
            request["Action"], "RemovePlayerSession",
            "state survives the reconnect; ActivateServerProcess is not sent again"
        );
        conn.ok(&request, json!({})).await;
    };
    let (removed, ()) = tokio::join!(sdk.remove_player_session("psess-1"), service_side);
    removed.unwrap();
    sdk.destroy().await;
}

#[tokio::test]
async fn refresh_connection_switches_to_the_new_endpoint_and_closes_the_old_one() {
    let service = Service::bind().await;
    let refreshed = Service::bind().await;
    let (sdk, mut old, _events) = hosting(&service).await;
    old.send(json!({"Action": "RefreshConnection", "StatusCode": 200,
                    "RefreshConnectionEndpoint": refreshed.url, "AuthToken": "tok-2"}))
        .await;

    let mut new = refreshed.accept().await;
    assert_eq!(new.query["Authorization"], "tok-2");
    assert_eq!(new.query["pID"], old.query["pID"]);
    assert_ne!(new.query["IdempotencyToken"], old.query["IdempotencyToken"]);
    let close = old.closed().await.expect("the old connection is closed");
    assert_eq!(close.code, CloseCode::Normal);

    let service_side = async {
        let request = new.next_request().await;
        assert_eq!(request["Action"], "RemovePlayerSession");
        new.ok(&request, json!({})).await;
    };
    let (removed, ()) = tokio::join!(sdk.remove_player_session("psess-1"), service_side);
    removed.unwrap();
    sdk.destroy().await;
}

#[tokio::test]
async fn a_normal_close_by_the_service_is_final() {
    let service = Service::bind().await;
    let (sdk, mut conn, _events) = ready(&service, true).await;
    conn.close(CloseCode::Normal).await;
    assert!(conn.closed().await.is_some(), "the SDK answers the close");
    assert!(matches!(sdk.get_compute_certificate().await, Err(Error::ConnectionClosed)));
    sdk.destroy().await;
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_request_times_out_after_20_seconds() {
    let service = Service::bind().await;
    let (sdk, mut conn) = connect(&service).await;
    let started = Instant::now();
    let service_side = async {
        conn.expect("TerminateServerProcess").await;
    };
    let (ended, ()) = tokio::join!(sdk.process_ending(), service_side);
    match ended {
        Err(Error::Timeout { action, timeout }) => {
            assert_eq!(action, "TerminateServerProcess");
            assert_eq!(timeout, Duration::from_secs(20));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(started.elapsed().as_secs(), 20);
    sdk.destroy().await;
}

#[tokio::test(start_paused = true)]
async fn process_ready_gives_the_service_6_seconds() {
    let service = Service::bind().await;
    let (sdk, mut conn) = connect(&service).await;
    let process = ProcessParameters { port: 7777, log_paths: vec![] };
    let service_side = async {
        conn.expect("ActivateServerProcess").await;
    };
    let (result, ()) = tokio::join!(sdk.process_ready(process, Recorder::idle()), service_side);
    assert!(matches!(
        result,
        Err(Error::Timeout { action: "ActivateServerProcess", timeout }) if timeout == Duration::from_secs(6)
    ));
    assert!(matches!(sdk.activate_game_session().await, Err(Error::ProcessNotReady)));
    sdk.destroy().await;
}

#[tokio::test(start_paused = true)]
async fn heartbeats_repeat_every_60_seconds_give_or_take_10() {
    let service = Service::bind().await;
    let (sdk, mut conn, _events) = ready(&service, true).await;
    let mut last = Instant::now();
    for beat in 0..3 {
        let heartbeat = conn.expect("HeartbeatServerProcess").await;
        let gap = last.elapsed();
        assert_eq!(heartbeat["HealthStatus"], true);
        conn.ok(&heartbeat, json!({})).await;
        last = Instant::now();
        if beat == 0 {
            assert!(gap < Duration::from_secs(1), "first heartbeat is immediate: {gap:?}");
        } else {
            let window = Duration::from_secs(50)..=Duration::from_secs(70);
            assert!(window.contains(&gap), "{gap:?}");
        }
    }
    sdk.destroy().await;
}

#[tokio::test]
async fn init_fails_with_a_connect_error_when_nobody_listens() {
    let service = Service::bind().await;
    let url = service.url.clone();
    drop(service);
    let mut options = options();
    let mut timings = options.timings.clone();
    timings.connect_attempts = 2;
    options = options.with_timings(timings);
    match GameLiftServer::init(params(&url), options).await {
        Err(Error::Connect { url: reported, .. }) => assert!(reported.starts_with(&url)),
        Err(other) => panic!("expected a connect error, got {other}"),
        Ok(_) => panic!("connected to nobody"),
    }
}
