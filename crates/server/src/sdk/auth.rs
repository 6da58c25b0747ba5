//! Authenticating an SDK connection before the upgrade (`server-sdk-protocol.md` sections
//! 1.2–1.4 and 5).
//!
//! * An auth token must be one GetComputeAuthToken or `RefreshConnection` issued (looked up
//!   by its digest), not expired, and bound to the query's `FleetId` and `ComputeId`. A live
//!   process that already connected with a token may reconnect with it after it expired:
//!   the SDKs reuse their token on every reconnect (section 5).
//! * SigV4 (`Authorization=SigV4`): the SDKs sign only `ComputeId=…&FleetId=…&pID=…`
//!   (section 1.4); the key must be one of the configured credentials, the scope must name
//!   this Region and `gamelift`, and the date must be within 15 minutes of now, or older
//!   for a process known and live on that fleet and compute: the official SDKs sign their
//!   URL once at start and reuse it on every reconnect. The signature is checked either way.
//!
//! Either proof says when it expires, so that the sweep sends the process
//! `RefreshConnection` in time ([`crate::hosting::registry::REFRESH_MARGIN`]). Refusals are HTTP
//! answers: 401 when no credential was given, 403 otherwise; the upgrade logs each with its
//! reason. The token itself never reaches a log.

use axum::http::StatusCode;
use openlift_core::ids;
use openlift_model::Timestamp;
use openlift_protocol::sigv4::{
    ALGORITHM, CredentialScope, CredentialStore, TERMINATOR, check_skew, parse_amz_date, signature, signature_matches,
    signing_key, string_to_sign,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::query::{ConnectQuery, QueryAuth, SigV4Query};
use crate::app::App;
use crate::websocket::Refusal;

/// The SigV4 signing name of GameLift.
const SERVICE: &str = "gamelift";
/// RFC 3986 unreserved characters, left alone by SigV4 query encoding.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// How a connection proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Proof {
    /// The digest of the compute auth token it presented; `None` for SigV4.
    pub(super) token_digest: Option<String>,
    /// When the credential stops being accepted by itself: the token's expiry, or now for
    /// an expired token a live process reused and for SigV4 (the official SDKs sign their URL
    /// once, and a signature is good only within the skew, so such a process gets a token at
    /// once).
    pub(super) expires_at: Timestamp,
}

/// Checks the query's credential.
pub(super) async fn authenticate(app: &App, query: &ConnectQuery) -> Result<Proof, Refusal> {
    match &query.auth {
        QueryAuth::Token(token) => check_token(app, query, token).await,
        QueryAuth::SigV4(sigv4) => {
            check_sigv4(app, query, sigv4)?;
            Ok(Proof { token_digest: None, expires_at: app.now() })
        }
    }
}

/// When a compute auth token for `fleet_id` and `compute_name` expires, or what is wrong
/// with it: it must be one issued for that compute and not expired.
pub(crate) async fn token_expiry(
    app: &App,
    fleet_id: &str,
    compute_name: &str,
    digest: &str,
) -> Result<Result<Timestamp, &'static str>, Refusal> {
    let stored = app.store.get_auth_token(digest).await.map_err(|error| {
        tracing::error!(%error, "reading an auth token failed");
        Refusal { status: StatusCode::INTERNAL_SERVER_ERROR, message: "Internal error; retry.".into() }
    })?;
    let now = app.now();
    Ok(match &stored {
        None => Err("unknown"),
        Some(t) if t.fleet_id != fleet_id || t.compute_name != compute_name => Err("issued for another compute"),
        Some(t) if t.expires_at <= now => Err("expired"),
        Some(t) => Ok(t.expires_at),
    })
}

async fn check_token(app: &App, query: &ConnectQuery, token: &str) -> Result<Proof, Refusal> {
    let digest = ids::auth_token_digest(token);
    let problem = match token_expiry(app, &query.fleet_id, &query.compute_id, &digest).await? {
        Ok(expires_at) => return Ok(Proof { token_digest: Some(digest), expires_at }),
        Err(problem) => problem,
    };
    if app.sdk.processes.knows_token(&query.process_id, &query.fleet_id, &query.compute_id, &digest) {
        return Ok(Proof { token_digest: Some(digest), expires_at: app.now() });
    }
    Err(Refusal::forbidden(format!(
        "The auth token is not valid for compute {} of fleet {}: it is {problem}.",
        query.compute_id, query.fleet_id
    )))
}

/// Checks a SigV4 query signature.
fn check_sigv4(app: &App, query: &ConnectQuery, q: &SigV4Query) -> Result<(), Refusal> {
    let (Some(algorithm), Some(credential), Some(date), Some(provided)) =
        (&q.algorithm, &q.credential, &q.date, &q.signature)
    else {
        return Err(Refusal::unauthorized(
            "SigV4 needs X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date and X-Amz-Signature.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(Refusal::forbidden(format!("X-Amz-Algorithm must be {ALGORITHM}.")));
    }
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, day, region, service, terminator] = parts[..] else {
        return Err(Refusal::forbidden("X-Amz-Credential must be <key>/<date>/<region>/gamelift/aws4_request."));
    };
    if terminator != TERMINATOR || service != SERVICE || region != app.scope.region {
        return Err(Refusal::forbidden(format!(
            "X-Amz-Credential must be scoped to {}/{SERVICE}/{TERMINATOR}.",
            app.scope.region
        )));
    }
    let time = parse_amz_date(date).ok_or_else(|| Refusal::forbidden("X-Amz-Date must be yyyyMMddTHHmmssZ."))?;
    if date.get(..8) != Some(day) {
        return Err(Refusal::forbidden("The X-Amz-Credential date does not match X-Amz-Date."));
    }
    let now = app.now().as_system_time();
    if let Err(skewed) = check_skew(time, now) {
        let reconnecting =
            time < now && app.sdk.processes.is_live_on(&query.process_id, &query.fleet_id, &query.compute_id);
        if !reconnecting {
            return Err(Refusal::forbidden(skewed.message));
        }
    }
    let key = app
        .credentials
        .credential(access_key_id)
        .ok_or_else(|| Refusal::forbidden(format!("The access key {access_key_id} is not known.")))?;
    match (&key.session_token, &q.security_token) {
        (None, None) => {}
        (Some(expected), Some(token)) if expected.matches(token) => {}
        _ => return Err(Refusal::forbidden("The security token is not valid.")),
    }
    if key.expires_at.is_some_and(|at| app.now().as_system_time() >= at) {
        return Err(Refusal::forbidden("The security token has expired."));
    }
    let scope = CredentialScope { date: day.to_owned(), region: region.to_owned(), service: SERVICE.to_owned() };
    let encode = |value: &str| utf8_percent_encode(value, UNRESERVED).to_string();
    let canonical = format!(
        "ComputeId={}&FleetId={}&pID={}",
        encode(&query.compute_id),
        encode(&query.fleet_id),
        encode(&query.process_id)
    );
    let expected = signature(&signing_key(&key.secret, &scope), &string_to_sign(date, &scope, canonical.as_bytes()));
    if !signature_matches(&expected, provided) {
        return Err(Refusal::forbidden("The SigV4 signature does not match."));
    }
    Ok(())
}
