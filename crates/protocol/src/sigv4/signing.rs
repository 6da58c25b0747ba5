//! Scope, string to sign, signing key and signature (`control-plane-api.md` section 9.1
//! steps 4 and 5); shared by the control plane and the SDK WebSocket query signature.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::SecretKey;
use super::canonical::hex_sha256;

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The fixed last element of every credential scope.
pub const TERMINATOR: &str = "aws4_request";

/// The `<date>/<region>/<service>` part of a credential (`aws4_request` is implied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    /// `YYYYMMDD`, the UTC day of the request.
    pub date: String,
    /// The region the request was signed for.
    pub region: String,
    /// The signing name of the service (`gamelift`).
    pub service: String,
}

impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}/{TERMINATOR}", self.date, self.region, self.service)
    }
}

/// The string to sign for a request signed at `amz_date` (`YYYYMMDD'T'HHMMSS'Z'`).
///
/// `canonical` is the canonical request, or whatever canonical text a non-standard
/// signer hashes in its place (the GameLift server SDKs hash their sorted query).
pub fn string_to_sign(amz_date: &str, scope: &CredentialScope, canonical: &[u8]) -> String {
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", hex_sha256(canonical))
}

/// Derives the signing key for one day, region and service.
pub fn signing_key(secret: &SecretKey, scope: &CredentialScope) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{}", secret.expose_secret()).as_bytes(), scope.date.as_bytes());
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

/// The raw signature of `string_to_sign`; hex-encode it for the wire.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> [u8; 32] {
    hmac(signing_key, string_to_sign.as_bytes())
}

/// Compares a computed signature with the hex text a client sent, in constant time.
///
/// Upper-case hex is accepted; text that is not 64 hex digits never matches.
pub fn signature_matches(expected: &[u8; 32], provided_hex: &str) -> bool {
    let mut provided = [0u8; 32];
    hex::decode_to_slice(provided_hex, &mut provided).is_ok() && bool::from(expected.ct_eq(&provided))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}
