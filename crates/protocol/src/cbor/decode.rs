//! The CBOR reader behind [`decode`]; the accepted subset is described in the parent module.

use openlift_model::{ApiError, Timestamp, Value};

use super::{ARRAY, BYTES, EPOCH_TAG, MAP, NEGATIVE, TAG, TEXT, UNSIGNED};
use crate::{MAX_DEPTH, MapBuilder};

const BREAK: u8 = 0xff;

/// The range `Timestamp::from_secs_f64` accepts, applied to integer seconds too.
const MAX_TIMESTAMP_MILLIS: u64 = 8_640_000_000_000_000;

/// Parses a request body; an empty body is an empty map.
///
/// Anything but a single CBOR map with text keys, truncated or trailing data,
/// invalid UTF-8 and nesting deeper than [`MAX_DEPTH`] are `SerializationException`s.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Map(Vec::new()));
    }
    let mut reader = Reader { buf: body, pos: 0 };
    let value = reader.value(0)?;
    if reader.pos != body.len() {
        return Err(malformed("trailing bytes after the top-level value"));
    }
    match value {
        Value::Map(_) => Ok(value),
        other => Err(ApiError::serialization(format!("Expected a CBOR map, found a {}", other.kind()))),
    }
}

fn malformed(what: &str) -> ApiError {
    ApiError::serialization(format!("Malformed CBOR body: {what}"))
}

/// The argument of a data item head.
enum Length {
    Definite(u64),
    Indefinite,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self) -> Result<u8, ApiError> {
        self.buf.get(self.pos).copied().ok_or_else(|| malformed("unexpected end of data"))
    }

    fn byte(&mut self) -> Result<u8, ApiError> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], ApiError> {
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => {
                let bytes = &self.buf[self.pos..self.pos + n];
                self.pos += n;
                Ok(bytes)
            }
            _ => Err(malformed("declared length exceeds the data")),
        }
    }

    fn uint(&mut self, width: u64) -> Result<u64, ApiError> {
        Ok(self.take(width)?.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn length(&mut self, info: u8) -> Result<Length, ApiError> {
        match info {
            0..=23 => Ok(Length::Definite(u64::from(info))),
            24 => self.uint(1).map(Length::Definite),
            25 => self.uint(2).map(Length::Definite),
            26 => self.uint(4).map(Length::Definite),
            27 => self.uint(8).map(Length::Definite),
            31 => Ok(Length::Indefinite),
            _ => Err(malformed("reserved additional information")),
        }
    }

    fn definite(&mut self, info: u8) -> Result<u64, ApiError> {
        match self.length(info)? {
            Length::Definite(n) => Ok(n),
            Length::Indefinite => Err(malformed("indefinite length not allowed here")),
        }
    }

    /// Reads `count` container entries, failing before allocating if the data cannot hold them.
    fn capacity(&self, count: u64, bytes_each: usize) -> Result<usize, ApiError> {
        usize::try_from(count)
            .ok()
            .filter(|&n| n.saturating_mul(bytes_each) <= self.remaining())
            .ok_or_else(|| malformed("declared length exceeds the data"))
    }

    fn value(&mut self, depth: usize) -> Result<Value, ApiError> {
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        match major {
            UNSIGNED => {
                let n = self.definite(info)?;
                Ok(i64::try_from(n).map_or(Value::Float(n as f64), Value::Integer))
            }
            NEGATIVE => {
                let n = self.definite(info)?;
                Ok(i64::try_from(n).map_or(Value::Float(-1.0 - n as f64), |n| Value::Integer(-1 - n)))
            }
            BYTES => self.string(BYTES, info).map(Value::Blob),
            TEXT => self.text(info).map(Value::String),
            ARRAY => self.array(info, nested(depth)?),
            MAP => self.map(info, nested(depth)?),
            TAG => {
                let tag = self.definite(info)?;
                let inner = self.value(nested(depth)?)?;
                if tag == EPOCH_TAG { timestamp(inner).map(Value::Timestamp) } else { Ok(inner) }
            }
            _ => self.simple(info),
        }
    }

    fn simple(&mut self, info: u8) -> Result<Value, ApiError> {
        match info {
            20 => Ok(Value::Bool(false)),
            21 => Ok(Value::Bool(true)),
            22 | 23 => Ok(Value::Null),
            25 => Ok(Value::Float(f16_to_f64(self.uint(2)? as u16))),
            26 => Ok(Value::Float(f64::from(f32::from_bits(self.uint(4)? as u32)))),
            27 => Ok(Value::Float(f64::from_bits(self.uint(8)?))),
            31 => Err(malformed("unexpected break")),
            _ => Err(malformed("unsupported simple value")),
        }
    }

    /// A byte or text string's bytes, joining the chunks of an indefinite-length string.
    fn string(&mut self, major: u8, info: u8) -> Result<Vec<u8>, ApiError> {
        match self.length(info)? {
            Length::Definite(n) => Ok(self.take(n)?.to_vec()),
            Length::Indefinite => {
                let mut out = Vec::new();
                while self.peek()? != BREAK {
                    let chunk = self.byte()?;
                    if chunk >> 5 != major {
                        return Err(malformed("string chunk of the wrong type"));
                    }
                    let n = self.definite(chunk & 0x1f)?;
                    let bytes = self.take(n)?;
                    if major == TEXT && std::str::from_utf8(bytes).is_err() {
                        return Err(malformed("invalid UTF-8 in a text string"));
                    }
                    out.extend_from_slice(bytes);
                }
                self.pos += 1;
                Ok(out)
            }
        }
    }

    fn text(&mut self, info: u8) -> Result<String, ApiError> {
        String::from_utf8(self.string(TEXT, info)?).map_err(|_| malformed("invalid UTF-8 in a text string"))
    }

    fn array(&mut self, info: u8, depth: usize) -> Result<Value, ApiError> {
        let mut items = Vec::new();
        match self.length(info)? {
            Length::Definite(n) => {
                items.reserve(self.capacity(n, 1)?);
                for _ in 0..n {
                    items.push(self.value(depth)?);
                }
            }
            Length::Indefinite => {
                while self.peek()? != BREAK {
                    items.push(self.value(depth)?);
                }
                self.pos += 1;
            }
        }
        Ok(Value::List(items))
    }

    fn map(&mut self, info: u8, depth: usize) -> Result<Value, ApiError> {
        let mut members = MapBuilder::default();
        match self.length(info)? {
            Length::Definite(n) => {
                self.capacity(n, 2)?;
                for _ in 0..n {
                    let key = self.key()?;
                    members.insert(key, self.value(depth)?);
                }
            }
            Length::Indefinite => {
                while self.peek()? != BREAK {
                    let key = self.key()?;
                    members.insert(key, self.value(depth)?);
                }
                self.pos += 1;
            }
        }
        Ok(members.finish())
    }

    fn key(&mut self) -> Result<String, ApiError> {
        let initial = self.byte()?;
        if initial >> 5 != TEXT {
            return Err(malformed("map key is not a text string"));
        }
        self.text(initial & 0x1f)
    }
}

/// The depth of the children of a container (or tag) found at `depth`.
fn nested(depth: usize) -> Result<usize, ApiError> {
    if depth >= MAX_DEPTH {
        return Err(ApiError::serialization(format!("CBOR body nests deeper than {MAX_DEPTH} levels")));
    }
    Ok(depth + 1)
}

fn timestamp(inner: Value) -> Result<Timestamp, ApiError> {
    let parsed = match inner {
        Value::Integer(secs) => secs
            .checked_mul(1000)
            .filter(|millis| millis.unsigned_abs() < MAX_TIMESTAMP_MILLIS)
            .map(Timestamp::from_millis),
        Value::Float(secs) => from_float_secs(secs),
        _ => None,
    };
    parsed.ok_or_else(|| malformed("tag 1 must wrap epoch seconds in range"))
}

/// Converts float epoch seconds to milliseconds.
///
/// Seconds written from whole milliseconds (as AWS and this crate's encoder write them,
/// `millis / 1000.0`) map back to exactly those milliseconds; finer input is truncated
/// toward the past, as `Timestamp::from_secs_f64` does.
fn from_float_secs(secs: f64) -> Option<Timestamp> {
    let nearest = (secs * 1000.0).round();
    let millis = if nearest / 1000.0 == secs { nearest } else { (secs * 1000.0).floor() };
    (millis.is_finite() && millis.abs() < MAX_TIMESTAMP_MILLIS as f64).then(|| Timestamp::from_millis(millis as i64))
}

/// Widens an IEEE 754 half-precision float.
fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
    }
}
