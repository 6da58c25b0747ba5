//! A raw WebSocket client for the SDK endpoint, so tests can send exactly what each official
//! SDK sends (`server-sdk-protocol.md` section 1): unencoded queries, TLS on a `ws://` URL,
//! odd frames.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

use super::{Compute, Harness, WAIT};

/// A plain or TLS byte stream.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A client WebSocket over either.
pub type Ws = WebSocketStream<Box<dyn Io>>;

/// Plain TCP or TLS (any certificate, like the C++ SDK), optionally TLS 1.2 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `ws://` as Go and C# speak it.
    Plain,
    /// TLS whatever the URL says, as the C++ SDK does; TLS 1.2 only.
    Tls12,
    /// TLS with rustls defaults (1.3).
    Tls,
}

/// Accepts any certificate, as the C++ SDK does (no verify mode set).
#[derive(Debug)]
struct AcceptAny(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
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

/// A TLS connection to the test server that trusts any certificate.
pub async fn tls_stream(h: &Harness, tls12_only: bool) -> tokio_rustls::client::TlsStream<TcpStream> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] =
        if tls12_only { &[&rustls::version::TLS12] } else { &[&rustls::version::TLS13, &rustls::version::TLS12] };
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider.signature_verification_algorithms)))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(h.addr).await.expect("tcp connect");
    connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.expect("TLS handshake")
}

/// Opens a WebSocket to `path_and_query` (sent exactly as given), or returns the HTTP refusal.
pub async fn try_connect(h: &Harness, path_and_query: &str, transport: Transport) -> Result<Ws, tungstenite::Error> {
    let io: Box<dyn Io> = match transport {
        Transport::Plain => Box::new(TcpStream::connect(h.addr).await.expect("tcp connect")),
        Transport::Tls12 => Box::new(tls_stream(h, true).await),
        Transport::Tls => Box::new(tls_stream(h, false).await),
    };
    let request = format!("ws://{}{path_and_query}", h.addr).into_client_request()?;
    tokio_tungstenite::client_async(request, io).await.map(|(ws, _)| ws)
}

/// Opens a WebSocket that must be accepted.
pub async fn connect(h: &Harness, path_and_query: &str, transport: Transport) -> Ws {
    try_connect(h, path_and_query, transport).await.expect("the upgrade is accepted")
}

/// The HTTP status an upgrade is refused with.
pub async fn refused_status(h: &Harness, path_and_query: &str) -> u16 {
    match try_connect(h, path_and_query, Transport::Plain).await {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected a refusal of {path_and_query}"),
    }
}

/// The C++ SDK's query: `/` added, `std::map` order (upper-case keys first), no encoding.
pub fn cpp_query(compute: &Compute, process_id: &str, token: &str) -> String {
    format!(
        "/?Authorization={token}&ComputeId={}&FleetId={}&IdempotencyToken=Q7xk2LpA9mZ3rT5vW8yB1nC4dF6gH0jK\
         &pID={process_id}&sdkLanguage=Cpp&sdkVersion=5.4.0",
        compute.name, compute.fleet_id
    )
}

/// The C# SDK's query: its own order, no encoding, `Authorization` last. The SDK adds no
/// slash to the URL, but `System.Uri.PathAndQuery` puts `/` in the request line anyway.
pub fn csharp_query(compute: &Compute, process_id: &str, token: &str) -> String {
    format!(
        "/?ComputeId={}&FleetId={}&pID={process_id}&sdkLanguage=CSharp&sdkVersion=5.5.0\
         &IdempotencyToken=1b4e28ba-2fa1-11d2-883f-0016d3cca427&Authorization={token}",
        compute.name, compute.fleet_id
    )
}

/// Sends a JSON frame.
pub async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.expect("send");
}

/// The next message other than a ping or pong.
pub async fn next_message(ws: &mut Ws) -> Message {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next()).await.expect("a message in time");
        match message.expect("the connection is open").expect("a valid frame") {
            Message::Ping(_) | Message::Pong(_) => continue,
            other => return other,
        }
    }
}

/// The next text frame, parsed.
pub async fn next_json(ws: &mut Ws) -> Value {
    match next_message(ws).await {
        Message::Text(text) => serde_json::from_str(&text).expect("JSON frame"),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Sends a request and returns the next frame (its response).
pub async fn call(ws: &mut Ws, request: Value) -> Value {
    send(ws, request).await;
    next_json(ws).await
}

/// Reads until the server's close frame and returns it.
pub async fn close_frame(ws: &mut Ws) -> Option<CloseFrame> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("a close in time") {
            Some(Ok(Message::Close(frame))) => return frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
