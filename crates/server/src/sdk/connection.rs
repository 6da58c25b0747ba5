//! One task per SDK WebSocket (`server-sdk-protocol.md` sections 1.3, 2 and 8.3–8.7),
//! driven by [`crate::socket`]; this module is what the SDK endpoint says:
//!
//! * A repeated `RequestId` gets the response already sent (the C++ SDK resends).
//! * After a successful `TerminateServerProcess` the connection closes with 1000 a second
//!   later, so the SDK reads the 200 before the close.
//! * A connection sending more than [`BURST`] frames at once (refilled at
//!   [`RATE_PER_SECOND`]) is closed with 1008; frames over [`MAX_MESSAGE_BYTES`] end it.
//! * A successful `ActivateServerProcess` or `ActivateGameSession` is reported to the
//!   process's agent ([`crate::agent`]).

use std::sync::Arc;

use hyper::upgrade::OnUpgrade;

use super::handlers::{self, Caller};
use super::messages::{self, Failure};
use super::session_actions;
use crate::app::App;
use crate::hosting::agents::Notice;
use crate::hosting::registry::Attached;
use crate::socket::{self, Budget, Conversation, Settings, Wiring};

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

/// How SDK connections are driven.
const SETTINGS: Settings = Settings {
    endpoint: "sdk",
    max_message_bytes: MAX_MESSAGE_BYTES,
    read_buffer_bytes: Some(READ_BUFFER_BYTES),
    budget: Some(Budget { burst: BURST, rate_per_second: RATE_PER_SECOND }),
    ending_reason: "server process ended",
    outlives_queue: false,
};

/// One process's side of the conversation.
struct Process<'a> {
    app: &'a App,
    caller: Caller<'a>,
}

impl Conversation for Process<'_> {
    async fn answer(&mut self, text: &str) -> Option<(String, bool)> {
        answer(self.app, self.caller, text).await
    }
}

/// Runs one connection of `process_id` from the upgrade until it ends, then detaches it.
pub(super) async fn run(app: Arc<App>, on_upgrade: OnUpgrade, process_id: String, attached: Attached) {
    let Attached { generation, outbound, kill } = attached;
    let wiring = Wiring { outbound, kill, shutdown: app.sdk.tasks.cancel.clone() };
    let mut process = Process { app: &app, caller: Caller { process_id: &process_id, generation } };
    socket::drive(SETTINGS, &process_id, on_upgrade, wiring, &mut process).await;
    tracing::info!(process_id = %process_id, generation, "sdk connection closed");
    app.sdk.processes.detach(&process_id, generation, app.now());
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
        tell_agent(app, caller, action, &inbound.body).await;
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
async fn tell_agent(
    app: &App,
    caller: Caller<'_>,
    action: Option<&str>,
    body: &serde_json::Map<String, serde_json::Value>,
) {
    let notice = match action {
        Some("ActivateServerProcess") => Notice::ProcessRegistered,
        Some("ActivateGameSession") => match messages::string(body, "GameSessionId") {
            Ok(Some(game_session_id)) => Notice::GameSessionActivated(game_session_id),
            _ => return,
        },
        _ => return,
    };
    if let Some(info) = app.sdk.processes.get(caller.process_id) {
        app.services.hosting.notify_agent(&info, notice).await;
    }
}
