//! Reading GameLift resource ARNs given as input (TagResource and friends).

use openlift_model::ApiError;

/// The kinds of resource that can carry tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaggableKind {
    /// `fleet/fleet-…`.
    Fleet,
    /// `alias/alias-…`.
    Alias,
    /// `location/custom-…`.
    Location,
    /// Builds, scripts, queues and matchmaking resources: taggable in GameLift,
    /// not (yet) kept by openlift, so never found.
    Unsupported,
}

/// A parsed resource ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceArn {
    /// The Region field.
    pub region: String,
    /// What kind of resource it names.
    pub kind: TaggableKind,
    /// The resource ID (or name, for locations).
    pub id: String,
}

/// Parses `arn:<partition>:gamelift:<region>:<account>:<type>/<id>`.
pub fn parse(arn: &str) -> Result<ResourceArn, ApiError> {
    let invalid = || ApiError::invalid_request(format!("ResourceARN {arn} is not a valid GameLift resource ARN."));
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("gamelift"), Some(region), Some(_account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let (kind, id) = resource.split_once('/').ok_or_else(invalid)?;
    if id.is_empty() || region.is_empty() {
        return Err(invalid());
    }
    let kind = match kind {
        "fleet" => TaggableKind::Fleet,
        "alias" => TaggableKind::Alias,
        "location" => TaggableKind::Location,
        "build"
        | "script"
        | "gamesessionqueue"
        | "matchmakingconfiguration"
        | "matchmakingruleset"
        | "containerfleet"
        | "containergroupdefinition"
        | "gameservergroup" => TaggableKind::Unsupported,
        _ => return Err(invalid()),
    };
    Ok(ResourceArn { region: region.to_owned(), kind, id: id.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_alias_and_location_arns_parse() {
        let a = parse("arn:aws:gamelift:us-east-1:000000000000:fleet/fleet-1").unwrap();
        assert_eq!((a.kind, a.id.as_str(), a.region.as_str()), (TaggableKind::Fleet, "fleet-1", "us-east-1"));
        assert_eq!(parse("arn:aws:gamelift:us-east-1::alias/alias-1").unwrap().kind, TaggableKind::Alias);
        assert_eq!(parse("arn:aws:gamelift:us-east-1:1:location/custom-x").unwrap().kind, TaggableKind::Location);
        assert_eq!(parse("arn:aws:gamelift:us-east-1::build/build-1").unwrap().kind, TaggableKind::Unsupported);
    }

    #[test]
    fn malformed_arns_are_invalid_requests() {
        for bad in [
            "fleet-1",
            "arn:aws:s3:::bucket/key",
            "arn:aws:gamelift:us-east-1:1:fleet",
            "arn:aws:gamelift:us-east-1:1:widget/w-1",
            "arn:aws:gamelift:us-east-1:1:fleet/",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
