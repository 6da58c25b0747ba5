//! Smithy RPC v2 CBOR bodies (`control-plane-api.md` section 2.9, RFC 8949).
//!
//! Decoding accepts definite and indefinite lengths for strings, lists and maps,
//! every float width, tag 1 (integer or float epoch seconds) as
//! [`Value::Timestamp`], byte strings as [`Value::Blob`] and both null and
//! undefined as [`Value::Null`]. Map keys must be text strings, as Smithy
//! requires. Other tags are looked through: the tagged value is kept, the tag
//! dropped. Every declared length is checked against the bytes actually left
//! before anything is allocated, so hostile input fails fast with a
//! `SerializationException` instead of allocating or panicking.
//!
//! Encoding uses definite lengths and the shortest integer heads, writes floats
//! as float64, timestamps as tag 1 followed by integer seconds when whole (else a
//! float64), and leaves out map members whose value is [`Value::Null`].

mod decode;

pub use decode::decode;

use openlift_model::Value;

const UNSIGNED: u8 = 0;
const NEGATIVE: u8 = 1;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;
const TAG: u8 = 6;

/// The CBOR tag marking an epoch-seconds timestamp.
const EPOCH_TAG: u64 = 1;

/// Serialises a value as RPC v2 CBOR.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out, value);
    out
}

fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(0xf6),
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Integer(i) => write_integer(out, *i),
        Value::Float(f) => write_f64(out, *f),
        Value::String(text) => {
            head(out, TEXT, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
        }
        Value::Timestamp(t) => {
            head(out, TAG, EPOCH_TAG);
            if t.as_millis().rem_euclid(1000) == 0 {
                write_integer(out, t.as_secs());
            } else {
                write_f64(out, t.as_secs_f64());
            }
        }
        Value::Blob(bytes) => {
            head(out, BYTES, bytes.len() as u64);
            out.extend_from_slice(bytes);
        }
        Value::List(items) => {
            head(out, ARRAY, items.len() as u64);
            for item in items {
                write(out, item);
            }
        }
        Value::Map(members) => {
            let present = || members.iter().filter(|(_, v)| !matches!(v, Value::Null));
            head(out, MAP, present().count() as u64);
            for (key, value) in present() {
                head(out, TEXT, key.len() as u64);
                out.extend_from_slice(key.as_bytes());
                write(out, value);
            }
        }
    }
}

fn write_integer(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        head(out, UNSIGNED, i as u64);
    } else {
        // CBOR stores a negative n as the unsigned -1 - n, which is !n in two's complement.
        head(out, NEGATIVE, !i as u64);
    }
}

fn write_f64(out: &mut Vec<u8>, f: f64) {
    out.push(0xfb);
    out.extend_from_slice(&f.to_be_bytes());
}

/// Writes a major type with its argument in the shortest form.
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    if n < 24 {
        out.push(major | n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[major | 24, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(major | 25);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(major | 26);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}
