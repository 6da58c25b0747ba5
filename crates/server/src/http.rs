//! The HTTP front door: every request goes through the same pipeline, whichever
//! protocol it speaks (`control-plane-api.md` sections 2 and 9).
//!
//! body (size-limited) → SigV4 → protocol and operation → decode and validate →
//! handler → encode. Every failure on the way is an AWS-shaped error in the
//! caller's protocol, carrying the request ID also used in the logs.
//!
//! A WebSocket upgrade (`GET` with `Upgrade: websocket`, any path) is a game server's SDK
//! connection instead (`server-sdk-protocol.md`) and goes to [`sdk`] first.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use openlift_model::{ApiError, Operation};
use openlift_protocol::classify;
use openlift_protocol::{response, sigv4};
use tracing::Instrument;

use crate::app::App;
use crate::{api, logs, sdk};

/// Largest request body accepted; GameLift inputs are far smaller.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The SigV4 signing name of GameLift.
const SERVICE: &str = "gamelift";

/// The access key ID a request's `Authorization` header names, verified or not, so that
/// refusals are logged with who asked.
fn claimed_access_key(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    sigv4::parse_authorization(value).ok().map(|auth| auth.access_key_id)
}

/// The router: every method and path reaches [`handle`], which answers in protocol.
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    if sdk::is_websocket_upgrade(&request) {
        return sdk::upgrade(app, request).await;
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
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
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
            response::error(hint, &err, &request_id)
        }
    };
    response.map(Body::from)
}
