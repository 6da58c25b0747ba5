//! Integration tests: the SDK against an in-test peer speaking the service side of the
//! protocol (protocol spec §1–§5).

mod connection;
mod lifecycle;
mod support;
mod tls;
