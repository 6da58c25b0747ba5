//! `wss://` connections (spec §1.3): a self-signed service is reachable when any certificate is
//! accepted or its CA is given, and refused by default.

use std::sync::Arc;

use openlift_server_sdk::{ClientOptions, Error, GameLiftServer, TlsTrust};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::{Service, options, params};

/// A self-signed certificate for `localhost`: its PEM and a server configuration using it.
fn self_signed() -> (String, rustls::ServerConfig) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .unwrap();
    (certified.cert.pem(), config)
}

fn with_tls(tls: TlsTrust) -> ClientOptions {
    let mut options = options().with_tls(tls);
    options.timings.connect_attempts = 1;
    options
}

async fn connects(service: &Service, options: ClientOptions) -> bool {
    let (sdk, conn) = tokio::join!(GameLiftServer::init(params(&service.url), options), service.accept());
    assert_eq!(conn.query["pID"], "pid-1");
    let sdk = sdk.unwrap();
    sdk.destroy().await;
    true
}

#[tokio::test]
async fn wss_reaches_a_self_signed_service_when_any_certificate_is_accepted() {
    let (_, config) = self_signed();
    let service = Service::bind_tls(config).await;
    assert!(connects(&service, with_tls(TlsTrust::AcceptAnyCertificate)).await);
}

#[tokio::test]
async fn wss_trusts_a_given_ca() {
    let (pem, config) = self_signed();
    let service = Service::bind_tls(config).await;
    let trust = TlsTrust::ca_pem(pem.as_bytes()).unwrap();
    assert!(connects(&service, with_tls(trust)).await);
}

#[tokio::test]
async fn wss_refuses_a_certificate_it_does_not_trust() {
    let (_, config) = self_signed();
    let (other_pem, _) = self_signed();
    let service = Service::bind_tls(config).await;
    let trust = TlsTrust::ca_pem(other_pem.as_bytes()).unwrap();
    let (result, handshake_failed) =
        tokio::join!(GameLiftServer::init(params(&service.url), with_tls(trust)), service.handshake_fails());
    assert!(handshake_failed);
    assert!(matches!(result, Err(Error::Connect { .. })));
}

#[test]
fn a_pem_without_certificates_is_rejected() {
    assert!(matches!(TlsTrust::ca_pem(b"nothing here"), Err(Error::Tls(_))));
}
