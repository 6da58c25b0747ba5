//! A test stand-in for the service side of the SDK WebSocket protocol (protocol spec §1–§4):
//! it accepts connections, records their query, reads requests, answers and pushes. It only
//! drives the SDK's client behaviour; it is not a service implementation.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use openlift_server_sdk::{
    ClientOptions, Credentials, GameLiftServer, GameSession, ProcessParameters, ServerHandler, ServerParameters,
    Timings, UpdateGameSession,
};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Any byte stream a test connection runs on (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A listening fake service.
pub struct Service {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    /// The URL the SDK should connect to.
    pub url: String,
}

impl Service {
    /// A plain `ws://` service on a free loopback port.
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        Self { listener, tls: None, url: format!("ws://127.0.0.1:{port}") }
    }

    /// A `wss://` service for `localhost` with the given TLS server configuration.
    pub async fn bind_tls(config: rustls::ServerConfig) -> Self {
        let mut service = Self::bind().await;
        let port = service.listener.local_addr().unwrap().port();
        service.tls = Some(TlsAcceptor::from(Arc::new(config)));
        service.url = format!("wss://localhost:{port}/");
        service
    }

    /// Accepts one TCP connection and runs a TLS handshake on it; true if the handshake failed.
    pub async fn handshake_fails(&self) -> bool {
        let (tcp, _) = self.listener.accept().await.unwrap();
        let acceptor = self.tls.as_ref().expect("a TLS service");
        acceptor.accept(tcp).await.is_err()
    }

    /// Accepts the next connection, capturing its request path and query.
    pub async fn accept(&self) -> Conn {
        let (tcp, _) = self.listener.accept().await.unwrap();
        let io: Box<dyn Io> = match &self.tls {
            Some(acceptor) => Box::new(acceptor.accept(tcp).await.unwrap()),
            None => Box::new(tcp),
        };
        let mut uri = None;
        #[expect(clippy::result_large_err, reason = "the callback signature is tungstenite's")]
        let ws = tokio_tungstenite::accept_hdr_async(io, |request: &Request, response: Response| {
            uri = Some(request.uri().clone());
            Ok(response)
        })
        .await
        .unwrap();
        let uri = uri.unwrap();
        let query = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Conn { ws, path: uri.path().to_string(), query, backlog: VecDeque::new() }
    }
}

/// One accepted SDK connection.
pub struct Conn {
    ws: WebSocketStream<Box<dyn Io>>,
    /// The request path.
    pub path: String,
    /// The connection query, still percent-encoded.
    pub query: HashMap<String, String>,
    backlog: VecDeque<Value>,
}

impl Conn {
    /// The next frame of any kind; `None` once the connection ended.
    pub async fn next_message(&mut self) -> Option<Message> {
        self.ws.next().await.and_then(Result::ok)
    }

    /// The close frame the SDK sends, skipping the frames before it; `None` if the connection
    /// ended without one.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            match self.next_message().await? {
                Message::Close(frame) => return frame,
                _ => continue,
            }
        }
    }

    /// The next request other than a heartbeat; heartbeats met on the way are answered 200.
    pub async fn next_request(&mut self) -> Value {
        if let Some(request) = self.backlog.pop_front() {
            return request;
        }
        loop {
            let message = self.next_message().await.expect("connection ended");
            let Message::Text(text) = message else {
                continue;
            };
            let request: Value = serde_json::from_str(&text).unwrap();
            if request["Action"] != "HeartbeatServerProcess" {
                return request;
            }
            self.ok(&request, json!({})).await;
        }
    }

    /// The next request with this `Action`; other requests are kept for later calls.
    pub async fn expect(&mut self, action: &str) -> Value {
        if let Some(index) = self.backlog.iter().position(|r| r["Action"] == action) {
            return self.backlog.remove(index).unwrap();
        }
        loop {
            let message = self.next_message().await.expect("connection ended");
            let Message::Text(text) = message else {
                continue;
            };
            let request: Value = serde_json::from_str(&text).unwrap();
            if request["Action"] == action {
                return request;
            }
            if request["Action"] == "HeartbeatServerProcess" {
                self.ok(&request, json!({})).await;
            } else {
                self.backlog.push_back(request);
            }
        }
    }

    /// Sends one JSON frame.
    pub async fn send(&mut self, frame: Value) {
        self.ws.send(Message::text(frame.to_string())).await.unwrap();
    }

    /// Runs `call` while answering the `action` request it sends with an empty success.
    pub async fn answering<T>(&mut self, action: &str, call: impl Future<Output = T>) -> T {
        let answer = async {
            let request = self.expect(action).await;
            self.ok(&request, json!({})).await;
        };
        let (result, ()) = tokio::join!(call, answer);
        result
    }

    /// Answers `request` with status 200 and the `extra` top-level fields.
    pub async fn ok(&mut self, request: &Value, extra: Value) {
        let mut frame = json!({
            "Action": request["Action"],
            "RequestId": request["RequestId"],
            "StatusCode": 200,
        });
        frame.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        self.send(frame).await;
    }

    /// Closes the connection with a close frame.
    pub async fn close(&mut self, code: CloseCode) {
        let frame = CloseFrame { code, reason: "closing".into() };
        self.ws.close(Some(frame)).await.unwrap();
    }

    /// Answers `request` with an error status.
    pub async fn fail(&mut self, request: &Value, status: u16, message: &str) {
        let frame = json!({
            "Action": request["Action"],
            "RequestId": request["RequestId"],
            "StatusCode": status,
            "ErrorMessage": message,
        });
        self.send(frame).await;
    }
}

/// What the recording handler saw.
#[derive(Debug)]
pub enum Event {
    Started(GameSession),
    Updated(UpdateGameSession),
    Terminate,
}

/// A handler that reports every callback on a channel.
pub struct Recorder {
    events: mpsc::UnboundedSender<Event>,
    healthy: bool,
}

impl Recorder {
    /// A handler and the events it records.
    pub fn recording(healthy: bool) -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (events, received) = mpsc::unbounded_channel();
        (Self { events, healthy }, received)
    }

    /// A healthy handler whose events nobody reads.
    pub fn idle() -> Self {
        let (events, _) = mpsc::unbounded_channel();
        Self { events, healthy: true }
    }
}

// A test that stopped listening has no use for further events, so send errors are ignored.
impl ServerHandler for Recorder {
    async fn on_start_game_session(&self, game_session: GameSession) {
        let _ = self.events.send(Event::Started(game_session));
    }

    async fn on_update_game_session(&self, update: UpdateGameSession) {
        let _ = self.events.send(Event::Updated(update));
    }

    async fn on_process_terminate(&self) {
        let _ = self.events.send(Event::Terminate);
    }

    async fn on_health_check(&self) -> bool {
        self.healthy
    }
}

/// Parameters pointing at `url`, authenticated with `tok-1`.
pub fn params(url: &str) -> ServerParameters {
    ServerParameters {
        web_socket_url: url.to_string(),
        process_id: "pid-1".into(),
        host_id: "host-1".into(),
        fleet_id: "fleet-1".into(),
        credentials: Credentials::AuthToken("tok-1".into()),
    }
}

/// Official timings, except reconnect backoff short enough for a test.
pub fn options() -> ClientOptions {
    let mut timings = Timings::default();
    timings.connect_backoff = Duration::from_millis(10);
    timings.connect_backoff_max = Duration::from_millis(50);
    ClientOptions::default().with_timings(timings)
}

/// An initialized SDK and the service side of its connection.
pub async fn connect(service: &Service) -> (GameLiftServer, Conn) {
    let (sdk, conn) = tokio::join!(GameLiftServer::init(params(&service.url), options()), service.accept());
    (sdk.unwrap(), conn)
}

/// A ready SDK (ActivateServerProcess answered), its connection and the handler's events.
pub async fn ready(service: &Service, healthy: bool) -> (GameLiftServer, Conn, mpsc::UnboundedReceiver<Event>) {
    let (sdk, mut conn) = connect(service).await;
    let received = become_ready(&sdk, &mut conn, healthy).await;
    (sdk, conn, received)
}

/// Makes a connected SDK ready (ActivateServerProcess answered); the handler's events.
pub async fn become_ready(sdk: &GameLiftServer, conn: &mut Conn, healthy: bool) -> mpsc::UnboundedReceiver<Event> {
    let (handler, received) = Recorder::recording(healthy);
    let process = ProcessParameters { port: 7777, log_paths: vec!["/local/game/logs".into()] };
    conn.answering("ActivateServerProcess", sdk.process_ready(process, handler)).await.unwrap();
    received
}

/// The spec's CreateGameSession push for game session `id`.
pub fn create_game_session(id: &str) -> Value {
    json!({
        "Action": "CreateGameSession", "StatusCode": 200, "GameSessionId": id,
        "GameSessionName": "match-42", "MaximumPlayerSessionCount": 8, "Port": 7777,
        "IpAddress": "203.0.113.10", "DnsName": "", "GameSessionData": "mode=ctf",
        "MatchmakerData": "", "GameProperties": {"map": "dust"}
    })
}

/// The spec's TerminateProcess push, for 2026-01-01T01:00:00Z.
pub fn terminate_process() -> Value {
    json!({"Action": "TerminateProcess", "StatusCode": 200, "TerminationTime": 1_767_229_200_000_i64})
}

/// A ready SDK that was given game session `GSESS` (the callback has run).
pub async fn hosting(service: &Service) -> (GameLiftServer, Conn, mpsc::UnboundedReceiver<Event>) {
    let (sdk, mut conn, mut events) = ready(service, true).await;
    conn.send(create_game_session(GSESS)).await;
    match events.recv().await.unwrap() {
        Event::Started(session) => assert_eq!(session.game_session_id, GSESS),
        other => panic!("unexpected {other:?}"),
    }
    (sdk, conn, events)
}

/// The game session ID the tests use.
pub const GSESS: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-9";
