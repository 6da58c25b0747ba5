//! The agent's own WebSocket to its compute's `GameLiftAgentEndpoint`, as the GameLift
//! Agent opens it (`server-sdk-protocol.md` section 9):
//! `<endpoint>?FleetId=…&ComputeName=…&Authorization=<compute auth token>`.
//!
//! * One task owns the socket. It reconnects forever, backing off from 1 s to
//!   [`MAX_RECONNECT_DELAY`], with the newest auth token, so the agent survives a restart of
//!   the control plane.
//! * Requests carry a fresh `RequestId`; the answer with the same `RequestId` completes
//!   them (`StatusCode` 200, else an error). A request made while disconnected, or whose
//!   connection drops, fails at once; callers retry.
//! * Frames that answer no request are pushes, handed over by `Action`.
//! * [`AgentLink::connections`] counts successful connections, so the heartbeat can go out
//!   as soon as a connection opens.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

/// The longest wait between two connection attempts.
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(30);
/// How long opening the WebSocket may take (the GameLift Agent's 60 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest message accepted from the service.
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// A message the service sent on its own initiative.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    /// Its `Action`.
    pub action: String,
    /// The whole frame; fields are top-level members.
    pub body: Map<String, Value>,
}

/// Why a request got no successful answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// There is no open connection, or it closed before the answer came.
    #[error("not connected to the agent endpoint")]
    NotConnected,
    /// No answer within the time allowed.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The service answered with an error.
    #[error("the service answered {status}: {message}")]
    Refused {
        /// `StatusCode`.
        status: u16,
        /// `ErrorMessage`.
        message: String,
    },
}

impl LinkError {
    /// Whether trying again may succeed (a 4xx answer will not).
    pub fn is_retryable(&self) -> bool {
        !matches!(self, LinkError::Refused { status: 400..=499, .. })
    }
}

struct Request {
    action: &'static str,
    fields: Map<String, Value>,
    reply: oneshot::Sender<Result<Map<String, Value>, LinkError>>,
}

/// Where and as whom the agent connects.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    /// `GameLiftAgentEndpoint`.
    pub endpoint: String,
    /// The fleet.
    pub fleet_id: String,
    /// This compute's name.
    pub compute_name: String,
}

impl LinkTarget {
    /// The URL with the query the GameLift Agent sends, values percent-encoded.
    pub fn url(&self, token: &str) -> String {
        let encode = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
        let separator = if self.endpoint.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}FleetId={}&ComputeName={}&Authorization={}",
            self.endpoint,
            encode(&self.fleet_id),
            encode(&self.compute_name),
            encode(token)
        )
    }
}

/// A handle on the connection task; cheap to clone.
#[derive(Clone)]
pub struct AgentLink {
    requests: mpsc::Sender<Request>,
    connections: watch::Receiver<u64>,
}

impl AgentLink {
    /// Starts the connection task; it runs until `stop` is cancelled and hands pushes to
    /// `pushes`. `token` is the current compute auth token.
    pub fn start(
        target: LinkTarget,
        token: watch::Receiver<String>,
        pushes: mpsc::UnboundedSender<Push>,
        stop: CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) -> Self {
        let (requests, inbox) = mpsc::channel(64);
        let (connected, connections) = watch::channel(0);
        tracker.spawn(run(target, token, inbox, pushes, connected, stop));
        AgentLink { requests, connections }
    }

    /// Sends a request and waits up to `timeout` for its answer's fields.
    pub async fn call(
        &self,
        action: &'static str,
        fields: Map<String, Value>,
        timeout: Duration,
    ) -> Result<Map<String, Value>, LinkError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request { action, fields, reply }).await.map_err(|_| LinkError::NotConnected)?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(LinkError::NotConnected),
            Err(_) => Err(LinkError::Timeout(timeout)),
        }
    }

    /// How many connections have opened so far; changes on each (re)connection.
    pub fn connections(&self) -> watch::Receiver<u64> {
        self.connections.clone()
    }
}

async fn run(
    target: LinkTarget,
    token: watch::Receiver<String>,
    mut inbox: mpsc::Receiver<Request>,
    pushes: mpsc::UnboundedSender<Push>,
    connected: watch::Sender<u64>,
    stop: CancellationToken,
) {
    let mut delay = Duration::from_secs(1);
    loop {
        let url = target.url(&token.borrow());
        let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE_BYTES));
        let attempt = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), false),
        );
        let outcome = tokio::select! {
            () = stop.cancelled() => return,
            outcome = attempt => outcome,
        };
        match outcome {
            Ok(Ok((socket, _))) => {
                tracing::info!(endpoint = %target.endpoint, "agent connection open");
                delay = Duration::from_secs(1);
                connected.send_modify(|n| *n += 1);
                serve(socket, &mut inbox, &pushes, &stop).await;
                if stop.is_cancelled() {
                    return;
                }
                tracing::warn!(endpoint = %target.endpoint, "agent connection lost; reconnecting");
            }
            Ok(Err(error)) => {
                tracing::warn!(endpoint = %target.endpoint, %error, retry_in = ?delay, "agent connection failed")
            }
            Err(_) => tracing::warn!(endpoint = %target.endpoint, retry_in = ?delay, "agent connection timed out"),
        }
        let wait = tokio::time::sleep(delay);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = &mut wait => break,
                Some(request) = inbox.recv() => { let _ = request.reply.send(Err(LinkError::NotConnected)); }
            }
        }
        delay = (delay * 2).min(MAX_RECONNECT_DELAY);
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type Pending = HashMap<String, oneshot::Sender<Result<Map<String, Value>, LinkError>>>;

/// Serves one connection until it ends or `stop` is cancelled (then closes it with 1000).
async fn serve(
    mut socket: Socket,
    inbox: &mut mpsc::Receiver<Request>,
    pushes: &mpsc::UnboundedSender<Push>,
    stop: &CancellationToken,
) {
    // Dropping the pending senders fails their callers with NotConnected.
    let mut pending: Pending = HashMap::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
                return;
            }
            Some(request) = inbox.recv() => {
                let request_id = uuid::Uuid::new_v4().to_string();
                let mut frame = request.fields;
                frame.insert("Action".into(), Value::String(request.action.to_owned()));
                frame.insert("RequestId".into(), Value::String(request_id.clone()));
                if socket.send(Message::text(Value::Object(frame).to_string())).await.is_err() {
                    let _ = request.reply.send(Err(LinkError::NotConnected));
                    return;
                }
                pending.insert(request_id, request.reply);
            }
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => dispatch(&text, &mut pending, pushes),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// The push a text frame from the service carries when no request is waiting, `None` for a
/// frame the link ignores: routing alone, the entry point of the fuzz harness (`crates/fuzz`).
pub fn push_of(text: &str) -> Option<Push> {
    let (pushes, mut received) = mpsc::unbounded_channel();
    dispatch(text, &mut Pending::new(), &pushes);
    received.try_recv().ok()
}

/// Completes the request a frame answers, or hands it over as a push.
fn dispatch(text: &str, pending: &mut Pending, pushes: &mpsc::UnboundedSender<Push>) {
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(text) else {
        tracing::debug!("agent endpoint frame ignored: not a JSON object");
        return;
    };
    let request_id = body.get("RequestId").and_then(Value::as_str).unwrap_or_default();
    if let Some(reply) = pending.remove(request_id) {
        let status = body.get("StatusCode").and_then(Value::as_u64).unwrap_or(200);
        let result = if status == 200 {
            Ok(body)
        } else {
            let message = body.get("ErrorMessage").and_then(Value::as_str).unwrap_or_default().to_owned();
            Err(LinkError::Refused { status: u16::try_from(status).unwrap_or(500), message })
        };
        let _ = reply.send(result);
        return;
    }
    match body.get("Action").and_then(Value::as_str) {
        Some(action) => {
            let _ = pushes.send(Push { action: action.to_owned(), body: body.clone() });
        }
        None => tracing::debug!("agent endpoint frame ignored: no Action"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_carries_fleet_compute_and_token_encoded() {
        let target = LinkTarget {
            endpoint: "ws://10.0.0.1:9080/agent".into(),
            fleet_id: "fleet-1".into(),
            compute_name: "box-1".into(),
        };
        assert_eq!(
            target.url("a+b/c="),
            "ws://10.0.0.1:9080/agent?FleetId=fleet%2D1&ComputeName=box%2D1&Authorization=a%2Bb%2Fc%3D"
        );
    }

    #[test]
    fn answers_complete_their_request_and_the_rest_are_pushes() {
        let (pushes, mut received) = mpsc::unbounded_channel();
        let mut pending = Pending::new();
        let (reply, mut answer) = oneshot::channel();
        pending.insert("r1".into(), reply);
        dispatch(
            r#"{"Action":"SendHeartbeat","RequestId":"r1","StatusCode":200,"Status":"Active"}"#,
            &mut pending,
            &pushes,
        );
        let fields = answer.try_recv().unwrap().unwrap();
        assert_eq!(fields["Status"], "Active");

        let (reply, mut answer) = oneshot::channel();
        pending.insert("r2".into(), reply);
        dispatch(r#"{"Action":"X","RequestId":"r2","StatusCode":400,"ErrorMessage":"no"}"#, &mut pending, &pushes);
        let error = answer.try_recv().unwrap().unwrap_err();
        assert_eq!(error, LinkError::Refused { status: 400, message: "no".into() });
        assert!(!error.is_retryable());

        dispatch(
            r#"{"Action":"ForceExitServerProcess","RequestId":"p","StatusCode":200,"ProcessId":"x"}"#,
            &mut pending,
            &pushes,
        );
        let push = received.try_recv().unwrap();
        assert_eq!((push.action.as_str(), &push.body["ProcessId"]), ("ForceExitServerProcess", &Value::from("x")));
    }
}
