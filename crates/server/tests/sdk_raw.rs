//! Raw-protocol tests of the SDK endpoint: each official SDK's quirks of
//! `server-sdk-protocol.md` section 1, odd frames (section 2), overlapping connections and
//! credentials refused before the upgrade.

mod sdk_endpoint_support;

use std::time::Duration;

use futures_util::SinkExt;
use openlift_server::hosting::push::{Push, TerminateProcess};
use openlift_server::hosting::registry::{ProcessStatus, TERMINATION_GRACE};
use sdk_endpoint_support::raw::{
    Transport, Ws, call, close_frame, connect, cpp_query, csharp_query, next_json, next_message, refused_status, send,
    tls_stream,
};
use sdk_endpoint_support::{Compute, Harness};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn pid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn activate(request_id: &str) -> Value {
    json!({"Action": "ActivateServerProcess", "RequestId": request_id, "SdkVersion": "5.4.0",
           "SdkLanguage": "Cpp", "Port": 7777, "LogPaths": ["/local/game/logs"]})
}

fn heartbeat(request_id: &str, healthy: bool) -> Value {
    json!({"Action": "HeartbeatServerProcess", "RequestId": request_id, "HealthStatus": healthy})
}

/// Connects C++-style and activates the process.
async fn ready(h: &Harness, compute: &Compute, process_id: &str) -> Ws {
    let mut ws = connect(h, &cpp_query(compute, process_id, &compute.token), Transport::Plain).await;
    let answer = call(&mut ws, activate("activate-1")).await;
    assert_eq!(answer["StatusCode"], 200, "{answer}");
    ws
}

#[tokio::test]
async fn unencoded_cpp_and_csharp_queries_connect_on_any_path() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let (cpp, csharp, prod) = (pid(), pid(), pid());
    let _a = connect(&h, &cpp_query(&compute, &cpp, &compute.token), Transport::Plain).await;
    let _b = connect(&h, &csharp_query(&compute, &csharp, &compute.token), Transport::Plain).await;
    let _c = connect(&h, &format!("/prod{}", &cpp_query(&compute, &prod, &compute.token)[1..]), Transport::Plain).await;
    for (process_id, language) in [(&cpp, "Cpp"), (&csharp, "CSharp"), (&prod, "Cpp")] {
        let info = h.wait_for(process_id, "the connection", |i| i.connections == 1).await;
        assert_eq!((info.sdk_language.as_str(), info.status), (language, ProcessStatus::Connected));
    }
    h.stop().await;
}

#[tokio::test]
async fn tls_on_a_ws_url_and_https_share_the_port() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let process_id = pid();
    let mut ws = connect(&h, &cpp_query(&compute, &process_id, &compute.token), Transport::Tls12).await;
    let answer = call(&mut ws, activate("r1")).await;
    assert_eq!((answer["Action"].as_str(), answer["StatusCode"].as_i64()), (Some("ActivateServerProcess"), Some(200)));
    let mut tls13 = connect(&h, &csharp_query(&compute, &pid(), &compute.token), Transport::Tls).await;
    assert_eq!(call(&mut tls13, json!({"Action": "GetComputeCertificate", "RequestId": "c"})).await["StatusCode"], 200);

    let mut https = tls_stream(&h, false).await;
    let body = "{}";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: GameLift.ListFleets\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        h.addr,
        body.len()
    );
    https.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    https.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("MissingAuthenticationToken"), "{response}");
    h.stop().await;
}

#[tokio::test]
async fn null_fields_and_absent_keys_are_tolerated() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let process_id = pid();
    let mut ws = connect(&h, &csharp_query(&compute, &process_id, &compute.token), Transport::Plain).await;
    let answer = call(
        &mut ws,
        json!({"Action": "ActivateServerProcess", "RequestId": "r1", "SdkVersion": "5.5.0", "SdkLanguage": "CSharp",
               "SdkToolName": null, "SdkToolVersion": null, "Port": 7777, "LogPaths": null}),
    )
    .await;
    assert_eq!(answer, json!({"Action": "ActivateServerProcess", "RequestId": "r1", "StatusCode": 200}));
    let info = h.app.sdk.processes.get(&process_id).unwrap();
    assert_eq!((info.port, info.log_paths.len(), info.sdk_tool_name), (Some(7777), 0, None));
    h.stop().await;
}

#[tokio::test]
async fn a_repeated_request_id_gets_the_same_answer() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let process_id = pid();
    let mut ws = ready(&h, &compute, &process_id).await;
    let first = call(&mut ws, heartbeat("beat-1", true)).await;
    assert_eq!(first["StatusCode"], 200);
    let repeated = call(&mut ws, heartbeat("beat-1", false)).await;
    assert_eq!(repeated, first);
    assert!(h.app.sdk.processes.get(&process_id).unwrap().healthy, "the repeat is not applied again");
    let unknown = call(&mut ws, json!({"Action": "Dance", "RequestId": "u"})).await;
    assert_eq!(call(&mut ws, json!({"Action": "Dance", "RequestId": "u"})).await, unknown);
    h.stop().await;
}

#[tokio::test]
async fn overlapping_connections_get_pushes_on_the_newest() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let process_id = pid();
    let mut old = ready(&h, &compute, &process_id).await;
    let mut new = connect(&h, &cpp_query(&compute, &process_id, &compute.token), Transport::Plain).await;
    h.wait_for(&process_id, "two connections", |i| i.connections == 2).await;
    let push = Push::TerminateProcess(TerminateProcess { termination_time: h.app.now() });
    h.app.sdk.processes.push(&process_id, &push).unwrap();
    let pushed = next_json(&mut new).await;
    assert_eq!(pushed["Action"], "TerminateProcess");
    assert_eq!(pushed["StatusCode"], 200);
    assert!(pushed.get("RequestId").is_none());
    assert_eq!(pushed["TerminationTime"].as_i64(), Some(h.app.now().as_millis()));

    new.close(None).await.unwrap();
    h.wait_for(&process_id, "one connection", |i| i.connections == 1).await;
    h.app.sdk.processes.push(&process_id, &push).unwrap();
    assert_eq!(next_json(&mut old).await["Action"], "TerminateProcess");
    h.stop().await;
}

#[tokio::test]
async fn an_abrupt_disconnect_keeps_the_process_for_its_reconnect() {
    let h = Harness::start_with(Duration::from_secs(3600)).await;
    let compute = h.fleet_with_compute("host-1").await;
    let process_id = pid();
    let ws = ready(&h, &compute, &process_id).await;
    drop(ws);
    let info = h.wait_for(&process_id, "the disconnect", |i| i.connections == 0).await;
    assert_eq!(info.status, ProcessStatus::Active);
    assert_eq!(h.utilization(&compute.fleet_id).await, (1, 0));

    h.clock.advance(Duration::from_secs(16 * 60));
    let mut back = connect(&h, &cpp_query(&compute, &process_id, &compute.token), Transport::Plain).await;
    assert_eq!(call(&mut back, heartbeat("beat-2", true)).await["StatusCode"], 200);
    let info = h.app.sdk.processes.get(&process_id).unwrap();
    assert_eq!((info.status, info.connections), (ProcessStatus::Active, 1));
    h.stop().await;
}

#[tokio::test]
async fn bad_credentials_are_refused_before_the_upgrade() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let other = h.add_compute(&compute.fleet_id, "host-2").await;
    let p = pid();
    assert_eq!(refused_status(&h, &cpp_query(&compute, &p, "not-a-token")).await, 403);
    assert_eq!(refused_status(&h, &cpp_query(&compute, &p, &other.token)).await, 403, "another compute's token");
    let unauthenticated = cpp_query(&compute, &p, "").replace("Authorization=&", "");
    assert_eq!(refused_status(&h, &unauthenticated).await, 401);
    let no_pid = cpp_query(&compute, "", &compute.token);
    assert_eq!(refused_status(&h, &no_pid).await, 400);
    assert_eq!(refused_status(&h, &format!("/?pID={p}")).await, 400);
    assert!(h.app.sdk.processes.get(&p).is_none(), "nothing registered by a refused upgrade");

    let ended = pid();
    let mut ws = ready(&h, &compute, &ended).await;
    assert_eq!(call(&mut ws, json!({"Action": "TerminateServerProcess", "RequestId": "end"})).await["StatusCode"], 200);
    assert_eq!(refused_status(&h, &cpp_query(&compute, &ended, &compute.token)).await, 403, "an ended pID");

    let before = h.token(&other.fleet_id, &other.name).await;
    h.gamelift.deregister_compute().fleet_id(&other.fleet_id).compute_name(&other.name).send().await.unwrap();
    let deregistered = Compute { token: before.clone(), ..other.clone() };
    assert_eq!(refused_status(&h, &cpp_query(&deregistered, &pid(), &before)).await, 403, "a deregistered compute");

    h.clock.advance(openlift_server::sdk::AUTH_TOKEN_LIFETIME);
    assert_eq!(refused_status(&h, &cpp_query(&compute, &pid(), &compute.token)).await, 403, "an expired token");
    h.stop().await;
}

#[tokio::test]
async fn odd_frames_are_answered_or_ignored_while_other_connections_work() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let mut odd = ready(&h, &compute, &pid()).await;
    let mut bystander = ready(&h, &compute, &pid()).await;

    odd.send(Message::text("this is not json")).await.unwrap();
    odd.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    send(&mut odd, json!({"Action": "HeartbeatServerProcess", "HealthStatus": true})).await;
    let no_action = call(&mut odd, json!({"RequestId": "r1"})).await;
    assert_eq!(no_action["Action"], Value::Null);
    assert_eq!(no_action["RequestId"], "r1", "the ignored frames got no answer");
    assert_eq!(no_action["StatusCode"], 400);

    let answers = [
        (json!({"Action": "Dance", "RequestId": "r2"}), 400, "Unknown action Dance."),
        (json!({"Action": "StartMatchBackfill", "RequestId": "r3", "TicketId": ""}), 400, ""),
        (json!({"Action": "ActivateGameSession", "RequestId": "r4", "GameSessionId": "gs"}), 400, ""),
        (json!({"Action": "DescribePlayerSessions", "RequestId": "r5", "GameSessionId": "gs"}), 400, ""),
        (
            json!({"Action": "AcceptPlayerSession", "RequestId": "r6", "GameSessionId": "gs", "PlayerSessionId": "p"}),
            400,
            "",
        ),
        (json!({"Action": "HeartbeatServerProcess", "RequestId": "r7", "HealthStatus": "yes"}), 400, ""),
    ];
    for (request, status, message) in answers {
        let answer = call(&mut odd, request.clone()).await;
        assert_eq!((&answer["Action"], &answer["RequestId"]), (&request["Action"], &request["RequestId"]));
        assert_eq!(answer["StatusCode"], status, "{answer}");
        assert!(answer["ErrorMessage"].as_str().unwrap().contains(message), "{answer}");
        assert_eq!(call(&mut bystander, heartbeat(&pid(), true)).await["StatusCode"], 200);
    }
    let unknown_session =
        call(&mut odd, json!({"Action": "ActivateGameSession", "RequestId": "r8", "GameSessionId": "gs"})).await;
    assert!(unknown_session["ErrorMessage"].as_str().unwrap().contains("Unknown game session gs"));

    let players =
        call(&mut odd, json!({"Action": "DescribePlayerSessions", "RequestId": "r9", "PlayerId": "p1"})).await;
    assert_eq!(
        players,
        json!({"Action": "DescribePlayerSessions", "RequestId": "r9", "StatusCode": 200,
                                "NextToken": null, "PlayerSessions": []})
    );
    let role = call(&mut odd, json!({"Action": "GetFleetRoleCredentials", "RequestId": "r10", "RoleArn": "arn"})).await;
    assert_eq!((role["StatusCode"].as_i64(), role["AccessKeyId"].as_str()), (Some(200), Some("")));
    let certificate = call(&mut odd, json!({"Action": "GetComputeCertificate", "RequestId": "r11"})).await;
    assert_eq!(certificate["CertificatePath"], sdk_endpoint_support::CERTIFICATE_PATH);
    assert_eq!(certificate["ComputeName"], "host-1");
    h.stop().await;
}

#[tokio::test]
async fn a_flooding_connection_is_closed_and_others_keep_working() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let mut flood = ready(&h, &compute, &pid()).await;
    let mut bystander = ready(&h, &compute, &pid()).await;
    for i in 0..2000 {
        if flood.feed(Message::text(heartbeat(&format!("f{i}"), true).to_string())).await.is_err() {
            break;
        }
    }
    let _ = flood.flush().await;
    let frame = close_frame(&mut flood).await.expect("a close frame");
    assert_eq!(frame.code, CloseCode::Policy);
    assert_eq!(call(&mut bystander, heartbeat("b", true)).await["StatusCode"], 200);
    h.stop().await;
}

#[tokio::test]
async fn terminate_server_process_is_answered_then_closed_normally() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let process_id = pid();
    let mut ws = ready(&h, &compute, &process_id).await;
    let answer = call(&mut ws, json!({"Action": "TerminateServerProcess", "RequestId": "end"})).await;
    assert_eq!(answer, json!({"Action": "TerminateServerProcess", "RequestId": "end", "StatusCode": 200}));
    assert_eq!(close_frame(&mut ws).await.expect("a close frame").code, CloseCode::Normal);
    assert!(matches!(h.app.sdk.processes.get(&process_id).unwrap().status, ProcessStatus::Ended { .. }));
    h.stop().await;
}

#[tokio::test]
async fn a_silent_process_is_told_to_terminate_then_forced_out() {
    let h = Harness::start_with(Duration::from_secs(90)).await;
    let compute = h.fleet_with_compute("host-1").await;
    let process_id = pid();
    let mut ws = ready(&h, &compute, &process_id).await;
    assert_eq!(call(&mut ws, heartbeat("beat", true)).await["StatusCode"], 200);

    h.clock.advance(Duration::from_secs(90));
    let pushed = next_json(&mut ws).await;
    assert_eq!(pushed["Action"], "TerminateProcess");
    assert_eq!(pushed["TerminationTime"].as_i64(), Some(h.app.now().plus(TERMINATION_GRACE).as_millis()));
    h.wait_for_event(&compute.fleet_id, "SERVER_PROCESS_TERMINATED_UNHEALTHY").await;

    h.clock.advance(TERMINATION_GRACE);
    assert!(matches!(next_message(&mut ws).await, Message::Close(Some(frame)) if frame.code == CloseCode::Normal));
    let codes = h.wait_for_event(&compute.fleet_id, "SERVER_PROCESS_FORCE_TERMINATED").await;
    assert_eq!(codes[1], "SERVER_PROCESS_TERMINATED_UNHEALTHY");
    assert_eq!(refused_status(&h, &cpp_query(&compute, &process_id, &compute.token)).await, 403);
    h.stop().await;
}
