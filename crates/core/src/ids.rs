//! Identifier and ARN formats, as GameLift mints them (`control-plane-api.md` section 7.1).
//!
//! Fleet, compute and location ARNs carry the account ID, as live AWS output does;
//! alias ARNs leave it empty, as AWS's documentation and CLI output show.

use sha2::{Digest, Sha256};

/// Where ARNs point: the Region this control plane serves and its account ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnScope {
    /// The Region, e.g. `us-east-1`.
    pub region: String,
    /// The 12-digit account ID used in ARNs that carry one.
    pub account_id: String,
}

impl ArnScope {
    /// `arn:aws:gamelift:<region>:<account>:fleet/<fleet_id>`.
    pub fn fleet_arn(&self, fleet_id: &str) -> String {
        format!("arn:aws:gamelift:{}:{}:fleet/{fleet_id}", self.region, self.account_id)
    }

    /// `arn:aws:gamelift:<region>::alias/<alias_id>`.
    pub fn alias_arn(&self, alias_id: &str) -> String {
        format!("arn:aws:gamelift:{}::alias/{alias_id}", self.region)
    }

    /// `arn:aws:gamelift:<region>:<account>:compute/<compute_name>`.
    pub fn compute_arn(&self, compute_name: &str) -> String {
        format!("arn:aws:gamelift:{}:{}:compute/{compute_name}", self.region, self.account_id)
    }

    /// `arn:aws:gamelift:<region>:<account>:location/<location_name>`.
    pub fn location_arn(&self, location_name: &str) -> String {
        format!("arn:aws:gamelift:{}:{}:location/{location_name}", self.region, self.account_id)
    }
}

/// A new fleet ID, `fleet-<uuid4>`.
pub fn new_fleet_id() -> String {
    format!("fleet-{}", uuid::Uuid::new_v4())
}

/// A new alias ID, `alias-<uuid4>`.
pub fn new_alias_id() -> String {
    format!("alias-{}", uuid::Uuid::new_v4())
}

/// A new player session ID, `psess-<uuid7>`: time-ordered, like generated game session IDs
/// (see [`crate::game_session::id_string`]).
pub fn new_player_session_id() -> String {
    format!("psess-{}", uuid::Uuid::now_v7())
}

/// A new fleet event ID (a bare UUID, as AWS returns).
pub fn new_event_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A new compute auth token: a random UUID, URL-safe and within the model's
/// `^[a-zA-Z0-9\-]+$`, 64-character limit.
pub fn new_auth_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The digest under which an auth token is stored, so a leaked database does not
/// leak usable tokens.
pub fn auth_token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The resource ID in an ID-or-ARN input: everything after the resource type of an
/// ARN (`fleet/<id>`, `compute/<name>`, where a compute name may itself hold one `/`),
/// or the input itself.
pub fn id_from_id_or_arn(id_or_arn: &str) -> &str {
    if !id_or_arn.starts_with("arn:") {
        return id_or_arn;
    }
    let resource = id_or_arn.splitn(6, ':').nth(5).unwrap_or(id_or_arn);
    resource.split_once('/').map_or(resource, |(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> ArnScope {
        ArnScope { region: "us-west-2".into(), account_id: "111122223333".into() }
    }

    #[test]
    fn arns_follow_gamelift_formats() {
        let s = scope();
        assert_eq!(s.fleet_arn("fleet-1"), "arn:aws:gamelift:us-west-2:111122223333:fleet/fleet-1");
        assert_eq!(s.alias_arn("alias-1"), "arn:aws:gamelift:us-west-2::alias/alias-1");
        assert_eq!(s.compute_arn("host-1"), "arn:aws:gamelift:us-west-2:111122223333:compute/host-1");
        assert_eq!(s.location_arn("custom-a"), "arn:aws:gamelift:us-west-2:111122223333:location/custom-a");
    }

    #[test]
    fn minted_ids_have_the_documented_shape() {
        let fleet = new_fleet_id();
        assert!(fleet.starts_with("fleet-") && fleet.len() == 42, "{fleet}");
        let token = new_auth_token();
        assert!(token.len() <= 64 && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert_ne!(new_alias_id(), new_alias_id());
    }

    #[test]
    fn ids_are_taken_from_arns() {
        assert_eq!(id_from_id_or_arn("arn:aws:gamelift:us-west-2:1:fleet/fleet-9"), "fleet-9");
        assert_eq!(id_from_id_or_arn("fleet-9"), "fleet-9");
        assert_eq!(id_from_id_or_arn("arn:aws:gamelift:us-west-2:1:compute/rack-x/host-1"), "rack-x/host-1");
        assert_eq!(id_from_id_or_arn("arn:aws:gamelift:us-west-2::alias/alias-1"), "alias-1");
    }

    #[test]
    fn token_digest_is_stable_hex() {
        assert_eq!(auth_token_digest("abc").len(), 64);
        assert_eq!(auth_token_digest("abc"), auth_token_digest("abc"));
        assert_ne!(auth_token_digest("abc"), auth_token_digest("abd"));
    }
}
