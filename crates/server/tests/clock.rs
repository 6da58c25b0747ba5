//! The injected clock governs time-dependent answers: compute auth token expiry and
//! the SigV4 ±15-minute skew window (STYLE.md "Time comes from an injected clock";
//! `control-plane-api.md` sections 7.6 and 9.1).

mod common;

use std::time::{Duration, SystemTime};

use aws_sdk_gamelift::primitives::DateTime;
use aws_sdk_gamelift::types::{ComputeType, LocationConfiguration};
use common::{Raw, Signer, TestServer};
use openlift_model::Timestamp;

/// A server time far from the real one: 2031-01-02T03:04:05.678Z.
const FAR_MILLIS: i64 = 1_925_089_445_678;

/// A JSON call signed at the server's time: the SDK signs with the real time, which a
/// server clock this far off refuses, so the setup goes through raw signed requests.
async fn call(raw: &Raw, server: &TestServer, operation: &str, body: serde_json::Value) -> serde_json::Value {
    let request = raw.json_request(operation, body.to_string().as_bytes());
    let response = raw.send_signed(request, &Signer::at(server.now())).await;
    assert_eq!(response.status, 200, "{operation}: {}", String::from_utf8_lossy(&response.body));
    response.json()
}

#[tokio::test]
async fn compute_auth_token_expiry_follows_the_injected_clock() {
    let server = TestServer::start_with_clock(Timestamp::from_millis(FAR_MILLIS)).await;
    let raw = Raw::new(&server);
    call(&raw, &server, "CreateLocation", serde_json::json!({"LocationName": "custom-lab"})).await;
    let fleet = call(
        &raw,
        &server,
        "CreateFleet",
        serde_json::json!({"Name": "f", "ComputeType": "ANYWHERE", "Locations": [{"Location": "custom-lab"}]}),
    )
    .await;
    let fleet_id = fleet["FleetAttributes"]["FleetId"].as_str().unwrap().to_owned();
    assert_eq!(fleet["FleetAttributes"]["CreationTime"].as_f64(), Some(FAR_MILLIS as f64 / 1000.0));
    let compute = serde_json::json!({"FleetId": fleet_id, "ComputeName": "box", "Location": "custom-lab", "IpAddress": "10.1.1.1"});
    call(&raw, &server, "RegisterCompute", compute).await;

    let ask = serde_json::json!({"FleetId": fleet_id, "ComputeName": "box"});
    let first = call(&raw, &server, "GetComputeAuthToken", ask.clone()).await;
    assert_eq!(first["ExpirationTimestamp"].as_f64(), Some((FAR_MILLIS + 3 * 3600 * 1000) as f64 / 1000.0), "{first}");

    server.clock().advance(Duration::from_secs(3600));
    let later = call(&raw, &server, "GetComputeAuthToken", ask).await;
    assert_eq!(
        later["ExpirationTimestamp"].as_f64(),
        Some((FAR_MILLIS + 3600 * 1000 + 3 * 3600 * 1000) as f64 / 1000.0),
        "{later}"
    );
    server.stop().await;
}

#[tokio::test]
async fn sdk_sees_an_expiry_three_hours_after_the_injected_now() {
    // Near the real time so the SDK's own signature is accepted, but on a whole
    // second boundary plus 0.999 s to pin millisecond precision through CBOR.
    let start = Timestamp::from_millis(Timestamp::now().as_millis() / 1000 * 1000 - 1);
    let server = TestServer::start_with_clock(start).await;
    let client = server.sdk();
    client.create_location().location_name("custom-lab").send().await.unwrap();
    let fleet = client
        .create_fleet()
        .name("f")
        .compute_type(ComputeType::Anywhere)
        .locations(LocationConfiguration::builder().location("custom-lab").build())
        .send()
        .await
        .unwrap();
    let fleet_id = fleet.fleet_attributes().unwrap().fleet_id().unwrap().to_owned();
    client
        .register_compute()
        .fleet_id(&fleet_id)
        .compute_name("box")
        .location("custom-lab")
        .ip_address("10.1.1.1")
        .send()
        .await
        .unwrap();
    server.clock().advance(Duration::from_secs(7 * 60));
    let token = client.get_compute_auth_token().fleet_id(&fleet_id).compute_name("box").send().await.unwrap();
    let expected = DateTime::from_millis(start.as_millis() + 7 * 60 * 1000 + 3 * 3600 * 1000);
    assert_eq!(token.expiration_timestamp(), Some(&expected));
    server.stop().await;
}

async fn list_fleets_signed_at(raw: &Raw, time: SystemTime) -> common::RawResponse {
    raw.send_signed(raw.json_request("ListFleets", b"{}"), &Signer::at(time)).await
}

#[tokio::test]
async fn sigv4_skew_is_checked_against_the_injected_clock() {
    let server = TestServer::start_with_clock(Timestamp::from_millis(FAR_MILLIS)).await;
    let raw = Raw::new(&server);
    let server_now = server.now();

    let response = list_fleets_signed_at(&raw, server_now - Duration::from_secs(14 * 60)).await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    let response = list_fleets_signed_at(&raw, server_now + Duration::from_secs(14 * 60)).await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));

    let response = list_fleets_signed_at(&raw, server_now - Duration::from_secs(16 * 60)).await;
    assert_eq!(response.status, 400);
    let (code, message) = response.error();
    assert_eq!(code, "InvalidSignatureException");
    assert!(message.starts_with("Signature expired: 20310102T024805Z is now earlier than"), "{message}");
    let response = list_fleets_signed_at(&raw, server_now + Duration::from_secs(16 * 60)).await;
    assert_eq!(response.error().0, "InvalidSignatureException");

    // The real time is years before the server's: a request signed now is far too old.
    let response = list_fleets_signed_at(&raw, SystemTime::now()).await;
    assert_eq!(response.error().0, "InvalidSignatureException");

    // Moving the server clock 30 minutes on moves the window with it.
    server.clock().advance(Duration::from_secs(30 * 60));
    let response = list_fleets_signed_at(&raw, server_now + Duration::from_secs(16 * 60)).await;
    assert_eq!(response.status, 200, "signed 14 minutes before the advanced clock");
    let response = list_fleets_signed_at(&raw, server_now + Duration::from_secs(14 * 60)).await;
    assert_eq!(response.error().0, "InvalidSignatureException", "signed 16 minutes before the advanced clock");
    server.stop().await;
}
