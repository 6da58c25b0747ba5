//! The front door: the one listen port and what arrives on it.
//!
//! * `accept`: the accept loop; TLS and plain connections are told apart by their first
//!   byte ([`tls`] provides the certificate), and [`admission`] caps how many are open.
//! * `http`: the routes: the API (`POST /` for awsJson 1.1, `POST
//!   /service/GameLift/operation/<Op>` for Smithy RPC v2 CBOR), the SDK and agent WebSocket
//!   upgrades, log downloads and the health check.
//!
//! The front door calls the API, the endpoints and the services; nothing calls it but
//! [`crate::Server`].

pub(crate) mod accept;
pub mod admission;
pub(crate) mod http;
pub mod tls;
