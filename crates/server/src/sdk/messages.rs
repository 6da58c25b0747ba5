//! The SDK message envelope (`server-sdk-protocol.md` section 2): parsing requests leniently
//! and rendering responses the way every official SDK dispatches them.
//!
//! * A response always echoes `Action` and `RequestId` and carries `StatusCode`: exactly
//!   200 on success, with result fields at the top level; otherwise the error status and
//!   an `ErrorMessage`.
//! * Request fields are looked up by exact name, then case-insensitively (Newtonsoft's
//!   behaviour); `null` counts as absent (C#), absent keys are normal (C++, Go `omitempty`).
//! * A frame that is not a JSON object or has no string `RequestId` cannot be answered in a
//!   way an SDK would route, so it is ignored (and logged); one with a `RequestId` but a
//!   missing or unknown `Action` gets a 400.

use serde_json::{Map, Value};

/// Result fields of a successful response.
pub(crate) type Fields = Map<String, Value>;

/// An error answer: a non-200 status and the message the SDK reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) message: String,
}

impl Failure {
    /// 400 Bad Request.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Failure { status: 400, message: message.into() }
    }

    /// 404 Not Found.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Failure { status: 404, message: message.into() }
    }

    /// 500 Internal Server Error.
    pub(crate) fn internal() -> Self {
        Failure { status: 500, message: "Internal service error; retry the request.".into() }
    }
}

/// A request frame the endpoint can answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inbound {
    /// `Action`, if it is a string.
    pub(crate) action: Option<String>,
    /// `RequestId`.
    pub(crate) request_id: String,
    /// The whole frame; request fields are top-level members.
    pub(crate) body: Map<String, Value>,
}

/// Why a frame is ignored rather than answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unanswerable {
    /// Not JSON, or not a JSON object.
    NotAnObject,
    /// No string `RequestId` to answer to.
    NoRequestId,
}

/// Parses a text frame.
pub(crate) fn parse(text: &str) -> Result<Inbound, Unanswerable> {
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(text) else {
        return Err(Unanswerable::NotAnObject);
    };
    let request_id = match field(&body, "RequestId") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(Unanswerable::NoRequestId),
    };
    let action = field(&body, "Action").and_then(Value::as_str).map(str::to_owned);
    Ok(Inbound { action, request_id, body })
}

/// The reply a text frame gets when its request is refused with a 400, or `None` for a frame
/// that cannot be answered: parsing and rendering alone, as the SDK and agent endpoints do
/// them, for the fuzz harness (`crates/fuzz`).
pub fn refuse_frame(text: &str) -> Option<String> {
    let inbound = parse(text).ok()?;
    Some(reply(inbound.action.as_deref(), &inbound.request_id, Err(Failure::bad_request("refused"))))
}

/// The members of a JSON object (built with `json!`); nothing for any other value.
pub(crate) fn fields(value: Value) -> Fields {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The response frame to a request.
pub(crate) fn reply(action: Option<&str>, request_id: &str, outcome: Result<Fields, Failure>) -> String {
    let mut frame = Map::new();
    frame.insert("Action".into(), action.map_or(Value::Null, |a| Value::String(a.to_owned())));
    frame.insert("RequestId".into(), Value::String(request_id.to_owned()));
    match outcome {
        Ok(fields) => {
            frame.extend(fields);
            frame.insert("StatusCode".into(), Value::from(200));
        }
        Err(failure) => {
            frame.insert("StatusCode".into(), Value::from(failure.status));
            frame.insert("ErrorMessage".into(), Value::String(failure.message));
        }
    }
    Value::Object(frame).to_string()
}

/// A member by exact name, else case-insensitively; `null` is absent.
pub(crate) fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let value = body
        .get(name)
        .or_else(|| body.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value))?;
    (!value.is_null()).then_some(value)
}

/// An optional string member; an empty string counts as absent (C++ omits empty strings).
pub(crate) fn string<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Failure> {
    match field(body, name) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Failure::bad_request(format!("{name} must be a string."))),
    }
}

/// A required, non-empty string member.
pub(crate) fn required_string<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, Failure> {
    string(body, name)?.ok_or_else(|| Failure::bad_request(format!("{name} is required.")))
}

/// An optional integer member (an integral JSON number).
pub(crate) fn integer(body: &Map<String, Value>, name: &str) -> Result<Option<i64>, Failure> {
    match field(body, name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| Failure::bad_request(format!("{name} must be an integer."))),
    }
}

/// An optional boolean member.
pub(crate) fn boolean(body: &Map<String, Value>, name: &str) -> Result<Option<bool>, Failure> {
    match field(body, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Failure::bad_request(format!("{name} must be true or false."))),
    }
}

/// An optional list of strings; absent or `null` is empty.
pub(crate) fn string_list(body: &Map<String, Value>, name: &str) -> Result<Vec<String>, Failure> {
    match field(body, name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Failure::bad_request(format!("{name} must be a list of strings."))),
        Some(_) => Err(Failure::bad_request(format!("{name} must be a list of strings."))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_success_echoes_action_and_request_id_with_top_level_fields() {
        let fields = body(json!({"ComputeName": "host-1"}));
        let frame: Value = serde_json::from_str(&reply(Some("GetComputeCertificate"), "r1", Ok(fields))).unwrap();
        assert_eq!(
            frame,
            json!({"Action": "GetComputeCertificate", "RequestId": "r1", "StatusCode": 200, "ComputeName": "host-1"})
        );
    }

    #[test]
    fn an_error_carries_status_and_message_and_a_null_action_when_none_was_sent() {
        let frame: Value = serde_json::from_str(&reply(None, "r2", Err(Failure::bad_request("no")))).unwrap();
        assert_eq!(frame, json!({"Action": null, "RequestId": "r2", "StatusCode": 400, "ErrorMessage": "no"}));
    }

    #[test]
    fn frames_without_a_request_id_or_not_objects_are_unanswerable() {
        assert_eq!(parse("not json"), Err(Unanswerable::NotAnObject));
        assert_eq!(parse("[1,2]"), Err(Unanswerable::NotAnObject));
        assert_eq!(parse(r#"{"Action":"HeartbeatServerProcess"}"#), Err(Unanswerable::NoRequestId));
        assert_eq!(parse(r#"{"Action":"X","RequestId":""}"#), Err(Unanswerable::NoRequestId));
        assert_eq!(parse(r#"{"Action":"X","RequestId":7}"#), Err(Unanswerable::NoRequestId));
        let inbound = parse(r#"{"action":"X","requestId":"r"}"#).unwrap();
        assert_eq!((inbound.action.as_deref(), inbound.request_id.as_str()), (Some("X"), "r"));
    }

    #[test]
    fn fields_are_found_case_insensitively_and_null_is_absent() {
        let b = body(json!({"port": 7777, "SdkToolName": null, "LogPaths": null, "HealthStatus": true, "F": 1.0}));
        assert_eq!(integer(&b, "Port"), Ok(Some(7777)));
        assert_eq!(integer(&b, "F"), Ok(Some(1)));
        assert_eq!(string(&b, "SdkToolName"), Ok(None));
        assert_eq!(string_list(&b, "LogPaths"), Ok(vec![]));
        assert_eq!(boolean(&b, "HealthStatus"), Ok(Some(true)));
        assert!(required_string(&b, "GameSessionId").is_err());
        assert!(integer(&body(json!({"Port": "x"})), "Port").is_err());
        assert!(string_list(&body(json!({"LogPaths": [1]})), "LogPaths").is_err());
    }
}
