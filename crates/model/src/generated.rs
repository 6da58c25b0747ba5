//! Placeholder until `openlift-codegen` writes the generated shapes here.
