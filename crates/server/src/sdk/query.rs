//! The connection query of `server-sdk-protocol.md` section 1.2, parsed leniently.
//!
//! The Go SDK percent-encodes values, the C++ and C# SDKs do not (the C++ SDK pre-encodes
//! only its SigV4 values), and the order differs between them. So: names are matched
//! exactly, then case-insensitively; each name and value is percent-decoded once; `+` is a
//! literal plus (session tokens contain it; no value the SDKs send contains a space); the
//! first occurrence of a name wins; empty values count as absent.

use percent_encoding::percent_decode_str;

/// Longest process, fleet or compute ID accepted (the SDKs' own limit, section 1.5).
const MAX_ID_LEN: usize = 256;

/// The SigV4 query parameters (section 1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SigV4Query {
    pub(super) algorithm: Option<String>,
    pub(super) credential: Option<String>,
    pub(super) date: Option<String>,
    pub(super) signature: Option<String>,
    pub(super) security_token: Option<String>,
}

/// How the connection authenticates.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum QueryAuth {
    /// `Authorization=<compute auth token>`.
    Token(String),
    /// `Authorization=SigV4` with the `X-Amz-*` parameters.
    SigV4(SigV4Query),
}

impl std::fmt::Debug for QueryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryAuth::Token(_) => f.write_str("Token(<redacted>)"),
            QueryAuth::SigV4(q) => f.debug_tuple("SigV4").field(&q.credential).finish(),
        }
    }
}

/// The connection query of one upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConnectQuery {
    pub(super) process_id: String,
    pub(super) fleet_id: String,
    pub(super) compute_id: String,
    pub(super) sdk_version: String,
    pub(super) sdk_language: String,
    pub(super) auth: QueryAuth,
}

/// Why the query cannot be used; `missing_auth` refusals are 401, the others 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QueryError {
    pub(super) missing_auth: bool,
    pub(super) message: String,
}

fn decode(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// Parses the raw query string (without `?`).
pub(super) fn parse(raw: Option<&str>) -> Result<ConnectQuery, QueryError> {
    let pairs: Vec<(String, String)> = raw
        .unwrap_or_default()
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode(name), decode(value))
        })
        .collect();
    let get = |name: &str| -> Option<String> {
        let exact = pairs.iter().find(|(n, _)| n == name);
        let found = exact.or_else(|| pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)));
        found.map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty())
    };
    let id = |name: &str| -> Result<String, QueryError> {
        let value =
            get(name).ok_or_else(|| QueryError { missing_auth: false, message: format!("{name} is required.") })?;
        if value.len() > MAX_ID_LEN || value.chars().any(char::is_control) {
            return Err(QueryError { missing_auth: false, message: format!("{name} is not a valid ID.") });
        }
        Ok(value)
    };
    let process_id = id("pID")?;
    let fleet_id = id("FleetId")?;
    let compute_id = id("ComputeId")?;
    let authorization = get("Authorization").ok_or_else(|| QueryError {
        missing_auth: true,
        message: "Authorization is required: an auth token from GetComputeAuthToken, or SigV4.".into(),
    })?;
    let auth = if authorization == "SigV4" {
        QueryAuth::SigV4(SigV4Query {
            algorithm: get("X-Amz-Algorithm"),
            credential: get("X-Amz-Credential"),
            date: get("X-Amz-Date"),
            signature: get("X-Amz-Signature"),
            security_token: get("X-Amz-Security-Token"),
        })
    } else {
        QueryAuth::Token(authorization)
    };
    let short = |name: &str| get(name).map(|v| v.chars().take(64).collect()).unwrap_or_default();
    Ok(ConnectQuery {
        process_id,
        fleet_id,
        compute_id,
        sdk_version: short("sdkVersion"),
        sdk_language: short("sdkLanguage"),
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_go_sdk_query_is_sorted_and_encoded() {
        let q = parse(Some(
            "Authorization=tok%2Fabc&ComputeId=host-1&FleetId=fleet-1&IdempotencyToken=idem&pID=pid-1\
             &sdkLanguage=Go&sdkVersion=5.6.0",
        ))
        .unwrap();
        assert_eq!(q.auth, QueryAuth::Token("tok/abc".into()));
        assert_eq!((q.process_id.as_str(), q.fleet_id.as_str(), q.compute_id.as_str()), ("pid-1", "fleet-1", "host-1"));
        assert_eq!((q.sdk_language.as_str(), q.sdk_version.as_str()), ("Go", "5.6.0"));
    }

    #[test]
    fn the_csharp_sdk_query_is_unencoded_in_its_own_order() {
        let q = parse(Some(
            "ComputeId=host-1&FleetId=fleet-1&pID=8d1c-4&sdkLanguage=CSharp&sdkVersion=5.5.0\
             &IdempotencyToken=a-b&Authorization=5c4b7f3e-1b0e-4a57-9c0e-1f7a3c5d2e10",
        ))
        .unwrap();
        assert_eq!(q.auth, QueryAuth::Token("5c4b7f3e-1b0e-4a57-9c0e-1f7a3c5d2e10".into()));
        assert_eq!(q.process_id, "8d1c-4");
    }

    #[test]
    fn sigv4_parameters_are_read_and_plus_stays_a_plus() {
        let q = parse(Some(
            "Authorization=SigV4&ComputeId=h&FleetId=f&pID=p&X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AK%2F20240805%2Fus-east-1%2Fgamelift%2Faws4_request&X-Amz-Date=20240805T100000Z\
             &X-Amz-Signature=abc&X-Amz-Security-Token=tok+en/x=",
        ))
        .unwrap();
        let QueryAuth::SigV4(sig) = q.auth else { panic!("not sigv4") };
        assert_eq!(sig.credential.as_deref(), Some("AK/20240805/us-east-1/gamelift/aws4_request"));
        assert_eq!(sig.security_token.as_deref(), Some("tok+en/x="));
    }

    #[test]
    fn missing_ids_are_bad_requests_and_missing_auth_is_unauthorized() {
        let missing = parse(Some("FleetId=f&ComputeId=c&Authorization=t")).unwrap_err();
        assert!(!missing.missing_auth && missing.message.contains("pID"));
        let unauthenticated = parse(Some("pID=p&FleetId=f&ComputeId=c&Authorization=")).unwrap_err();
        assert!(unauthenticated.missing_auth);
        assert!(parse(None).is_err());
    }

    #[test]
    fn names_match_case_insensitively_and_the_first_occurrence_wins() {
        let q = parse(Some("PID=p&fleetid=f&computeid=c&authorization=t1&Authorization=t2&&junk")).unwrap();
        assert_eq!(q.process_id, "p");
        assert_eq!(q.auth, QueryAuth::Token("t2".into()));
        let q = parse(Some("pID=p&FleetId=f&ComputeId=c&Authorization=t1&Authorization=t2")).unwrap();
        assert_eq!(q.auth, QueryAuth::Token("t1".into()));
    }
}
