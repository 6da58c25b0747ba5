//! Client options: TLS trust (protocol spec §1.3) and the official timings (spec §5).

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::Error;

/// Which server certificates a `wss://` connection trusts.
#[derive(Debug, Clone, Default)]
pub enum TlsTrust {
    /// The operating system's trust store, as the Go SDK does.
    #[default]
    NativeRoots,
    /// Only these CA certificates (for a service with a private CA).
    CustomCa(Vec<CertificateDer<'static>>),
    /// Any certificate, self-signed included, as the C++ SDK does. Encrypts but does not
    /// authenticate the service: for development only.
    AcceptAnyCertificate,
}

impl TlsTrust {
    /// Trust the CA certificates of a PEM document.
    pub fn ca_pem(pem: &[u8]) -> Result<Self, Error> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Tls(format!("reading CA certificates: {e}")))?;
        if certificates.is_empty() {
            return Err(Error::Tls("no certificate in the CA PEM document".into()));
        }
        Ok(Self::CustomCa(certificates))
    }

    /// The rustls client configuration for this trust setting.
    pub(crate) async fn client_config(&self) -> Result<Arc<ClientConfig>, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?;
        let config = match self {
            Self::NativeRoots => {
                // Reading the trust store touches the file system: keep it off the runtime.
                let loaded = tokio::task::spawn_blocking(rustls_native_certs::load_native_certs)
                    .await
                    .map_err(|e| Error::Tls(format!("loading the native trust store: {e}")))?;
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates(loaded.certs);
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Self::CustomCa(certificates) => {
                let mut roots = RootCertStore::empty();
                for certificate in certificates {
                    roots.add(certificate.clone()).map_err(|e| Error::Tls(format!("adding a CA certificate: {e}")))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Self::AcceptAnyCertificate => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider.signature_verification_algorithms)))
                .with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// Accepts any certificate but still checks the handshake signatures.
#[derive(Debug)]
struct AcceptAny(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// Timeouts, intervals and retry limits. The defaults are the official SDKs' values.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Timings {
    /// How long a request waits for its response (20 s).
    pub request_timeout: Duration,
    /// How long `process_ready` waits for `ActivateServerProcess` (6 s).
    pub activate_timeout: Duration,
    /// Time between heartbeats (60 s).
    pub health_check_interval: Duration,
    /// Each interval is moved by a uniform jitter of at most this much either way (10 s).
    pub health_check_jitter: Duration,
    /// How long `on_health_check` may take before the process is reported unhealthy (50 s).
    pub health_check_timeout: Duration,
    /// How long one connection attempt (TCP, TLS, upgrade) may take (20 s).
    pub connect_timeout: Duration,
    /// Connection attempts before giving up, the first one included (1 + 7 retries).
    pub connect_attempts: u32,
    /// The wait before the first retry; it doubles per retry (4 s).
    pub connect_backoff: Duration,
    /// The longest wait between retries (32 s).
    pub connect_backoff_max: Duration,
    /// After a `RefreshConnection` switch, how long the old connection may still deliver
    /// responses before it is dropped (5 s).
    pub refresh_close_timeout: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(20),
            activate_timeout: Duration::from_secs(6),
            health_check_interval: Duration::from_secs(60),
            health_check_jitter: Duration::from_secs(10),
            health_check_timeout: Duration::from_secs(50),
            connect_timeout: Duration::from_secs(20),
            connect_attempts: 8,
            connect_backoff: Duration::from_secs(4),
            connect_backoff_max: Duration::from_secs(32),
            refresh_close_timeout: Duration::from_secs(5),
        }
    }
}

impl Timings {
    /// The wait before retry number `retry` (1-based): 4, 8, 16, 32, 32, … seconds by default.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.connect_backoff.saturating_mul(factor).min(self.connect_backoff_max)
    }

    /// The next heartbeat interval: `health_check_interval` ± a uniform jitter.
    pub(crate) fn next_health_check(&self) -> Duration {
        let jitter = u64::try_from(self.health_check_jitter.as_millis()).unwrap_or(u64::MAX);
        let offset = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=jitter.saturating_mul(2));
        (self.health_check_interval + Duration::from_millis(offset)).saturating_sub(self.health_check_jitter)
    }
}

/// Options of a client: TLS trust and timings.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Which certificates a `wss://` service may present.
    pub tls: TlsTrust,
    /// Timeouts, intervals and retry limits.
    pub timings: Timings,
}

impl ClientOptions {
    /// These options with another TLS trust setting.
    pub fn with_tls(mut self, tls: TlsTrust) -> Self {
        self.tls = tls;
        self
    }

    /// These options with other timings.
    pub fn with_timings(mut self, timings: Timings) -> Self {
        self.timings = timings;
        self
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Timings;

    #[test]
    fn reconnect_backoff_doubles_up_to_32_seconds() {
        let timings = Timings::default();
        let waits: Vec<u64> = (1..=6).map(|n| timings.backoff(n).as_secs()).collect();
        assert_eq!(waits, [4, 8, 16, 32, 32, 32]);
    }

    #[test]
    fn heartbeat_interval_stays_within_the_jitter_window() {
        let timings = Timings::default();
        for _ in 0..1000 {
            let next = timings.next_health_check();
            assert!(next >= Duration::from_secs(50) && next <= Duration::from_secs(70));
        }
    }

    #[test]
    fn defaults_are_the_official_timings() {
        let timings = Timings::default();
        assert_eq!(timings.request_timeout, Duration::from_secs(20));
        assert_eq!(timings.activate_timeout, Duration::from_secs(6));
        assert_eq!(timings.health_check_timeout, Duration::from_secs(50));
        assert_eq!(timings.connect_attempts, 8);
    }
}
