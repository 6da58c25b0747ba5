//! The WebSocket upgrade of an SDK connection (`server-sdk-protocol.md` sections 1.2–1.3
//! and 8.1): the query parsed leniently, authenticated before the `101`. The front door
//! routes here every upgrade but the agents' ([`crate::agent::AGENT_PATH`]).
//!
//! Order of checks: an RFC 6455 upgrade request (400/426), the query (400, or 401 without
//! a credential), the credential (403), the compute still registered (403), the process ID
//! not ended and not another compute's (403). Only then is the connection attached to the
//! process in the registry and the `101 Switching Protocols` sent; the connection task is
//! spawned on the server's task tracker and waits for hyper to hand over the socket.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;

use super::auth;
use super::connection;
use super::query::{self, ConnectQuery};
use crate::app::App;
use crate::hosting::registry::{Attach, Attached, ProcessStatus};
use crate::websocket::{Refusal, refuse, registered_compute, switching_protocols, websocket_key};

/// Answers an upgrade request: `101` with the connection task spawned, or an HTTP refusal,
/// logged with its reason.
pub async fn upgrade(app: Arc<App>, mut request: Request) -> Response {
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
