//! A protocol-neutral value tree: what both awsJson 1.1 and RPC v2 CBOR decode into
//! and encode from, so the generated shapes need to know neither.

use crate::Timestamp;

/// One value of the data model shared by the wire protocols.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null` / CBOR null or undefined; treated as an absent member.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integral number.
    Integer(i64),
    /// A number with a fractional part (or too large for `i64`).
    Float(f64),
    /// A text string.
    String(String),
    /// A point in time (CBOR tag 1; in JSON, a plain number of epoch seconds).
    Timestamp(Timestamp),
    /// Raw bytes (CBOR byte string; base64 text in JSON).
    Blob(Vec<u8>),
    /// An ordered list.
    List(Vec<Value>),
    /// A structure or map, members in insertion order so output is deterministic.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// The name of this value's kind, as used in `SerializationException` messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Integer(_) => "integer",
            Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Timestamp(_) => "timestamp",
            Value::Blob(_) => "blob",
            Value::List(_) => "list",
            Value::Map(_) => "structure",
        }
    }

    /// Looks up a member of a map by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Map(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}
