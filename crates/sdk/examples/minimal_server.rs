//! The smallest useful server process (protocol spec §6 lifecycle): connect with the
//! `GAMELIFT_SDK_*` environment, report ready on a port, activate every game session the
//! service assigns, and end when the service asks to terminate or on Ctrl-C.
//!
//! ```text
//! GAMELIFT_SDK_WEBSOCKET_URL=ws://127.0.0.1:7443 GAMELIFT_SDK_PROCESS_ID=pid-1 \
//! GAMELIFT_SDK_HOST_ID=host-1 GAMELIFT_SDK_FLEET_ID=fleet-1 GAMELIFT_SDK_AUTH_TOKEN=tok \
//! cargo run -p openlift-server-sdk --example minimal_server -- 7777
//! ```

use std::sync::Arc;

use openlift_server_sdk::{ClientOptions, GameLiftServer, GameSession, ProcessParameters, ServerHandler};
use tokio::sync::Notify;

struct Game {
    sdk: GameLiftServer,
    terminate: Arc<Notify>,
}

impl ServerHandler for Game {
    async fn on_start_game_session(&self, session: GameSession) {
        tracing::info!(game_session_id = %session.game_session_id, "game session assigned");
        if let Err(error) = self.sdk.activate_game_session().await {
            tracing::error!(%error, "could not activate the game session");
        }
    }

    async fn on_process_terminate(&self) {
        tracing::info!(at = ?self.sdk.get_termination_time().ok(), "the service asks to terminate");
        self.terminate.notify_one();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let port = std::env::args().nth(1).map(|p| p.parse()).transpose()?.unwrap_or(7777);

    let sdk = GameLiftServer::init_from_env(ClientOptions::default()).await?;
    let terminate = Arc::new(Notify::new());
    let game = Game { sdk: sdk.clone(), terminate: terminate.clone() };
    sdk.process_ready(ProcessParameters { port, log_paths: vec![] }, game).await?;
    tracing::info!(port, "ready; waiting for game sessions");

    tokio::select! {
        () = terminate.notified() => {}
        signal = tokio::signal::ctrl_c() => signal?,
    }
    sdk.process_ending().await?;
    sdk.destroy().await;
    Ok(())
}
