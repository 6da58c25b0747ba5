//! Server-side SigV4 verification of header-signed requests (`control-plane-api.md` section 9).
//!
//! [`verify`] checks, in this order: an `Authorization` header is present
//! (`MissingAuthenticationTokenException`); it parses, the request has an `X-Amz-Date`
//! (or, failing that, a `Date`) header, and `host`, that date header and every
//! [`ROUTING_HEADERS`] header the request carries are signed (`IncompleteSignatureException`); the request time is within ±15 minutes of `now`,
//! and the scope names the expected region and service and the request's own day
//! (`InvalidSignatureException`); the access key is known (`UnrecognizedClientException`);
//! the session token matches the key's (`UnrecognizedClientException`) and has not
//! expired (`ExpiredTokenException`); finally the signature, compared in constant time
//! (`InvalidSignatureException`).
//!
//! Decisions where section 9 leaves room:
//! * A key stored with a session token requires exactly that `X-Amz-Security-Token`;
//!   a long-term key refuses requests that carry one (AWS would not know the token either).
//! * An `x-amz-content-sha256` header must equal the SHA-256 of the body actually
//!   received, so a signed request's body cannot be swapped (`UNSIGNED-PAYLOAD` is refused).
//! * The date header that is used must be signed; `host` may come from the URI
//!   authority when an HTTP/2 request has no `Host` header.
//! * The headers that choose the operation and how the body is read (`X-Amz-Target`,
//!   `smithy-protocol`, `Content-Type`) must be signed when present, so that a captured
//!   request cannot be replayed as another operation. botocore and `aws-sigv4` sign every
//!   header but a few hop-by-hop and tracing ones, so real clients always do.
//!
//! The building blocks ([`canonical_query_string`], [`signing_key`], [`string_to_sign`],
//! [`signature`], [`signature_matches`], [`parse_amz_date`], [`check_skew`]) are public
//! so the SDK WebSocket endpoint can check the GameLift server SDKs' query-string
//! signature (`server-sdk-protocol.md` section 1.4) with the same code.

mod canonical;
mod header;
mod signing;
mod time;

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use http::header::{AUTHORIZATION, DATE};
use http::request::Parts;
use openlift_model::{ApiError, ErrorCode};
use subtle::ConstantTimeEq;

pub use canonical::{canonical_header_value, canonical_query_string, canonical_request, canonical_uri, hex_sha256};
pub use header::{Authorization, parse_authorization};
pub use signing::{ALGORITHM, CredentialScope, TERMINATOR, signature, signature_matches, signing_key, string_to_sign};
pub use time::{MAX_SKEW, check_skew, format_amz_date, parse_amz_date};

/// A secret (access key secret or session token) whose `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretKey(secret.into())
    }

    /// The secret text; only for key derivation and storage.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Compares with `other` in constant time (for the lengths' common prefix).
    pub fn matches(&self, other: &str) -> bool {
        self.0.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What the server knows about one access key ID.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The secret access key.
    pub secret: SecretKey,
    /// The session token that temporary credentials must present, if any.
    pub session_token: Option<SecretKey>,
    /// When temporary credentials stop being accepted.
    pub expires_at: Option<SystemTime>,
}

impl Credential {
    /// Long-term credentials: a secret and no session token.
    pub fn long_term(secret: SecretKey) -> Self {
        Credential { secret, session_token: None, expires_at: None }
    }

    /// Temporary credentials that must present `token` and stop working at `expires_at`.
    pub fn temporary(secret: SecretKey, token: SecretKey, expires_at: Option<SystemTime>) -> Self {
        Credential { secret, session_token: Some(token), expires_at }
    }
}

/// Looks up the credential of an access key ID.
pub trait CredentialStore {
    /// The credential of `access_key_id`, or `None` if the key is unknown.
    fn credential(&self, access_key_id: &str) -> Option<Credential>;
}

impl<F: Fn(&str) -> Option<Credential>> CredentialStore for F {
    fn credential(&self, access_key_id: &str) -> Option<Credential> {
        self(access_key_id)
    }
}

impl CredentialStore for HashMap<String, Credential> {
    fn credential(&self, access_key_id: &str) -> Option<Credential> {
        self.get(access_key_id).cloned()
    }
}

/// Headers that must be signed when a request carries them: they name the operation
/// (`x-amz-target` for awsJson 1.1, `smithy-protocol` with the signed path for RPC v2 CBOR)
/// or how its body is decoded.
pub const ROUTING_HEADERS: [&str; 3] = ["x-amz-target", "smithy-protocol", "content-type"];

/// The message AWS JSON services answer a signature mismatch with.
pub const MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. \
     Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Verifies a header-signed request and returns its access key ID (checks in the module docs).
pub fn verify(
    parts: &Parts,
    body: &[u8],
    store: &dyn CredentialStore,
    region: &str,
    service: &str,
    now: SystemTime,
) -> Result<String, ApiError> {
    let headers = &parts.headers;
    let incomplete = |message: String| ApiError::new(ErrorCode::IncompleteSignatureException, message);
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidSignatureException, message);
    let unrecognized = || {
        ApiError::new(ErrorCode::UnrecognizedClientException, "The security token included in the request is invalid.")
    };

    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        if headers.contains_key(AUTHORIZATION) {
            return Err(incomplete("Only one Authorization header is allowed.".to_owned()));
        }
        return Err(ApiError::new(ErrorCode::MissingAuthenticationTokenException, "Missing Authentication Token"));
    };
    let value = value.to_str().map_err(|_| incomplete("The Authorization header is not valid text.".to_owned()))?;
    let auth = parse_authorization(value)?;

    let (date_header, amz_date, request_time) = request_time(parts, value)?;
    if !auth.signs("host") {
        return Err(incomplete(format!(
            "'Host' must be a 'SignedHeader' in the AWS Authorization. Authorization={value}"
        )));
    }
    if !auth.signs(date_header) {
        return Err(incomplete(format!("'{date_header}' must be a 'SignedHeader' in the AWS Authorization.")));
    }
    if let Some(unsigned) = ROUTING_HEADERS.into_iter().find(|&name| headers.contains_key(name) && !auth.signs(name)) {
        return Err(incomplete(format!("'{unsigned}' must be a 'SignedHeader' in the AWS Authorization.")));
    }

    check_skew(request_time, now)?;
    if auth.scope.region != region {
        return Err(invalid(format!("Credential should be scoped to a valid region, not '{}'.", auth.scope.region)));
    }
    if auth.scope.service != service {
        return Err(invalid(format!("Credential should be scoped to correct service: '{service}'.")));
    }
    if amz_date.get(..8) != Some(auth.scope.date.as_str()) {
        return Err(invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.scope.date,
            &amz_date[..8]
        )));
    }

    let credential = store.credential(&auth.access_key_id).ok_or_else(unrecognized)?;
    let token = headers.get("x-amz-security-token").map(|t| t.to_str().unwrap_or_default());
    match (&credential.session_token, token) {
        (None, None) => {}
        (Some(expected), Some(token)) if expected.matches(token) => {}
        _ => return Err(unrecognized()),
    }
    if credential.expires_at.is_some_and(|at| now >= at) {
        return Err(ApiError::new(
            ErrorCode::ExpiredTokenException,
            "The security token included in the request is expired",
        ));
    }

    let payload_hash = hex_sha256(body);
    let declared = headers.get("x-amz-content-sha256");
    if declared.is_some_and(|d| !d.as_bytes().eq_ignore_ascii_case(payload_hash.as_bytes())) {
        return Err(invalid("The x-amz-content-sha256 header does not match the request body.".to_owned()));
    }
    let canonical = canonical_request(&parts.method, &parts.uri, headers, &auth.signed_headers, &payload_hash)?;
    let to_sign = string_to_sign(&amz_date, &auth.scope, &canonical);
    let expected = signature(&signing_key(&credential.secret, &auth.scope), &to_sign);
    if !signature_matches(&expected, &auth.signature) {
        return Err(invalid(MISMATCH_MESSAGE.to_owned()));
    }
    Ok(auth.access_key_id)
}

/// The signed date header's name, its value in SigV4 form and the time it names.
fn request_time(parts: &Parts, authorization: &str) -> Result<(&'static str, String, SystemTime), ApiError> {
    let incomplete = |message: String| ApiError::new(ErrorCode::IncompleteSignatureException, message);
    if let Some(value) = parts.headers.get("x-amz-date") {
        let text = value.to_str().unwrap_or_default();
        let time = parse_amz_date(text).ok_or_else(|| {
            incomplete(format!("Date must be in ISO-8601 'basic format'. Got '{text}'. Expected YYYYMMDD'T'HHMMSS'Z'."))
        })?;
        return Ok(("x-amz-date", text.to_owned(), time));
    }
    if let Some(value) = parts.headers.get(DATE) {
        let text = value.to_str().unwrap_or_default();
        let time = httpdate::parse_http_date(text)
            .map_err(|_| incomplete(format!("Date header must be an RFC 7231 date. Got '{text}'.")))?;
        return Ok(("date", format_amz_date(time), time));
    }
    Err(incomplete(format!(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={authorization}"
    )))
}
