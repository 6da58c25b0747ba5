//! Typed errors of the SDK (protocol spec §2 "Status → SDK error type", §1.5 validation).

use std::time::Duration;

/// The kind of error the service reported, derived from the response `StatusCode` exactly as
/// the official SDKs map it (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceErrorKind {
    /// 400 and any 4xx without a more specific kind.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409.
    Conflict,
    /// 429.
    TooManyRequests,
    /// Anything outside 4xx (including a missing status code).
    InternalService,
}

impl ServiceErrorKind {
    /// Maps a response `StatusCode` to its error kind.
    pub fn from_status(status: i64) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::Conflict,
            429 => Self::TooManyRequests,
            status if (400..500).contains(&status) => Self::BadRequest,
            _ => Self::InternalService,
        }
    }
}

/// Everything that can go wrong in an SDK call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter failed the same client-side validation the official SDKs apply.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter's name as in the official SDK.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A required server parameter is missing (neither given nor in the environment).
    #[error("missing server parameter {0}")]
    MissingParameter(&'static str),
    /// The TLS settings could not be turned into a client configuration.
    #[error("tls configuration: {0}")]
    Tls(String),
    /// Every attempt to open the WebSocket failed; this is the last failure.
    #[error("could not connect to the service at {url}: {source}")]
    Connect {
        /// The URL without its query string (which carries the credentials).
        url: String,
        /// The last transport error.
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// The call needs a ready process: call `process_ready` first.
    #[error("the process is not ready; call process_ready first")]
    ProcessNotReady,
    /// `process_ready` was already called on this process.
    #[error("process_ready was already called")]
    ProcessAlreadyReady,
    /// The call needs the game session this process was given, and none was pushed yet.
    #[error("no game session has been started on this process")]
    GameSessionIdNotSet,
    /// `get_termination_time` was called before the service scheduled a termination.
    #[error("the service has not scheduled a termination for this process")]
    TerminationTimeNotSet,
    /// The service answered with a non-200 `StatusCode`.
    #[error("{action} failed with status {status} ({kind:?}): {message}")]
    Service {
        /// The request's `Action`.
        action: &'static str,
        /// The error kind derived from the status.
        kind: ServiceErrorKind,
        /// The raw `StatusCode` (0 when absent).
        status: i64,
        /// The service's `ErrorMessage`.
        message: String,
    },
    /// No response arrived within the timeout.
    #[error("no response to {action} within {timeout:?}")]
    Timeout {
        /// The request's `Action`.
        action: &'static str,
        /// How long the SDK waited.
        timeout: Duration,
    },
    /// A success response could not be decoded into the expected result.
    #[error("malformed response to {action}: {source}")]
    MalformedResponse {
        /// The request's `Action`.
        action: &'static str,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// The connection to the service is gone for good (closed by the service, reconnects
    /// exhausted, or `destroy` called).
    #[error("the connection to the service is closed")]
    ConnectionClosed,
    /// The service reported that fleet role credentials are unavailable on this fleet
    /// (an empty `AccessKeyId`, as on Anywhere fleets).
    #[error("fleet role credentials are only available for servers hosted on managed fleets")]
    NotManagedFleet,
}

impl Error {
    /// The service error kind, if the service rejected the request.
    pub fn service_kind(&self) -> Option<ServiceErrorKind> {
        match self {
            Self::Service { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ServiceErrorKind;

    #[test]
    fn status_codes_map_like_the_official_sdks() {
        assert_eq!(ServiceErrorKind::from_status(400), ServiceErrorKind::BadRequest);
        assert_eq!(ServiceErrorKind::from_status(401), ServiceErrorKind::Unauthorized);
        assert_eq!(ServiceErrorKind::from_status(403), ServiceErrorKind::Forbidden);
        assert_eq!(ServiceErrorKind::from_status(404), ServiceErrorKind::NotFound);
        assert_eq!(ServiceErrorKind::from_status(409), ServiceErrorKind::Conflict);
        assert_eq!(ServiceErrorKind::from_status(429), ServiceErrorKind::TooManyRequests);
        assert_eq!(ServiceErrorKind::from_status(418), ServiceErrorKind::BadRequest);
        assert_eq!(ServiceErrorKind::from_status(500), ServiceErrorKind::InternalService);
        assert_eq!(ServiceErrorKind::from_status(0), ServiceErrorKind::InternalService);
    }
}
