//! Which protocol a request speaks and which operation it names
//! (`control-plane-api.md` sections 0.1, 1, 2.1, 2.5 and 2.9).
//!
//! * awsJson 1.1: `POST` to any path with `X-Amz-Target: GameLift.<Operation>`.
//! * Smithy RPC v2 CBOR: `POST` to a path ending in `/service/GameLift/operation/<Operation>`
//!   (any prefix before it) with `smithy-protocol: rpc-v2-cbor`.
//!
//! Everything that cannot be routed is an `UnknownOperationException` (HTTP 400), the
//! framework error AWS answers for an unknown or missing target. Where the contract is
//! silent this module decides as follows:
//!
//! * A `smithy-protocol` header makes the request RPC v2, whatever else it carries; a
//!   value other than `rpc-v2-cbor`, a path of another shape, or a service other than
//!   `GameLift` is an unknown operation.
//! * Without that header, `X-Amz-Target` makes the request awsJson 1.1; a prefix other
//!   than `GameLift.` is an unknown operation.
//! * With neither, the request is an unknown operation; [`protocol_hint`] renders it in
//!   CBOR when the path has the RPC v2 shape (a client that forgot the header), else JSON.
//! * A method other than `POST` is an unknown operation too: no GameLift operation uses another.
//! * Operation names must be non-empty ASCII alphanumerics (the model's names all are);
//!   whether the name is one of the model's operations is decided by the caller, which
//!   answers [`unknown_operation`] when it is not.
//! * `Content-Type` is not checked: SDKs always send the right one, and botocore adds a
//!   charset to it in some versions. Like `X-Amz-Target` and `smithy-protocol`, it must be
//!   signed ([`crate::sigv4::ROUTING_HEADERS`]).

use http::{HeaderMap, Method, Uri};
use openlift_model::{ApiError, ErrorCode, Value};

/// The two wire protocols GameLift clients speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// awsJson 1.1 (boto3, AWS CLI, JavaScript v3).
    AwsJson11,
    /// Smithy RPC v2 CBOR (AWS SDK for Rust, probably Go v2 and Java v2).
    RpcV2Cbor,
}

impl Protocol {
    /// The `Content-Type` of this protocol's bodies.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::AwsJson11 => "application/x-amz-json-1.1",
            Protocol::RpcV2Cbor => "application/cbor",
        }
    }

    /// Decodes a request body in this protocol (see [`crate::json::decode`], [`crate::cbor::decode`]).
    pub fn decode(self, body: &[u8]) -> Result<Value, ApiError> {
        match self {
            Protocol::AwsJson11 => crate::json::decode(body),
            Protocol::RpcV2Cbor => crate::cbor::decode(body),
        }
    }

    /// Encodes a response body in this protocol.
    pub fn encode(self, value: &Value) -> Vec<u8> {
        match self {
            Protocol::AwsJson11 => crate::json::encode(value),
            Protocol::RpcV2Cbor => crate::cbor::encode(value),
        }
    }
}

/// The `X-Amz-Target` prefix of every GameLift operation, before the `.`.
pub const TARGET_PREFIX: &str = "GameLift";

/// The Smithy service name in RPC v2 paths.
pub const SERVICE_NAME: &str = "GameLift";

/// The only `smithy-protocol` value served.
pub const SMITHY_PROTOCOL: &str = "rpc-v2-cbor";

/// Finds the protocol and operation name of a request (rules in the module docs).
pub fn classify(method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(Protocol, String), ApiError> {
    if let Some(value) = headers.get("smithy-protocol") {
        if value.as_bytes() != SMITHY_PROTOCOL.as_bytes() {
            return Err(unknown("The smithy-protocol header must be rpc-v2-cbor."));
        }
        let Some((service, operation)) = rpc_path(uri.path()) else {
            return Err(unknown("The path must end in /service/GameLift/operation/<Operation>."));
        };
        if service != SERVICE_NAME {
            return Err(unknown(format!("Unknown service {service}.")));
        }
        return routed(method, Protocol::RpcV2Cbor, operation);
    }
    let Some(target) = headers.get("x-amz-target") else {
        return Err(unknown("The request names no operation (missing X-Amz-Target header)."));
    };
    let target = target.to_str().map_err(|_| unknown("The X-Amz-Target header is not valid text."))?;
    match target.split_once('.') {
        Some((TARGET_PREFIX, operation)) => routed(method, Protocol::AwsJson11, operation),
        _ => Err(unknown_operation(target)),
    }
}

/// The protocol to answer in when [`classify`] fails: RPC v2 CBOR for a request that
/// carries `smithy-protocol` or, lacking `X-Amz-Target`, has the RPC v2 path shape.
pub fn protocol_hint(uri: &Uri, headers: &HeaderMap) -> Protocol {
    let rpc = headers.contains_key("smithy-protocol")
        || (!headers.contains_key("x-amz-target") && rpc_path(uri.path()).is_some());
    if rpc { Protocol::RpcV2Cbor } else { Protocol::AwsJson11 }
}

/// The `UnknownOperationException` for an operation name the model does not have.
pub fn unknown_operation(name: &str) -> ApiError {
    unknown(format!("Operation {name} is not supported."))
}

fn unknown(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::UnknownOperationException, message)
}

fn routed(method: &Method, protocol: Protocol, operation: &str) -> Result<(Protocol, String), ApiError> {
    if method != Method::POST {
        return Err(unknown(format!("Operations are called with POST, not {method}.")));
    }
    if operation.is_empty() || !operation.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(unknown_operation(operation));
    }
    Ok((protocol, operation.to_owned()))
}

/// Splits `<prefix>/service/<service>/operation/<operation>` into its service and operation.
fn rpc_path(path: &str) -> Option<(&str, &str)> {
    let mut segments = path.rsplit('/');
    let operation = segments.next()?;
    let (Some("operation"), Some(service), Some("service")) = (segments.next(), segments.next(), segments.next())
    else {
        return None;
    };
    Some((service, operation))
}
