//! The one connection driver of both WebSocket endpoints (`server-sdk-protocol.md`
//! sections 1.3, 8.3–8.7 and 9): from the upgrade to the close, the task is the
//! connection's only writer. It answers each text frame through the endpoint's
//! [`Conversation`] and drains the endpoint's bounded outbound queue of pushes.
//!
//! * Text frames are answered in order; binary frames are ignored, pings answered (by
//!   tungstenite). Frames over the endpoint's message limit end the connection.
//! * With a frame [`Budget`], a connection sending more than its burst (refilled at its
//!   rate) is closed with 1008; only that connection suffers.
//! * A server ping every [`PING_INTERVAL`]; a connection silent for [`IDLE_LIMIT`] is dropped.
//! * On server shutdown the close code is 1012 (service restart): the official SDKs and
//!   agents treat anything but 1000/1001 as abnormal and reconnect. A connection killed by
//!   its owner (it stopped reading, or a newer one replaced it) is cut without a close frame,
//!   which makes the peer reconnect too.
//! * An answer may ask the connection to close with 1000 a moment later, so the peer reads
//!   the answer before the close.

use std::future::{Future, pending};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_util::sync::CancellationToken;

/// How often the server pings.
pub const PING_INTERVAL: Duration = Duration::from_secs(60);
/// How long a connection may stay silent (not even a pong) before it is dropped.
pub const IDLE_LIMIT: Duration = Duration::from_secs(5 * 60);
/// How long after an answer that ends the conversation the connection is closed.
const CLOSE_AFTER_ENDING: Duration = Duration::from_secs(1);
/// How long to wait for the peer's close frame after sending ours.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// What the endpoint says to one text frame.
pub(crate) trait Conversation: Send {
    /// The reply to `text`, and whether it ends the conversation (the connection then closes
    /// with 1000 a moment later); `None` for a frame that gets no reply.
    fn answer(&mut self, text: &str) -> impl Future<Output = Option<(String, bool)>> + Send;
}

/// What the endpoint queues for its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A text frame to send.
    Frame(String),
    /// Close the connection with this code and reason.
    Close(u16, &'static str),
}

impl From<String> for Outgoing {
    fn from(frame: String) -> Self {
        Outgoing::Frame(frame)
    }
}

/// A token bucket of inbound frames.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Frames a connection may send at once before the rate applies.
    pub burst: f64,
    /// Frames per second a connection may send on average.
    pub rate_per_second: f64,
}

/// How one endpoint's connections are driven.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// The endpoint's name in the logs (`sdk`, `agent`).
    pub endpoint: &'static str,
    /// Largest message and frame accepted.
    pub max_message_bytes: usize,
    /// Bytes read from the socket at a time, if not tungstenite's default.
    pub read_buffer_bytes: Option<usize>,
    /// The inbound frame budget, if any.
    pub budget: Option<Budget>,
    /// The reason of the 1000 close after an answer that ends the conversation.
    pub ending_reason: &'static str,
    /// Whether the connection goes on once its outbound queue is closed (an agent may still
    /// report after its compute was deregistered) rather than being cut.
    pub outlives_queue: bool,
}

/// A connection's parts: its outbound queue, its kill switch, the server's shutdown.
pub(crate) struct Wiring<O> {
    /// Pushes for the connection.
    pub outbound: mpsc::Receiver<O>,
    /// Cuts the connection without a close frame.
    pub kill: CancellationToken,
    /// Closes it with 1012.
    pub shutdown: CancellationToken,
}

/// How the connection ends.
enum Stop {
    /// Send a close frame.
    Close(u16, &'static str),
    /// Cut the socket without one.
    Drop,
}

/// Drives one connection from the upgrade until it ends; `peer` names it in the logs.
pub(crate) async fn drive<O: Into<Outgoing> + Send>(
    settings: Settings,
    peer: &str,
    on_upgrade: OnUpgrade,
    mut wiring: Wiring<O>,
    conversation: &mut impl Conversation,
) {
    let upgraded = tokio::select! {
        upgraded = on_upgrade => upgraded,
        () = wiring.shutdown.cancelled() => return,
    };
    let upgraded = match upgraded {
        Ok(upgraded) => upgraded,
        Err(error) => {
            tracing::debug!(endpoint = settings.endpoint, peer, %error, "upgrade did not complete");
            return;
        }
    };
    let mut config = WebSocketConfig::default()
        .max_message_size(Some(settings.max_message_bytes))
        .max_frame_size(Some(settings.max_message_bytes));
    if let Some(bytes) = settings.read_buffer_bytes {
        config = config.read_buffer_size(bytes);
    }
    let mut socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    if let Stop::Close(code, reason) = serve(settings, peer, &mut socket, &mut wiring, conversation).await {
        tracing::debug!(endpoint = settings.endpoint, peer, code, reason, "closing connection");
        let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
        if socket.close(Some(frame)).await.is_ok() {
            let drain = async { while let Some(Ok(_)) = socket.next().await {} };
            let _ = tokio::time::timeout(CLOSE_HANDSHAKE, drain).await;
        }
    }
}

async fn serve<O: Into<Outgoing>>(
    settings: Settings,
    peer: &str,
    socket: &mut Socket,
    wiring: &mut Wiring<O>,
    conversation: &mut impl Conversation,
) -> Stop {
    let mut budget = settings.budget.map(|b| (b, b.burst, Instant::now()));
    let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
    let mut last_heard = Instant::now();
    let mut closing: Option<Instant> = None;
    let mut queue_open = true;
    loop {
        let close_due = async {
            match closing {
                Some(at) => tokio::time::sleep_until(at).await,
                None => pending().await,
            }
        };
        tokio::select! {
            () = wiring.shutdown.cancelled() => return Stop::Close(1012, "server restarting"),
            () = wiring.kill.cancelled() => return Stop::Drop,
            () = close_due => return Stop::Close(1000, settings.ending_reason),
            out = wiring.outbound.recv(), if queue_open => match out.map(Into::into) {
                Some(Outgoing::Frame(frame)) => {
                    if socket.send(Message::text(frame)).await.is_err() {
                        return Stop::Drop;
                    }
                }
                Some(Outgoing::Close(code, reason)) => return Stop::Close(code, reason),
                None if settings.outlives_queue => queue_open = false,
                None => return Stop::Drop,
            },
            _ = ping.tick() => {
                if last_heard.elapsed() >= IDLE_LIMIT {
                    tracing::info!(endpoint = settings.endpoint, peer, "connection silent; dropping it");
                    return Stop::Drop;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return Stop::Drop;
                }
            }
            frame = socket.next() => {
                last_heard = Instant::now();
                let text = match frame {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Stop::Drop,
                    Some(Ok(Message::Text(text))) => Some(text),
                    Some(Ok(Message::Binary(_))) => None,
                    Some(Ok(_)) => continue,
                };
                if let Some((limits, tokens, refilled)) = &mut budget
                    && !take(limits, tokens, refilled)
                {
                    tracing::warn!(endpoint = settings.endpoint, peer, "connection floods; closing it");
                    return Stop::Close(1008, "too many messages");
                }
                let Some(text) = text else {
                    tracing::debug!(endpoint = settings.endpoint, peer, "binary frame ignored");
                    continue;
                };
                let Some((reply, ending)) = conversation.answer(&text).await else {
                    continue;
                };
                if socket.send(Message::text(reply)).await.is_err() {
                    return Stop::Drop;
                }
                if ending && closing.is_none() {
                    closing = Some(Instant::now() + CLOSE_AFTER_ENDING);
                }
            }
        }
    }
}

/// Takes one frame from the bucket (`tokens`, last refilled at `refilled`); `false` when it
/// is empty.
fn take(limits: &Budget, tokens: &mut f64, refilled: &mut Instant) -> bool {
    let now = Instant::now();
    let earned = now.duration_since(*refilled).as_secs_f64() * limits.rate_per_second;
    *tokens = (*tokens + earned).min(limits.burst);
    *refilled = now;
    if *tokens < 1.0 {
        return false;
    }
    *tokens -= 1.0;
    true
}
