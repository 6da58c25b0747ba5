//! The single error type at the API boundary.
//!
//! Every code knows its HTTP status and `__type` namespace in one exhaustive
//! match, so no layer ever picks a status by looking at strings
//! (`control-plane-api.md` sections 2.4, 2.5 and 9.3).

use std::fmt;

/// Every error code openlift answers with: GameLift's 16 modelled exceptions,
/// then the framework ("coral") errors raised before an operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A parameter value is invalid, including model-constraint violations.
    InvalidRequestException,
    /// The referenced resource does not exist.
    NotFoundException,
    /// The request conflicts with the current state of a resource.
    ConflictException,
    /// The fleet or location is not in a status that allows the operation.
    InvalidFleetStatusException,
    /// The game session is not in a status that allows the operation.
    InvalidGameSessionStatusException,
    /// No server process is available to host a new game session.
    FleetCapacityExceededException,
    /// The game session cannot take the requested players.
    GameSessionFullException,
    /// An idempotency token was reused with different parameters.
    IdempotentParameterMismatchException,
    /// A service limit would be exceeded.
    LimitExceededException,
    /// The alias routes nowhere; the message is the alias's routing message.
    TerminalRoutingStrategyException,
    /// Application-level authentication failed.
    UnauthorizedException,
    /// The operation is not available in this Region.
    UnsupportedRegionException,
    /// The resource is not ready yet.
    NotReadyException,
    /// Tagging failed.
    TaggingFailedException,
    /// No game server is available (FleetIQ).
    OutOfCapacityException,
    /// An unexpected failure inside openlift; retryable.
    InternalServiceException,
    /// The `X-Amz-Target` or operation path names no operation of the model.
    UnknownOperationException,
    /// The body is not parsable, or a member has the wrong type.
    SerializationException,
    /// The caller was throttled.
    ThrottlingException,
    /// The caller is authenticated but not allowed.
    AccessDeniedException,
    /// No `Authorization` header at all.
    MissingAuthenticationTokenException,
    /// The `Authorization` header is malformed or incomplete.
    IncompleteSignatureException,
    /// Unknown access key ID or session token.
    UnrecognizedClientException,
    /// The signature does not match, is stale, or has the wrong scope.
    InvalidSignatureException,
    /// Temporary credentials have expired.
    ExpiredTokenException,
    /// The request body did not arrive in time (HTTP 408; the SDKs retry it).
    RequestTimeoutException,
    /// The request's header section is larger than openlift accepts (HTTP 431; openlift's
    /// name, AWS documents none).
    RequestHeaderFieldsTooLargeException,
}

impl ErrorCode {
    /// The code as clients see it after stripping the namespace.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequestException => "InvalidRequestException",
            ErrorCode::NotFoundException => "NotFoundException",
            ErrorCode::ConflictException => "ConflictException",
            ErrorCode::InvalidFleetStatusException => "InvalidFleetStatusException",
            ErrorCode::InvalidGameSessionStatusException => "InvalidGameSessionStatusException",
            ErrorCode::FleetCapacityExceededException => "FleetCapacityExceededException",
            ErrorCode::GameSessionFullException => "GameSessionFullException",
            ErrorCode::IdempotentParameterMismatchException => "IdempotentParameterMismatchException",
            ErrorCode::LimitExceededException => "LimitExceededException",
            ErrorCode::TerminalRoutingStrategyException => "TerminalRoutingStrategyException",
            ErrorCode::UnauthorizedException => "UnauthorizedException",
            ErrorCode::UnsupportedRegionException => "UnsupportedRegionException",
            ErrorCode::NotReadyException => "NotReadyException",
            ErrorCode::TaggingFailedException => "TaggingFailedException",
            ErrorCode::OutOfCapacityException => "OutOfCapacityException",
            ErrorCode::InternalServiceException => "InternalServiceException",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::SerializationException => "SerializationException",
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::AccessDeniedException => "AccessDeniedException",
            ErrorCode::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            ErrorCode::IncompleteSignatureException => "IncompleteSignatureException",
            ErrorCode::UnrecognizedClientException => "UnrecognizedClientException",
            ErrorCode::InvalidSignatureException => "InvalidSignatureException",
            ErrorCode::ExpiredTokenException => "ExpiredTokenException",
            ErrorCode::RequestTimeoutException => "RequestTimeoutException",
            ErrorCode::RequestHeaderFieldsTooLargeException => "RequestHeaderFieldsTooLargeException",
        }
    }

    /// The HTTP status: 500 for the one server fault, 408 and 431 for the two HTTP-layer
    /// refusals, 400 for everything else.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InternalServiceException => 500,
            ErrorCode::RequestTimeoutException => 408,
            ErrorCode::RequestHeaderFieldsTooLargeException => 431,
            ErrorCode::InvalidRequestException
            | ErrorCode::NotFoundException
            | ErrorCode::ConflictException
            | ErrorCode::InvalidFleetStatusException
            | ErrorCode::InvalidGameSessionStatusException
            | ErrorCode::FleetCapacityExceededException
            | ErrorCode::GameSessionFullException
            | ErrorCode::IdempotentParameterMismatchException
            | ErrorCode::LimitExceededException
            | ErrorCode::TerminalRoutingStrategyException
            | ErrorCode::UnauthorizedException
            | ErrorCode::UnsupportedRegionException
            | ErrorCode::NotReadyException
            | ErrorCode::TaggingFailedException
            | ErrorCode::OutOfCapacityException
            | ErrorCode::UnknownOperationException
            | ErrorCode::SerializationException
            | ErrorCode::ThrottlingException
            | ErrorCode::AccessDeniedException
            | ErrorCode::MissingAuthenticationTokenException
            | ErrorCode::IncompleteSignatureException
            | ErrorCode::UnrecognizedClientException
            | ErrorCode::InvalidSignatureException
            | ErrorCode::ExpiredTokenException => 400,
        }
    }

    /// Whether the code is one of GameLift's modelled exceptions, which operations
    /// declare; the others are the AWS framework's, raised before an operation runs.
    pub fn is_modelled(self) -> bool {
        match self {
            ErrorCode::InvalidRequestException
            | ErrorCode::NotFoundException
            | ErrorCode::ConflictException
            | ErrorCode::InvalidFleetStatusException
            | ErrorCode::InvalidGameSessionStatusException
            | ErrorCode::FleetCapacityExceededException
            | ErrorCode::GameSessionFullException
            | ErrorCode::IdempotentParameterMismatchException
            | ErrorCode::LimitExceededException
            | ErrorCode::TerminalRoutingStrategyException
            | ErrorCode::UnauthorizedException
            | ErrorCode::UnsupportedRegionException
            | ErrorCode::NotReadyException
            | ErrorCode::TaggingFailedException
            | ErrorCode::OutOfCapacityException
            | ErrorCode::InternalServiceException => true,
            ErrorCode::UnknownOperationException
            | ErrorCode::SerializationException
            | ErrorCode::ThrottlingException
            | ErrorCode::AccessDeniedException
            | ErrorCode::MissingAuthenticationTokenException
            | ErrorCode::IncompleteSignatureException
            | ErrorCode::UnrecognizedClientException
            | ErrorCode::InvalidSignatureException
            | ErrorCode::ExpiredTokenException
            | ErrorCode::RequestTimeoutException
            | ErrorCode::RequestHeaderFieldsTooLargeException => false,
        }
    }

    /// The namespace prefixed to `__type`: GameLift's for modelled exceptions,
    /// the AWS framework's for the others.
    pub fn namespace(self) -> &'static str {
        if self.is_modelled() { "com.amazonaws.gamelift" } else { "com.amazon.coral.service" }
    }

    /// The full `__type` value, `namespace#Code`.
    pub fn qualified(self) -> String {
        format!("{}#{}", self.namespace(), self.as_str())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answered to the client: a code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// What went wrong, as a client matches on it.
    pub code: ErrorCode,
    /// Text for a person; never contains secrets or internal detail.
    pub message: String,
}

impl ApiError {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into() }
    }

    /// `InvalidRequestException` with `message`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequestException, message)
    }

    /// `NotFoundException` with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFoundException, message)
    }

    /// `ConflictException` with `message`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ConflictException, message)
    }

    /// `SerializationException` with `message`.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::SerializationException, message)
    }

    /// `InternalServiceException` with the generic message clients are shown;
    /// the cause is logged by the caller, never sent.
    pub fn internal() -> Self {
        Self::new(ErrorCode::InternalServiceException, "An internal error occurred. Retry the request.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_internal_service_exception_is_a_server_fault() {
        assert_eq!(ErrorCode::InternalServiceException.http_status(), 500);
        assert_eq!(ErrorCode::NotFoundException.http_status(), 400);
        assert_eq!(ErrorCode::InvalidSignatureException.http_status(), 400);
        assert_eq!(ErrorCode::RequestTimeoutException.http_status(), 408);
        assert_eq!(ErrorCode::RequestHeaderFieldsTooLargeException.http_status(), 431);
    }

    #[test]
    fn framework_errors_use_the_coral_namespace() {
        assert_eq!(
            ErrorCode::UnknownOperationException.qualified(),
            "com.amazon.coral.service#UnknownOperationException"
        );
        assert_eq!(ErrorCode::NotFoundException.qualified(), "com.amazonaws.gamelift#NotFoundException");
    }
}
