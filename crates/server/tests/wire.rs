//! Golden tests of the bytes on the wire (`control-plane-api.md` sections 2.3 to 2.5,
//! 2.9 and 9.3): status, headers and exact bodies of representative successes and
//! errors in both protocols, and hostile requests that must each get a 4xx
//! AWS-shaped error while the server keeps serving.
//!
//! Requests are sent over real HTTP with `reqwest` and signed with `aws-sigv4`. The
//! server runs on a manual clock stopped at [`T0`], so every signature date and every
//! skew message is fixed.

mod common;

use std::time::{Duration, SystemTime};

use ciborium::Value as Cbor;
use common::{Raw, RawResponse, Signer, TestServer, cbor_bytes, cbor_map};
use openlift_model::Timestamp;

/// The server's time: 2025-11-25T02:21:16Z.
const T0_SECS: u64 = 1_764_037_276;

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(T0_SECS)
}

async fn server() -> (TestServer, Raw) {
    let server = TestServer::start_with_clock(Timestamp::from(t0())).await;
    let raw = Raw::new(&server);
    (server, raw)
}

fn signer() -> Signer {
    Signer::at(t0())
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Protocol {
    Json,
    Cbor,
}

const LOCATION_ARN: &str = "arn:aws:gamelift:us-west-2:111122223333:location/custom-golden";
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
     Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Checks the headers every response carries, and exactly those (plus the protocol's own).
fn assert_headers(response: &RawResponse, protocol: Protocol, error_code: Option<&str>) {
    let mut names: Vec<&str> = response.headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    let mut expected = vec!["content-length", "content-type", "date", "x-amzn-requestid"];
    match protocol {
        Protocol::Json => {
            assert_eq!(response.header("content-type"), "application/x-amz-json-1.1");
            if let Some(code) = error_code {
                assert_eq!(response.header("x-amzn-errortype"), code);
                expected.push("x-amzn-errortype");
            }
        }
        Protocol::Cbor => {
            assert_eq!(response.header("content-type"), "application/cbor");
            assert_eq!(response.header("smithy-protocol"), "rpc-v2-cbor");
            expected.push("smithy-protocol");
        }
    }
    expected.sort_unstable();
    assert_eq!(names, expected, "{:?}", response.headers);
    let id = response.header("x-amzn-requestid");
    assert!(id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'), "request id is not a UUID: {id}");
    assert_eq!(response.header("content-length"), response.body.len().to_string());
    let date = response.header("date");
    assert!(date.ends_with(" GMT") && date.len() == 29, "Date is not an RFC 7231 date: {date}");
}

/// The exact error body of `qualified` code with `message` in `protocol`.
fn error_body(protocol: Protocol, qualified: &str, message: &str) -> Vec<u8> {
    match protocol {
        Protocol::Json => {
            let text = |s: &str| serde_json::Value::from(s).to_string();
            format!(r#"{{"__type":{},"message":{},"Message":{}}}"#, text(qualified), text(message), text(message))
                .into_bytes()
        }
        Protocol::Cbor => cbor_bytes(&cbor_map(vec![
            ("__type", Cbor::Text(qualified.into())),
            ("message", Cbor::Text(message.into())),
            ("Message", Cbor::Text(message.into())),
        ])),
    }
}

/// Asserts an error response byte for byte.
#[track_caller]
fn assert_error(response: &RawResponse, protocol: Protocol, status: u16, qualified: &str, message: &str) {
    let code = qualified.rsplit('#').next().unwrap();
    assert_eq!(response.status, status, "{response:?} {}", String::from_utf8_lossy(&response.body));
    assert_headers(response, protocol, Some(code));
    let expected = error_body(protocol, qualified, message);
    match protocol {
        Protocol::Json => assert_eq!(String::from_utf8_lossy(&response.body), String::from_utf8_lossy(&expected)),
        Protocol::Cbor => assert!(response.body == expected, "body was {:?}", response.cbor()),
    }
}

/// Asserts an AWS-shaped 4xx error with `code`, whatever the message.
#[track_caller]
fn assert_refused(response: &RawResponse, code: &str) {
    assert!((400..500).contains(&response.status), "{response:?}");
    assert!(response.headers.contains_key("x-amzn-requestid"), "{response:?}");
    let (got, message) = response.error();
    assert_eq!(got, code, "{message}");
    assert!(!message.is_empty());
}

fn request(raw: &Raw, protocol: Protocol, operation: &str, json: &str, cbor: &Cbor) -> http::Request<Vec<u8>> {
    match protocol {
        Protocol::Json => raw.json_request(operation, json.as_bytes()),
        Protocol::Cbor => raw.cbor_request(operation, &cbor_bytes(cbor)),
    }
}

/// A valid signed call still succeeds: the server survived whatever came before.
async fn assert_still_serving(raw: &Raw) {
    let response = raw.send_signed(raw.json_request("ListFleets", b"{}"), &signer()).await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    assert_eq!(response.json(), serde_json::json!({"FleetIds": []}));
    let response = raw.send_signed(raw.cbor_request("ListFleets", &[0xa0]), &signer()).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, cbor_bytes(&cbor_map(vec![("FleetIds", Cbor::Array(vec![]))])));
}

#[tokio::test]
async fn create_location_success_is_byte_exact_in_json() {
    let (server, raw) = server().await;
    let request = raw.json_request("CreateLocation", br#"{"LocationName": "custom-golden"}"#);
    let response = raw.send_signed(request, &signer()).await;
    assert_eq!(response.status, 200);
    assert_headers(&response, Protocol::Json, None);
    let expected = format!(r#"{{"Location":{{"LocationName":"custom-golden","LocationArn":"{LOCATION_ARN}"}}}}"#);
    assert_eq!(String::from_utf8(response.body).unwrap(), expected);
    server.stop().await;
}

#[tokio::test]
async fn create_location_success_is_byte_exact_in_cbor() {
    let (server, raw) = server().await;
    let body = cbor_map(vec![("LocationName", Cbor::Text("custom-golden".into()))]);
    let response = raw.send_signed(raw.cbor_request("CreateLocation", &cbor_bytes(&body)), &signer()).await;
    assert_eq!(response.status, 200);
    assert_headers(&response, Protocol::Cbor, None);
    let expected = cbor_map(vec![(
        "Location",
        cbor_map(vec![
            ("LocationName", Cbor::Text("custom-golden".into())),
            ("LocationArn", Cbor::Text(LOCATION_ARN.into())),
        ]),
    )]);
    assert_eq!(response.cbor(), expected);
    // Definite lengths and shortest heads: map(1) "Location" map(2) "LocationName" ...
    let mut golden = vec![0xa1, 0x68];
    golden.extend_from_slice(b"Location");
    golden.extend_from_slice(&[0xa2, 0x6c]);
    golden.extend_from_slice(b"LocationName");
    golden.push(0x6d);
    golden.extend_from_slice(b"custom-golden");
    golden.push(0x6b);
    golden.extend_from_slice(b"LocationArn");
    golden.extend_from_slice(&[0x78, LOCATION_ARN.len() as u8]);
    golden.extend_from_slice(LOCATION_ARN.as_bytes());
    assert_eq!(response.body, golden);
    server.stop().await;
}

#[tokio::test]
async fn timestamps_are_epoch_seconds_in_json_and_tag_1_in_cbor() {
    let server = TestServer::start_with_clock(Timestamp::from_millis(T0_SECS as i64 * 1000 + 125)).await;
    let raw = Raw::new(&server);
    let body = cbor_map(vec![
        ("Name", Cbor::Text("t".into())),
        (
            "RoutingStrategy",
            cbor_map(vec![("Type", Cbor::Text("TERMINAL".into())), ("Message", Cbor::Text("m".into()))]),
        ),
    ]);
    let response = raw.send_signed(raw.cbor_request("CreateAlias", &cbor_bytes(&body)), &signer()).await;
    assert_eq!(response.status, 200, "{:?}", response.cbor());
    let alias = response.cbor().into_map().unwrap().remove(0).1;
    let creation = alias.as_map().unwrap().iter().find(|(k, _)| k.as_text() == Some("CreationTime")).unwrap().1.clone();
    assert_eq!(creation, Cbor::Tag(1, Box::new(Cbor::Float(1_764_037_276.125))));
    let mut golden = vec![0xc1, 0xfb];
    golden.extend_from_slice(&1_764_037_276.125f64.to_be_bytes());
    assert!(response.body.windows(golden.len()).any(|w| w == golden), "tag 1 + float64 not found");

    let json = raw.send_signed(raw.json_request("ListAliases", b"{}"), &signer()).await;
    let text = String::from_utf8(json.body).unwrap();
    assert!(text.contains(r#""CreationTime":1764037276.125"#), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn not_found_is_byte_exact_in_both_protocols() {
    let (server, raw) = server().await;
    for protocol in [Protocol::Json, Protocol::Cbor] {
        let cbor = cbor_map(vec![("AliasId", Cbor::Text("alias-missing".into()))]);
        let request = request(&raw, protocol, "DescribeAlias", r#"{"AliasId":"alias-missing"}"#, &cbor);
        let response = raw.send_signed(request, &signer()).await;
        assert_error(
            &response,
            protocol,
            400,
            "com.amazonaws.gamelift#NotFoundException",
            "Alias alias-missing not found.",
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn validation_error_is_invalid_request_naming_the_member() {
    let (server, raw) = server().await;
    for protocol in [Protocol::Json, Protocol::Cbor] {
        let response =
            raw.send_signed(request(&raw, protocol, "CreateLocation", "{}", &cbor_map(vec![])), &signer()).await;
        assert_error(
            &response,
            protocol,
            400,
            "com.amazonaws.gamelift#InvalidRequestException",
            "1 validation error detected: Value null at 'locationName' failed to satisfy constraint: Member must not be null",
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_operation_is_byte_exact_in_both_protocols() {
    let (server, raw) = server().await;
    for protocol in [Protocol::Json, Protocol::Cbor] {
        let response = raw.send_signed(request(&raw, protocol, "Frobnicate", "{}", &cbor_map(vec![])), &signer()).await;
        assert_error(
            &response,
            protocol,
            400,
            "com.amazon.coral.service#UnknownOperationException",
            "Operation Frobnicate is not supported.",
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_is_a_serialization_exception() {
    let (server, raw) = server().await;
    let response = raw.send_signed(raw.json_request("CreateLocation", br#"{"LocationName": "#), &signer()).await;
    assert_error(
        &response,
        Protocol::Json,
        400,
        "com.amazon.coral.service#SerializationException",
        "Malformed JSON body: EOF while parsing a value at line 1 column 17",
    );
    let response = raw.send_signed(raw.json_request("CreateLocation", br#"{"LocationName": 7}"#), &signer()).await;
    assert_error(
        &response,
        Protocol::Json,
        400,
        "com.amazon.coral.service#SerializationException",
        "Expected a string for member 'locationName', found integer",
    );
    server.stop().await;
}

#[tokio::test]
async fn truncated_cbor_is_a_serialization_exception() {
    let (server, raw) = server().await;
    let mut body = cbor_bytes(&cbor_map(vec![("LocationName", Cbor::Text("custom-golden".into()))]));
    body.truncate(body.len() - 3);
    let response = raw.send_signed(raw.cbor_request("CreateLocation", &body), &signer()).await;
    assert_error(
        &response,
        Protocol::Cbor,
        400,
        "com.amazon.coral.service#SerializationException",
        "Malformed CBOR body: declared length exceeds the data",
    );
    server.stop().await;
}

#[tokio::test]
async fn sigv4_failures_are_byte_exact_in_both_protocols() {
    let (server, raw) = server().await;
    let stale = Signer::at(t0() - Duration::from_secs(16 * 60));
    let cases: Vec<(&str, Option<Signer>, &str, String)> = vec![
        (
            "wrong secret",
            Some(Signer { secret: "wrong".into(), ..signer() }),
            "InvalidSignatureException",
            MISMATCH.to_owned(),
        ),
        (
            "unknown key",
            Some(Signer { access_key_id: "AKIDNOBODY".into(), ..signer() }),
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".to_owned(),
        ),
        (
            "other service",
            Some(Signer { service: "s3".into(), ..signer() }),
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'gamelift'.".to_owned(),
        ),
        (
            "other region",
            Some(Signer { region: "eu-west-1".into(), ..signer() }),
            "InvalidSignatureException",
            "Credential should be scoped to a valid region, not 'eu-west-1'.".to_owned(),
        ),
        (
            "16 minutes old",
            Some(stale),
            "InvalidSignatureException",
            "Signature expired: 20251125T020516Z is now earlier than 20251125T020616Z (20251125T022116Z - 15 min.)"
                .to_owned(),
        ),
        (
            "16 minutes ahead",
            Some(Signer::at(t0() + Duration::from_secs(16 * 60))),
            "InvalidSignatureException",
            "Signature not yet current: 20251125T023716Z is still later than 20251125T023616Z \
             (20251125T022116Z + 15 min.)"
                .to_owned(),
        ),
        ("unsigned", None, "MissingAuthenticationTokenException", "Missing Authentication Token".to_owned()),
    ];
    for protocol in [Protocol::Json, Protocol::Cbor] {
        for (case, signer, code, message) in &cases {
            let request = request(&raw, protocol, "ListFleets", "{}", &cbor_map(vec![]));
            let response = match signer {
                Some(signer) => raw.send_signed(request, signer).await,
                None => raw.send(request).await,
            };
            eprintln!("case: {case} ({protocol:?})");
            assert_error(&response, protocol, 400, &format!("com.amazon.coral.service#{code}"), message);
        }
    }
    assert_still_serving(&raw).await;
    server.stop().await;
}

#[tokio::test]
async fn a_body_changed_after_signing_fails_the_signature() {
    let (server, raw) = server().await;
    let mut request = raw.json_request("CreateLocation", br#"{"LocationName":"custom-signed"}"#);
    signer().sign(&mut request);
    *request.body_mut() = br#"{"LocationName":"custom-swapped"}"#.to_vec();
    let response = raw.send(request).await;
    assert_error(&response, Protocol::Json, 400, "com.amazon.coral.service#InvalidSignatureException", MISMATCH);
    let listed = raw.send_signed(raw.json_request("ListLocations", br#"{"Filters":["CUSTOM"]}"#), &signer()).await;
    assert_eq!(listed.json(), serde_json::json!({"Locations": []}));
    server.stop().await;
}

#[tokio::test]
async fn deeply_nested_json_and_cbor_are_refused_and_the_server_keeps_serving() {
    let (server, raw) = server().await;
    let depth = 100_000;
    let mut json = br#"{"LocationName":"#.to_vec();
    json.extend(std::iter::repeat_n(b'[', depth));
    json.extend(std::iter::repeat_n(b']', depth));
    json.push(b'}');
    let response = raw.send_signed(raw.json_request("CreateLocation", &json), &signer()).await;
    assert_refused(&response, "SerializationException");

    let mut cbor = vec![0xa1, 0x6c];
    cbor.extend_from_slice(b"LocationName");
    cbor.extend(std::iter::repeat_n(0x81, depth));
    cbor.push(0x00);
    let response = raw.send_signed(raw.cbor_request("CreateLocation", &cbor), &signer()).await;
    assert_refused(&response, "SerializationException");
    assert_error(
        &response,
        Protocol::Cbor,
        400,
        "com.amazon.coral.service#SerializationException",
        "CBOR body nests deeper than 64 levels",
    );
    assert_still_serving(&raw).await;
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_the_size_limit_is_refused_and_the_server_keeps_serving() {
    let (server, raw) = server().await;
    let mut body = br#"{"LocationName":"custom-big","Pad":""#.to_vec();
    body.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    body.extend_from_slice(br#""}"#);
    for protocol in [Protocol::Json, Protocol::Cbor] {
        let request = match protocol {
            Protocol::Json => raw.json_request("CreateLocation", &body),
            Protocol::Cbor => raw.cbor_request("CreateLocation", &body),
        };
        let response = raw.send_signed(request, &signer()).await;
        assert_error(
            &response,
            protocol,
            400,
            "com.amazon.coral.service#SerializationException",
            "Request body is unreadable or larger than 2097152 bytes.",
        );
    }
    assert_still_serving(&raw).await;
    server.stop().await;
}

#[tokio::test]
async fn invalid_utf8_is_refused_and_the_server_keeps_serving() {
    let (server, raw) = server().await;
    let json = b"{\"LocationName\":\"custom-\xff\xfe\"}";
    let response = raw.send_signed(raw.json_request("CreateLocation", json), &signer()).await;
    assert_refused(&response, "SerializationException");

    let mut cbor = vec![0xa1, 0x6c];
    cbor.extend_from_slice(b"LocationName");
    cbor.extend_from_slice(&[0x69]);
    cbor.extend_from_slice(b"custom-\xff\xfe");
    let response = raw.send_signed(raw.cbor_request("CreateLocation", &cbor), &signer()).await;
    assert_error(
        &response,
        Protocol::Cbor,
        400,
        "com.amazon.coral.service#SerializationException",
        "Malformed CBOR body: invalid UTF-8 in a text string",
    );
    assert_still_serving(&raw).await;
    server.stop().await;
}

#[tokio::test]
async fn cbor_with_huge_declared_lengths_is_refused_without_allocating() {
    let (server, raw) = server().await;
    let bodies: [&[u8]; 4] = [
        // A map declaring 2^64 - 1 pairs.
        &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        // A map whose one key is a text string declaring 2^64 - 1 bytes.
        &[0xa1, 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x61],
        // An array member declaring 2^32 - 1 items.
        &[0xa1, 0x61, b'a', 0x9a, 0xff, 0xff, 0xff, 0xff, 0x00],
        // A byte string declaring 4 GiB.
        &[0xa1, 0x61, b'a', 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00],
    ];
    for body in bodies {
        let response = raw.send_signed(raw.cbor_request("CreateLocation", body), &signer()).await;
        assert_error(
            &response,
            Protocol::Cbor,
            400,
            "com.amazon.coral.service#SerializationException",
            "Malformed CBOR body: declared length exceeds the data",
        );
    }
    assert_still_serving(&raw).await;
    server.stop().await;
}

#[tokio::test]
async fn get_requests_are_refused_in_protocol() {
    let (server, raw) = server().await;
    let get = raw.request("GET", "/", &[("x-amz-target", "GameLift.ListFleets")], b"");
    let response = raw.send_signed(get, &signer()).await;
    assert_error(
        &response,
        Protocol::Json,
        400,
        "com.amazon.coral.service#UnknownOperationException",
        "Operations are called with POST, not GET.",
    );
    let get = raw.request("GET", "/service/GameLift/operation/ListFleets", &[("smithy-protocol", "rpc-v2-cbor")], b"");
    let response = raw.send_signed(get, &signer()).await;
    assert_error(
        &response,
        Protocol::Cbor,
        400,
        "com.amazon.coral.service#UnknownOperationException",
        "Operations are called with POST, not GET.",
    );
    // A browser-style unsigned GET of the root.
    let response = raw.send(raw.request("GET", "/", &[], b"")).await;
    assert_refused(&response, "MissingAuthenticationTokenException");
    assert_still_serving(&raw).await;
    server.stop().await;
}

/// A path, its headers, the protocol of the answer and the expected message.
type PathCase = (&'static str, &'static [(&'static str, &'static str)], Protocol, &'static str);

#[tokio::test]
async fn wrong_paths_and_targets_are_unknown_operations() {
    let (server, raw) = server().await;
    let cases: [PathCase; 5] = [
        (
            "/favicon.ico",
            &[("smithy-protocol", "rpc-v2-cbor")],
            Protocol::Cbor,
            "The path must end in /service/GameLift/operation/<Operation>.",
        ),
        (
            "/service/DynamoDB/operation/ListTables",
            &[("smithy-protocol", "rpc-v2-cbor")],
            Protocol::Cbor,
            "Unknown service DynamoDB.",
        ),
        (
            "/service/GameLift/operation/ListFleets",
            &[("smithy-protocol", "rpc-v1-json")],
            Protocol::Cbor,
            "The smithy-protocol header must be rpc-v2-cbor.",
        ),
        (
            "/",
            &[("x-amz-target", "DynamoDB_20120810.ListTables")],
            Protocol::Json,
            "Operation DynamoDB_20120810.ListTables is not supported.",
        ),
        ("/", &[], Protocol::Json, "The request names no operation (missing X-Amz-Target header)."),
    ];
    for (path, headers, protocol, message) in cases {
        let response = raw.send_signed(raw.request("POST", path, headers, b"{}"), &signer()).await;
        assert_error(&response, protocol, 400, "com.amazon.coral.service#UnknownOperationException", message);
    }
    // A path of the RPC v2 shape without the header is still answered in CBOR.
    let response =
        raw.send_signed(raw.request("POST", "/service/GameLift/operation/ListFleets", &[], &[0xa0]), &signer()).await;
    assert_refused(&response, "UnknownOperationException");
    assert_eq!(response.header("content-type"), "application/cbor");
    assert_still_serving(&raw).await;
    server.stop().await;
}
