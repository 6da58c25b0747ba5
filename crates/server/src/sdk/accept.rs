//! The accept loop of the listen port: TLS and plain connections on one port
//! (`server-sdk-protocol.md` sections 1.3 and 8.2).
//!
//! The first byte of each accepted connection decides: `0x16` (a TLS handshake record,
//! i.e. a ClientHello) goes through rustls, anything else is plain HTTP. Either way hyper
//! serves the axum router over HTTP/1.1 (with upgrades, for the SDK WebSocket) or HTTP/2.
//! So the C++ SDK (TLS even for `ws://` URLs), Go and C# (plain `ws://`), and API clients
//! over `http://` or `https://` all share the port the SDK endpoint URL names.
//!
//! Every task (connections, HTTP/2 streams, WebSockets, the sweeper) is spawned on the
//! server's [`TaskTracker`]; on shutdown the loop stops accepting, HTTP connections finish
//! their requests in flight, WebSockets close with 1012, and [`serve`] waits for them all
//! (at most [`SHUTDOWN_GRACE`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;
/// How long a new connection may take to send its first byte and finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for connections to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long to pause when accepting fails (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A hyper executor that spawns on the server's task tracker, so HTTP/2 stream tasks
/// have an owner too.
#[derive(Clone)]
struct Tracked(TaskTracker);

impl<F> hyper::rt::Executor<F> for Tracked
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        self.0.spawn(future);
    }
}

/// What the accept loop needs.
pub(crate) struct FrontDoor {
    pub(crate) router: Router,
    pub(crate) tls: TlsAcceptor,
    pub(crate) tracker: TaskTracker,
    /// Cancelled when the server stops; every task watches it.
    pub(crate) cancel: CancellationToken,
}

/// Accepts connections until `shutdown`, then stops every task and waits for them.
pub(crate) async fn serve(door: FrontDoor, listener: TcpListener, shutdown: CancellationToken) {
    let door = Arc::new(door);
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                door.tracker.spawn(connection(door.clone(), stream, peer));
            }
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    drop(listener);
    door.cancel.cancel();
    door.tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, door.tracker.wait()).await.is_err() {
        tracing::warn!(remaining = door.tracker.len(), "connections still open after the shutdown grace");
    }
}

async fn connection(door: Arc<FrontDoor>, stream: TcpStream, peer: SocketAddr) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
    }
    let mut first = [0u8; 1];
    let sniffed = tokio::select! {
        () = door.cancel.cancelled() => return,
        sniffed = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)) => sniffed,
    };
    match sniffed {
        Ok(Ok(1)) if first[0] == TLS_HANDSHAKE => {
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, door.tls.accept(stream));
            match handshake.await {
                Ok(Ok(tls)) => http(&door, tls, peer).await,
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
        Ok(Ok(1)) => http(&door, stream, peer).await,
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tracing::debug!(%peer, %error, "reading a new connection failed"),
        Err(_) => tracing::debug!(%peer, "a new connection sent nothing"),
    }
}

async fn http<I>(door: &FrontDoor, io: I, peer: SocketAddr)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(Tracked(door.tracker.clone()));
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let service = TowerToHyperService::new(door.router.clone());
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = door.cancel.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}
