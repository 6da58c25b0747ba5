//! The query of an agent's upgrade request: `FleetId`, `ComputeName` and `Authorization`
//! (`server-sdk-protocol.md` section 9).

use std::collections::HashMap;

use openlift_core::ids;

use crate::websocket::{Refusal, bad_request};

/// The authenticated identity of an agent connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentQuery {
    pub(crate) fleet_id: String,
    pub(crate) compute_name: String,
    pub(super) token: String,
}

/// Parses the query; values are percent-decoded (`+` is a space).
pub(super) fn parse(query: Option<&str>) -> Result<AgentQuery, Refusal> {
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
