//! What the SDK and agent endpoints share about a WebSocket upgrade (RFC 6455): telling an
//! upgrade request, checking its headers, the `101` answer and the HTTP refusals, and the
//! compute a connection names, which must still be registered.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use openlift_core::records::ComputeRecord;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::app::App;

/// An HTTP refusal of the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Refusal { status: StatusCode::FORBIDDEN, message: message.into() }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Refusal { status: StatusCode::UNAUTHORIZED, message: message.into() }
    }
}

/// Whether a request asks for a WebSocket (`GET` with `Upgrade: websocket`), on any path.
pub fn is_websocket_upgrade(request: &Request) -> bool {
    request.method() == Method::GET && header_has(request.headers(), header::UPGRADE, "websocket")
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(token))
}

pub(crate) fn refuse(refusal: Refusal) -> Response {
    let upgrade_required = refusal.status == StatusCode::UPGRADE_REQUIRED;
    let mut response = Response::new(Body::from(refusal.message));
    *response.status_mut() = refusal.status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if upgrade_required {
        response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    }
    response
}

pub(crate) fn bad_request(message: impl Into<String>) -> Refusal {
    Refusal { status: StatusCode::BAD_REQUEST, message: message.into() }
}

/// The compute a connection names, which must still be registered with its fleet
/// (403 when it is not, 500 when the store cannot say).
pub(crate) async fn registered_compute(
    app: &App,
    fleet_id: &str,
    compute_name: &str,
) -> Result<ComputeRecord, Refusal> {
    match app.store.get_compute(fleet_id, compute_name).await {
        Ok(Some(compute)) => Ok(compute),
        Ok(None) => Err(Refusal::forbidden(format!("Compute {compute_name} is not registered with fleet {fleet_id}."))),
        Err(error) => {
            tracing::error!(%error, "reading a compute failed");
            Err(Refusal { status: StatusCode::INTERNAL_SERVER_ERROR, message: "Internal error; retry.".into() })
        }
    }
}

/// Checks the RFC 6455 headers of an upgrade request and returns its `Sec-WebSocket-Key`,
/// or the refusal (400, or 426 for another WebSocket version).
pub(crate) fn websocket_key(headers: &HeaderMap) -> Result<Vec<u8>, Refusal> {
    if !header_has(headers, header::CONNECTION, "upgrade") {
        return Err(bad_request("A WebSocket upgrade needs Connection: Upgrade."));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|v| v.as_bytes() != b"13") {
        return Err(Refusal {
            status: StatusCode::UPGRADE_REQUIRED,
            message: "Only WebSocket version 13 is supported.".into(),
        });
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes().to_vec())
        .ok_or_else(|| bad_request("A WebSocket upgrade needs Sec-WebSocket-Key."))
}

/// The `101 Switching Protocols` answer to a WebSocket key.
pub(crate) fn switching_protocols(key: &[u8]) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let accept = HeaderValue::from_str(&derive_accept_key(key)).expect("base64 is a valid header value");
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}
