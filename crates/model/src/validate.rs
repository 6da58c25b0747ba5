//! Decoding helpers and constraint checks used by the generated shapes.
//!
//! Violations are collected rather than returned one by one, so a request with
//! three bad members hears about all three, in GameLift's (coral's) words:
//! `2 validation errors detected: Value 'x' at 'name' failed to satisfy
//! constraint: Member must ...; Value null at 'fleetId' ...`
//! (`control-plane-api.md` section 2.6).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64_STANDARD;
use regex::Regex;

use crate::{ApiError, Timestamp, Value};

/// Where a value sits in the input, in coral's lowerCamelCase dotted form
/// (`locations.1.member.location`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    /// The input structure itself.
    pub fn root() -> Self {
        Path(String::new())
    }

    /// The member `name` (PascalCase as modelled) of the structure at this path.
    pub fn member(&self, name: &str) -> Path {
        let mut chars = name.chars();
        let camel: String = match chars.next() {
            Some(first) => first.to_lowercase().chain(chars).collect(),
            None => String::new(),
        };
        if self.0.is_empty() { Path(camel) } else { Path(format!("{}.{}", self.0, camel)) }
    }

    /// Element `index` (0-based; shown 1-based as coral does) of the list at this path.
    pub fn index(&self, index: usize) -> Path {
        Path(format!("{}.{}.member", self.0, index + 1))
    }

    /// The value under `key` of the map at this path.
    pub fn key(&self, key: &str) -> Path {
        Path(format!("{}.{}", self.0, key))
    }

    /// The dotted path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Constraint violations found while decoding one input.
#[derive(Debug, Default)]
pub struct Errors(Vec<String>);

impl Errors {
    /// Records that the value shown as `shown` at `path` breaks `constraint`.
    pub fn push(&mut self, shown: &str, path: &Path, constraint: &str) {
        self.0.push(format!("Value {shown} at '{}' failed to satisfy constraint: {constraint}", path.as_str()));
    }

    /// Records a required member that is absent.
    pub fn missing(&mut self, path: &Path) {
        self.push("null", path, "Member must not be null");
    }

    /// `Ok` when nothing was recorded, else the `InvalidRequestException` listing every violation.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(ApiError::invalid_request(format!("1 validation error detected: {}", self.0[0]))),
            n => Err(ApiError::invalid_request(format!("{n} validation errors detected: {}", self.0.join("; ")))),
        }
    }
}

fn mismatch(expected: &str, got: &Value, path: &Path) -> ApiError {
    ApiError::serialization(format!("Expected {expected} for member '{}', found {}", path.as_str(), got.kind()))
}

/// Quotes a string the way coral shows it in messages, cut short if very long.
pub fn shown(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("'{}...'", &s[..cut]),
        None => format!("'{s}'"),
    }
}

/// Reads a string.
pub fn string(value: Value, path: &Path) -> Result<String, ApiError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(mismatch("a string", &other, path)),
    }
}

/// Reads a boolean.
pub fn boolean(value: Value, path: &Path) -> Result<bool, ApiError> {
    match value {
        Value::Bool(b) => Ok(b),
        other => Err(mismatch("a boolean", &other, path)),
    }
}

/// Reads an integer that must fit in `i32` (the model's `integer`).
pub fn integer(value: Value, path: &Path) -> Result<i32, ApiError> {
    match value {
        Value::Integer(i) => i32::try_from(i).map_err(|_| {
            ApiError::serialization(format!("Number out of range for integer member '{}'", path.as_str()))
        }),
        other => Err(mismatch("an integer", &other, path)),
    }
}

/// Reads a long integer (the model's `long`).
pub fn long(value: Value, path: &Path) -> Result<i64, ApiError> {
    match value {
        Value::Integer(i) => Ok(i),
        other => Err(mismatch("an integer", &other, path)),
    }
}

/// Reads a floating-point number; integers are accepted too.
pub fn float(value: Value, path: &Path) -> Result<f64, ApiError> {
    match value {
        Value::Float(f) => Ok(f),
        Value::Integer(i) => Ok(i as f64),
        other => Err(mismatch("a number", &other, path)),
    }
}

/// Reads a timestamp: a tagged timestamp (CBOR) or plain epoch seconds (JSON).
pub fn timestamp(value: Value, path: &Path) -> Result<Timestamp, ApiError> {
    let out_of_range = || ApiError::serialization(format!("Timestamp out of range for member '{}'", path.as_str()));
    match value {
        Value::Timestamp(t) => Ok(t),
        Value::Integer(i) => i.checked_mul(1000).map(Timestamp::from_millis).ok_or_else(out_of_range),
        Value::Float(f) => Timestamp::from_secs_f64(f).ok_or_else(out_of_range),
        other => Err(mismatch("a timestamp", &other, path)),
    }
}

/// Reads raw bytes: a byte string (CBOR) or base64 text (JSON).
pub fn blob(value: Value, path: &Path) -> Result<Vec<u8>, ApiError> {
    match value {
        Value::Blob(b) => Ok(b),
        Value::String(s) => BASE64_STANDARD
            .decode(s.as_bytes())
            .map_err(|_| ApiError::serialization(format!("Invalid base64 value for member '{}'", path.as_str()))),
        other => Err(mismatch("a blob", &other, path)),
    }
}

/// Reads a list's elements.
pub fn list(value: Value, path: &Path) -> Result<Vec<Value>, ApiError> {
    match value {
        Value::List(items) => Ok(items),
        other => Err(mismatch("a list", &other, path)),
    }
}

/// Reads a structure's or map's members.
pub fn map(value: Value, path: &Path) -> Result<Vec<(String, Value)>, ApiError> {
    match value {
        Value::Map(members) => Ok(members),
        other => Err(mismatch("a structure", &other, path)),
    }
}

/// Checks a string's length in characters against `min..=max`.
pub fn length(s: &str, min: Option<usize>, max: Option<usize>, path: &Path, errors: &mut Errors) {
    let n = s.chars().count();
    if let Some(min) = min.filter(|&min| n < min) {
        errors.push(&shown(s), path, &format!("Member must have length greater than or equal to {min}"));
    }
    if let Some(max) = max.filter(|&max| n > max) {
        errors.push(&shown(s), path, &format!("Member must have length less than or equal to {max}"));
    }
}

/// Checks that a string holds no U+0000. PostgreSQL's `TEXT` cannot store it, so
/// openlift refuses it in every string member, on either backend (`docs/decisions.md`,
/// "NUL in strings"). The value is shown with the character escaped.
pub fn no_nul(s: &str, path: &Path, errors: &mut Errors) {
    if s.contains('\0') {
        errors.push(&shown(&s.replace('\0', "\\u0000")), path, "Member must not contain the character U+0000");
    }
}

/// Checks a collection's size against `min..=max`.
pub fn count(n: usize, min: Option<usize>, max: Option<usize>, path: &Path, errors: &mut Errors) {
    if let Some(min) = min.filter(|&min| n < min) {
        errors.push("'[...]'", path, &format!("Member must have length greater than or equal to {min}"));
    }
    if let Some(max) = max.filter(|&max| n > max) {
        errors.push("'[...]'", path, &format!("Member must have length less than or equal to {max}"));
    }
}

/// Checks a number against `min..=max`.
pub fn range(v: i64, min: Option<i64>, max: Option<i64>, path: &Path, errors: &mut Errors) {
    if let Some(min) = min.filter(|&min| v < min) {
        errors.push(&format!("'{v}'"), path, &format!("Member must have value greater than or equal to {min}"));
    }
    if let Some(max) = max.filter(|&max| v > max) {
        errors.push(&format!("'{v}'"), path, &format!("Member must have value less than or equal to {max}"));
    }
}

/// Checks a floating-point number against `min..=max`.
pub fn range_float(v: f64, min: Option<f64>, max: Option<f64>, path: &Path, errors: &mut Errors) {
    if let Some(min) = min.filter(|&min| v < min) {
        errors.push(&format!("'{v}'"), path, &format!("Member must have value greater than or equal to {min}"));
    }
    if let Some(max) = max.filter(|&max| v > max) {
        errors.push(&format!("'{v}'"), path, &format!("Member must have value less than or equal to {max}"));
    }
}

/// Checks a string against the model's regular expression (`source` is shown in the message).
pub fn pattern(s: &str, re: &Regex, source: &str, path: &Path, errors: &mut Errors) {
    if !re.is_match(s) {
        errors.push(&shown(s), path, &format!("Member must satisfy regular expression pattern: {source}"));
    }
}

/// Records a string that is not one of an enum's values.
pub fn not_in_enum(s: &str, values: &[&str], path: &Path, errors: &mut Errors) {
    errors.push(&shown(s), path, &format!("Member must satisfy enum value set: [{}]", values.join(", ")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_lower_camel_case_with_one_based_list_members() {
        let p = Path::root().member("Locations").index(0).member("Location");
        assert_eq!(p.as_str(), "locations.1.member.location");
    }

    #[test]
    fn several_violations_are_reported_together() {
        let mut errors = Errors::default();
        errors.missing(&Path::root().member("FleetId"));
        length("", Some(1), None, &Path::root().member("Name"), &mut errors);
        let err = errors.finish().unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidRequestException);
        assert_eq!(
            err.message,
            "2 validation errors detected: Value null at 'fleetId' failed to satisfy constraint: Member must not be null; \
             Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
    }

    #[test]
    fn nul_is_refused_and_shown_escaped() {
        let mut errors = Errors::default();
        no_nul("a\0b", &Path::root().member("Tags").index(0).member("Value"), &mut errors);
        no_nul("fine", &Path::root().member("Name"), &mut errors);
        let err = errors.finish().unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidRequestException);
        assert_eq!(
            err.message,
            "1 validation error detected: Value 'a\\u0000b' at 'tags.1.member.value' failed to satisfy constraint: \
             Member must not contain the character U+0000"
        );
    }

    #[test]
    fn wrong_json_type_is_a_serialization_error_naming_the_member() {
        let err = string(Value::Integer(3), &Path::root().member("Name")).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::SerializationException);
        assert!(err.message.contains("'name'"), "{}", err.message);
    }
}
