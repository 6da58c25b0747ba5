//! The accept loop of the listen port: TLS and plain connections on one port
//! (`server-sdk-protocol.md` sections 1.3 and 8.2).
//!
//! The first byte of each accepted connection decides: `0x16` (a TLS handshake record,
//! i.e. a ClientHello) goes through rustls, anything else is plain HTTP. Either way hyper
//! serves the axum router over HTTP/1.1 (with upgrades, for the SDK WebSocket) or HTTP/2.
//! So the C++ SDK (TLS even for `ws://` URLs), Go and C# (plain `ws://`), and API clients
//! over `http://` or `https://` all share the port the SDK endpoint URL names.
//!
//! A connection is taken only with a ticket of [`super::admission`], kept as long as its
//! socket (WebSocket included) is open; its class goes with each request to the HTTP layer.
//! A TLS connection sends `close_notify` before its socket closes, however it ends (hyper
//! finishing, a timeout, a WebSocket task ending), so clients see a clean end of stream. A
//! connection hyper shuts down lingers: it reads and drops what the client still sends for
//! up to [`LINGER`], since closing a socket with unread bytes resets the connection and
//! destroys the answer in flight (a 408 to a client still sending its body, say).
//!
//! Every task (connections, HTTP/2 streams, WebSockets, the sweeper) is spawned on the
//! server's [`TaskTracker`]; on shutdown the loop stops accepting, HTTP connections finish
//! their requests in flight, WebSockets close with 1012, and [`serve`] waits for them all
//! (at most [`SHUTDOWN_GRACE`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::admission::{Admission, Refused, Ticket};

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;
/// How long a new connection may take to send its first byte and finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for connections to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long to pause when accepting fails (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a connection shut down after its last answer keeps reading until the client
/// closes too.
const LINGER: Duration = Duration::from_secs(2);
/// Headers hyper parses in one request; the HTTP layer answers more than its own limit
/// with an AWS-shaped 431, which it can only do for requests hyper parsed.
const HYPER_MAX_HEADERS: usize = 4 * super::http::MAX_HEADERS;

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
    /// The connection budget.
    pub(crate) admission: Arc<Admission>,
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
            Ok((stream, peer)) => match door.admission.admit(peer.ip()) {
                Ok(ticket) => {
                    door.tracker.spawn(connection(door.clone(), stream, peer, ticket));
                }
                Err(refused) => refuse(stream, peer, refused),
            },
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

/// Closes a connection over the budget at once: it has sent nothing yet, and a TLS client
/// could not read a plain answer.
fn refuse(stream: TcpStream, peer: SocketAddr, refused: Refused) {
    match refused {
        Refused::Full => tracing::debug!(%peer, "connection refused: max_connections are open"),
        Refused::PeerFull => tracing::debug!(%peer, "connection refused: the peer holds max_connections_per_peer"),
    }
    drop(stream);
}

async fn connection(door: Arc<FrontDoor>, stream: TcpStream, peer: SocketAddr, ticket: Ticket) {
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
                Ok(Ok(tls)) => http(&door, Socket::new(tls, ticket), peer).await,
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
        Ok(Ok(1)) => http(&door, Socket::new(stream, ticket), peer).await,
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tracing::debug!(%peer, %error, "reading a new connection failed"),
        Err(_) => tracing::debug!(%peer, "a new connection sent nothing"),
    }
}

async fn http<I: Farewell>(door: &FrontDoor, socket: Socket<I>, peer: SocketAddr) {
    let mut builder = auto::Builder::new(Tracked(door.tracker.clone()));
    builder.http1().timer(TokioTimer::new()).max_headers(HYPER_MAX_HEADERS);
    builder.http2().timer(TokioTimer::new());
    let class = socket.ticket.class();
    let router = door.router.clone().map_request(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(class);
        request
    });
    let service = TowerToHyperService::new(router);
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(socket), service);
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

/// What a transport does just before its socket closes.
trait Farewell: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Says goodbye without blocking, as far as the socket takes it.
    fn farewell(&mut self);
}

impl Farewell for TcpStream {
    fn farewell(&mut self) {}
}

impl Farewell for TlsStream<TcpStream> {
    /// Queues `close_notify` (once: rustls ignores a second call) and writes what the
    /// socket takes now; hyper may already have sent it on a clean shutdown.
    fn farewell(&mut self) {
        let (tcp, tls) = self.get_mut();
        tls.send_close_notify();
        while tls.wants_write() {
            match tls.write_tls(&mut NonBlocking(tcp)) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

/// A TCP stream written without waiting.
struct NonBlocking<'a>(&'a TcpStream);

impl io::Write for NonBlocking<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An admitted connection's transport: it holds the connection's ticket, lingers when shut
/// down, and says goodbye when dropped, wherever that happens (hyper, or the WebSocket task
/// after an upgrade).
struct Socket<I: Farewell> {
    io: I,
    ticket: Ticket,
    /// When lingering ends, once the shutdown has begun.
    linger: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<I: Farewell> Socket<I> {
    fn new(io: I, ticket: Ticket) -> Self {
        Socket { io, ticket, linger: None }
    }
}

impl<I: Farewell> Drop for Socket<I> {
    fn drop(&mut self) {
        self.io.farewell();
    }
}

impl<I: Farewell> AsyncRead for Socket<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: Farewell> AsyncWrite for Socket<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Shuts the write side, then reads and drops until the client closes or [`LINGER`] passes.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
        let socket = &mut *self;
        let linger = socket.linger.get_or_insert_with(|| Box::pin(tokio::time::sleep(LINGER)));
        let mut scratch = [0u8; 4096];
        loop {
            if linger.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut dropped = ReadBuf::new(&mut scratch);
            match Pin::new(&mut socket.io).poll_read(cx, &mut dropped) {
                Poll::Ready(Ok(())) if !dropped.filled().is_empty() => continue,
                Poll::Ready(_) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
