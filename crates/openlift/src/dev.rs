//! `openlift dev`: a whole GameLift Anywhere setup on one machine, in one command.
//!
//! It runs the control plane as `openlift serve` does with its defaults (embedded SQLite in
//! the data dir, credentials generated there on the first start), makes sure the custom
//! location [`LOCATION`] and the Anywhere fleet [`FLEET_NAME`] exist, and runs the host
//! agent in-process for one compute at 127.0.0.1. The fleet's server processes are this very
//! binary's hidden `sample-game` command, so nothing else needs building. Once a game server
//! is ready, it prints the endpoint, the credentials and the AWS CLI commands of a first game
//! session. SIGINT or SIGTERM stops the agent, and with it every game server, then the
//! control plane.
//!
//! Later runs against the same data dir reuse the location and the fleet (the first live
//! Anywhere fleet named [`FLEET_NAME`]); the fleet's runtime configuration is rewritten only
//! if this binary would set a different one (a release build after a debug one, say). The
//! compute is registered afresh on every run, so its SDK endpoint names the current listen
//! address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sdk_gamelift::config::{BehaviorVersion, Region};
use aws_sdk_gamelift::types::{ComputeType, FleetStatus, LocationConfiguration, RuntimeConfiguration, ServerProcess};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use clap::Args;
use openlift_agent::{Agent, AgentError, AgentSettings, GameLiftControlPlane, Registration, SupervisorConfig};
use openlift_server::config::{self, Config};
use openlift_server::credentials::{self, CredentialEntry};
use tokio_util::sync::CancellationToken;

/// The custom location of the development fleet.
pub const LOCATION: &str = "custom-openlift-dev";
/// The name of the development fleet.
pub const FLEET_NAME: &str = "openlift-dev";
/// The name of the one compute.
const COMPUTE_NAME: &str = "openlift-dev";
/// The address game clients connect to.
const COMPUTE_IP: &str = "127.0.0.1";
/// How many sample games run at once; each hosts one game session, then is replaced.
const GAME_SERVERS: i32 = 2;
/// How long to wait for a game server to be ready before printing the instructions anyway.
const READY_WAIT: Duration = Duration::from_secs(30);
/// How often readiness is checked meanwhile.
const READY_POLL: Duration = Duration::from_millis(250);
/// How often the agent reads the runtime configuration.
const POLL_INTERVAL: Duration = Duration::from_secs(10);
/// How often the agent heartbeats to the control plane.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// How long a game server may take to exit after SIGTERM.
const GRACE_PERIOD: Duration = Duration::from_secs(10);

/// `openlift dev` flags.
#[derive(Args)]
pub struct DevArgs {
    /// Address the API (and the game servers' SDK endpoint) listens on.
    #[arg(long, env = "OPENLIFT_LISTEN", default_value = config::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Directory for the SQLite database, the generated credentials and the game servers' logs.
    #[arg(long, env = "OPENLIFT_DATA_DIR", default_value = config::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
}

/// Runs everything until SIGINT or SIGTERM.
pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let data_dir = args.data_dir;
    let (credential, data_dir) = tokio::task::spawn_blocking(move || {
        let (entries, origin) = credentials::resolve(Vec::new(), &data_dir)?;
        if let credentials::Origin::Generated(path) = origin {
            tracing::info!(file = %path.display(), "generated credentials");
        }
        let data_dir = std::fs::canonicalize(&data_dir).with_context(|| format!("data dir {}", data_dir.display()))?;
        let credential = entries.into_iter().next().context("no credentials in the data dir")?;
        Ok::<_, anyhow::Error>((credential, data_dir))
    })
    .await??;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let listen = listener.local_addr()?;
    let address = reachable(listen);
    let config = Config {
        // Empty credentials: the server reads the pair just resolved from the data dir, as `serve` does.
        sdk_endpoint: Some(format!("ws://{address}")),
        ..Config::new(listen, data_dir.clone())
    };
    let server_stop = CancellationToken::new();
    let mut server = tokio::spawn(openlift_server::serve(config, listener, server_stop.clone()));

    let stop = CancellationToken::new();
    let signals = tokio::spawn({
        let stop = stop.clone();
        async move {
            crate::termination_signal().await;
            stop.cancel();
        }
    });
    let dev = Dev { endpoint: format!("http://{address}"), credential, data_dir };
    let session = dev.session(stop.clone());
    tokio::pin!(session);
    let result = tokio::select! {
        result = &mut session => {
            server_stop.cancel();
            let served = server.await.context("the control plane task failed")?;
            // A control plane that failed to start explains a failed setup best.
            served.map_err(anyhow::Error::from).and(result)
        }
        served = &mut server => {
            stop.cancel();
            let result = session.await;
            served.context("the control plane task failed")?.map_err(anyhow::Error::from).and(result)
        }
    };
    signals.abort();
    result
}

/// One development setup.
struct Dev {
    /// The API's URL.
    endpoint: String,
    /// The credential the control plane accepts.
    credential: CredentialEntry,
    /// The data dir, absolute.
    data_dir: PathBuf,
}

impl Dev {
    /// Sets up the fleet, runs the agent and prints the instructions; once `stop` is
    /// cancelled, returns when every game server has exited.
    async fn session(&self, stop: CancellationToken) -> anyhow::Result<()> {
        let client = self.client();
        let fleet_id = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            fleet_id = self.provision(&client) => fleet_id?,
        };
        let registration = Registration {
            fleet_id: fleet_id.clone(),
            compute_name: COMPUTE_NAME.to_owned(),
            location: LOCATION.to_owned(),
            ip_address: COMPUTE_IP.to_owned(),
            dns_name: None,
        };
        let settings = AgentSettings {
            fleet_id: fleet_id.clone(),
            compute_name: COMPUTE_NAME.to_owned(),
            poll_interval: POLL_INTERVAL,
            sdk_endpoint_override: None,
            supervisor: SupervisorConfig {
                log_dir: self.data_dir.join("agent-logs"),
                grace_period: GRACE_PERIOD,
                ..SupervisorConfig::default()
            },
            heartbeat_interval: HEARTBEAT_INTERVAL,
        };
        let control = Arc::new(GameLiftControlPlane::new(client.clone(), registration));
        let agent = match Agent::start(control, settings, stop.clone()).await {
            Ok(agent) => agent,
            Err(AgentError::Cancelled) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let ready = tokio::select! {
            () = stop.cancelled() => None,
            ready = wait_until_ready(&client, &fleet_id) => Some(ready),
        };
        if let Some(ready) = ready {
            print!("{}", self.instructions(&fleet_id, ready));
        }
        stop.cancelled().await;
        agent.stopped().await;
        Ok(())
    }

    /// A GameLift client signing with the control plane's credential, whatever AWS
    /// configuration the environment holds.
    fn client(&self) -> aws_sdk_gamelift::Client {
        let http =
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        let credentials = Credentials::new(
            &self.credential.access_key_id,
            &self.credential.secret_access_key,
            None,
            None,
            "openlift-dev",
        );
        let config = aws_sdk_gamelift::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config::DEFAULT_REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(credentials)
            .http_client(http)
            .build();
        aws_sdk_gamelift::Client::from_conf(config)
    }

    /// Creates or reuses the location and the fleet, and removes the compute's previous
    /// registration; returns the fleet ID.
    async fn provision(&self, client: &aws_sdk_gamelift::Client) -> anyhow::Result<String> {
        match client.create_location().location_name(LOCATION).send().await {
            Ok(_) => tracing::info!(location = LOCATION, "custom location created"),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conflict_exception()) => {}
            Err(e) => return Err(e).context("CreateLocation failed"),
        }
        let runtime = self.runtime_configuration()?;
        let fleet_id = match find_fleet(client).await? {
            Some(fleet_id) => {
                let current = client
                    .describe_runtime_configuration()
                    .fleet_id(&fleet_id)
                    .send()
                    .await
                    .context("DescribeRuntimeConfiguration failed")?;
                let current = current.runtime_configuration().map(RuntimeConfiguration::server_processes);
                if current != Some(runtime.server_processes()) {
                    client
                        .update_runtime_configuration()
                        .fleet_id(&fleet_id)
                        .runtime_configuration(runtime)
                        .send()
                        .await
                        .context("UpdateRuntimeConfiguration failed")?;
                    tracing::info!(fleet_id = %fleet_id, "runtime configuration updated to this binary");
                }
                tracing::info!(fleet_id = %fleet_id, "reusing fleet {FLEET_NAME}");
                fleet_id
            }
            None => {
                let created = client
                    .create_fleet()
                    .name(FLEET_NAME)
                    .description("Sample chat games run by openlift dev")
                    .compute_type(ComputeType::Anywhere)
                    .locations(LocationConfiguration::builder().location(LOCATION).build())
                    .runtime_configuration(runtime)
                    .send()
                    .await
                    .context("CreateFleet failed")?;
                let fleet_id = created
                    .fleet_attributes()
                    .and_then(|f| f.fleet_id())
                    .context("CreateFleet returned no FleetId")?
                    .to_owned();
                tracing::info!(fleet_id = %fleet_id, "fleet {FLEET_NAME} created");
                fleet_id
            }
        };
        match client.deregister_compute().fleet_id(&fleet_id).compute_name(COMPUTE_NAME).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found_exception()) => {}
            Err(e) => return Err(e).context("DeregisterCompute failed"),
        }
        Ok(fleet_id)
    }

    /// [`GAME_SERVERS`] copies of `<this binary> sample-game --port {port}`, logging into the
    /// data dir.
    fn runtime_configuration(&self) -> anyhow::Result<RuntimeConfiguration> {
        let launch_path = std::env::current_exe().context("cannot find the openlift binary")?;
        let parameters =
            format!("sample-game --port {{port}} --log-dir {}", shell_quote(&self.data_dir.join("game-logs")));
        let process = ServerProcess::builder()
            .launch_path(launch_path.to_string_lossy())
            .parameters(parameters)
            .concurrent_executions(GAME_SERVERS)
            .build();
        Ok(RuntimeConfiguration::builder().server_processes(process).build())
    }

    /// What to do next, for the terminal.
    fn instructions(&self, fleet_id: &str, ready: bool) -> String {
        let Dev { endpoint, credential, data_dir } = self;
        let region = config::DEFAULT_REGION;
        let agent_logs = data_dir.join("agent-logs");
        let readiness = if ready {
            String::new()
        } else {
            format!(
                "\n  No game server is ready yet: CreateGameSession fails until one is. Their output is in\n  {}.\n",
                agent_logs.display()
            )
        };
        format!(
            "
openlift dev is running; Ctrl-C stops it.

  API endpoint  {endpoint}  (Region {region})
  Fleet         {fleet_id}  ({FLEET_NAME}, location {LOCATION})
  Game servers  {GAME_SERVERS} sample chat games on compute {COMPUTE_NAME} ({COMPUTE_IP}); output in {agent_logs}
  Credentials   {credentials}
{readiness}
In another terminal:

  export AWS_ACCESS_KEY_ID={access_key_id} AWS_SECRET_ACCESS_KEY={secret} AWS_DEFAULT_REGION={region}
  aws gamelift create-game-session --endpoint-url {endpoint} --fleet-id {fleet_id} --location {LOCATION} --maximum-player-session-count 4

Then, with the GameSessionId it prints:

  aws gamelift describe-game-sessions --endpoint-url {endpoint} --game-session-id <GameSessionId>
      (until Status is ACTIVE; note IpAddress and Port)
  aws gamelift create-player-session --endpoint-url {endpoint} --game-session-id <GameSessionId> --player-id player-1
  nc <IpAddress> <Port>
      (type the PlayerSessionId as the first line, then chat; /end ends the game)

",
            agent_logs = agent_logs.display(),
            credentials = data_dir.join(credentials::CREDENTIALS_FILE).display(),
            access_key_id = credential.access_key_id,
            secret = credential.secret_access_key,
        )
    }
}

/// The first live Anywhere fleet named [`FLEET_NAME`].
async fn find_fleet(client: &aws_sdk_gamelift::Client) -> anyhow::Result<Option<String>> {
    let mut next_token = None;
    loop {
        let page = client
            .describe_fleet_attributes()
            .set_next_token(next_token)
            .send()
            .await
            .context("DescribeFleetAttributes failed")?;
        let found = page.fleet_attributes().iter().find(|f| {
            f.name() == Some(FLEET_NAME)
                && f.compute_type() == Some(&ComputeType::Anywhere)
                && f.status() == Some(&FleetStatus::Active)
        });
        if let Some(fleet) = found {
            return Ok(fleet.fleet_id().map(str::to_owned));
        }
        next_token = page.next_token().map(str::to_owned);
        if next_token.is_none() {
            return Ok(None);
        }
    }
}

/// Whether a game server of the fleet became ready (an active server process) within
/// [`READY_WAIT`].
async fn wait_until_ready(client: &aws_sdk_gamelift::Client, fleet_id: &str) -> bool {
    let poll = async {
        loop {
            let utilization = client.describe_fleet_utilization().fleet_ids(fleet_id).send().await;
            if let Ok(output) = utilization
                && output.fleet_utilization().iter().any(|u| u.active_server_process_count().unwrap_or(0) > 0)
            {
                return;
            }
            tokio::time::sleep(READY_POLL).await;
        }
    };
    tokio::time::timeout(READY_WAIT, poll).await.is_ok()
}

/// `addr` with an unspecified IP (`0.0.0.0`, `::`) replaced by the loopback address, so
/// clients on this machine can use it.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    }
}

/// `path` as one argument of a runtime configuration's `Parameters` (which the agent splits
/// like a shell): single-quoted unless it is plain.
fn shell_quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c)) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_become_loopback() {
        assert_eq!(reachable("0.0.0.0:9080".parse().unwrap()), "127.0.0.1:9080".parse().unwrap());
        assert_eq!(reachable("[::]:9080".parse().unwrap()), "[::1]:9080".parse().unwrap());
        assert_eq!(reachable("10.0.0.5:9080".parse().unwrap()), "10.0.0.5:9080".parse().unwrap());
    }

    #[test]
    fn quoted_paths_split_back_into_one_argument() {
        for path in ["/srv/openlift-data/game-logs", "/home/me/my data/game-logs", "/tmp/it's/here", "/a\"b\\c $d"] {
            let parameters = format!("sample-game --log-dir {}", shell_quote(Path::new(path)));
            let args = openlift_agent::launch::split_parameters(&parameters).unwrap();
            assert_eq!(args, ["sample-game", "--log-dir", path]);
        }
        assert_eq!(shell_quote(Path::new("/srv/data")), "/srv/data");
    }
}
