//! Wire protocols of the GameLift control plane (`control-plane-api.md` sections 2 and 9).
//!
//! * [`json`] and [`cbor`] turn request bodies into the protocol-neutral
//!   [`openlift_model::Value`] tree and back (awsJson 1.1, section 2.2; Smithy RPC v2 CBOR, section 2.9).
//! * [`classify`] tells which of the two protocols a request speaks and which operation it names.
//! * [`response`] renders successes and [`openlift_model::ApiError`]s with the exact headers and
//!   body shapes the AWS SDKs parse (sections 2.3, 2.4 and 2.9).
//! * [`sigv4`] verifies header-signed requests (section 9) and exposes the signing building blocks.

pub mod cbor;
pub mod classify;
pub mod json;
pub mod response;
pub mod sigv4;

pub use classify::{Protocol, classify};
pub use response::{error, success};

/// Deepest nesting of lists and maps a request body may have; deeper input is a
/// `SerializationException`, so hostile bodies never exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Collects the members of a decoded map; a repeated key keeps its first
/// position and its last value, as JSON parsers usually do.
#[derive(Default)]
pub(crate) struct MapBuilder {
    members: Vec<(String, openlift_model::Value)>,
    index: std::collections::HashMap<String, usize>,
}

impl MapBuilder {
    pub(crate) fn insert(&mut self, key: String, value: openlift_model::Value) {
        match self.index.get(&key) {
            Some(&at) => self.members[at].1 = value,
            None => {
                self.index.insert(key.clone(), self.members.len());
                self.members.push((key, value));
            }
        }
    }

    pub(crate) fn finish(self) -> openlift_model::Value {
        openlift_model::Value::Map(self.members)
    }
}
