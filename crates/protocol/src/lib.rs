//! Wire protocols: see the crate description.
