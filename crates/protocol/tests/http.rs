//! Request classification and response rendering for both protocols.

use http::{HeaderMap, HeaderValue, Method, Uri};
use openlift_model::{ApiError, ErrorCode, Timestamp, Value};
use openlift_protocol::classify::{protocol_hint, unknown_operation};
use openlift_protocol::{Protocol, classify, error, success};

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), HeaderValue::from_str(v).unwrap())).collect()
}

fn run(method: Method, uri: &str, pairs: &[(&'static str, &str)]) -> Result<(Protocol, String), ErrorCode> {
    classify(&method, &uri.parse::<Uri>().unwrap(), &headers(pairs)).map_err(|e| e.code)
}

const CBOR: (&str, &str) = ("smithy-protocol", "rpc-v2-cbor");

#[test]
fn json_requests_are_routed_on_x_amz_target_whatever_the_path() {
    for path in ["/", "/gamelift", "/gamelift/"] {
        let result = run(Method::POST, path, &[("x-amz-target", "GameLift.CreateGameSession")]);
        assert_eq!(result, Ok((Protocol::AwsJson11, "CreateGameSession".to_owned())));
    }
}

#[test]
fn cbor_requests_are_routed_on_the_operation_path() {
    let result = run(Method::POST, "/service/GameLift/operation/DescribeFleetAttributes", &[CBOR]);
    assert_eq!(result, Ok((Protocol::RpcV2Cbor, "DescribeFleetAttributes".to_owned())));
    let prefixed = run(Method::POST, "/prefix/service/GameLift/operation/ListAliases", &[CBOR]);
    assert_eq!(prefixed, Ok((Protocol::RpcV2Cbor, "ListAliases".to_owned())));
}

#[test]
fn unroutable_requests_are_unknown_operations() {
    let unknown = Err(ErrorCode::UnknownOperationException);
    assert_eq!(run(Method::POST, "/", &[]), unknown);
    assert_eq!(run(Method::POST, "/", &[("x-amz-target", "DynamoDB_20120810.GetItem")]), unknown);
    assert_eq!(run(Method::POST, "/", &[("x-amz-target", "GameLift")]), unknown);
    assert_eq!(run(Method::POST, "/", &[("x-amz-target", "GameLift.")]), unknown);
    assert_eq!(run(Method::POST, "/", &[("x-amz-target", "GameLift.Create.Fleet")]), unknown);
    assert_eq!(run(Method::POST, "/", &[("x-amz-target", "gamelift.CreateFleet")]), unknown);
    assert_eq!(run(Method::GET, "/", &[("x-amz-target", "GameLift.ListFleets")]), unknown);
    assert_eq!(run(Method::POST, "/service/Other/operation/ListFleets", &[CBOR]), unknown);
    assert_eq!(run(Method::POST, "/service/GameLift/operation/", &[CBOR]), unknown);
    assert_eq!(run(Method::POST, "/service/GameLift/operation/ListFleets/", &[CBOR]), unknown);
    assert_eq!(run(Method::POST, "/", &[CBOR]), unknown);
    assert_eq!(
        run(Method::POST, "/service/GameLift/operation/ListFleets", &[("smithy-protocol", "rpc-v2-json")]),
        unknown
    );
    assert_eq!(run(Method::PUT, "/service/GameLift/operation/ListFleets", &[CBOR]), unknown);
    assert_eq!(run(Method::POST, "/service/GameLift/operation/ListFleets", &[]), unknown);
}

#[test]
fn the_smithy_protocol_header_wins_over_x_amz_target() {
    let both = [CBOR, ("x-amz-target", "GameLift.ListAliases")];
    assert_eq!(
        run(Method::POST, "/service/GameLift/operation/ListFleets", &both),
        Ok((Protocol::RpcV2Cbor, "ListFleets".into()))
    );
}

#[test]
fn failed_classification_is_answered_in_the_protocol_the_client_likely_speaks() {
    let uri: Uri = "/service/GameLift/operation/ListFleets".parse().unwrap();
    assert_eq!(protocol_hint(&uri, &HeaderMap::new()), Protocol::RpcV2Cbor);
    assert_eq!(protocol_hint(&"/".parse().unwrap(), &headers(&[CBOR])), Protocol::RpcV2Cbor);
    assert_eq!(protocol_hint(&"/".parse().unwrap(), &HeaderMap::new()), Protocol::AwsJson11);
    assert_eq!(protocol_hint(&uri, &headers(&[("x-amz-target", "GameLift.X")])), Protocol::AwsJson11);
    assert_eq!(unknown_operation("Nope").code, ErrorCode::UnknownOperationException);
}

fn header<'a>(response: &'a http::Response<Vec<u8>>, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn assert_common_headers(response: &http::Response<Vec<u8>>, content_type: &str) {
    assert_eq!(header(response, "x-amzn-RequestId"), Some("req-1"));
    assert_eq!(header(response, "content-type"), Some(content_type));
    assert_eq!(header(response, "content-length"), Some(response.body().len().to_string().as_str()));
    assert!(httpdate::parse_http_date(header(response, "date").unwrap()).is_ok());
}

#[test]
fn json_success_has_the_awsjson_headers_and_body() {
    let value = Value::Map(vec![("CreationTime".into(), Value::Timestamp(Timestamp::from_millis(1_669_676_874_377)))]);
    let response = success(Protocol::AwsJson11, &value, "req-1");
    assert_eq!(response.status(), 200);
    assert_common_headers(&response, "application/x-amz-json-1.1");
    assert_eq!(header(&response, "smithy-protocol"), None);
    assert_eq!(response.body(), br#"{"CreationTime":1669676874.377}"#);
    assert_eq!(success(Protocol::AwsJson11, &Value::Map(vec![]), "req-1").body(), b"{}");
}

#[test]
fn cbor_success_has_the_rpc_v2_headers_and_body() {
    let response = success(Protocol::RpcV2Cbor, &Value::Map(vec![]), "req-1");
    assert_eq!(response.status(), 200);
    assert_common_headers(&response, "application/cbor");
    assert_eq!(header(&response, "smithy-protocol"), Some("rpc-v2-cbor"));
    assert_eq!(response.body(), &[0xa0]);
}

#[test]
fn json_errors_render_the_coral_envelope() {
    let response = error(Protocol::AwsJson11, &ApiError::not_found("Fleet fleet-123 not found."), "req-1");
    assert_eq!(response.status(), 400);
    assert_common_headers(&response, "application/x-amz-json-1.1");
    assert_eq!(header(&response, "x-amzn-ErrorType"), Some("NotFoundException"));
    let expected = r#"{"__type":"com.amazonaws.gamelift#NotFoundException","message":"Fleet fleet-123 not found.","Message":"Fleet fleet-123 not found."}"#;
    assert_eq!(std::str::from_utf8(response.body()).unwrap(), expected);

    let internal = error(Protocol::AwsJson11, &ApiError::internal(), "req-1");
    assert_eq!(internal.status(), 500);
    let unknown = error(Protocol::AwsJson11, &unknown_operation("X"), "req-1");
    assert!(
        std::str::from_utf8(unknown.body())
            .unwrap()
            .starts_with(r#"{"__type":"com.amazon.coral.service#UnknownOperationException","#)
    );
}

#[test]
fn cbor_errors_render_the_same_envelope_in_cbor() {
    let message = "Fleet fleet-123 not found.";
    let response = error(Protocol::RpcV2Cbor, &ApiError::not_found(message), "req-1");
    assert_eq!(response.status(), 400);
    assert_common_headers(&response, "application/cbor");
    assert_eq!(header(&response, "smithy-protocol"), Some("rpc-v2-cbor"));
    assert_eq!(header(&response, "x-amzn-ErrorType"), None);
    let expected = [
        &[0xa3, 0x66][..],
        b"__type",
        &[0x78, 40],
        b"com.amazonaws.gamelift#NotFoundException",
        &[0x67],
        b"message",
        &[0x78, 26],
        message.as_bytes(),
        &[0x67],
        b"Message",
        &[0x78, 26],
        message.as_bytes(),
    ]
    .concat();
    assert_eq!(response.body(), &expected);
    assert_eq!(error(Protocol::RpcV2Cbor, &ApiError::internal(), "req-1").status(), 500);
}

#[test]
fn an_invalid_request_id_is_left_out_rather_than_panicking() {
    let response = success(Protocol::AwsJson11, &Value::Map(vec![]), "bad\nid");
    assert_eq!(header(&response, "x-amzn-RequestId"), None);
}
