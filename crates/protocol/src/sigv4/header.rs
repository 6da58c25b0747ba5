//! Parsing the `Authorization` header (`control-plane-api.md` section 9.1 step 1).

use openlift_model::{ApiError, ErrorCode};

use super::signing::{ALGORITHM, CredentialScope, TERMINATOR};

/// The parts of `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key ID, first element of `Credential`.
    pub access_key_id: String,
    /// The rest of `Credential`.
    pub scope: CredentialScope,
    /// `SignedHeaders` exactly as received (it is part of the canonical request).
    pub signed_headers: String,
    /// `Signature`, hex text as received.
    pub signature: String,
}

impl Authorization {
    /// Whether `name` (lower case) is among the signed headers.
    pub fn signs(&self, name: &str) -> bool {
        self.signed_headers.split(';').any(|h| h.eq_ignore_ascii_case(name))
    }
}

/// Parses an `Authorization` header value; anything malformed is an `IncompleteSignatureException`.
pub fn parse_authorization<'a>(value: &'a str) -> Result<Authorization, ApiError> {
    let incomplete =
        |what: &str| ApiError::new(ErrorCode::IncompleteSignatureException, format!("{what} Authorization={value}"));
    let trimmed = value.trim();
    let (algorithm, params) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete("Unsupported Authorization Type; only AWS4-HMAC-SHA256 is accepted."));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for param in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, text) = param.split_once('=').ok_or_else(|| incomplete("Authorization header is malformed."))?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(text).is_some() {
            return Err(incomplete(&format!("Authorization header repeats the '{name}' parameter.")));
        }
    }
    let required = |slot: Option<&'a str>, name: &str| -> Result<&'a str, ApiError> {
        slot.filter(|text| !text.is_empty())
            .ok_or_else(|| incomplete(&format!("Authorization header requires '{name}' parameter.")))
    };
    let credential = required(credential, "Credential")?;
    let signed_headers = required(signed_headers, "SignedHeaders")?;
    let signature = required(signature, "Signature")?;

    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(incomplete(
            "Credential must have the form <access key ID>/<date>/<region>/<service>/aws4_request.",
        ));
    };
    if terminator != TERMINATOR {
        return Err(incomplete(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if [access_key_id, date, region, service].iter().any(|p| p.is_empty()) {
        return Err(incomplete("Credential has an empty element."));
    }
    if signed_headers.split(';').any(str::is_empty) {
        return Err(incomplete("SignedHeaders has an empty header name."));
    }
    Ok(Authorization {
        access_key_id: access_key_id.to_owned(),
        scope: CredentialScope { date: date.to_owned(), region: region.to_owned(), service: service.to_owned() },
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
    })
}
