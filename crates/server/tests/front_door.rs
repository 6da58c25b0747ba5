//! The listen port against slow, greedy and malformed clients (`docs/decisions.md`,
//! "Connections and the HTTP layer"): the body deadline, the connection caps and their
//! reserve for SDK upgrades and health checks, HTTP-layer errors in AWS shape, TLS
//! `close_notify`, and the 1012 close of SDK connections on shutdown.

mod sdk_endpoint_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sdk_endpoint_support::raw::{Transport, Ws, call, close_frame, connect, cpp_query, tls_stream};
use sdk_endpoint_support::{Compute, Harness, WAIT};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The body deadline of the servers that test it.
const BODY_TIMEOUT: Duration = Duration::from_secs(3);

/// A response read up to the server's close.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `__type` and `message` of an awsJson error body.
    fn error(&self) -> (String, String) {
        let json: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)));
        (json["__type"].as_str().unwrap().to_owned(), json["message"].as_str().unwrap().to_owned())
    }
}

/// Parses the bytes of one HTTP/1.1 response.
fn parse(bytes: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(bytes);
    let (head, _) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no complete response head: {text:?}"));
    let body = bytes[head.len() + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|line| line.split_once(':').unwrap())
        .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
        .collect();
    Answer { status, headers, body }
}

/// Reads until the server closes the connection, which must be a clean close (for TLS:
/// `close_notify` received).
async fn read_to_close(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut bytes)).await.expect("the server closes in time");
    read.unwrap_or_else(|e| panic!("unclean close ({e}) after {:?}", String::from_utf8_lossy(&bytes)));
    bytes
}

/// Sends `request` on a new plain connection and reads the answer up to the close.
async fn exchange(h: &Harness, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(h.addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    parse(&read_to_close(&mut stream).await)
}

/// A TCP connection to the server from `source`: every 127.0.0.0/8 address is this host, so
/// tests can be several peers.
async fn connect_from(h: &Harness, source: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source.parse().unwrap(), 0)).unwrap();
    socket.connect(h.addr).await.unwrap()
}

/// The head of a ListFleets call announcing a 100-byte body.
fn slow_head(h: &Harness) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: GameLift.ListFleets\r\nContent-Length: 100\r\n\r\n",
        h.addr
    )
}

/// Waits until the server holds exactly `count` connections.
async fn wait_for_open(h: &Harness, count: usize) {
    let deadline = Instant::now() + WAIT;
    while h.app.connections.open() != count {
        assert!(Instant::now() < deadline, "the server holds {} connections, not {count}", h.app.connections.open());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether the server closed `stream` without answering (it was refused on accept).
async fn closed_without_answer(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(tokio::time::timeout(WAIT, stream.read(&mut byte)).await.expect("closed in time"), Ok(0) | Err(_))
}

/// Sends a health check on `stream` (keep-alive) and returns its status.
async fn health_status(stream: &mut TcpStream, h: &Harness) -> u16 {
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", h.addr);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    while !String::from_utf8_lossy(&bytes).ends_with(r#"{"status":"ok"}"#) {
        let mut chunk = [0u8; 1024];
        let n = tokio::time::timeout(WAIT, stream.read(&mut chunk)).await.expect("answered in time").unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&chunk[..n]);
    }
    parse(&bytes).status
}

/// A client that sends a request head, then trickles its body one byte a second until the
/// server answers and closes; returns the answer and how long after the head it came.
async fn trickle(mut stream: TcpStream, head: String) -> (Answer, Duration) {
    stream.write_all(head.as_bytes()).await.unwrap();
    let sent = Instant::now();
    let (mut reader, mut writer) = stream.split();
    let read = read_to_close(&mut reader);
    tokio::pin!(read);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let bytes = loop {
        tokio::select! {
            bytes = &mut read => break bytes,
            _ = tick.tick() => { let _ = writer.write_all(b" ").await; }
        }
    };
    (parse(&bytes), sent.elapsed())
}

/// A C++-style SDK connection of a new process of `compute`, activated.
async fn ready_process(h: &Harness, compute: &Compute, transport: Transport) -> Ws {
    let process_id = uuid::Uuid::new_v4().to_string();
    let mut ws = connect(h, &cpp_query(compute, &process_id, &compute.token), transport).await;
    let activate = json!({"Action": "ActivateServerProcess", "RequestId": "a", "SdkVersion": "5.4.0",
                          "SdkLanguage": "Cpp", "Port": 7777, "LogPaths": []});
    assert_eq!(call(&mut ws, activate).await["StatusCode"], 200);
    ws
}

#[tokio::test]
async fn a_thousand_slow_bodies_do_not_stop_a_signed_request_and_each_gets_a_408() {
    let h = Harness::start_configured(|config| config.body_timeout = BODY_TIMEOUT).await;
    let sources = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    let answers = {
        // A hundred at a time: a thousand SYNs at once would overflow the listen backlog.
        let mut streams = Vec::new();
        for batch in sources.iter().cycle().take(1000).collect::<Vec<_>>().chunks(100) {
            streams.extend(futures_util::future::join_all(batch.iter().map(|s| connect_from(&h, s))).await);
        }
        let slow = futures_util::future::join_all(streams.into_iter().map(|s| trickle(s, slow_head(&h))));
        tokio::pin!(slow);
        let answered = async {
            wait_for_open(&h, 1000).await;
            let listed = h.gamelift.list_fleets().send().await;
            assert!(listed.is_ok(), "{listed:?}");
            h.app.connections.open()
        };
        let open_after = tokio::select! {
            open = answered => open,
            _ = &mut slow => panic!("the slow clients were answered before the signed request"),
        };
        assert!(open_after > 1000, "the slow connections were still open: {open_after}");
        slow.await
    };
    for (answer, after) in answers {
        assert_eq!(answer.status, 408, "{answer:?}");
        assert_eq!(answer.header("x-amzn-ErrorType"), Some("RequestTimeoutException"));
        assert_eq!(answer.header("connection"), Some("close"));
        let (kind, message) = answer.error();
        assert_eq!(kind, "com.amazon.coral.service#RequestTimeoutException");
        assert_eq!(message, "The request body did not arrive within 3000 ms.");
        assert!(after >= BODY_TIMEOUT, "answered {after:?} after the head");
    }
    h.stop().await;
}

#[tokio::test]
async fn past_max_connections_only_upgrades_and_health_checks_use_the_reserve_then_all_are_closed() {
    let h = Harness::start_configured(|config| {
        config.max_connections = 6;
        config.reserved_connections = 2;
        config.body_timeout = Duration::from_secs(60);
    })
    .await;
    let compute = h.fleet_with_compute("host-1").await;
    // The client's pooled connection holds one of the four API places.
    let pooled = h.app.connections.open();
    let mut api = Vec::new();
    for _ in pooled..4 {
        let mut stream = TcpStream::connect(h.addr).await.unwrap();
        stream.write_all(slow_head(&h).as_bytes()).await.unwrap();
        api.push(stream);
    }
    wait_for_open(&h, 4).await;

    let refused = exchange(&h, slow_head(&h).as_bytes()).await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(refused.header("x-amzn-ErrorType"), Some("ThrottlingException"));
    assert_eq!(refused.error().0, "com.amazon.coral.service#ThrottlingException");

    let _ws = ready_process(&h, &compute, Transport::Plain).await;
    let mut health = TcpStream::connect(h.addr).await.unwrap();
    assert_eq!(health_status(&mut health, &h).await, 200);
    wait_for_open(&h, 6).await;

    let mut over = TcpStream::connect(h.addr).await.unwrap();
    assert!(closed_without_answer(&mut over).await, "a seventh connection is closed at once");
    drop(api.pop());
    wait_for_open(&h, 5).await;
    let mut again = TcpStream::connect(h.addr).await.unwrap();
    assert_eq!(health_status(&mut again, &h).await, 200);
    // Shutdown lets requests in flight finish: the slow ones would hold it for the grace.
    drop(api);
    h.stop().await;
}

#[tokio::test]
async fn one_peer_holds_at_most_max_connections_per_peer() {
    let h = Harness::start_configured(|config| config.max_connections_per_peer = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from(&h, "127.0.0.6").await;
        assert_eq!(health_status(&mut stream, &h).await, 200);
        held.push(stream);
    }
    let mut fourth = connect_from(&h, "127.0.0.6").await;
    assert!(closed_without_answer(&mut fourth).await, "a fourth connection of the peer is closed at once");
    let mut other_peer = connect_from(&h, "127.0.0.7").await;
    assert_eq!(health_status(&mut other_peer, &h).await, 200);

    drop(held.pop());
    wait_for_open(&h, 3).await;
    let mut again = connect_from(&h, "127.0.0.6").await;
    assert_eq!(health_status(&mut again, &h).await, 200);
    h.stop().await;
}

#[tokio::test]
async fn oversized_header_sections_get_an_aws_shaped_431_and_a_close() {
    let h = Harness::start().await;
    let many: String = (0..101).map(|i| format!("X-Filler-{i}: x\r\n")).collect();
    let large = format!("X-Large: {}\r\n", "a".repeat(17 * 1024));
    for (fields, what) in [(many, "101 header fields"), (large, "a 17 KiB header")] {
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: GameLift.ListFleets\r\n{fields}Content-Length: 2\r\n\r\n{{}}",
            h.addr
        );
        let answer = exchange(&h, request.as_bytes()).await;
        assert_eq!(answer.status, 431, "{what}: {answer:?}");
        assert_eq!(answer.header("x-amzn-ErrorType"), Some("RequestHeaderFieldsTooLargeException"), "{what}");
        assert_eq!(answer.header("content-type"), Some("application/x-amz-json-1.1"), "{what}");
        assert!(answer.header("x-amzn-RequestId").is_some(), "{what}");
        let (kind, message) = answer.error();
        assert_eq!(kind, "com.amazon.coral.service#RequestHeaderFieldsTooLargeException", "{what}");
        assert!(message.contains("at most 100 fields in 16384 bytes"), "{what}: {message}");
    }
    h.stop().await;
}

#[tokio::test]
async fn header_values_that_are_not_text_get_aws_shaped_errors() {
    let h = Harness::start().await;
    for (name, value) in [
        ("Authorization", &b"AWS4-HMAC-SHA256 Credential=\xff\xfe/20260101/us-west-2/gamelift/aws4_request"[..]),
        ("X-Amz-Date", b"2026\xff0101T000000Z"),
        ("X-Amz-Target", b"GameLift.List\xffFleets"),
    ] {
        let mut request = format!("POST / HTTP/1.1\r\nHost: {}\r\n{name}: ", h.addr).into_bytes();
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\nContent-Type: application/x-amz-json-1.1\r\nConnection: close\r\n");
        request.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        let answer = exchange(&h, &request).await;
        assert_eq!(answer.status, 400, "{name}: {answer:?}");
        assert!(answer.header("x-amzn-ErrorType").is_some(), "{name}: {answer:?}");
        assert!(answer.error().0.starts_with("com.amazon.coral.service#"), "{name}: {answer:?}");
    }
    h.stop().await;
}

#[tokio::test]
async fn bytes_hyper_cannot_parse_get_its_bare_400_and_a_close_not_a_hang() {
    let h = Harness::start().await;
    let request = format!("POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: Game\x01Lift\r\n\r\n", h.addr);
    let answer = exchange(&h, request.as_bytes()).await;
    // No request exists for openlift to answer in a protocol (docs/decisions.md, "Header limits").
    assert_eq!((answer.status, answer.body.len()), (400, 0), "{answer:?}");
    assert!(answer.header("x-amzn-ErrorType").is_none(), "{answer:?}");
    h.stop().await;
}

#[tokio::test]
async fn head_requests_get_the_headers_of_the_aws_shaped_answer_and_no_body() {
    let h = Harness::start().await;
    let request = format!("HEAD / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", h.addr);
    let answer = exchange(&h, request.as_bytes()).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.header("x-amzn-ErrorType"), Some("MissingAuthenticationTokenException"));
    assert_eq!(answer.header("content-type"), Some("application/x-amz-json-1.1"));
    assert_ne!(answer.header("content-length"), Some("0"), "{answer:?}");
    assert!(answer.body.is_empty(), "{answer:?}");

    let request = format!("HEAD /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", h.addr);
    let answer = exchange(&h, request.as_bytes()).await;
    assert_eq!((answer.status, answer.header("content-type")), (200, Some("application/json")));
    assert!(answer.body.is_empty(), "{answer:?}");
    h.stop().await;
}

#[tokio::test]
async fn a_tls_connection_the_server_ends_sends_close_notify() {
    let h = Harness::start_configured(|config| config.body_timeout = BODY_TIMEOUT).await;
    let mut tls = tls_stream(&h, false).await;
    tls.write_all(slow_head(&h).as_bytes()).await.unwrap();
    let answer = parse(&read_to_close(&mut tls).await);
    assert_eq!(answer.status, 408, "{answer:?}");

    let mut tls = tls_stream(&h, true).await;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", h.addr);
    tls.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(parse(&read_to_close(&mut tls).await).status, 200);
    h.stop().await;
}

#[tokio::test]
async fn on_shutdown_an_sdk_connection_over_tls_closes_with_1012_then_close_notify() {
    let h = Harness::start().await;
    let compute = h.fleet_with_compute("host-1").await;
    let mut ws = ready_process(&h, &compute, Transport::Tls12).await;

    let client = async {
        let frame = close_frame(&mut ws).await.expect("a close frame with a code");
        assert_eq!((frame.code, u16::from(frame.code)), (CloseCode::Restart, 1012), "{frame:?}");
        // tungstenite answers the close; then the server ends TLS with close_notify.
        assert!(ws.next().await.is_none(), "the WebSocket ends cleanly");
        read_to_close(ws.get_mut()).await;
    };
    tokio::join!(h.stop(), client);
}
