//! openlift-sample-game: a tiny TCP chat room hosted through `openlift-server-sdk`, showing the
//! whole server-process lifecycle (protocol spec §6).
//!
//! # Running
//!
//! Launched by an agent, which sets `GAMELIFT_SDK_WEBSOCKET_URL`, `GAMELIFT_SDK_PROCESS_ID`,
//! `GAMELIFT_SDK_HOST_ID`, `GAMELIFT_SDK_FLEET_ID` and `GAMELIFT_SDK_AUTH_TOKEN`:
//!
//! ```text
//! openlift-sample-game --port 7777 [--log-dir logs] [--tls-ca ca.pem | --tls-insecure]
//! ```
//!
//! The same game is the hidden `openlift sample-game` command, so `openlift dev` can run it
//! without a second binary: [`run`] is the whole program, `main.rs` only parses [`Args`].
//!
//! `--port` may also come from `OPENLIFT_GAME_PORT`, `--log-dir` from `OPENLIFT_GAME_LOG_DIR`.
//! The log goes to stderr and to `<log-dir>/chat-<pid>.log`, whose path is reported to the
//! service in `process_ready`.
//!
//! # Player protocol (lines over TCP)
//!
//! 1. The player connects and sends its player session ID as the first line.
//! 2. The server calls `accept_player_session` and answers `OK <id>`, or `ERROR <reason>` and
//!    closes the connection.
//! 3. Every further line is relayed to the other players as `<id>: <text>`; joins and leaves
//!    are announced as `*: <id> joined` / `*: <id> left`.
//! 4. When a player disconnects the server calls `remove_player_session`.
//!
//! # Ending
//!
//! The game ends when the last player leaves, when a player sends `/end`, or when the service
//! pushes `TerminateProcess`. Remaining players get `* game over`; the server then calls
//! `process_ending` and exits with status 0.

mod room;

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use openlift_server_sdk::{ClientOptions, GameLiftServer, GameSession, ProcessParameters, ServerHandler, TlsTrust};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info};
use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::room::{Event, Room};

/// Command line and environment.
#[derive(Debug, Parser)]
#[command(about = "A TCP chat room game server for openlift")]
pub struct Args {
    /// TCP port players connect to.
    #[arg(long, env = "OPENLIFT_GAME_PORT")]
    pub port: u16,
    /// Folder for the log file.
    #[arg(long, env = "OPENLIFT_GAME_LOG_DIR", default_value = "logs")]
    pub log_dir: PathBuf,
    /// PEM file with the CA that signed the service's certificate.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// Accept any service certificate (development only).
    #[arg(long, conflicts_with = "tls_ca")]
    pub tls_insecure: bool,
}

/// The SDK callbacks: activate the game session, relay termination to the main loop.
struct Host {
    sdk: GameLiftServer,
    events: mpsc::UnboundedSender<Event>,
}

impl ServerHandler for Host {
    async fn on_start_game_session(&self, session: GameSession) {
        info!(game_session_id = %session.game_session_id, "game session assigned");
        match self.sdk.activate_game_session().await {
            Ok(()) => info!("game session active; waiting for players"),
            Err(error) => error!(%error, "could not activate the game session"),
        }
    }

    async fn on_process_terminate(&self) {
        info!("the service asks this process to terminate");
        let _ = self.events.send(Event::Terminate);
    }
}

/// Runs the game: installs the global `tracing` subscriber (stderr and the log file), serves
/// one game session and returns when it is over.
pub async fn run(args: Args) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(&args.log_dir).await?;
    let log_dir = tokio::fs::canonicalize(&args.log_dir).await?;
    let log_name = format!("chat-{}.log", std::process::id());
    let (log_file, _log_guard) = tracing_appender::non_blocking(tracing_appender::rolling::never(&log_dir, &log_name));
    tracing_subscriber::fmt().with_ansi(false).with_writer(log_file.and(std::io::stderr)).init();

    let tls = match (&args.tls_ca, args.tls_insecure) {
        (Some(path), _) => TlsTrust::ca_pem(&tokio::fs::read(path).await?)?,
        (None, true) => TlsTrust::AcceptAnyCertificate,
        (None, false) => TlsTrust::NativeRoots,
    };
    let listener =
        TcpListener::bind(("0.0.0.0", args.port)).await.with_context(|| format!("listening on port {}", args.port))?;
    let sdk = GameLiftServer::init_from_env(ClientOptions::default().with_tls(tls)).await?;

    let (events_tx, mut events) = mpsc::unbounded_channel();
    let room = Room::new(sdk.clone(), events_tx.clone());
    let process = ProcessParameters { port: args.port, log_paths: vec![log_dir.join(&log_name).display().to_string()] };
    let host = Host { sdk: sdk.clone(), events: events_tx };
    sdk.process_ready(process, host).await?;
    info!(port = args.port, "ready for a game session");

    let game_over = CancellationToken::new();
    let players_tasks = TaskTracker::new();
    let mut players = 0_usize;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (socket, peer) = accepted?;
                info!(%peer, "connection");
                players_tasks.spawn(room.clone().serve(socket, game_over.clone()));
            }
            Some(event) = events.recv() => match event {
                Event::Joined => players += 1,
                Event::Left => {
                    players = players.saturating_sub(1);
                    if players == 0 {
                        info!("the last player left");
                        break;
                    }
                }
                Event::End | Event::Terminate => break,
            },
        }
    }

    game_over.cancel();
    players_tasks.close();
    players_tasks.wait().await;
    sdk.process_ending().await?;
    sdk.destroy().await;
    info!("game over");
    Ok(())
}
