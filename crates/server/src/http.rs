//! The HTTP front door: every request goes through the same pipeline, whichever
//! protocol it speaks (`control-plane-api.md` sections 2 and 9).
//!
//! body (size-limited) → SigV4 → protocol and operation → decode and validate →
//! handler → encode. Every failure on the way is an AWS-shaped error in the
//! caller's protocol, carrying the request ID also used in the logs.
//!
//! A WebSocket upgrade (`GET` with `Upgrade: websocket`, any path) is a game server's SDK
//! connection instead (`server-sdk-protocol.md`) and goes to [`sdk`] first; `GET` or `HEAD`
//! on [`HEALTH_PATH`] is the unauthenticated health check.
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
use axum::response::Response;
use openlift_model::{ApiError, ErrorCode, Operation};
use openlift_protocol::classify;
use openlift_protocol::{response, sigv4};
use tracing::Instrument;

use crate::app::App;
use crate::sdk::admission::Class;
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
/// The SigV4 signing name of GameLift.
const SERVICE: &str = "gamelift";

/// The access key ID a request's `Authorization` header names, verified or not, so that
/// refusals are logged with who asked.
fn claimed_access_key(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    sigv4::parse_authorization(value).ok().map(|auth| auth.access_key_id)
}

/// What every request sees: the server state and the HTTP layer's settings.
#[derive(Clone)]
struct Front {
    app: Arc<App>,
    body_timeout: Duration,
}

/// The router: every method and path reaches [`handle`], which answers in protocol.
/// `body_timeout` bounds how long a request body may take after its headers.
pub fn router(app: Arc<App>, body_timeout: Duration) -> Router {
    Router::new().fallback(handle).with_state(Front { app, body_timeout })
}

async fn handle(State(Front { app, body_timeout }): State<Front>, request: Request) -> Response {
    if let Some(refusal) = header_limit(request.headers()) {
        return refuse(request.uri(), request.headers(), &refusal);
    }
    if is_health_check(request.method(), request.uri().path()) {
        return health();
    }
    if sdk::is_websocket_upgrade(&request) {
        return sdk::upgrade(app, request).await;
    }
    if request.extensions().get::<Class>() == Some(&Class::Reserve) {
        let busy = ApiError::new(
            ErrorCode::ThrottlingException,
            "Too many connections are open; retry on a new connection later.",
        );
        return refuse(request.uri(), request.headers(), &busy);
    }
    if logs::is_download(request.method(), request.uri().path()) {
        return logs::download(&app, request.uri().path(), request.uri().query()).await;
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

fn is_health_check(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD) && path == HEALTH_PATH
}

/// The health check's answer: the server is up and serving.
fn health() -> Response {
    let mut response = Response::new(Body::from(r#"{"status":"ok"}"#));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
