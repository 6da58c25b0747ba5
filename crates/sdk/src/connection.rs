//! The connection to the service: request/response correlation by `RequestId` (protocol spec
//! §2), reconnects after an abrupt disconnect (§5) and `RefreshConnection` (§4).
//!
//! One manager task owns the WebSocket. API calls hand it encoded frames through an mpsc
//! channel (so it is the single writer) and wait on a oneshot registered under the request ID.

use std::collections::HashMap;
use std::future::{Future, pending};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::endpoint::{Endpoint, WsStream, connect};
use crate::error::{Error, ServiceErrorKind};
use crate::message::{Inbound, Push, RefreshConnection, Request, ServiceFailure, decode};
use crate::options::Timings;

type Reply = Result<Value, ServiceFailure>;

/// Requests waiting for their response, by request ID.
#[derive(Default)]
struct Pending(Mutex<HashMap<String, (&'static str, oneshot::Sender<Reply>)>>);

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (&'static str, oneshot::Sender<Reply>)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a request's entry when its caller stops waiting.
struct PendingEntry<'a> {
    pending: &'a Pending,
    request_id: String,
}

impl Drop for PendingEntry<'_> {
    fn drop(&mut self) {
        self.pending.lock().remove(&self.request_id);
    }
}

/// The cloneable handle API calls send requests through.
#[derive(Clone)]
pub(crate) struct Link {
    outbound: mpsc::Sender<String>,
    pending: Arc<Pending>,
}

impl Link {
    /// Sends `request` and waits up to `timeout` for its response frame.
    pub(crate) async fn call(&self, request: Request, timeout: Duration) -> Result<Value, Error> {
        let action = request.action();
        let request_id = uuid::Uuid::new_v4().to_string();
        let frame = request.encode(&request_id).expect("requests hold only strings, numbers and string-keyed maps");
        let (sender, receiver) = oneshot::channel();
        self.pending.lock().insert(request_id.clone(), (action, sender));
        let _entry = PendingEntry { pending: &self.pending, request_id };
        let exchange = async {
            self.outbound.send(frame).await.map_err(|_| Error::ConnectionClosed)?;
            receiver.await.map_err(|_| Error::ConnectionClosed)
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_elapsed) => Err(Error::Timeout { action, timeout }),
            Ok(Err(error)) => Err(error),
            Ok(Ok(Ok(frame))) => Ok(frame),
            Ok(Ok(Err(failure))) => Err(Error::Service {
                action,
                kind: ServiceErrorKind::from_status(failure.status),
                status: failure.status,
                message: failure.message,
            }),
        }
    }
}

/// An old connection that may still deliver responses after a refresh.
struct Draining {
    stream: WsStream,
    deadline: Instant,
}

type Refreshing = Pin<Box<dyn Future<Output = (Endpoint, Result<WsStream, Error>)> + Send>>;

/// What woke the manager.
enum Step {
    Stop,
    Send(String),
    Frame(Option<Result<Message, tungstenite::Error>>),
    OldFrame(Option<Result<Message, tungstenite::Error>>),
    /// Boxed: an open WebSocket is large and the other steps are small.
    Refreshed(Box<(Endpoint, Result<WsStream, Error>)>),
}

/// The task that owns the connection.
pub(crate) struct Manager {
    endpoint: Endpoint,
    tls: Arc<ClientConfig>,
    timings: Timings,
    outbound: mpsc::Receiver<String>,
    pending: Arc<Pending>,
    pushes: mpsc::UnboundedSender<Push>,
    cancel: CancellationToken,
}

impl Manager {
    /// Opens the first connection (with retries) and returns the manager and its link.
    pub(crate) async fn open(
        endpoint: Endpoint,
        tls: Arc<ClientConfig>,
        timings: Timings,
        pushes: mpsc::UnboundedSender<Push>,
        cancel: CancellationToken,
    ) -> Result<(Self, WsStream, Link), Error> {
        let stream = connect(&endpoint, &tls, &timings).await?;
        let (outbound_tx, outbound) = mpsc::channel(64);
        let pending = Arc::new(Pending::default());
        let link = Link { outbound: outbound_tx, pending: pending.clone() };
        let manager = Self { endpoint, tls, timings, outbound, pending, pushes, cancel };
        Ok((manager, stream, link))
    }

    /// Runs until cancelled, closed by the service, or out of reconnect attempts.
    pub(crate) async fn run(mut self, mut stream: WsStream) {
        let mut draining: Option<Draining> = None;
        let mut refreshing: Option<Refreshing> = None;
        loop {
            let step = tokio::select! {
                () = self.cancel.cancelled() => Step::Stop,
                frame = self.outbound.recv() => frame.map_or(Step::Stop, Step::Send),
                frame = stream.next() => Step::Frame(frame),
                frame = next_old(&mut draining) => Step::OldFrame(frame),
                refreshed = poll_refresh(&mut refreshing) => Step::Refreshed(Box::new(refreshed)),
            };
            match step {
                Step::Stop => {
                    close(&mut stream, CloseCode::Normal, "process shutting down").await;
                    break;
                }
                Step::Send(frame) => {
                    if !self.send(&mut stream, frame).await {
                        break;
                    }
                }
                Step::Frame(Some(Ok(Message::Text(text)))) => {
                    if let Some(refresh) = self.dispatch(&text)
                        && refreshing.is_none()
                    {
                        refreshing = Some(self.refresh(refresh));
                    }
                }
                Step::Frame(Some(Ok(Message::Close(frame)))) if is_normal_close(frame.as_ref()) => {
                    info!(?frame, "the service closed the connection");
                    // Sends the close reply tungstenite queued when it read the close.
                    if let Err(error) = stream.flush().await {
                        debug!(%error, "answering the close");
                    }
                    self.complete_on_close();
                    break;
                }
                Step::Frame(Some(Ok(message))) if !message.is_close() => {}
                Step::Frame(lost) => {
                    warn!(?lost, "connection lost; reconnecting");
                    let Some(reconnected) = self.reconnect().await else {
                        break;
                    };
                    stream = reconnected;
                }
                Step::OldFrame(Some(Ok(Message::Text(text)))) => {
                    self.dispatch(&text);
                }
                Step::OldFrame(Some(Ok(_))) => {}
                Step::OldFrame(Some(Err(_)) | None) => draining = None,
                Step::Refreshed(refreshed) => {
                    refreshing = None;
                    let (endpoint, result) = *refreshed;
                    match result {
                        Ok(fresh) => draining = Some(self.switch(&mut stream, endpoint, fresh).await),
                        Err(error) => {
                            warn!(url = %endpoint.base_url, %error, "refreshing the connection failed; keeping the current one");
                        }
                    }
                }
            }
        }
        self.pending.lock().clear();
    }

    /// Makes `fresh` the current connection and starts closing the old one, which may still
    /// deliver responses until the refresh close timeout.
    async fn switch(&mut self, stream: &mut WsStream, endpoint: Endpoint, mut fresh: WsStream) -> Draining {
        info!(url = %endpoint.base_url, "switched to the refreshed connection");
        self.endpoint = endpoint;
        std::mem::swap(stream, &mut fresh);
        close(&mut fresh, CloseCode::Normal, "connection refreshed").await;
        Draining { stream: fresh, deadline: Instant::now() + self.timings.refresh_close_timeout }
    }

    /// Writes one frame; on failure reconnects and writes it again on the new connection.
    /// Returns false once reconnecting gave up.
    async fn send(&self, stream: &mut WsStream, frame: String) -> bool {
        loop {
            match stream.send(Message::text(frame.clone())).await {
                Ok(()) => return true,
                Err(error) => {
                    warn!(%error, "sending failed; reconnecting");
                    match self.reconnect().await {
                        Some(reconnected) => *stream = reconnected,
                        None => return false,
                    }
                }
            }
        }
    }

    /// Reconnects with backoff, unless cancelled first.
    async fn reconnect(&self) -> Option<WsStream> {
        tokio::select! {
            () = self.cancel.cancelled() => None,
            result = connect(&self.endpoint, &self.tls, &self.timings) => match result {
                Ok(stream) => {
                    info!("reconnected to the service");
                    Some(stream)
                }
                Err(error) => {
                    warn!(%error, "giving up reconnecting");
                    None
                }
            },
        }
    }

    /// Starts opening the connection a `RefreshConnection` push points to.
    fn refresh(&self, refresh: RefreshConnection) -> Refreshing {
        let endpoint = self.endpoint.refreshed(&refresh.refresh_connection_endpoint, refresh.auth_token);
        let tls = self.tls.clone();
        let timings = self.timings.clone();
        Box::pin(async move {
            let result = connect(&endpoint, &tls, &timings).await;
            (endpoint, result)
        })
    }

    /// Routes one frame; returns a refresh request for the caller to act on.
    fn dispatch(&self, text: &str) -> Option<RefreshConnection> {
        match decode(text) {
            Ok(Inbound::Response { request_id, outcome }) => {
                match self.pending.lock().remove(&request_id) {
                    Some((_, waiter)) => {
                        // The caller may have timed out in between; nothing is lost then.
                        let _ = waiter.send(outcome);
                    }
                    None => debug!(%request_id, "response to a request nobody waits for"),
                }
                None
            }
            Ok(Inbound::Push(push)) => {
                // Sending only fails once the SDK is shutting down.
                let _ = self.pushes.send(push);
                None
            }
            Ok(Inbound::Refresh(refresh)) => Some(refresh),
            Err(error) => {
                warn!(%error, "ignoring a frame from the service");
                None
            }
        }
    }

    /// The service may answer `TerminateServerProcess` by closing the socket normally instead of
    /// with a 200 (spec §3): count that close as the success it stands for.
    fn complete_on_close(&self) {
        let mut pending = self.pending.lock();
        let ending: Vec<String> = pending
            .iter()
            .filter(|(_, (action, _))| *action == "TerminateServerProcess")
            .map(|(id, _)| id.clone())
            .collect();
        for id in ending {
            if let Some((_, waiter)) = pending.remove(&id) {
                let _ = waiter.send(Ok(Value::Null));
            }
        }
    }
}

fn is_normal_close(frame: Option<&CloseFrame>) -> bool {
    frame.is_some_and(|f| matches!(f.code, CloseCode::Normal | CloseCode::Away))
}

async fn close(stream: &mut WsStream, code: CloseCode, reason: &'static str) {
    let frame = CloseFrame { code, reason: reason.into() };
    if let Err(error) = stream.close(Some(frame)).await {
        debug!(%error, "closing the connection");
    }
}

async fn next_old(draining: &mut Option<Draining>) -> Option<Result<Message, tungstenite::Error>> {
    let Some(old) = draining else {
        return pending().await;
    };
    tokio::select! {
        frame = old.stream.next() => frame,
        () = tokio::time::sleep_until(old.deadline) => None,
    }
}

async fn poll_refresh(refreshing: &mut Option<Refreshing>) -> (Endpoint, Result<WsStream, Error>) {
    match refreshing {
        Some(connecting) => connecting.await,
        None => pending().await,
    }
}
