//! One task per agent WebSocket (`server-sdk-protocol.md` section 9): the connection's only
//! writer answers the agent's requests in order and drains the outbound queue of pushes.
//!
//! * Messages may be up to [`MAX_MESSAGE_BYTES`], room for `UploadProcessLogs` with the
//!   agent's 3 MB of logs in base64.
//! * A server ping every [`PING_INTERVAL`]; a connection silent for [`IDLE_LIMIT`] is dropped.
//! * On server shutdown the close code is 1012 (service restart), so the agent reconnects;
//!   a connection replaced by a newer one of the same agent is cut. The connection of a
//!   deregistered compute stays open, so its agent can report the endings of its shutdown.

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

use super::Attached;
use super::handlers::{self, Caller};
use super::query::AgentQuery;
use crate::app::App;
use crate::sdk::messages::{self, Failure};

/// Largest message accepted.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;
/// How often the server pings.
pub const PING_INTERVAL: Duration = Duration::from_secs(60);
/// How long a connection may stay silent (not even a pong) before it is dropped.
pub const IDLE_LIMIT: Duration = Duration::from_secs(5 * 60);

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Runs one agent connection from the upgrade until it ends, then detaches it.
pub(super) async fn run(app: Arc<App>, on_upgrade: OnUpgrade, query: AgentQuery, attached: Attached) {
    let Attached { generation, mut outbound, kill } = attached;
    let (fleet_id, compute_name) = (query.fleet_id.as_str(), query.compute_name.as_str());
    let upgraded = tokio::select! {
        upgraded = on_upgrade => upgraded.ok(),
        () = app.sdk.tasks.cancel.cancelled() => None,
    };
    if let Some(upgraded) = upgraded {
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let mut socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
        let caller = Caller { fleet_id, compute_name, generation };
        if serve(&app, caller, &mut socket, &mut outbound, &kill).await {
            let frame = CloseFrame { code: CloseCode::Restart, reason: "server restarting".into() };
            let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(Some(frame))).await;
        }
    }
    tracing::info!(fleet_id, compute = compute_name, generation, "agent connection closed");
    app.agents.detach(fleet_id, compute_name, generation);
}

/// Serves the connection; `true` if it should be closed with a close frame (server shutdown).
async fn serve(
    app: &App,
    caller: Caller<'_>,
    socket: &mut Socket,
    outbound: &mut tokio::sync::mpsc::Receiver<String>,
    kill: &tokio_util::sync::CancellationToken,
) -> bool {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
    let mut last_heard = Instant::now();
    let mut forgotten = false;
    loop {
        tokio::select! {
            () = app.sdk.tasks.cancel.cancelled() => return true,
            () = kill.cancelled() => return false,
            out = outbound.recv(), if !forgotten => match out {
                Some(frame) => {
                    if socket.send(Message::text(frame)).await.is_err() {
                        return false;
                    }
                }
                // The compute was deregistered: the agent may still report its last endings.
                None => forgotten = true,
            },
            _ = ping.tick() => {
                if last_heard.elapsed() >= IDLE_LIMIT {
                    tracing::info!(compute = caller.compute_name, "agent connection silent; dropping it");
                    return false;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return false;
                }
            }
            frame = socket.next() => {
                last_heard = Instant::now();
                let text = match frame {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return false,
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                };
                if let Some(reply) = answer(app, caller, &text).await
                    && socket.send(Message::text(reply)).await.is_err()
                {
                    return false;
                }
            }
        }
    }
}

/// The response to one text frame; `None` for a frame that cannot be answered.
async fn answer(app: &App, caller: Caller<'_>, text: &str) -> Option<String> {
    let inbound = match messages::parse(text) {
        Ok(inbound) => inbound,
        Err(why) => {
            tracing::info!(compute = caller.compute_name, ?why, "agent frame ignored");
            return None;
        }
    };
    let action = inbound.action.as_deref();
    let outcome = match action {
        Some(action) => handlers::handle(app, caller, action, &inbound.body).await,
        None => Err(Failure::bad_request("Action is missing.")),
    };
    if let Err(failure) = &outcome {
        tracing::info!(compute = caller.compute_name, action = ?action, request_id = %inbound.request_id,
            status = failure.status, message = %failure.message, "agent request refused");
    }
    Some(messages::reply(action, &inbound.request_id, outcome))
}
