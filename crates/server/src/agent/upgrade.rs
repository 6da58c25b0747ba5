//! The WebSocket upgrade of an agent connection (`server-sdk-protocol.md` section 9): the
//! GameLift Agent opens `GameLiftAgentEndpoint?FleetId=…&ComputeName=…&Authorization=…`
//! with a token from GetComputeAuthToken.
//!
//! Order of checks: an RFC 6455 upgrade (400/426), the query (400, or 401 without
//! `Authorization`), the token (403: unknown, expired or another compute's), the compute
//! still registered (403). Only then is the connection attached, replacing any previous
//! connection of the compute's agent, and the `101` sent. Connecting makes an impaired
//! compute `ACTIVE` again.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use openlift_core::ids;

use super::connection;
use super::query;
use crate::app::App;
use crate::sdk::auth;
use crate::websocket::{Refusal, refuse, registered_compute, switching_protocols, websocket_key};

/// Answers an agent's upgrade request: `101` with the connection task spawned, or an HTTP refusal.
pub async fn upgrade(app: Arc<App>, mut request: Request) -> Response {
    let key = match websocket_key(request.headers()) {
        Ok(key) => key,
        Err(refusal) => return refuse(refusal),
    };
    let query = match query::parse(request.uri().query()) {
        Ok(query) => query,
        Err(refusal) => {
            tracing::info!(status = refusal.status.as_u16(), message = %refusal.message, "agent connection refused");
            return refuse(refusal);
        }
    };
    let digest = ids::auth_token_digest(&query.token);
    match auth::token_expiry(&app, &query.fleet_id, &query.compute_name, &digest).await {
        Ok(Ok(_)) => {}
        Ok(Err(problem)) => {
            tracing::info!(fleet_id = %query.fleet_id, compute = %query.compute_name, problem, "agent token refused");
            return refuse(Refusal::forbidden(format!(
                "The auth token is not valid for compute {} of fleet {}: it is unknown, expired or issued for another compute.",
                query.compute_name, query.fleet_id
            )));
        }
        Err(refusal) => return refuse(refusal),
    }
    if let Err(refusal) = registered_compute(&app, &query.fleet_id, &query.compute_name).await {
        return refuse(refusal);
    }
    let attached = app.agents.attach(&app.sdk.processes, &query.fleet_id, &query.compute_name, app.now());
    super::agent_connected(&app, &query.fleet_id, &query.compute_name).await;
    tracing::info!(fleet_id = %query.fleet_id, compute = %query.compute_name, generation = attached.generation,
        "agent connection accepted");
    let on_upgrade = hyper::upgrade::on(&mut request);
    let task = connection::run(app.clone(), on_upgrade, query, attached);
    app.sdk.tasks.tracker.spawn(task);
    switching_protocols(&key)
}
