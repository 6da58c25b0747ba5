//! The SigV4 canonical request (`control-plane-api.md` section 9.1 step 3), as the
//! AWS SDK signers build it for services other than S3.

use http::{HeaderMap, Method, Uri};
use openlift_model::{ApiError, ErrorCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use sha2::{Digest, Sha256};

/// Bytes left alone by SigV4's URI encoding: RFC 3986 unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// As [`UNRESERVED`], keeping the path separator too.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Lower-case hex SHA-256 of `data`, the form payload and canonical-request hashes take.
pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The canonical URI of a path as received on the wire.
///
/// Dot segments and empty segments are removed (a trailing `/` is kept), then the
/// already percent-encoded path is encoded once more, so `%20` becomes `%2520`:
/// the SDK signers for non-S3 services encode the path twice. A path ending in a dot
/// segment (`/a/b/..`) gets no trailing slash, as botocore signs it; smithy-rs would
/// keep one (RFC 3986). No GameLift client sends such a path.
pub fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let mut normalised = format!("/{}", segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        normalised.push('/');
    }
    percent_encode(normalised.as_bytes(), PATH).to_string()
}

/// The canonical query string of a raw query (without `?`).
///
/// Each name and value is percent-decoded and re-encoded with SigV4's rules
/// (everything but unreserved characters, upper-case hex); pairs are sorted by
/// name, then value. A `+` is a literal plus (RFC 3986), not a space.
/// Empty pieces (`a=1&&b=2`) are skipped; a piece without `=` has an empty value.
pub fn canonical_query_string(query: &str) -> String {
    let encode = |raw: &str| {
        let bytes: Vec<u8> = percent_decode_str(raw).collect();
        percent_encode(&bytes, UNRESERVED).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (encode(name), encode(value))
        })
        .collect();
    pairs.sort();
    let joined: Vec<String> = pairs.into_iter().map(|(name, value)| format!("{name}={value}")).collect();
    joined.join("&")
}

/// The canonical form of a header's values: each trimmed, inner runs of
/// whitespace folded to one space, repeated headers joined with `,` in arrival order.
pub fn canonical_header_value<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let words = value.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty());
        for (j, word) in words.enumerate() {
            if j > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(word);
        }
    }
    out
}

/// Builds the canonical request over the headers named in `signed_headers` (`;`-separated).
///
/// A signed header absent from `headers` is an `IncompleteSignatureException`, except
/// `host`, which falls back to the URI authority (HTTP/2 carries it as `:authority`).
pub fn canonical_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    signed_headers: &str,
    payload_hash: &str,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(uri.path()).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query_string(uri.query().unwrap_or("")).as_bytes());
    out.push(b'\n');
    for name in signed_headers.split(';') {
        let name = name.to_ascii_lowercase();
        let values: Vec<&[u8]> = headers.get_all(name.as_str()).iter().map(|v| v.as_bytes()).collect();
        let value = match (values.is_empty(), uri.authority()) {
            (false, _) => canonical_header_value(values),
            (true, Some(authority)) if name == "host" => authority.as_str().as_bytes().to_vec(),
            (true, _) => {
                let message = format!("Signed header '{name}' is not present in the request.");
                return Err(ApiError::new(ErrorCode::IncompleteSignatureException, message));
            }
        };
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(&value);
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    Ok(out)
}
