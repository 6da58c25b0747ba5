//! SigV4 signing of the connection query (protocol spec §1.4): the signed "canonical request"
//! is only the sorted, percent-encoded `ComputeId`/`FleetId`/`pID` query.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::params::SigV4Credentials;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "gamelift";

/// Characters left as they are in query components (RFC 3986 unreserved).
pub(crate) const QUERY_ENCODE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_ENCODE).to_string()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `(yyyyMMdd, yyyyMMddTHHmmssZ)` of a UTC instant.
fn timestamps(at: SystemTime) -> (String, String) {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (hour, minute, second) = ((secs % 86_400) / 3600, (secs % 3600) / 60, secs % 60);
    // Civil-from-days over 400-year eras (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = format!("{year:04}{month:02}{day:02}");
    let stamp = format!("{date}T{hour:02}{minute:02}{second:02}Z");
    (date, stamp)
}

/// The query parameters that authenticate a connection signed at `at`: `Authorization=SigV4`
/// plus the `X-Amz-*` parameters, unencoded.
pub(crate) fn signed_query(
    credentials: &SigV4Credentials,
    signed: &[(&str, &str)],
    at: SystemTime,
) -> Vec<(&'static str, String)> {
    let mut pairs: Vec<(String, String)> = signed.iter().map(|(key, value)| (encode(key), encode(value))).collect();
    pairs.sort();
    let canonical = pairs.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("&");
    let (date, stamp) = timestamps(at);
    let scope = format!("{date}/{}/{SERVICE}/aws4_request", credentials.region);
    let string_to_sign =
        format!("{ALGORITHM}\n{stamp}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let key = [credentials.region.as_str(), SERVICE, "aws4_request"]
        .iter()
        .fold(hmac(format!("AWS4{}", credentials.secret_key).as_bytes(), &date), |key, part| hmac(&key, part));
    let signature = hex::encode(hmac(&key, &string_to_sign));
    let mut query = vec![
        ("Authorization", "SigV4".to_string()),
        ("X-Amz-Algorithm", ALGORITHM.to_string()),
        ("X-Amz-Credential", format!("{}/{scope}", credentials.access_key)),
        ("X-Amz-Date", stamp),
        ("X-Amz-Signature", signature),
    ];
    if let Some(token) = credentials.session_token.as_ref().filter(|t| !t.is_empty()) {
        query.push(("X-Amz-Security-Token", token.clone()));
    }
    query
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{signed_query, timestamps};
    use crate::params::SigV4Credentials;

    /// 2024-08-05T10:00:00Z.
    fn at() -> std::time::SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_722_852_000)
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamps(at()), ("20240805".into(), "20240805T100000Z".into()));
        assert_eq!(timestamps(UNIX_EPOCH), ("19700101".into(), "19700101T000000Z".into()));
        let leap = UNIX_EPOCH + Duration::from_secs(951_868_799);
        assert_eq!(timestamps(leap).1, "20000229T235959Z");
    }

    /// The vector is the Go SDK's published test case for its SigV4 query signer.
    #[test]
    fn signature_matches_the_official_test_vector() {
        let credentials = SigV4Credentials {
            region: "us-east-1".into(),
            access_key: "testAccessKey".into(),
            secret_key: "testSecretKey".into(),
            session_token: Some("testSessionToken".into()),
        };
        let query = signed_query(&credentials, &[("param2", "value2"), ("param1", "value1")], at());
        let get = |name: &str| query.iter().find(|(key, _)| *key == name).map(|(_, value)| value.as_str());
        assert_eq!(get("Authorization"), Some("SigV4"));
        assert_eq!(get("X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256"));
        assert_eq!(get("X-Amz-Credential"), Some("testAccessKey/20240805/us-east-1/gamelift/aws4_request"));
        assert_eq!(get("X-Amz-Date"), Some("20240805T100000Z"));
        assert_eq!(get("X-Amz-Signature"), Some("2601fe291f4b43a63f6ffb0e1d9085a1edbaa2a866c96511e153af3408bfe771"));
        assert_eq!(get("X-Amz-Security-Token"), Some("testSessionToken"));
    }
}
