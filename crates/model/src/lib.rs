//! The GameLift API model, independent of any wire protocol.
//!
//! Shapes, enums and the [`Operation`] list are generated from the botocore model
//! (`control-plane-api.md` sections 3 to 6) into `generated_*.rs` by `openlift-codegen`;
//! this crate adds the protocol-neutral [`Value`] tree the codecs speak, the
//! [`Timestamp`] type, and the one [`ApiError`] every layer returns.

mod error;
mod generated_enums;
mod generated_operations;
mod generated_shapes;
mod timestamp;
pub mod validate;
mod value;

pub use error::{ApiError, ErrorCode};
pub use generated_enums::*;
pub use generated_operations::*;
pub use generated_shapes::*;
pub use timestamp::Timestamp;
pub use value::Value;

/// A shape of the API model that can be read from and written to a [`Value`].
///
/// `from_value` decodes *and* validates against every constraint of the model
/// (required, length, range, pattern, enum), reporting violations the way
/// GameLift does (`InvalidRequestException`, coral-style text) and type
/// mismatches as `SerializationException`.
pub trait Shape: Sized {
    /// Decodes and validates `value`, naming members relative to the input root.
    fn from_value(value: Value) -> Result<Self, ApiError> {
        let mut errors = validate::Errors::default();
        let decoded = Self::decode(value, &validate::Path::root(), &mut errors)?;
        errors.finish()?;
        decoded.ok_or_else(ApiError::internal)
    }

    /// Decodes `value` found at `path`, pushing constraint violations into `errors`.
    ///
    /// Returns `Err` only for type mismatches, which abort decoding at once;
    /// `Ok(None)` when a violation makes the value unusable (it is in `errors`).
    fn decode(value: Value, path: &validate::Path, errors: &mut validate::Errors) -> Result<Option<Self>, ApiError>;

    /// Encodes the shape, leaving out members that have no value.
    fn to_value(&self) -> Value;
}
