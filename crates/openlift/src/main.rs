//! The `openlift` command.
//!
//! `openlift serve` runs the control plane; `openlift agent` runs the host agent; `openlift dev`
//! runs both with a ready fleet of sample chat games (see [`dev`]); `openlift bench` measures game
//! session placement. Every flag can also be set with an `OPENLIFT_*` environment variable or in
//! the TOML file given with `--config`; a flag beats the environment, which beats the file, which
//! beats the default.

mod bench;
mod dev;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use openlift_server::config::{self, Config, FileConfig};
use openlift_server::credentials::CredentialEntry;
use tokio_util::sync::CancellationToken;

/// mimalloc instead of glibc's allocator: the server allocates small, short-lived buffers on
/// every request and message from many threads, where glibc's arenas spent about a tenth of
/// the placement benchmark's CPU time in `_int_malloc` and its consolidation (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "openlift", version, about = "A self-hosted, wire-compatible Amazon GameLift game session service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane (the GameLift API).
    Serve(ServeArgs),
    /// Run the host agent: register this compute and supervise its game server processes.
    Agent(openlift_agent::AgentArgs),
    /// Run a local development setup: the control plane, a fleet and an agent running sample games.
    Dev(dev::DevArgs),
    /// The sample chat game server that `openlift dev` launches.
    #[command(hide = true)]
    SampleGame(openlift_sample_game::Args),
    /// Measure CreateGameSession placement against an in-process control plane.
    Bench(bench::BenchArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// TOML file with any of the settings below, plus `[[credentials]]` tables.
    #[arg(long, env = "OPENLIFT_CONFIG")]
    config: Option<PathBuf>,
    /// Address the API listens on [default: 127.0.0.1:9080].
    #[arg(long, env = "OPENLIFT_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for the SQLite database and generated credentials [default: ./openlift-data].
    #[arg(long, env = "OPENLIFT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Region served; clients must sign for it [default: us-east-1].
    #[arg(long, env = "OPENLIFT_REGION")]
    region: Option<String>,
    /// Account ID shown in ARNs [default: 000000000000].
    #[arg(long, env = "OPENLIFT_ACCOUNT_ID")]
    account_id: Option<String>,
    /// `sqlite://PATH` or `postgres://...` [default: SQLite file in the data dir].
    #[arg(long, env = "OPENLIFT_DATABASE_URL")]
    database_url: Option<String>,
    /// WebSocket URL returned to game servers by RegisterCompute [default: ws://<listen address>].
    #[arg(long, env = "OPENLIFT_SDK_ENDPOINT")]
    sdk_endpoint: Option<String>,
    /// PEM certificate chain for TLS (wss://, https://) on the listen port [default: self-signed, in the data dir].
    #[arg(long, env = "OPENLIFT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "OPENLIFT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// How long a server process may go without a healthy heartbeat before it is terminated,
    /// e.g. 180, 90s, 3m [default: 3m].
    #[arg(long, env = "OPENLIFT_PROCESS_HEARTBEAT_TIMEOUT", value_parser = config::parse_duration)]
    process_heartbeat_timeout: Option<Duration>,
    /// How long a compute's agent may go without a heartbeat before the compute is marked
    /// IMPAIRED and gets no new game sessions, e.g. 180, 90s, 3m [default: 3m].
    #[arg(long, env = "OPENLIFT_AGENT_HEARTBEAT_TIMEOUT", value_parser = config::parse_duration)]
    agent_heartbeat_timeout: Option<Duration>,
    /// Connections open at once on the listen port; more are closed as they arrive
    /// [default: 10000].
    #[arg(long, env = "OPENLIFT_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Connections one peer IP address may hold open [default: 2500].
    #[arg(long, env = "OPENLIFT_MAX_CONNECTIONS_PER_PEER")]
    max_connections_per_peer: Option<usize>,
    /// Connections of --max-connections kept for WebSocket upgrades (game servers, agents) and
    /// GET /healthz, which API requests may not use [default: 100].
    #[arg(long, env = "OPENLIFT_RESERVED_CONNECTIONS")]
    reserved_connections: Option<usize>,
    /// How long a request body may take to arrive after its headers before the request is
    /// answered 408, e.g. 30, 10s [default: 30s].
    #[arg(long, env = "OPENLIFT_BODY_TIMEOUT", value_parser = config::parse_duration)]
    body_timeout: Option<Duration>,
    /// Access key ID of an accepted credential (with OPENLIFT_SECRET_ACCESS_KEY).
    #[arg(long, env = "OPENLIFT_ACCESS_KEY_ID", requires = "secret_access_key")]
    access_key_id: Option<String>,
    /// Secret of that credential; prefer the environment variable to the flag.
    #[arg(long, env = "OPENLIFT_SECRET_ACCESS_KEY", hide_env_values = true, requires = "access_key_id")]
    secret_access_key: Option<String>,
}

impl ServeArgs {
    fn into_config(self) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let mut credentials = file.credentials;
        if let (Some(access_key_id), Some(secret_access_key)) = (self.access_key_id, self.secret_access_key) {
            credentials.insert(0, CredentialEntry { access_key_id, secret_access_key });
        }
        Ok(Config {
            listen: match self.listen.or(file.listen) {
                Some(addr) => addr,
                None => config::DEFAULT_LISTEN.parse().context("default listen address")?,
            },
            data_dir: self.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from(config::DEFAULT_DATA_DIR)),
            region: self.region.or(file.region).unwrap_or_else(|| config::DEFAULT_REGION.to_owned()),
            account_id: self.account_id.or(file.account_id).unwrap_or_else(|| config::DEFAULT_ACCOUNT_ID.to_owned()),
            database_url: self.database_url.or(file.database_url),
            credentials,
            sdk_endpoint: self.sdk_endpoint.or(file.sdk_endpoint),
            tls_cert: self.tls_cert.or(file.tls_cert),
            tls_key: self.tls_key.or(file.tls_key),
            process_heartbeat_timeout: self
                .process_heartbeat_timeout
                .or(file.process_heartbeat_timeout)
                .unwrap_or(config::DEFAULT_PROCESS_HEARTBEAT_TIMEOUT),
            agent_heartbeat_timeout: self
                .agent_heartbeat_timeout
                .or(file.agent_heartbeat_timeout)
                .unwrap_or(config::DEFAULT_AGENT_HEARTBEAT_TIMEOUT),
            max_connections: self.max_connections.or(file.max_connections).unwrap_or(config::DEFAULT_MAX_CONNECTIONS),
            max_connections_per_peer: self
                .max_connections_per_peer
                .or(file.max_connections_per_peer)
                .unwrap_or(config::DEFAULT_MAX_CONNECTIONS_PER_PEER),
            reserved_connections: self
                .reserved_connections
                .or(file.reserved_connections)
                .unwrap_or(config::DEFAULT_RESERVED_CONNECTIONS),
            body_timeout: self.body_timeout.or(file.body_timeout).unwrap_or(config::DEFAULT_BODY_TIMEOUT),
        })
    }
}

/// Raises the open-file limit to the hard limit and returns it: every connection, SDK
/// WebSocket and agent holds a descriptor, and the usual soft limit of 1,024 is a thousand
/// slow clients. Game servers the in-process agent of `openlift dev` starts inherit it.
fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::debug!(limit, "open file limit");
            Some(limit)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open file limit");
            None
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command;
    // The sample game also logs to its own file, so it installs its own subscriber; the bench
    // would otherwise log every game session it places.
    let default_filter = if matches!(command, Command::Bench(_)) { "warn" } else { "info,sqlx=warn" };
    if !matches!(command, Command::SampleGame(_)) {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into()),
            )
            .init();
    }
    match command {
        Command::Serve(args) => {
            let config = args.into_config()?;
            if let Some(limit) = raise_open_file_limit()
                && limit < u64::try_from(config.max_connections).unwrap_or(u64::MAX)
            {
                tracing::warn!(
                    limit,
                    max_connections = config.max_connections,
                    "the open file limit is below max_connections; accepting will fail before the cap is reached"
                );
            }
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            let shutdown = CancellationToken::new();
            let server = openlift_server::serve(config, listener, shutdown.clone());
            tokio::pin!(server);
            tokio::select! {
                result = &mut server => return Ok(result?),
                () = termination_signal() => shutdown.cancel(),
            }
            server.await?;
        }
        Command::Agent(args) => {
            let shutdown = CancellationToken::new();
            let agent = openlift_agent::run(args, shutdown.clone());
            tokio::pin!(agent);
            tokio::select! {
                result = &mut agent => return result,
                () = termination_signal() => shutdown.cancel(),
            }
            agent.await?;
        }
        Command::Dev(args) => {
            raise_open_file_limit();
            dev::run(args).await?;
        }
        Command::SampleGame(args) => openlift_sample_game::run(args).await?,
        Command::Bench(args) => {
            raise_open_file_limit();
            bench::run(args).await?;
        }
    }
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn termination_signal() {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, shutting down"),
        _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
    }
}
