//! The GameLift Server SDK 5 endpoint: the WebSocket that unmodified official server SDKs
//! (Go, C++, C#) and `openlift-server-sdk` connect to, following
//! `server-sdk-protocol.md` (checklist in its section 8).
//!
//! * `accept`: the listen port, shared with the control plane; TLS and plain connections
//!   are told apart by their first byte ([`tls`] provides the certificate), and
//!   [`admission`] caps how many are open.
//! * `upgrade`: any `GET` with `Upgrade: websocket` is an SDK connection; its query is
//!   parsed leniently (`query`) and authenticated (`auth`) before the `101`.
//! * `connection`: one task per WebSocket answers requests (`handlers`, `messages`) and
//!   writes pushes ([`push`]).
//! * [`registry`]: server processes by process ID, with the push and claim APIs game-session
//!   placement builds on; [`sweep`] applies the heartbeat timeout and refreshes connections
//!   whose credentials are about to expire ([`refresh_connection`]).
//!
//! An upgrade on [`crate::agent::AGENT_PATH`] is a host agent's connection instead and goes
//! to [`crate::agent`].

pub(crate) mod accept;
pub mod admission;
pub(crate) mod auth;
mod connection;
pub mod durable;
mod handlers;
pub(crate) mod messages;
mod process;
pub mod push;
mod query;
pub mod registry;
mod session_actions;
pub mod sweep;
pub mod tls;
pub(crate) mod upgrade;

use std::time::Duration;

use openlift_core::ids;
use openlift_core::records::AuthToken;
use openlift_store::StoreError;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use messages::refuse_frame;
pub use upgrade::{is_websocket_upgrade, upgrade};

use self::push::{Push, RefreshConnection};
use self::registry::{Delivery, ProcessError, Registry};
use crate::app::App;

/// How long a compute auth token is accepted, from GetComputeAuthToken or `RefreshConnection`:
/// 3 hours, as GameLift's (AWS's model leaves the span unspecified).
pub const AUTH_TOKEN_LIFETIME: Duration = Duration::from_secs(3 * 60 * 60);

/// The background work of a running server: every spawned task is tracked, and all of
/// them stop when `cancel` fires.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    /// Owns the tasks.
    pub tracker: TaskTracker,
    /// Stops them.
    pub cancel: CancellationToken,
}

/// The SDK endpoint's part of the server state.
pub struct SdkEndpoint {
    /// The server processes.
    pub processes: Registry,
    /// How long a process may go without a healthy heartbeat.
    pub heartbeat_timeout: Duration,
    /// Connection tasks and the sweeper.
    pub tasks: Tasks,
}

impl SdkEndpoint {
    /// An endpoint with no processes yet.
    pub fn new(heartbeat_timeout: Duration) -> Self {
        SdkEndpoint { processes: Registry::default(), heartbeat_timeout, tasks: Tasks::default() }
    }
}

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
