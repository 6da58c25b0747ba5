//! The openlift host agent: what the GameLift Agent does on an Anywhere compute
//! (`server-sdk-protocol.md` section 9). It registers the compute with the control plane,
//! keeps a compute auth token, and launches and supervises the game server processes the
//! fleet's runtime configuration asks for, each with the `GAMELIFT_SDK_*` variables of
//! section 1.1 so that a parameterless `InitSDK()` connects to the SDK endpoint.
//!
//! [`run`] is the `openlift agent` command. Credentials are found as the AWS CLI finds them
//! (`aws-config`'s default chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`,
//! `AWS_SHARED_CREDENTIALS_FILE`, `credential_process`, container and instance metadata;
//! not SSO).
//!
//! * [`args`]: flags and `OPENLIFT_AGENT_*` variables.
//! * [`control`]: RegisterCompute, GetComputeAuthToken, DescribeRuntimeConfiguration.
//! * [`agent`]: startup, token refresh, runtime configuration polling.
//! * [`link`]: the agent's WebSocket to the control plane's `GameLiftAgentEndpoint`.
//! * [`conversation`]: heartbeats, pushes and process-ending reports on it.
//! * [`logs`]: the log files uploaded when a process ends.
//! * [`supervisor`]: launching, watching, stopping and replacing processes.
//! * [`launch`]: parameter splitting and the `{port}` placeholder.
//! * [`events`]: what happens to processes, with GameLift's event names.

pub mod agent;
pub mod args;
pub mod control;
pub mod conversation;
pub mod events;
pub mod launch;
pub mod link;
pub mod logs;
pub mod supervisor;

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_sdk_gamelift::config::Region;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use tokio_util::sync::CancellationToken;

pub use crate::agent::{Agent, AgentError, AgentSettings};
pub use crate::args::AgentArgs;
pub use crate::control::{ControlPlane, GameLiftControlPlane, Registration};
pub use crate::events::{ExitKind, ProcessEvent, ProcessEventKind, Termination};
pub use crate::launch::{LaunchSpec, PortRange};
pub use crate::supervisor::{LaunchEnv, ProcessInfo, Supervisor, SupervisorConfig};

/// The Region used when neither the flag, the environment nor a profile names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Runs the agent until `shutdown` is cancelled, then stops every process (SIGTERM, grace
/// period, SIGKILL) and returns.
pub async fn run(args: AgentArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
    let client = gamelift_client(&args.endpoint, args.region.clone()).await;
    let registration = Registration {
        fleet_id: args.fleet_id.clone(),
        compute_name: args.compute_name.clone(),
        location: args.location.clone(),
        ip_address: args.ip_address.clone(),
        dns_name: args.dns_name.clone(),
    };
    let control = Arc::new(GameLiftControlPlane::new(client, registration));
    let settings = AgentSettings {
        fleet_id: args.fleet_id,
        compute_name: args.compute_name,
        poll_interval: args.poll_interval,
        sdk_endpoint_override: args.sdk_endpoint_override,
        heartbeat_interval: args.heartbeat_interval,
        supervisor: SupervisorConfig {
            log_dir: args.log_dir,
            port_range: args.port_range,
            grace_period: args.grace_period,
            ready_timeout: args.ready_timeout,
            ..SupervisorConfig::default()
        },
    };
    let agent = match Agent::start(control, settings, shutdown).await {
        Ok(agent) => agent,
        Err(AgentError::Cancelled) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    agent.stopped().await;
    tracing::info!("agent stopped");
    Ok(())
}

/// A GameLift client for `endpoint` (plain HTTP or HTTPS with the system's trusted roots),
/// with credentials and Region found as the AWS CLI finds them; `region` wins if given.
pub async fn gamelift_client(endpoint: &str, region: Option<String>) -> aws_sdk_gamelift::Client {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    // AWS_REGION, then the profile: the full default chain would also build an instance
    // metadata client, which needs a default HTTP client this crate does not enable.
    let region = RegionProviderChain::first_try(region.map(Region::new))
        .or_else(EnvironmentVariableRegionProvider::new())
        .or_else(ProfileFileRegionProvider::new())
        .or_else(Region::new(DEFAULT_REGION));
    let shared = aws_config::defaults(BehaviorVersion::latest()).http_client(http).region(region).load().await;
    let config = aws_sdk_gamelift::config::Builder::from(&shared).endpoint_url(endpoint).build();
    aws_sdk_gamelift::Client::from_conf(config)
}
