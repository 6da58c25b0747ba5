//! Shared setup for the end-to-end tests: a real control plane on a port-0 listener,
//! an `aws-sdk-gamelift` client pointed at it, and a raw HTTP client that signs
//! requests with `aws-sigv4` so tests can send exactly the bytes they mean to.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_gamelift::config::{BehaviorVersion, Region};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use openlift_core::clock::{Clock, ManualClock};
use openlift_model::Timestamp;
use openlift_server::config::Config;
use openlift_server::credentials::CredentialEntry;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The Region the test servers serve.
pub const REGION: &str = "us-west-2";
/// The account ID in the test servers' ARNs.
pub const ACCOUNT_ID: &str = "111122223333";
/// The one access key the test servers accept.
pub const ACCESS_KEY_ID: &str = "AKIDOPENLIFTTEST";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "openlift/test+SECRET";

/// A control plane running in this process until dropped.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The listener's address.
    pub addr: std::net::SocketAddr,
    /// The server's clock when started with [`TestServer::start_with_clock`].
    pub clock: Option<Arc<ManualClock>>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
    _data_dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server on the system clock with SQLite in a fresh temporary directory.
    pub async fn start() -> Self {
        Self::spawn(None, None).await
    }

    /// Starts a server whose clock stands still at `start` until advanced.
    pub async fn start_with_clock(start: Timestamp) -> Self {
        Self::spawn(Some(Arc::new(ManualClock::new(start))), None).await
    }

    /// Starts a server on the system clock with its state in the database at `database_url`.
    pub async fn start_with_database(database_url: &str) -> Self {
        Self::spawn(None, Some(database_url.to_owned())).await
    }

    async fn spawn(clock: Option<Arc<ManualClock>>, database_url: Option<String>) -> Self {
        let data_dir = tempfile::tempdir().expect("temporary data dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("listener address");
        let config = Config {
            region: REGION.into(),
            account_id: ACCOUNT_ID.into(),
            credentials: vec![CredentialEntry {
                access_key_id: ACCESS_KEY_ID.into(),
                secret_access_key: SECRET_ACCESS_KEY.into(),
            }],
            database_url,
            ..Config::new(addr, data_dir.path().to_owned())
        };
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let injected = clock.clone();
        let task = tokio::spawn(async move {
            let result = match injected {
                Some(clock) => {
                    let clock: Arc<dyn Clock> = clock;
                    openlift_server::serve_with_clock(config, listener, token, clock).await
                }
                None => openlift_server::serve(config, listener, token).await,
            };
            result.expect("the server stopped with an error");
        });
        TestServer { endpoint: format!("http://{addr}"), addr, clock, shutdown, task: Some(task), _data_dir: data_dir }
    }

    /// The injected clock; panics for a server on the system clock.
    pub fn clock(&self) -> &ManualClock {
        self.clock.as_deref().expect("server started without a manual clock")
    }

    /// The time the server currently sees, as a `SystemTime`.
    pub fn now(&self) -> SystemTime {
        match &self.clock {
            Some(clock) => clock.now().as_system_time(),
            None => SystemTime::now(),
        }
    }

    /// An SDK client configured only with the endpoint, Region and static credentials
    /// (plus a plain-HTTP connector, since the test server speaks no TLS).
    pub fn sdk(&self) -> aws_sdk_gamelift::Client {
        self.sdk_with_credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    }

    /// An SDK client signing with other credentials.
    pub fn sdk_with_credentials(&self, access_key_id: &str, secret: &str) -> aws_sdk_gamelift::Client {
        let config = aws_sdk_gamelift::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(access_key_id, secret, None, None, "openlift-tests"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_gamelift::Client::from_conf(config)
    }

    /// Stops the server and waits until it has finished, surfacing a panic in it.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A ManualClock start time near the real time (so SDK signatures stay within the
/// 15-minute skew) with a non-zero millisecond part, so encodings of fractional
/// seconds are exercised.
pub fn near_now() -> Timestamp {
    let millis = Timestamp::now().as_millis();
    Timestamp::from_millis(millis - millis % 1000 + 250)
}

/// How a raw request is signed.
#[derive(Clone, Debug)]
pub struct Signer {
    /// Access key ID put in the scope.
    pub access_key_id: String,
    /// Secret used to derive the key.
    pub secret: String,
    /// Region in the scope.
    pub region: String,
    /// Service in the scope.
    pub service: String,
    /// The `X-Amz-Date` of the request.
    pub time: SystemTime,
}

impl Signer {
    /// The test credentials, scoped to the test Region and `gamelift`, dated `time`.
    pub fn at(time: SystemTime) -> Self {
        Signer {
            access_key_id: ACCESS_KEY_ID.into(),
            secret: SECRET_ACCESS_KEY.into(),
            region: REGION.into(),
            service: "gamelift".into(),
            time,
        }
    }

    /// Signs `request` in place (SigV4 header signing, as the SDKs do).
    pub fn sign(&self, request: &mut http::Request<Vec<u8>>) {
        let identity = Credentials::new(&self.access_key_id, &self.secret, None, None, "openlift-tests").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(self.time)
            .settings(SigningSettings::default())
            .build()
            .expect("signing params")
            .into();
        let headers = request.headers().iter().map(|(k, v)| (k.as_str(), v.to_str().expect("header text")));
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.uri().to_string(),
            headers,
            SignableBody::Bytes(request.body()),
        )
        .expect("signable request");
        let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
        instructions.apply_to_request_http1x(request);
    }
}

/// A response as received: status, headers and the exact body bytes.
#[derive(Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// All headers.
    pub headers: http::HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The value of header `name`, which must be present and valid text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name} in {:?}", self.headers))
            .to_str()
            .expect("header text")
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body parsed as CBOR.
    pub fn cbor(&self) -> ciborium::Value {
        ciborium::from_reader(self.body.as_slice()).expect("body is CBOR")
    }

    /// The error code and message of an AWS-shaped error in either protocol
    /// (the `__type` namespace stripped, as every SDK does).
    pub fn error(&self) -> (String, String) {
        let content_type = self.header("content-type");
        let (kind, message) = if content_type == "application/cbor" {
            let map = self.cbor();
            let field = |name: &str| -> String {
                map.as_map()
                    .expect("error body is a map")
                    .iter()
                    .find(|(k, _)| k.as_text() == Some(name))
                    .and_then(|(_, v)| v.as_text())
                    .unwrap_or_else(|| panic!("error body has no text {name}: {map:?}"))
                    .to_owned()
            };
            (field("__type"), field("message"))
        } else {
            let json = self.json();
            let field = |name: &str| json[name].as_str().unwrap_or_else(|| panic!("no {name} in {json}")).to_owned();
            (field("__type"), field("message"))
        };
        let code = kind.rsplit('#').next().unwrap_or_default().to_owned();
        (code, message)
    }
}

/// A raw HTTP client for one server.
#[derive(Clone)]
pub struct Raw {
    client: reqwest::Client,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// `127.0.0.1:<port>`, the `Host` header value.
    pub host: String,
}

impl Raw {
    /// A client for `server`.
    pub fn new(server: &TestServer) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("reqwest client");
        Raw { client, endpoint: server.endpoint.clone(), host: server.addr.to_string() }
    }

    /// An unsigned request with the `Host` header set.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> http::Request<Vec<u8>> {
        let mut builder = http::Request::builder().method(method).uri(format!("{}{path}", self.endpoint));
        builder = builder.header("host", &self.host);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(body.to_vec()).expect("request")
    }

    /// An awsJson 1.1 request for `operation`.
    pub fn json_request(&self, operation: &str, body: &[u8]) -> http::Request<Vec<u8>> {
        let target = format!("GameLift.{operation}");
        self.request("POST", "/", &[("content-type", "application/x-amz-json-1.1"), ("x-amz-target", &target)], body)
    }

    /// A Smithy RPC v2 CBOR request for `operation`.
    pub fn cbor_request(&self, operation: &str, body: &[u8]) -> http::Request<Vec<u8>> {
        let path = format!("/service/GameLift/operation/{operation}");
        self.request(
            "POST",
            &path,
            &[("content-type", "application/cbor"), ("accept", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
            body,
        )
    }

    /// Sends `request` as is.
    pub async fn send(&self, request: http::Request<Vec<u8>>) -> RawResponse {
        let request = reqwest::Request::try_from(request).expect("reqwest request");
        let response = self.client.execute(request).await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("response body").to_vec();
        RawResponse { status, headers, body }
    }

    /// Signs `request` with `signer` and sends it.
    pub async fn send_signed(&self, mut request: http::Request<Vec<u8>>, signer: &Signer) -> RawResponse {
        signer.sign(&mut request);
        self.send(request).await
    }
}

/// CBOR bytes of `value` (ciborium writes definite lengths and shortest heads).
pub fn cbor_bytes(value: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("encode CBOR");
    out
}

/// A CBOR map with text keys.
pub fn cbor_map(members: Vec<(&str, ciborium::Value)>) -> ciborium::Value {
    ciborium::Value::Map(members.into_iter().map(|(k, v)| (ciborium::Value::Text(k.into()), v)).collect())
}
