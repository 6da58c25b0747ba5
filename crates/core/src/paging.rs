//! Opaque, tamper-checked `NextToken`s (`control-plane-api.md` section 8).
//!
//! A token is `base64url(cursor ‖ HMAC-SHA256(key, scope ‖ cursor)[..16])`. The
//! scope names the listing and its filters, so a token is only accepted by the
//! same listing that issued it; any change to the token is detected. The key
//! lives in the store, shared by every control-plane node.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use openlift_model::ApiError;
use sha2::Sha256;
use subtle::ConstantTimeEq;

const TAG_LEN: usize = 16;

/// Issues and checks page tokens with one secret key.
#[derive(Clone)]
pub struct PageTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens(<redacted>)")
    }
}

impl PageTokens {
    /// Tokens signed with `key`.
    pub fn new(key: Vec<u8>) -> Self {
        PageTokens { key }
    }

    fn tag(&self, scope: &str, cursor: i64) -> [u8; TAG_LEN] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(&cursor.to_be_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    /// The token that resumes the listing `scope` after `cursor`.
    pub fn issue(&self, scope: &str, cursor: i64) -> String {
        let mut raw = cursor.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.tag(scope, cursor));
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The cursor inside `token`, if this key issued it for `scope`;
    /// otherwise `InvalidRequestException`.
    pub fn check(&self, scope: &str, token: &str) -> Result<i64, ApiError> {
        let invalid =
            || ApiError::invalid_request("Invalid NextToken: it was not issued for this request or has been altered.");
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        if raw.len() != 8 + TAG_LEN {
            return Err(invalid());
        }
        let (cursor_bytes, tag) = raw.split_at(8);
        let cursor = i64::from_be_bytes(cursor_bytes.try_into().map_err(|_| invalid())?);
        if bool::from(self.tag(scope, cursor).ct_eq(tag)) { Ok(cursor) } else { Err(invalid()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> PageTokens {
        PageTokens::new(b"test key".to_vec())
    }

    #[test]
    fn a_token_round_trips_within_its_scope() {
        let t = tokens().issue("ListAliases", 42);
        assert_eq!(tokens().check("ListAliases", &t).unwrap(), 42);
    }

    #[test]
    fn a_token_is_refused_by_another_listing() {
        let t = tokens().issue("ListAliases", 42);
        assert!(tokens().check("ListFleets", &t).is_err());
    }

    #[test]
    fn an_altered_token_is_refused() {
        let t = tokens().issue("ListAliases", 42);
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        bytes[7] ^= 1;
        let forged = URL_SAFE_NO_PAD.encode(bytes);
        let err = tokens().check("ListAliases", &forged).unwrap_err();
        assert_eq!(err.code, openlift_model::ErrorCode::InvalidRequestException);
        assert!(tokens().check("ListAliases", "not base64!").is_err());
        assert!(tokens().check("ListAliases", "").is_err());
    }

    #[test]
    fn another_key_does_not_accept_the_token() {
        let t = tokens().issue("ListAliases", 1);
        assert!(PageTokens::new(b"other".to_vec()).check("ListAliases", &t).is_err());
    }
}
