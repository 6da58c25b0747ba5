//! The WebSocket upgrade of an SDK connection (`server-sdk-protocol.md` sections 1.2–1.3
//! and 8.1): any path but [`AGENT_PATH`] (a host agent's connection, handed to
//! [`crate::agent`]), the query parsed leniently, authenticated before the `101`.
//!
//! Order of checks: an RFC 6455 upgrade request (400/426), the query (400, or 401 without
//! a credential), the credential (403), the compute still registered (403), the process ID
//! not ended and not another compute's (403). Only then is the connection attached to the
//! process in the registry and the `101 Switching Protocols` sent; the connection task is
//! spawned on the server's task tracker and waits for hyper to hand over the socket.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use openlift_core::records::ComputeRecord;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::auth::{self, Refusal};
use super::connection;
use super::query::{self, ConnectQuery};
use super::registry::{Attach, Attached, ProcessStatus};
use crate::agent::AGENT_PATH;
use crate::app::App;

/// Whether a request asks for a WebSocket (`GET` with `Upgrade: websocket`), on any path.
pub fn is_websocket_upgrade(request: &Request) -> bool {
    request.method() == Method::GET && header_has(request.headers(), header::UPGRADE, "websocket")
}

pub(crate) fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
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

/// Answers an upgrade request: `101` with the connection task spawned, or an HTTP refusal,
/// logged with its reason.
pub async fn upgrade(app: Arc<App>, mut request: Request) -> Response {
    if request.uri().path() == AGENT_PATH {
        return crate::agent::upgrade(app, request).await;
    }
    let key = match websocket_key(request.headers()) {
        Ok(key) => key,
        Err(refusal) => {
            tracing::info!(status = refusal.status.as_u16(), reason = %refusal.message, "sdk connection refused");
            return refuse(refusal);
        }
    };
    let query = match query::parse(request.uri().query()) {
        Ok(query) => query,
        Err(error) => {
            let status = if error.missing_auth { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
            tracing::info!(status = status.as_u16(), reason = %error.message, "sdk connection refused");
            return refuse(Refusal { status, message: error.message });
        }
    };
    let attached = match admit(&app, &query).await {
        Ok(attached) => attached,
        Err(refusal) => {
            tracing::info!(process_id = %query.process_id, fleet_id = %query.fleet_id, compute = %query.compute_id,
                sdk_language = %query.sdk_language, status = refusal.status.as_u16(), reason = %refusal.message,
                "sdk connection refused");
            return refuse(refusal);
        }
    };
    tracing::info!(process_id = %query.process_id, fleet_id = %query.fleet_id, compute = %query.compute_id,
        generation = attached.generation, sdk_language = %query.sdk_language, sdk_version = %query.sdk_version,
        "sdk connection accepted");
    let on_upgrade = hyper::upgrade::on(&mut request);
    let task = connection::run(app.clone(), on_upgrade, query.process_id, attached);
    app.sdk.tasks.tracker.spawn(task);
    switching_protocols(&key)
}

/// Authenticates a parsed query, checks its compute and attaches the connection.
async fn admit(app: &App, query: &ConnectQuery) -> Result<Attached, Refusal> {
    let proof = auth::authenticate(app, query).await?;
    let compute = registered_compute(app, &query.fleet_id, &query.compute_id).await?;
    let known = app.sdk.processes.token_digests(&query.process_id);
    let new_token = proof.token_digest.as_ref().is_some_and(|digest| !known.contains(digest));
    let attach = Attach {
        process_id: query.process_id.clone(),
        fleet_id: query.fleet_id.clone(),
        compute_name: query.compute_id.clone(),
        location: compute.compute.location.unwrap_or_default(),
        certificate_path: compute.certificate_path,
        ip_address: compute.compute.ip_address,
        dns_name: compute.compute.dns_name,
        sdk_language: query.sdk_language.clone(),
        sdk_version: query.sdk_version.clone(),
        token_digest: proof.token_digest,
        credential_expires: Some(proof.expires_at),
    };
    let attached =
        app.sdk.processes.attach(attach, app.now()).map_err(|error| Refusal::forbidden(error.to_string()))?;
    let ready = || app.sdk.processes.get(&query.process_id).is_some_and(|i| i.status == ProcessStatus::Active);
    if new_token && ready() {
        // A ready process's record keeps its tokens, so that after a restart it may
        // reconnect with the newest even once expired.
        if let Err(error) = super::durable::remember(app, &query.process_id).await {
            tracing::warn!(process_id = %query.process_id, %error, "could not record the process's new auth token");
        }
    }
    Ok(attached)
}
