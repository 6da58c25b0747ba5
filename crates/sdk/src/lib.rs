//! An async Rust server SDK for game servers hosted by openlift or Amazon GameLift Servers.
//!
//! It speaks the SDK 5 WebSocket protocol exactly as the official Go, C++ and C# server SDKs
//! do (see `docs/server-sdk-protocol.md` in the openlift repository): the same connection
//! query, JSON messages, `RequestId` correlation, timeouts, heartbeats, reconnects and
//! `RefreshConnection` handling. The surface follows the official SDK 5 API, in async Rust.
//!
//! # Lifecycle
//!
//! 1. [`GameLiftServer::init_from_env`] (or [`GameLiftServer::init`]) connects, with the
//!    `GAMELIFT_SDK_*` variables a launcher sets.
//! 2. [`GameLiftServer::process_ready`] reports the port and log paths and installs a
//!    [`ServerHandler`]; heartbeats start.
//! 3. [`ServerHandler::on_start_game_session`] gets the game session; call
//!    [`GameLiftServer::activate_game_session`].
//! 4. Players connect with a player session ID: [`GameLiftServer::accept_player_session`],
//!    later [`GameLiftServer::remove_player_session`].
//! 5. At the end (or after [`ServerHandler::on_process_terminate`]):
//!    [`GameLiftServer::process_ending`], [`GameLiftServer::destroy`], exit.
//!
//! # Example
//!
//! ```no_run
//! use openlift_server_sdk::{
//!     ClientOptions, GameLiftServer, GameSession, ProcessParameters, ServerHandler,
//! };
//! use tokio::sync::Notify;
//! use std::sync::Arc;
//!
//! struct Game {
//!     sdk: GameLiftServer,
//!     stop: Arc<Notify>,
//! }
//!
//! impl ServerHandler for Game {
//!     async fn on_start_game_session(&self, session: GameSession) {
//!         println!("hosting {}", session.game_session_id);
//!         if let Err(error) = self.sdk.activate_game_session().await {
//!             eprintln!("activation failed: {error}");
//!         }
//!     }
//!
//!     async fn on_process_terminate(&self) {
//!         self.stop.notify_one();
//!     }
//! }
//!
//! # async fn run() -> Result<(), openlift_server_sdk::Error> {
//! let sdk = GameLiftServer::init_from_env(ClientOptions::default()).await?;
//! let stop = Arc::new(Notify::new());
//! let game = Game { sdk: sdk.clone(), stop: stop.clone() };
//! let params = ProcessParameters { port: 7777, log_paths: vec!["/local/game/logs".into()] };
//! sdk.process_ready(params, game).await?;
//! stop.notified().await;
//! sdk.process_ending().await?;
//! sdk.destroy().await;
//! # Ok(())
//! # }
//! ```
//!
//! # TLS
//!
//! `wss://` uses rustls. [`TlsTrust`] selects the operating system's roots (default), a given
//! CA, or any certificate (a self-signed development service). `ws://` is plain TCP.

mod connection;
mod endpoint;
mod error;
mod handler;
mod message;
mod model;
mod options;
mod params;
mod server;
mod sigv4;
mod validate;

pub use endpoint::{SDK_LANGUAGE, SDK_VERSION};
pub use error::{Error, ServiceErrorKind};
pub use handler::ServerHandler;
pub use model::{
    AttributeValue, DescribePlayerSessionsRequest, DescribePlayerSessionsResult, GameSession,
    GetComputeCertificateResult, GetFleetRoleCredentialsRequest, GetFleetRoleCredentialsResult, Player, PlayerSession,
    PlayerSessionCreationPolicy, PlayerSessionStatus, StartMatchBackfillRequest, StartMatchBackfillResult,
    StopMatchBackfillRequest, UpdateGameSession, UpdateReason,
};
pub use options::{ClientOptions, Timings, TlsTrust};
pub use params::{Credentials, MANAGED_RESOURCE_PROCESS_ID, ProcessParameters, ServerParameters, SigV4Credentials};
pub use server::GameLiftServer;

/// Whether the connection can route one text frame from the service (as an answer, a
/// push or a connection refresh): the entry point of openlift's fuzz harness
/// (`crates/fuzz`), not something a game server needs.
#[doc(hidden)]
pub fn route_frame(text: &str) -> bool {
    message::decode(text).is_ok()
}
