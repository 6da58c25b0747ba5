//! The verifier against the official `aws-sigv4` signer, and every refusal of section 9.3.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::request::Parts;
use http::{HeaderValue, Request};
use openlift_model::ErrorCode;
use openlift_protocol::sigv4::{Credential, SecretKey, verify};
use proptest::prelude::*;

const AKID: &str = "AKIDOPENLIFT";
const SECRET: &str = "s3cr3t/KEY+value";
const REGION: &str = "us-west-2";

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_037_276)
}

struct Signing<'a> {
    region: &'a str,
    service: &'a str,
    time: SystemTime,
    token: Option<&'a str>,
    /// Headers left out of the signature, besides `aws-sigv4`'s own exclusions.
    unsigned: &'a [&'static str],
}

fn default_signing() -> Signing<'static> {
    Signing { region: REGION, service: "gamelift", time: now(), token: None, unsigned: &[] }
}

/// Signs a botocore-like request with `aws-sigv4` and returns it as the server sees it.
fn signed(path_and_query: &str, extra: &[(&str, &str)], body: &[u8], s: &Signing) -> Parts {
    let mut request = Request::builder()
        .method("POST")
        .uri(path_and_query)
        .header("host", "127.0.0.1:38055")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "GameLift.CreateGameSession");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let mut request = request.body(()).unwrap();
    let identity = Credentials::new(AKID, SECRET, s.token.map(str::to_owned), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(s.region)
        .name(s.service)
        .time(s.time)
        .settings(settings(s.unsigned))
        .build()
        .unwrap()
        .into();
    let headers = request.headers().iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap()));
    let signable = SignableRequest::new("POST", request.uri().to_string(), headers, SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request.into_parts().0
}

fn settings(unsigned: &[&'static str]) -> SigningSettings {
    let mut settings = SigningSettings::default();
    let excluded = settings.excluded_headers.get_or_insert_with(Vec::new);
    excluded.extend(unsigned.iter().map(|&name| Cow::Borrowed(name)));
    settings
}

fn store() -> HashMap<String, Credential> {
    let mut keys = HashMap::new();
    keys.insert(AKID.to_owned(), Credential::long_term(SecretKey::new(SECRET)));
    keys
}

fn check(parts: &Parts, body: &[u8], keys: &HashMap<String, Credential>) -> Result<String, (ErrorCode, String)> {
    verify(parts, body, keys, REGION, "gamelift", now()).map_err(|e| (e.code, e.message))
}

fn code(parts: &Parts, body: &[u8]) -> Option<ErrorCode> {
    check(parts, body, &store()).err().map(|(code, _)| code)
}

const BODY: &[u8] = br#"{"FleetId": "fleet-123", "MaximumPlayerSessionCount": 4}"#;

#[test]
fn a_request_signed_by_aws_sigv4_verifies() {
    let parts = signed("/", &[], BODY, &default_signing());
    assert_eq!(check(&parts, BODY, &store()), Ok(AKID.to_owned()));
}

#[test]
fn tampering_with_body_header_path_or_signature_is_an_invalid_signature() {
    let parts = signed("/", &[("x-custom", "a  b")], BODY, &default_signing());
    let mut body = BODY.to_vec();
    body[3] ^= 1;
    assert_eq!(code(&parts, &body), Some(ErrorCode::InvalidSignatureException));

    let mut changed = parts.clone();
    changed.headers.insert("x-amz-target", HeaderValue::from_static("GameLift.DeleteFleet"));
    assert_eq!(code(&changed, BODY), Some(ErrorCode::InvalidSignatureException));

    let mut moved = parts.clone();
    moved.uri = "/other".parse().unwrap();
    assert_eq!(code(&moved, BODY), Some(ErrorCode::InvalidSignatureException));

    let mut forged = parts.clone();
    let auth = forged.headers["authorization"].to_str().unwrap().to_owned();
    let flipped = if auth.ends_with('0') {
        format!("{}1", &auth[..auth.len() - 1])
    } else {
        format!("{}0", &auth[..auth.len() - 1])
    };
    forged.headers.insert("authorization", flipped.parse().unwrap());
    let (code, message) = check(&forged, BODY, &store()).unwrap_err();
    assert_eq!(code, ErrorCode::InvalidSignatureException);
    assert!(message.starts_with("The request signature we calculated does not match"));
}

#[test]
fn a_request_whose_target_or_content_type_is_unsigned_is_an_incomplete_signature() {
    let untargeted = signed("/", &[], BODY, &Signing { unsigned: &["x-amz-target"], ..default_signing() });
    assert!(!untargeted.headers["authorization"].to_str().unwrap().contains("x-amz-target"));
    let mut retargeted = untargeted.clone();
    retargeted.headers.insert("x-amz-target", HeaderValue::from_static("GameLift.DeleteFleet"));
    for parts in [&untargeted, &retargeted] {
        let (code, message) = check(parts, BODY, &store()).unwrap_err();
        assert_eq!(code, ErrorCode::IncompleteSignatureException);
        assert!(message.contains("'x-amz-target' must be a 'SignedHeader'"), "{message}");
    }

    let untyped = signed("/", &[], BODY, &Signing { unsigned: &["content-type"], ..default_signing() });
    let (code, message) = check(&untyped, BODY, &store()).unwrap_err();
    assert_eq!(code, ErrorCode::IncompleteSignatureException);
    assert!(message.contains("'content-type'"), "{message}");

    let cbor = signed(
        "/service/GameLift/operation/DescribeFleetCapacity",
        &[("smithy-protocol", "rpc-v2-cbor")],
        BODY,
        &Signing { unsigned: &["smithy-protocol"], ..default_signing() },
    );
    let (code, _) = check(&cbor, BODY, &store()).unwrap_err();
    assert_eq!(code, ErrorCode::IncompleteSignatureException);
    let signed_cbor = signed(
        "/service/GameLift/operation/DescribeFleetCapacity",
        &[("smithy-protocol", "rpc-v2-cbor")],
        BODY,
        &default_signing(),
    );
    assert_eq!(check(&signed_cbor, BODY, &store()), Ok(AKID.to_owned()));
}

#[test]
fn clock_skew_of_fourteen_minutes_passes_and_sixteen_fails_both_ways() {
    for (offset, ok) in [(-14, true), (14, true), (-16, false), (16, false)] {
        let time = if offset < 0 {
            now() - Duration::from_secs(60 * 16.min(-offset) as u64)
        } else {
            now() + Duration::from_secs(60 * offset as u64)
        };
        let parts = signed("/", &[], BODY, &Signing { time, ..default_signing() });
        let result = check(&parts, BODY, &store());
        assert_eq!(result.is_ok(), ok, "offset {offset}: {result:?}");
        if let Err((code, message)) = result {
            assert_eq!(code, ErrorCode::InvalidSignatureException);
            let prefix = if offset < 0 { "Signature expired: " } else { "Signature not yet current: " };
            assert!(message.starts_with(prefix), "{message}");
        }
    }
}

#[test]
fn wrong_region_or_service_in_the_scope_is_an_invalid_signature() {
    let region = signed("/", &[], BODY, &Signing { region: "eu-west-1", ..default_signing() });
    let (code, message) = check(&region, BODY, &store()).unwrap_err();
    assert_eq!(
        (code, message.as_str()),
        (ErrorCode::InvalidSignatureException, "Credential should be scoped to a valid region, not 'eu-west-1'.")
    );
    let service = signed("/", &[], BODY, &Signing { service: "s3", ..default_signing() });
    let (code, message) = check(&service, BODY, &store()).unwrap_err();
    assert_eq!(
        (code, message.as_str()),
        (ErrorCode::InvalidSignatureException, "Credential should be scoped to correct service: 'gamelift'.")
    );
}

#[test]
fn unknown_keys_and_bad_session_tokens_are_unrecognized_clients() {
    let parts = signed("/", &[], BODY, &default_signing());
    assert_eq!(check(&parts, BODY, &HashMap::new()).unwrap_err().0, ErrorCode::UnrecognizedClientException);

    let with_token = signed("/", &[], BODY, &Signing { token: Some("TOKEN123"), ..default_signing() });
    assert_eq!(code(&with_token, BODY), Some(ErrorCode::UnrecognizedClientException));

    let temporary = |token: &str, expires_at| {
        let mut keys = HashMap::new();
        keys.insert(AKID.to_owned(), Credential::temporary(SecretKey::new(SECRET), SecretKey::new(token), expires_at));
        keys
    };
    assert_eq!(check(&with_token, BODY, &temporary("TOKEN123", None)), Ok(AKID.to_owned()));
    assert_eq!(
        check(&with_token, BODY, &temporary("TOKEN124", None)).unwrap_err().0,
        ErrorCode::UnrecognizedClientException
    );
    assert_eq!(
        check(&parts, BODY, &temporary("TOKEN123", None)).unwrap_err().0,
        ErrorCode::UnrecognizedClientException
    );
    let expired = temporary("TOKEN123", Some(now() - Duration::from_secs(1)));
    assert_eq!(check(&with_token, BODY, &expired).unwrap_err().0, ErrorCode::ExpiredTokenException);
}

#[test]
fn missing_and_malformed_authorization_headers_are_refused() {
    let parts = signed("/", &[], BODY, &default_signing());
    let mut missing = parts.clone();
    missing.headers.remove("authorization");
    assert_eq!(code(&missing, BODY), Some(ErrorCode::MissingAuthenticationTokenException));

    let auth = parts.headers["authorization"].to_str().unwrap().to_owned();
    let malformed = [
        "Basic dXNlcjpwYXNz".to_owned(),
        "AWS4-HMAC-SHA256".to_owned(),
        auth.replace("Credential=", "Credentials="),
        auth.replace("SignedHeaders=", "Signed="),
        auth.replace("Signature=", "Sig="),
        auth.replace("/aws4_request", "/aws5_request"),
        auth.replace(&format!("{AKID}/"), ""),
        auth.replace("SignedHeaders=", "SignedHeaders=;"),
        auth.replace("host;", ""),
        format!("{auth}, Signature=00"),
    ];
    for value in malformed {
        let mut bad = parts.clone();
        bad.headers.insert("authorization", value.parse().unwrap());
        assert_eq!(code(&bad, BODY), Some(ErrorCode::IncompleteSignatureException), "{value}");
    }
    let mut doubled = parts.clone();
    doubled.headers.append("authorization", auth.parse().unwrap());
    assert_eq!(code(&doubled, BODY), Some(ErrorCode::IncompleteSignatureException));

    let mut no_date = parts.clone();
    no_date.headers.remove("x-amz-date");
    assert_eq!(code(&no_date, BODY), Some(ErrorCode::IncompleteSignatureException));
    let mut bad_date = parts.clone();
    bad_date.headers.insert("x-amz-date", HeaderValue::from_static("2025-11-25T02:14:36Z"));
    assert_eq!(code(&bad_date, BODY), Some(ErrorCode::IncompleteSignatureException));
    let mut unsent = parts.clone();
    unsent.headers.remove("x-amz-target");
    assert_eq!(code(&unsent, BODY), Some(ErrorCode::IncompleteSignatureException));
}

#[test]
fn a_content_sha256_header_must_match_the_body() {
    let parts = signed("/", &[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")], BODY, &default_signing());
    assert_eq!(code(&parts, BODY), Some(ErrorCode::InvalidSignatureException));
}

#[test]
fn secrets_are_redacted_in_debug_and_display() {
    let credential = Credential::temporary(SecretKey::new(SECRET), SecretKey::new("TOKEN123"), None);
    let shown = format!("{credential:?} {}", credential.secret);
    assert!(!shown.contains(SECRET) && !shown.contains("TOKEN123"), "{shown}");
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._~-]{1,8}",
        "[A-Za-z0-9]{0,3}%2[0-9A-F][A-Za-z]{0,3}",
        Just("..".to_owned()),
        Just(String::new())
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_requests_signed_by_aws_sigv4_verify(
        segments in proptest::collection::vec(segment(), 0..5),
        query in proptest::collection::vec(("[A-Za-z0-9_.~-]{1,6}", "[A-Za-z0-9_.~-]{0,6}|%2[0-9A-F]|%C3%A9"), 0..4),
        value in "[ -~]{0,20}",
        body in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        // A path ending in a dot segment is the one case where the SDK signers disagree
        // (see `canonical_uri`); no GameLift client sends one.
        let mut target = format!("/{}", segments.join("/"));
        if target.ends_with("/..") || target.ends_with("/.") {
            target.push('/');
        }
        if !query.is_empty() {
            let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            target = format!("{target}?{}", pairs.join("&"));
        }
        let parts = signed(&target, &[("x-note", value.trim())], &body, &default_signing());
        prop_assert_eq!(check(&parts, &body, &store()), Ok(AKID.to_owned()));
        let mut tampered = body.clone();
        tampered[0] ^= 0x80;
        prop_assert_eq!(code(&parts, &tampered), Some(ErrorCode::InvalidSignatureException));
    }
}
