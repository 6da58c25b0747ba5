//! The WebSocket upgrade of an agent connection (`server-sdk-protocol.md` section 9): the
//! GameLift Agent opens `GameLiftAgentEndpoint?FleetId=…&ComputeName=…&Authorization=…`
//! with a token from GetComputeAuthToken.
//!
//! Order of checks: an RFC 6455 upgrade (400/426), the query (400, or 401 without
//! `Authorization`), the token (403: unknown, expired or another compute's), the compute
//! still registered (403). Only then is the connection attached, replacing any previous
//! connection of the compute's agent, and the `101` sent. Connecting makes an impaired
//! compute `ACTIVE` again.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use openlift_core::ids;

use super::connection;
use crate::app::App;
use crate::sdk::auth::{self, Refusal};
use crate::sdk::upgrade::{bad_request, refuse, registered_compute, switching_protocols, websocket_key};

/// The authenticated identity of an agent connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentQuery {
    pub(crate) fleet_id: String,
    pub(crate) compute_name: String,
    token: String,
}

/// Parses the query; values are percent-decoded (`+` is a space).
fn parse(query: Option<&str>) -> Result<AgentQuery, Refusal> {
    let mut values: HashMap<String, String> = HashMap::new();
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = value.replace('+', " ");
        let value = percent_encoding::percent_decode_str(&value).decode_utf8_lossy().into_owned();
        values.insert(name.to_ascii_lowercase(), value);
    }
    let mut take = |name: &str| values.remove(&name.to_ascii_lowercase()).filter(|v| !v.is_empty());
    let token = take("Authorization").ok_or_else(|| Refusal::unauthorized("Authorization is required."))?;
    let fleet_id = take("FleetId").ok_or_else(|| bad_request("FleetId is required."))?;
    let compute_name = take("ComputeName").ok_or_else(|| bad_request("ComputeName is required."))?;
    Ok(AgentQuery { fleet_id: ids::id_from_id_or_arn(&fleet_id).to_owned(), compute_name, token })
}

/// Answers an agent's upgrade request: `101` with the connection task spawned, or an HTTP refusal.
pub async fn upgrade(app: Arc<App>, mut request: Request) -> Response {
    let key = match websocket_key(request.headers()) {
        Ok(key) => key,
        Err(refusal) => return refuse(refusal),
    };
    let query = match parse(request.uri().query()) {
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
    let compute = match registered_compute(&app, &query.fleet_id, &query.compute_name).await {
        Ok(compute) => compute,
        Err(refusal) => return refuse(refusal),
    };
    let attached = app.agents.attach(&app.sdk.processes, &query.fleet_id, &query.compute_name, app.now());
    super::agent_connected(&app, compute).await;
    tracing::info!(fleet_id = %query.fleet_id, compute = %query.compute_name, generation = attached.generation,
        "agent connection accepted");
    let on_upgrade = hyper::upgrade::on(&mut request);
    let task = connection::run(app.clone(), on_upgrade, query, attached);
    app.sdk.tasks.tracker.spawn(task);
    switching_protocols(&key)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn the_query_names_fleet_compute_and_token() {
        let query = parse(Some("FleetId=fleet-1&ComputeName=box-1&Authorization=a%2Bb%3D")).unwrap();
        assert_eq!(
            query,
            AgentQuery { fleet_id: "fleet-1".into(), compute_name: "box-1".into(), token: "a+b=".into() }
        );
        let arn = parse(Some("fleetid=arn:aws:gamelift:us-east-1:1:fleet/fleet-2&computename=c&authorization=t"));
        assert_eq!(arn.unwrap().fleet_id, "fleet-2");
        assert_eq!(parse(Some("FleetId=f&ComputeName=c")).unwrap_err().status, StatusCode::UNAUTHORIZED);
        assert_eq!(parse(Some("FleetId=f&Authorization=t")).unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
