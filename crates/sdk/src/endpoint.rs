//! The connection URL and how a connection is opened and retried (protocol spec §1.2 URL,
//! §1.3 handshake and TLS, §5 connect retries).

use std::sync::Arc;
use std::time::SystemTime;

use percent_encoding::utf8_percent_encode;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream, tungstenite};
use tracing::{debug, warn};

use crate::error::Error;
use crate::options::Timings;
use crate::params::Credentials;
use crate::sigv4::{QUERY_ENCODE, signed_query};

/// The SDK version reported in the `sdkVersion` query parameter and `ActivateServerProcess`:
/// the official SDK release whose protocol this crate speaks.
pub const SDK_VERSION: &str = "5.6.0";

/// The `sdkLanguage` this SDK reports.
pub const SDK_LANGUAGE: &str = "Rust";

/// A WebSocket to the service.
pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Everything needed to (re)open the connection of one process.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The URL as configured, without a query.
    pub(crate) base_url: String,
    pub(crate) process_id: String,
    pub(crate) host_id: String,
    pub(crate) fleet_id: String,
    pub(crate) credentials: Credentials,
    /// Kept across reconnects of one logical connection, renewed by a refresh.
    pub(crate) idempotency_token: String,
}

impl Endpoint {
    /// An endpoint with a fresh idempotency token.
    pub(crate) fn new(
        url: &str,
        process_id: String,
        host_id: String,
        fleet_id: String,
        credentials: Credentials,
    ) -> Self {
        Self {
            base_url: base_url(url),
            process_id,
            host_id,
            fleet_id,
            credentials,
            idempotency_token: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The endpoint a `RefreshConnection` push points to: same process, new URL and token.
    pub(crate) fn refreshed(&self, url: &str, auth_token: String) -> Self {
        Self::new(
            url,
            self.process_id.clone(),
            self.host_id.clone(),
            self.fleet_id.clone(),
            Credentials::AuthToken(auth_token),
        )
    }

    /// The full URL, query sorted by key and percent-encoded like the Go SDK's.
    pub(crate) fn url(&self, now: SystemTime) -> String {
        let mut query: Vec<(&str, String)> = vec![
            ("pID", self.process_id.clone()),
            ("sdkVersion", SDK_VERSION.to_string()),
            ("sdkLanguage", SDK_LANGUAGE.to_string()),
            ("ComputeId", self.host_id.clone()),
            ("FleetId", self.fleet_id.clone()),
            ("IdempotencyToken", self.idempotency_token.clone()),
        ];
        match &self.credentials {
            Credentials::AuthToken(token) => query.push(("Authorization", token.clone())),
            Credentials::SigV4(sigv4) => query.extend(signed_query(
                sigv4,
                &[("ComputeId", &self.host_id), ("FleetId", &self.fleet_id), ("pID", &self.process_id)],
                now,
            )),
        }
        query.sort();
        let encoded: Vec<String> =
            query.iter().map(|(key, value)| format!("{key}={}", utf8_percent_encode(value, QUERY_ENCODE))).collect();
        format!("{}?{}", self.base_url, encoded.join("&"))
    }
}

/// The URL without its query, with `/` as the path when it has none: a request line needs a
/// path, and the Go and C++ SDKs send `/` in that case too.
fn base_url(url: &str) -> String {
    let base = url.split_once('?').map_or(url, |(base, _)| base);
    let authority = base.split_once("://").map_or(base, |(_, rest)| rest);
    if authority.contains('/') { base.to_string() } else { format!("{base}/") }
}

/// One connection attempt, bounded by `timings.connect_timeout`.
async fn connect_once(
    endpoint: &Endpoint,
    tls: &Arc<ClientConfig>,
    timings: &Timings,
) -> Result<WsStream, tungstenite::Error> {
    let mut request = endpoint.url(SystemTime::now()).into_client_request()?;
    request
        .headers_mut()
        .insert("User-Agent", HeaderValue::from_static(concat!("openlift-server-sdk/", env!("CARGO_PKG_VERSION"))));
    // tungstenite zeroes its whole read buffer before every read; the server's messages are
    // small, so a 4 KiB buffer saves a 128 KiB memset per message (a larger frame still fits).
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let connector = Some(Connector::Rustls(tls.clone()));
    let connect = tokio_tungstenite::connect_async_tls_with_config(request, Some(config), false, connector);
    match tokio::time::timeout(timings.connect_timeout, connect).await {
        Ok(result) => result.map(|(stream, _response)| stream),
        Err(_elapsed) => Err(tungstenite::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connection attempt timed out",
        ))),
    }
}

/// Connects, retrying with exponential backoff up to `timings.connect_attempts` attempts.
pub(crate) async fn connect(
    endpoint: &Endpoint,
    tls: &Arc<ClientConfig>,
    timings: &Timings,
) -> Result<WsStream, Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match connect_once(endpoint, tls, timings).await {
            Ok(stream) => {
                debug!(url = %endpoint.base_url, attempt, "connected to the service");
                return Ok(stream);
            }
            Err(error) if attempt >= timings.connect_attempts.max(1) => {
                return Err(Error::Connect { url: endpoint.base_url.clone(), source: Box::new(error) });
            }
            Err(error) => {
                let wait = timings.backoff(attempt);
                warn!(url = %endpoint.base_url, attempt, %error, ?wait, "connection attempt failed");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::Endpoint;
    use crate::params::{Credentials, SigV4Credentials};

    fn endpoint(credentials: Credentials) -> Endpoint {
        let mut endpoint = Endpoint::new(
            "wss://gl.example.net:7443/prod?ignored=1",
            "pid-1".into(),
            "host-1".into(),
            "fleet-1".into(),
            credentials,
        );
        endpoint.idempotency_token = "idem".into();
        endpoint
    }

    #[test]
    fn auth_token_url_has_sorted_query_and_keeps_the_path() {
        let url = endpoint(Credentials::AuthToken("tok/abc".into())).url(UNIX_EPOCH);
        assert_eq!(
            url,
            "wss://gl.example.net:7443/prod?Authorization=tok%2Fabc&ComputeId=host-1&FleetId=fleet-1\
             &IdempotencyToken=idem&pID=pid-1&sdkLanguage=Rust&sdkVersion=5.6.0"
        );
    }

    #[test]
    fn sigv4_url_carries_the_signature_parameters() {
        let credentials = Credentials::SigV4(SigV4Credentials {
            region: "us-east-1".into(),
            access_key: "AKID".into(),
            secret_key: "secret".into(),
            session_token: None,
        });
        let url = endpoint(credentials).url(UNIX_EPOCH + Duration::from_secs(1_722_852_000));
        assert!(url.contains("Authorization=SigV4&"), "{url}");
        assert!(url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{url}");
        assert!(url.contains("X-Amz-Credential=AKID%2F20240805%2Fus-east-1%2Fgamelift%2Faws4_request"), "{url}");
        assert!(url.contains("X-Amz-Date=20240805T100000Z"), "{url}");
        assert!(url.contains("X-Amz-Signature="), "{url}");
        assert!(!url.contains("X-Amz-Security-Token"), "{url}");
    }

    #[test]
    fn refresh_switches_url_and_token_and_renews_the_idempotency_token() {
        let refreshed = endpoint(Credentials::AuthToken("old".into())).refreshed("wss://other:7443", "new".into());
        assert_eq!(refreshed.base_url, "wss://other:7443/");
        assert_eq!(refreshed.credentials, Credentials::AuthToken("new".into()));
        assert_eq!(refreshed.process_id, "pid-1");
        assert_ne!(refreshed.idempotency_token, "idem");
    }
}
