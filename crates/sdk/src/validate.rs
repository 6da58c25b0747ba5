//! Client-side validation with the patterns the official SDKs apply (protocol spec §1.5).

use crate::error::Error;
use crate::params::{Credentials, ServerParameters};

fn invalid(name: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidParameter { name, reason: reason.into() }
}

/// Checks a value's length bounds and that every character is allowed.
fn chars(name: &'static str, value: &str, min: usize, max: usize, allowed: impl Fn(char) -> bool) -> Result<(), Error> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(invalid(name, format!("length {len} outside {min}..={max}")));
    }
    match value.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(invalid(name, format!("character {c:?} not allowed"))),
        None => Ok(()),
    }
}

fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// `^[a-zA-Z0-9.-]+$`, at most 256 characters.
pub(crate) fn fleet_id(value: &str) -> Result<(), Error> {
    chars("FleetId", value, 1, 256, |c| id_char(c) || c == '.')
}

/// `^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`, at most 256 characters.
pub(crate) fn host_id(value: &str) -> Result<(), Error> {
    chars("HostId", value, 1, 256, |c| id_char(c) || c == '/')?;
    let mut parts = value.split('/');
    let well_formed = parts.next().is_some_and(|p| !p.is_empty())
        && parts.next().is_none_or(|p| !p.is_empty())
        && parts.next().is_none();
    if well_formed { Ok(()) } else { Err(invalid("HostId", "at most one '/' between two non-empty parts")) }
}

/// `^[a-zA-Z0-9.-]+$`, at most 256 characters.
pub(crate) fn player_session_id(value: &str) -> Result<(), Error> {
    chars("PlayerSessionId", value, 1, 256, |c| id_char(c) || c == '.')
}

/// `^[a-zA-Z0-9:/-]+$`, at most 256 characters.
pub(crate) fn game_session_id(name: &'static str, value: &str) -> Result<(), Error> {
    chars(name, value, 1, 256, |c| id_char(c) || c == ':' || c == '/')
}

/// `^[a-zA-Z0-9-\.]*$`, at most 128 characters.
pub(crate) fn ticket_id(value: &str) -> Result<(), Error> {
    chars("TicketId", value, 0, 128, |c| id_char(c) || c == '.')
}

/// `^[\w+=,.@-]*$`, 2 to 64 characters.
pub(crate) fn role_session_name(value: &str) -> Result<(), Error> {
    chars("RoleSessionName", value, 2, 64, |c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// 1 to 60000, as in the Go and C# SDKs.
pub(crate) fn port(value: u16) -> Result<(), Error> {
    if (1..=60000).contains(&value) { Ok(()) } else { Err(invalid("Port", format!("{value} outside 1..=60000"))) }
}

/// `^arn:(aws|aws-cn):gamelift:([a-z]{2}-[a-z]+-\d{1}):(\d{12})?:([a-z]+)\/(.+)$`, at most 256.
pub(crate) fn gamelift_arn(name: &'static str, value: &str) -> Result<(), Error> {
    let lower = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase());
    let region_ok = |region: &str| {
        let parts: Vec<&str> = region.split('-').collect();
        matches!(parts.as_slice(), [area, zone, n]
            if area.len() == 2 && lower(area) && lower(zone)
                && n.len() == 1 && n.chars().all(|c| c.is_ascii_digit()))
    };
    let account_ok =
        |account: &str| account.is_empty() || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    let resource_ok =
        |resource: &str| resource.split_once('/').is_some_and(|(kind, rest)| lower(kind) && !rest.is_empty());
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let ok = value.len() <= 256
        && matches!(parts.as_slice(), ["arn", "aws" | "aws-cn", "gamelift", region, account, resource]
            if region_ok(region) && account_ok(account) && resource_ok(resource));
    if ok { Ok(()) } else { Err(invalid(name, "not a GameLift ARN")) }
}

/// Validates the parameters `init` connects with.
pub(crate) fn server_parameters(params: &ServerParameters) -> Result<(), Error> {
    let url = &params.web_socket_url;
    if url.is_empty() {
        return Err(Error::MissingParameter("WebSocketUrl"));
    }
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        return Err(invalid("WebSocketUrl", "must start with ws:// or wss://"));
    }
    if params.process_id.is_empty() {
        return Err(Error::MissingParameter("ProcessId"));
    }
    fleet_id(&params.fleet_id)?;
    host_id(&params.host_id)?;
    match &params.credentials {
        Credentials::AuthToken(token) if token.is_empty() => Err(Error::MissingParameter("AuthToken")),
        Credentials::AuthToken(_) => Ok(()),
        Credentials::SigV4(sigv4) if sigv4.region.is_empty() => Err(Error::MissingParameter("AwsRegion")),
        Credentials::SigV4(sigv4) if sigv4.access_key.is_empty() => Err(Error::MissingParameter("AccessKey")),
        Credentials::SigV4(sigv4) if sigv4.secret_key.is_empty() => Err(Error::MissingParameter("SecretKey")),
        Credentials::SigV4(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_official_patterns() {
        assert!(fleet_id("fleet-1.a").is_ok());
        assert!(fleet_id("fleet_1").is_err());
        assert!(host_id("host-1").is_ok());
        assert!(host_id("cluster/task-1").is_ok());
        assert!(host_id("host.1").is_err());
        assert!(host_id("a/b/c").is_err());
        assert!(host_id("a/").is_err());
        assert!(player_session_id("psess-123").is_ok());
        assert!(player_session_id("").is_err());
        assert!(game_session_id("GameSessionId", "arn:aws:gamelift:us-east-1::gamesession/f/g").is_ok());
        assert!(ticket_id("").is_ok());
        assert!(ticket_id("bad ticket").is_err());
        assert!(role_session_name("fleet-1-host-1").is_ok());
        assert!(role_session_name("x").is_err());
        assert!(port(7777).is_ok());
        assert!(port(0).is_err());
        assert!(port(60001).is_err());
    }

    #[test]
    fn arns_need_a_region_like_segment() {
        let good = [
            "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-9",
            "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/cfg",
            "arn:aws-cn:gamelift:cn-north-1::gamesession/a:b",
        ];
        for arn in good {
            assert!(gamelift_arn("Arn", arn).is_ok(), "{arn}");
        }
        let bad = [
            "arn:aws:gamelift:local::gamesession/fleet-1/gsess-9",
            "arn:aws:gamelift:us-east-1:123:gamesession/x",
            "arn:aws:s3:us-east-1::bucket/x",
            "arn:aws:gamelift:us-east-1::gamesession/",
            "gsess-9",
        ];
        for arn in bad {
            assert!(gamelift_arn("Arn", arn).is_err(), "{arn}");
        }
    }
}
