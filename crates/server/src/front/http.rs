//! The HTTP front door's routes: every API request goes through the same pipeline, whichever
//! protocol it speaks (`control-plane-api.md` sections 2 and 9).
//!
//! body (size-limited) → SigV4 → protocol and operation → decode and validate →
//! handler → encode. Every failure on the way is an AWS-shaped error in the
//! caller's protocol, carrying the request ID also used in the logs.
//!
//! Routes: `POST /` (awsJson 1.1) and `POST /service/GameLift/operation/{operation}` (Smithy
//! RPC v2 CBOR) are the API; `GET` or `HEAD` on [`HEALTH_PATH`] is the unauthenticated health
//! check; a WebSocket upgrade on [`AGENT_PATH`] is a host agent's connection
//! ([`crate::agent`]); `GET` under [`logs::DOWNLOAD_PATH`] is a log download; a signed `GET`
//! on [`WORKERS_PATH`] reports the background workers (the admin surface). Any other
//! WebSocket upgrade, whatever its path (an advertised SDK endpoint may carry one), is a game
//! server's SDK connection (`server-sdk-protocol.md`, [`crate::sdk`]); any other request goes
//! through the API pipeline, which answers it with the protocol error it earns.
//!
//! Before any of that, a header section over [`MAX_HEADER_BYTES`] or [`MAX_HEADERS`] gets an
//! AWS-shaped 431. A connection holding a reserved ticket ([`Class::Reserve`]) serves only
//! upgrades and health checks; anything else there is a `ThrottlingException`. A body that
//! has not arrived within the configured body timeout is a 408 `RequestTimeoutException`.
//! These three refusals close the connection.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::any;
use openlift_model::{ApiError, ErrorCode, Operation};
use openlift_protocol::classify;
use openlift_protocol::{response, sigv4};
use tracing::Instrument;

use super::admission::Class;
use crate::agent::{self, AGENT_PATH};
use crate::app::App;
use crate::websocket::is_websocket_upgrade;
use crate::workers::Workers;
use crate::{api, logs, sdk};

/// Largest request body accepted; GameLift inputs are far smaller.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Largest header section accepted (names, values and their separators): ample for SigV4
/// with a session token.
pub(crate) const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header fields accepted in one request.
pub(crate) const MAX_HEADERS: usize = 100;
/// The health check's path.
pub const HEALTH_PATH: &str = "/healthz";
/// The admin surface's report of the background workers.
pub const WORKERS_PATH: &str = "/openlift/admin/workers";
/// The SigV4 signing name of GameLift.
const SERVICE: &str = "gamelift";

/// The access key ID a request's `Authorization` header names, verified or not, so that
/// refusals are logged with who asked.
fn claimed_access_key(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    sigv4::parse_authorization(value).ok().map(|auth| auth.access_key_id)
}

/// What every request sees: the server state, the workers' runner and the HTTP layer's
/// settings.
#[derive(Clone)]
struct Front {
    app: Arc<App>,
    workers: Arc<Workers>,
    body_timeout: Duration,
}

/// The routes. `body_timeout` bounds how long a request body may take after its headers.
///
/// Each route takes every method and sends those it does not serve to [`other`], so that
/// they get the API's protocol errors rather than a bare 405.
pub fn router(app: Arc<App>, workers: Arc<Workers>, body_timeout: Duration) -> Router {
    let download_route = format!("{}{{*process}}", logs::DOWNLOAD_PATH);
    Router::new()
        .route("/", any(api_call))
        .route("/service/GameLift/operation/{operation}", any(api_call))
        .route(HEALTH_PATH, any(health_check))
        .route(AGENT_PATH, any(agent_upgrade))
        .route(&download_route, any(download))
        .route(WORKERS_PATH, any(workers_status))
        .fallback(other)
        .layer(middleware::from_fn(header_limits))
        .with_state(Front { app, workers, body_timeout })
}

/// Refuses a header section over the limits before any route sees it.
async fn header_limits(request: Request, next: Next) -> Response {
    match header_limit(request.headers()) {
        Some(refusal) => refuse(request.uri(), request.headers(), &refusal),
        None => next.run(request).await,
    }
}

/// A request no route claims: an SDK connection if it is a WebSocket upgrade, else the API
/// pipeline's to answer.
async fn other(front: State<Front>, request: Request) -> Response {
    if is_websocket_upgrade(&request) {
        return sdk::upgrade(front.0.app, request).await;
    }
    api(front, request).await
}

/// `POST`: an API call.
async fn api_call(front: State<Front>, request: Request) -> Response {
    if request.method() == Method::POST {
        return api(front, request).await;
    }
    other(front, request).await
}

/// `GET` or `HEAD`: the health check.
async fn health_check(front: State<Front>, request: Request) -> Response {
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return health();
    }
    other(front, request).await
}

/// A host agent's connection, if the request is an upgrade.
async fn agent_upgrade(front: State<Front>, request: Request) -> Response {
    if is_websocket_upgrade(&request) {
        return agent::upgrade(front.0.app, request).await;
    }
    api(front, request).await
}

/// The answer on a connection that holds a reserved ticket, which serves only upgrades and
/// health checks.
fn reserved(request: &Request) -> Option<Response> {
    if request.extensions().get::<Class>() != Some(&Class::Reserve) {
        return None;
    }
    let busy = ApiError::new(
        ErrorCode::ThrottlingException,
        "Too many connections are open; retry on a new connection later.",
    );
    Some(refuse(request.uri(), request.headers(), &busy))
}

/// `GET`: a log download.
async fn download(front: State<Front>, request: Request) -> Response {
    if request.method() != Method::GET {
        return other(front, request).await;
    }
    if let Some(refusal) = reserved(&request) {
        return refusal;
    }
    logs::download(&front.0.app, request.uri().path(), request.uri().query()).await
}

/// `GET` on [`WORKERS_PATH`], signed as API requests are: every background worker's last
/// run, last error and next deadline, as JSON, the start of the admin surface.
async fn workers_status(front: State<Front>, request: Request) -> Response {
    if request.method() != Method::GET {
        return other(front, request).await;
    }
    if let Some(refusal) = reserved(&request) {
        return refusal;
    }
    let (parts, _) = request.into_parts();
    let app = &front.0.app;
    if let Err(err) =
        sigv4::verify(&parts, &[], &app.credentials, &app.scope.region, SERVICE, app.now().as_system_time())
    {
        return refuse(&parts.uri, &parts.headers, &err);
    }
    let millis = |t: Option<openlift_model::Timestamp>| t.map(|t| t.as_millis());
    let workers: Vec<_> = front
        .0
        .workers
        .statuses()
        .into_iter()
        .map(|(name, status)| {
            serde_json::json!({
                "Name": name,
                "LastRunMillis": millis(status.last_run),
                "LastError": status.last_error,
                "NextDeadlineMillis": millis(status.next_deadline),
            })
        })
        .collect();
    let mut response = Response::new(Body::from(serde_json::json!({ "Workers": workers }).to_string()));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An API request, through the pipeline.
async fn api(State(Front { app, body_timeout, .. }): State<Front>, request: Request) -> Response {
    if let Some(refusal) = reserved(&request) {
        return refusal;
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let hint = classify::protocol_hint(&parts.uri, &parts.headers);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        access_key_id = tracing::field::Empty,
        operation = tracing::field::Empty
    );
    if let Some(claimed) = claimed_access_key(&parts.headers) {
        span.record("access_key_id", claimed.as_str());
    }
    let outcome = async {
        let body = tokio::time::timeout(body_timeout, axum::body::to_bytes(body, MAX_BODY_BYTES))
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::RequestTimeoutException,
                    format!("The request body did not arrive within {} ms.", body_timeout.as_millis()),
                )
            })?
            .map_err(|_| {
                ApiError::serialization(format!("Request body is unreadable or larger than {MAX_BODY_BYTES} bytes."))
            })?;
        sigv4::verify(&parts, &body, &app.credentials, &app.scope.region, SERVICE, app.now().as_system_time())?;
        let (protocol, name) = classify::classify(&parts.method, &parts.uri, &parts.headers)?;
        let op = Operation::from_name(&name).ok_or_else(|| classify::unknown_operation(&name))?;
        tracing::Span::current().record("operation", op.name());
        let input = protocol.decode(&body)?;
        let output = api::dispatch(&app, op, input).await?;
        Ok::<_, ApiError>((protocol, output))
    }
    .instrument(span.clone())
    .await;
    let response = match outcome {
        Ok((protocol, output)) => response::success(protocol, &output, &request_id),
        Err(err) => {
            span.in_scope(|| tracing::info!(code = err.code.as_str(), message = %err.message, "request refused"));
            error(hint, &err, &request_id)
        }
    };
    response.map(Body::from)
}

/// The error response for `err`; refusals that leave the request unread close the connection.
fn error(protocol: classify::Protocol, err: &ApiError, request_id: &str) -> axum::http::Response<Vec<u8>> {
    let mut response = response::error(protocol, err, request_id);
    let closes = matches!(
        err.code,
        ErrorCode::RequestTimeoutException
            | ErrorCode::RequestHeaderFieldsTooLargeException
            | ErrorCode::ThrottlingException
    );
    if closes {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Answers a request refused before the API pipeline, in the protocol it looks like.
fn refuse(uri: &Uri, headers: &HeaderMap, err: &ApiError) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    tracing::info!(request_id = %request_id, code = err.code.as_str(), message = %err.message, "request refused");
    error(classify::protocol_hint(uri, headers), err, &request_id).map(Body::from)
}

/// The 431 for a header section over the limits, if it is.
fn header_limit(headers: &HeaderMap) -> Option<ApiError> {
    // Each field is `name: value` and a line end on the wire.
    let bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if headers.len() <= MAX_HEADERS && bytes <= MAX_HEADER_BYTES {
        return None;
    }
    Some(ApiError::new(
        ErrorCode::RequestHeaderFieldsTooLargeException,
        format!(
            "The request has {} header fields in {bytes} bytes; at most {MAX_HEADERS} fields in {MAX_HEADER_BYTES} bytes are accepted.",
            headers.len()
        ),
    ))
}

/// The health check's answer: the server is up and serving.
fn health() -> Response {
    let mut response = Response::new(Body::from(r#"{"status":"ok"}"#));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
