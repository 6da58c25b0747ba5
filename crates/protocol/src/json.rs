//! awsJson 1.1 bodies (`control-plane-api.md` sections 2.1 to 2.3).
//!
//! Decoding keeps every string a [`Value::String`]: whether a string is really a
//! base64 blob, or a number a timestamp, is decided later by the shape being read.
//! Encoding writes timestamps as epoch seconds (an integer when whole, otherwise
//! with the millisecond fraction AWS returns), blobs as base64 text, non-finite
//! floats as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (the awsJson
//! convention), and leaves out map members whose value is [`Value::Null`].

use std::fmt;

use base64::Engine;
use openlift_model::{ApiError, Value};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::{MAX_DEPTH, MapBuilder};

/// Parses a request body; an empty body is an empty map.
///
/// Anything but a single JSON object, and any nesting deeper than [`MAX_DEPTH`],
/// is a `SerializationException`.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Map(Vec::new()));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Depth(0).deserialize(&mut de).map_err(malformed)?;
    de.end().map_err(malformed)?;
    match value {
        Value::Map(_) => Ok(value),
        other => Err(ApiError::serialization(format!("Expected a JSON object, found a {}", other.kind()))),
    }
}

/// Serialises a value as awsJson 1.1 text.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail and `Json` never reports an error itself.
    serde_json::to_writer(&mut out, &Json(value)).expect("serialising a Value into memory cannot fail");
    out
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::serialization(format!("Malformed JSON body: {e}"))
}

/// Deserialises one value nested inside `self.0` containers.
struct Depth(usize);

impl Depth {
    fn enter<E: de::Error>(&self) -> Result<Depth, E> {
        if self.0 >= MAX_DEPTH {
            return Err(E::custom(format_args!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(Depth(self.0 + 1))
    }
}

impl<'de> DeserializeSeed<'de> for Depth {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Depth {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Integer(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Integer))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Depth(inner.0))? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.enter()?;
        let mut members = MapBuilder::default();
        while let Some(key) = map.next_key::<String>()? {
            members.insert(key, map.next_value_seed(Depth(inner.0))?);
        }
        Ok(members.finish())
    }
}

/// Serialises a [`Value`] with the awsJson conventions of the module docs.
struct Json<'a>(&'a Value);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Integer(i) => s.serialize_i64(*i),
            Value::Float(f) => serialize_float(*f, s),
            Value::String(text) => s.serialize_str(text),
            Value::Timestamp(t) if t.as_millis().rem_euclid(1000) == 0 => s.serialize_i64(t.as_secs()),
            Value::Timestamp(t) => s.serialize_f64(t.as_secs_f64()),
            Value::Blob(bytes) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes)),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Json(item))?;
                }
                seq.end()
            }
            Value::Map(members) => {
                let mut map = s.serialize_map(None)?;
                for (key, value) in members.iter().filter(|(_, v)| !matches!(v, Value::Null)) {
                    map.serialize_entry(key, &Json(value))?;
                }
                map.end()
            }
        }
    }
}

fn serialize_float<S: Serializer>(f: f64, s: S) -> Result<S::Ok, S::Error> {
    if f.is_nan() {
        s.serialize_str("NaN")
    } else if f.is_infinite() {
        s.serialize_str(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        s.serialize_f64(f)
    }
}
