//! HTTP responses in either protocol (`control-plane-api.md` sections 2.3, 2.4 and 2.9).
//!
//! Every response carries `x-amzn-RequestId`, `Content-Type`, `Content-Length` and a
//! correct `Date` (botocore derives retry timing from it; JavaScript v3 and Java
//! correct their clock skew with it). RPC v2 responses also carry
//! `smithy-protocol: rpc-v2-cbor`.
//!
//! Errors use the status of their code (400; 500 for `InternalServiceException`, 408 and
//! 431 for the HTTP layer's timeout and header limit)
//! and the body `{"__type": "<namespace>#<Code>", "message": ..., "Message": ...}`:
//! every SDK strips the namespace, `message` is what SDKs show, and `Message` fills
//! the modelled member of GameLift's exception shapes. awsJson errors also carry
//! `x-amzn-ErrorType: <Code>`, which smithy-rs, JavaScript v3 and Go v2 read first.

use std::time::SystemTime;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, DATE};
use http::{HeaderValue, Response, StatusCode};
use openlift_model::{ApiError, Value};

use crate::Protocol;

/// The header naming the request, read by every SDK as the request id.
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

/// The header carrying the bare error code on awsJson errors.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// A `200` response with `value` as the body.
pub fn success(protocol: Protocol, value: &Value, request_id: &str) -> Response<Vec<u8>> {
    build(protocol, StatusCode::OK, protocol.encode(value), request_id)
}

/// The response for `err`.
pub fn error(protocol: Protocol, err: &ApiError, request_id: &str) -> Response<Vec<u8>> {
    let body = Value::Map(vec![
        ("__type".to_owned(), Value::String(err.code.qualified())),
        ("message".to_owned(), Value::String(err.message.clone())),
        ("Message".to_owned(), Value::String(err.message.clone())),
    ]);
    // Every code's status is a valid one; the fallback is never taken.
    let status = StatusCode::from_u16(err.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = build(protocol, status, protocol.encode(&body), request_id);
    if protocol == Protocol::AwsJson11 {
        response.headers_mut().insert(ERROR_TYPE_HEADER, HeaderValue::from_static(err.code.as_str()));
    }
    response
}

fn build(protocol: Protocol, status: StatusCode, body: Vec<u8>, request_id: &str) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // A request id that is not a valid header value (never one openlift mints) is left out.
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, id);
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(protocol.content_type()));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())) {
        headers.insert(DATE, date);
    }
    if protocol == Protocol::RpcV2Cbor {
        headers.insert("smithy-protocol", HeaderValue::from_static(crate::classify::SMITHY_PROTOCOL));
    }
    *response.body_mut() = body;
    response
}
