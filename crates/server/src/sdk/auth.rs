//! Authenticating an SDK connection before the upgrade (`server-sdk-protocol.md` sections
//! 1.2–1.4 and 5).
//!
//! * An auth token must be one GetComputeAuthToken issued (looked up by its digest), not
//!   expired, and bound to the query's `FleetId` and `ComputeId`. A live process that
//!   already connected with a token may reconnect with it after it expired: the SDKs
//!   reuse their token on every reconnect (section 5), and tokens last only 15 minutes.
//! * SigV4 (`Authorization=SigV4`): the SDKs sign only `ComputeId=…&FleetId=…&pID=…`
//!   (section 1.4); the key must be one of the configured credentials, the scope must name
//!   this Region and `gamelift`, and the date must be within 15 minutes of now.
//!
//! Refusals are HTTP answers: 401 when no credential was given, 403 otherwise. The token
//! itself never reaches a log.

use axum::http::StatusCode;
use openlift_core::ids;
use openlift_protocol::sigv4::{
    ALGORITHM, CredentialScope, CredentialStore, TERMINATOR, check_skew, parse_amz_date, signature, signature_matches,
    signing_key, string_to_sign,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::query::{ConnectQuery, QueryAuth, SigV4Query};
use crate::app::App;

/// The SigV4 signing name of GameLift.
const SERVICE: &str = "gamelift";
/// RFC 3986 unreserved characters, left alone by SigV4 query encoding.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// How a connection proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Proof {
    /// A compute auth token, by digest.
    Token(String),
    /// A valid SigV4 query signature.
    SigV4,
}

/// An HTTP refusal of the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Refusal { status: StatusCode::FORBIDDEN, message: message.into() }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Refusal { status: StatusCode::UNAUTHORIZED, message: message.into() }
    }
}

/// Checks the query's credential.
pub(super) async fn authenticate(app: &App, query: &ConnectQuery) -> Result<Proof, Refusal> {
    match &query.auth {
        QueryAuth::Token(token) => check_token(app, query, token).await,
        QueryAuth::SigV4(sigv4) => check_sigv4(app, query, sigv4).map(|()| Proof::SigV4),
    }
}

/// What is wrong with a compute auth token for `fleet_id` and `compute_name`, if anything:
/// it must be one GetComputeAuthToken issued for that compute and not expired.
pub(crate) async fn token_problem(
    app: &App,
    fleet_id: &str,
    compute_name: &str,
    digest: &str,
) -> Result<Option<&'static str>, Refusal> {
    let stored = app.store.get_auth_token(digest).await.map_err(|error| {
        tracing::error!(%error, "reading an auth token failed");
        Refusal { status: StatusCode::INTERNAL_SERVER_ERROR, message: "Internal error; retry.".into() }
    })?;
    let now = app.now();
    Ok(match &stored {
        None => Some("unknown"),
        Some(t) if t.fleet_id != fleet_id || t.compute_name != compute_name => Some("bound elsewhere"),
        Some(t) if t.expires_at <= now => Some("expired"),
        Some(_) => None,
    })
}

async fn check_token(app: &App, query: &ConnectQuery, token: &str) -> Result<Proof, Refusal> {
    let digest = ids::auth_token_digest(token);
    let Some(problem) = token_problem(app, &query.fleet_id, &query.compute_id, &digest).await? else {
        return Ok(Proof::Token(digest));
    };
    if app.sdk.processes.knows_token(&query.process_id, &query.fleet_id, &query.compute_id, &digest) {
        return Ok(Proof::Token(digest));
    }
    tracing::info!(process_id = %query.process_id, fleet_id = %query.fleet_id, compute = %query.compute_id,
        problem, "auth token refused");
    Err(Refusal::forbidden(format!(
        "The auth token is not valid for compute {} of fleet {}: it is unknown, expired or issued for another compute.",
        query.compute_id, query.fleet_id
    )))
}

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
    check_skew(time, app.now().as_system_time()).map_err(|e| Refusal::forbidden(e.message))?;
    let key = app.credentials.credential(access_key_id).ok_or_else(|| {
        tracing::info!(access_key_id, "sigv4 connection with an unknown access key");
        Refusal::forbidden("The access key is not known.")
    })?;
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
        tracing::info!(access_key_id, process_id = %query.process_id, "sigv4 signature mismatch");
        return Err(Refusal::forbidden("The SigV4 signature does not match."));
    }
    Ok(())
}
