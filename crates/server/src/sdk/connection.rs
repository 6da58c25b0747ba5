//! One task per SDK WebSocket (`server-sdk-protocol.md` sections 1.3, 2 and 8.3–8.7).
//!
//! The task is the connection's only writer: it answers requests inline (every handler is
//! an in-memory registry operation) and drains the bounded outbound queue the registry
//! pushes into. Rules it applies:
//!
//! * Text frames only; binary frames are ignored, pings answered (by tungstenite).
//! * A repeated `RequestId` gets the response already sent (the C++ SDK resends).
//! * After a successful `TerminateServerProcess` the connection closes with 1000 a second
//!   later, so the SDK reads the 200 before the close.
//! * A connection sending more than its frame budget ([`BURST`] frames, refilled at
//!   [`RATE_PER_SECOND`]) is closed with 1008; frames over [`MAX_MESSAGE_BYTES`] end it.
//!   Either way only that connection suffers.
//! * A successful `ActivateServerProcess` or `ActivateGameSession` is reported to the
//!   process's agent ([`crate::agent`]).
//! * A server ping every [`PING_INTERVAL`]; a connection silent for [`IDLE_LIMIT`] is dropped.
//! * On server shutdown the close code is 1012 (service restart): the SDKs treat anything
//!   but 1000/1001 as abnormal and reconnect. A connection dropped by the registry (it
//!   stopped reading) is cut without a close frame, which makes the SDK reconnect too.

use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};

use super::handlers::{self, Caller};
use super::messages::{self, Failure};
use super::registry::{Attached, Outbound};
use super::session_actions;
use crate::app::App;

/// Largest message accepted; SDK requests are a few hundred bytes.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Bytes read from the socket at a time. tungstenite zeroes its whole read buffer before
/// every read, so its 128 KiB default costs a 128 KiB memset per message; SDK messages fit in
/// a few hundred bytes, and a larger frame still reserves its full length.
const READ_BUFFER_BYTES: usize = 4096;
/// Frames a connection may send at once before the rate applies (a join storm of a few
/// hundred `AcceptPlayerSession`s fits).
pub const BURST: f64 = 500.0;
/// Frames per second a connection may send on average.
pub const RATE_PER_SECOND: f64 = 100.0;
/// How often the server pings.
pub const PING_INTERVAL: Duration = Duration::from_secs(60);
/// How long a connection may stay silent (not even a pong) before it is dropped.
pub const IDLE_LIMIT: Duration = Duration::from_secs(5 * 60);
/// How long after answering `TerminateServerProcess` the connection is closed.
const CLOSE_AFTER_ENDING: Duration = Duration::from_secs(1);
/// How long to wait for the peer's close frame after sending ours.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// A token bucket of inbound frames.
struct Budget {
    tokens: f64,
    refilled: Instant,
}

impl Budget {
    fn new() -> Self {
        Budget { tokens: BURST, refilled: Instant::now() }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * RATE_PER_SECOND;
        self.tokens = (self.tokens + earned).min(BURST);
        self.refilled = now;
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// How the connection ends.
enum Stop {
    /// Send a close frame.
    Close(u16, &'static str),
    /// Cut the socket without one.
    Drop,
}

/// Runs one connection of `process_id` from the upgrade until it ends, then detaches it.
pub(super) async fn run(app: Arc<App>, on_upgrade: OnUpgrade, process_id: String, attached: Attached) {
    let Attached { generation, mut outbound, kill } = attached;
    let upgraded = tokio::select! {
        upgraded = on_upgrade => upgraded,
        () = app.sdk.tasks.cancel.cancelled() => {
            app.sdk.processes.detach(&process_id, generation, app.now());
            return;
        }
    };
    match upgraded {
        Ok(upgraded) => {
            let config = WebSocketConfig::default()
                .read_buffer_size(READ_BUFFER_BYTES)
                .max_message_size(Some(MAX_MESSAGE_BYTES))
                .max_frame_size(Some(MAX_MESSAGE_BYTES));
            let mut socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
            let caller = Caller { process_id: &process_id, generation };
            let stop = serve(&app, caller, &mut socket, &mut outbound, &kill).await;
            if let Stop::Close(code, reason) = stop {
                tracing::debug!(process_id = %process_id, generation, code, reason, "closing sdk connection");
                let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                if socket.close(Some(frame)).await.is_ok() {
                    let drain = async { while let Some(Ok(_)) = socket.next().await {} };
                    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, drain).await;
                }
            }
        }
        Err(error) => tracing::debug!(process_id = %process_id, %error, "upgrade did not complete"),
    }
    tracing::info!(process_id = %process_id, generation, "sdk connection closed");
    app.sdk.processes.detach(&process_id, generation, app.now());
}

async fn serve(
    app: &App,
    caller: Caller<'_>,
    socket: &mut Socket,
    outbound: &mut tokio::sync::mpsc::Receiver<Outbound>,
    kill: &tokio_util::sync::CancellationToken,
) -> Stop {
    let mut budget = Budget::new();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
    let mut last_heard = Instant::now();
    let mut closing: Option<Instant> = None;
    loop {
        let close_due = async {
            match closing {
                Some(at) => tokio::time::sleep_until(at).await,
                None => pending().await,
            }
        };
        tokio::select! {
            () = app.sdk.tasks.cancel.cancelled() => return Stop::Close(1012, "server restarting"),
            () = kill.cancelled() => return Stop::Drop,
            () = close_due => return Stop::Close(1000, "server process ended"),
            out = outbound.recv() => match out {
                Some(Outbound::Frame(frame)) => {
                    if socket.send(Message::text(frame)).await.is_err() {
                        return Stop::Drop;
                    }
                }
                Some(Outbound::Close(code, reason)) => return Stop::Close(code, reason),
                None => return Stop::Drop,
            },
            _ = ping.tick() => {
                if last_heard.elapsed() >= IDLE_LIMIT {
                    tracing::info!(process_id = %caller.process_id, "sdk connection silent; dropping it");
                    return Stop::Drop;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return Stop::Drop;
                }
            }
            frame = socket.next() => {
                last_heard = Instant::now();
                let text = match frame {
                    None | Some(Err(_)) => return Stop::Drop,
                    Some(Ok(Message::Text(text))) => Some(text),
                    Some(Ok(Message::Binary(_))) => None,
                    Some(Ok(_)) => continue,
                };
                if !budget.take() {
                    tracing::warn!(process_id = %caller.process_id, "sdk connection floods; closing it");
                    return Stop::Close(1008, "too many messages");
                }
                let Some(text) = text else {
                    tracing::debug!(process_id = %caller.process_id, "binary frame ignored");
                    continue;
                };
                let Some((reply, ending)) = answer(app, caller, &text).await else {
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

/// The response to one text frame, and whether it ended the process; `None` for a frame
/// that cannot be answered.
async fn answer(app: &App, caller: Caller<'_>, text: &str) -> Option<(String, bool)> {
    let registry = &app.sdk.processes;
    let inbound = match messages::parse(text) {
        Ok(inbound) => inbound,
        Err(why) => {
            tracing::info!(process_id = %caller.process_id, ?why, "sdk frame ignored");
            return None;
        }
    };
    if let Some(cached) = registry.cached_reply(caller.process_id, &inbound.request_id) {
        tracing::debug!(process_id = %caller.process_id, request_id = %inbound.request_id, "repeated request");
        return Some((cached, false));
    }
    let action = inbound.action.as_deref();
    let outcome = match action {
        Some(action) => match session_actions::handle(app, caller, action, &inbound.body).await {
            Some(outcome) => outcome,
            None => handlers::handle(registry, caller, action, &inbound.body, app.now()),
        },
        None => Err(Failure::bad_request("Action is missing.")),
    };
    let outcome = match outcome {
        Ok(fields) if action == Some("ActivateServerProcess") => {
            match super::durable::remember(app, caller.process_id).await {
                Ok(()) => Ok(fields),
                Err(error) => {
                    tracing::error!(process_id = %caller.process_id, %error, "could not record the ready process");
                    Err(Failure::internal())
                }
            }
        }
        other => other,
    };
    if let Err(failure) = &outcome {
        tracing::info!(process_id = %caller.process_id, action = ?action, request_id = %inbound.request_id,
            status = failure.status, message = %failure.message, "sdk request refused");
    }
    if outcome.is_ok() {
        tell_agent(app, caller, action, &inbound.body);
    }
    let ending = action == Some("TerminateServerProcess") && outcome.is_ok();
    if ending && let Some(info) = registry.get(caller.process_id) {
        app.services.sessions.process_ended(&info, None).await;
    }
    let frame = messages::reply(action, &inbound.request_id, outcome);
    registry.remember_reply(caller.process_id, &inbound.request_id, &frame);
    Some((frame, ending))
}

/// Tells the process's agent that it became ready or activated its game session.
fn tell_agent(app: &App, caller: Caller<'_>, action: Option<&str>, body: &serde_json::Map<String, serde_json::Value>) {
    let process = || app.sdk.processes.get(caller.process_id);
    match action {
        Some("ActivateServerProcess") => {
            if let Some(info) = process() {
                crate::agent::process_registered(app, &info);
            }
        }
        Some("ActivateGameSession") => {
            if let (Ok(Some(game_session_id)), Some(info)) = (messages::string(body, "GameSessionId"), process()) {
                crate::agent::game_session_activated(app, &info, game_session_id);
            }
        }
        _ => {}
    }
}
