//! The GameLift Server SDK 5 endpoint: the WebSocket that unmodified official server SDKs
//! (Go, C++, C#) and `openlift-server-sdk` connect to, following
//! `server-sdk-protocol.md` (checklist in its section 8).
//!
//! * `upgrade`: a `GET` with `Upgrade: websocket` that the front door ([`crate::front`])
//!   routes here is an SDK connection; its query is parsed leniently (`query`) and
//!   authenticated (`auth`) before the `101`.
//! * `connection`: one task per WebSocket answers requests (`handlers`, `messages`) and
//!   writes pushes ([`crate::hosting::push`]).
//! * [`crate::hosting::registry`]: server processes by process ID, with the push and claim APIs game-session
//!   placement builds on; [`sweep`] applies the heartbeat timeout and refreshes connections
//!   whose credentials are about to expire ([`refresh_connection`]).

pub(crate) mod auth;
mod connection;
pub mod durable;
pub mod endpoint;
mod handlers;
pub(crate) mod messages;
mod query;
mod session_actions;
pub mod sweep;
pub(crate) mod upgrade;

use std::time::Duration;

use openlift_core::ids;
use openlift_core::records::AuthToken;
use openlift_store::StoreError;

pub use messages::refuse_frame;
pub use upgrade::upgrade;

use crate::app::App;
use crate::hosting::push::{Push, RefreshConnection};
use crate::hosting::registry::{Delivery, ProcessError};

/// How long a compute auth token is accepted, from GetComputeAuthToken or `RefreshConnection`:
/// 3 hours, as GameLift's (AWS's model leaves the span unspecified).
pub const AUTH_TOKEN_LIFETIME: Duration = Duration::from_secs(3 * 60 * 60);

/// Why a connection refresh could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The process cannot take pushes.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// Storing the new auth token failed.
    #[error("storing the auth token: {0}")]
    Store(#[from] StoreError),
}

/// Sends a process `RefreshConnection` with a newly issued auth token for its compute: the
/// SDK opens a new connection to the SDK endpoint and closes the old one (section 4). The
/// sweep does this before what a process authenticated with expires.
pub async fn refresh_connection(app: &App, process_id: &str) -> Result<Delivery, RefreshError> {
    let info = app.sdk.processes.get(process_id).ok_or_else(|| ProcessError::Unknown(process_id.to_owned()))?;
    let token = ids::new_auth_token();
    let now = app.now();
    let stored = AuthToken {
        digest: ids::auth_token_digest(&token),
        fleet_id: info.fleet_id,
        compute_name: info.compute_name,
        expires_at: now.plus(AUTH_TOKEN_LIFETIME),
    };
    app.store.put_auth_token(&stored, now).await?;
    let push = Push::RefreshConnection(RefreshConnection {
        refresh_connection_endpoint: app.sdk_endpoint.clone(),
        auth_token: token,
    });
    Ok(app.sdk.processes.push(process_id, &push)?)
}
