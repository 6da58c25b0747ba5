//! `openlift agent` flags, modelled on the GameLift Agent's (`server-sdk-protocol.md`
//! section 9): each flag can also be set with an `OPENLIFT_AGENT_*` environment variable.

use std::path::PathBuf;
use std::time::Duration;

use crate::launch::PortRange;

/// The longest compute name GameLift accepts.
const MAX_COMPUTE_NAME: usize = 128;

/// Command line of the host agent.
#[derive(Debug, Clone, clap::Args)]
pub struct AgentArgs {
    /// URL of the openlift control plane (the GameLift API endpoint), e.g. http://10.0.0.1:9080.
    #[arg(long, env = "OPENLIFT_AGENT_ENDPOINT")]
    pub endpoint: String,
    /// The Anywhere fleet this compute joins.
    #[arg(long, env = "OPENLIFT_AGENT_FLEET_ID")]
    pub fleet_id: String,
    /// This compute's name in the fleet (letters, digits and hyphens); defaults to the host name.
    #[arg(long, env = "OPENLIFT_AGENT_COMPUTE_NAME", default_value_t = default_compute_name(), value_parser = parse_compute_name)]
    pub compute_name: String,
    /// The fleet's custom location this compute is in, e.g. custom-home-lab.
    #[arg(long, env = "OPENLIFT_AGENT_LOCATION")]
    pub location: String,
    /// The IP address game clients connect to.
    #[arg(long, env = "OPENLIFT_AGENT_IP_ADDRESS")]
    pub ip_address: String,
    /// An optional DNS name game clients can use instead.
    #[arg(long, env = "OPENLIFT_AGENT_DNS_NAME")]
    pub dns_name: Option<String>,
    /// Where each process's stdout.log and stderr.log go (in a directory named by its process ID).
    #[arg(long, env = "OPENLIFT_AGENT_LOG_DIR", default_value = "./openlift-agent-logs")]
    pub log_dir: PathBuf,
    /// The Region to sign requests for; defaults to AWS_REGION, the AWS profile, then us-east-1.
    #[arg(long, env = "OPENLIFT_AGENT_REGION")]
    pub region: Option<String>,
    /// How often the runtime configuration is read, e.g. 30s or 1m.
    #[arg(long, env = "OPENLIFT_AGENT_POLL_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// WebSocket URL given to server processes instead of the compute's GameLiftServiceSdkEndpoint.
    #[arg(long, env = "OPENLIFT_AGENT_SDK_ENDPOINT_OVERRIDE")]
    pub sdk_endpoint_override: Option<String>,
    /// Ports that replace `{port}` in a server process's Parameters.
    #[arg(long, env = "OPENLIFT_AGENT_PORT_RANGE", default_value = "7000-7999")]
    pub port_range: PortRange,
    /// How long a process may take to exit after SIGTERM before it is SIGKILLed.
    #[arg(long, env = "OPENLIFT_AGENT_GRACE_PERIOD", default_value = "30s", value_parser = parse_duration)]
    pub grace_period: Duration,
    /// How often the agent heartbeats on its connection to the control plane, e.g. 60s.
    #[arg(long, env = "OPENLIFT_AGENT_HEARTBEAT_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    pub heartbeat_interval: Duration,
    /// How long a process may take to become ready (its ProcessReady reaches the control
    /// plane) before it is stopped; 0 disables this.
    #[arg(long, env = "OPENLIFT_AGENT_READY_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub ready_timeout: Duration,
}

/// The host name, with every character outside `[a-zA-Z0-9-]` replaced by `-`.
pub fn default_compute_name() -> String {
    let host = nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default();
    sanitize_compute_name(&host)
}

/// `name` made acceptable as a compute name: characters outside `[a-zA-Z0-9-]` become `-`,
/// at most 128 characters, and `openlift-agent` if nothing is left.
pub fn sanitize_compute_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .take(MAX_COMPUTE_NAME)
        .collect();
    if clean.is_empty() { "openlift-agent".to_owned() } else { clean }
}

fn parse_compute_name(name: &str) -> Result<String, String> {
    if name.is_empty() || name.len() > MAX_COMPUTE_NAME || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(format!("{name:?} is not a compute name: use 1-128 letters, digits and hyphens"));
    }
    Ok(name.to_owned())
}

/// Parses a duration written as a whole number with an optional unit: `ms`, `s` (the
/// default), `m` or `h`, e.g. `30`, `30s`, `5m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits.parse().map_err(|_| format!("{text:?} is not a duration such as 30s or 5m"))?;
    let millis_per_unit = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => return Err(format!("unknown duration unit {other:?} in {text:?}; use ms, s, m or h")),
    };
    amount.checked_mul(millis_per_unit).map(Duration::from_millis).ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        agent: AgentArgs,
    }

    #[test]
    fn host_names_become_valid_compute_names() {
        assert_eq!(sanitize_compute_name("game-01.example.net"), "game-01-example-net");
        assert_eq!(sanitize_compute_name(""), "openlift-agent");
        assert_eq!(sanitize_compute_name(&"x".repeat(300)).len(), 128);
        assert!(parse_compute_name(&default_compute_name()).is_ok());
    }

    #[test]
    fn flags_parse_with_defaults() {
        let cli = Cli::try_parse_from([
            "agent",
            "--endpoint=http://127.0.0.1:9080",
            "--fleet-id=fleet-1",
            "--location=custom-lab",
            "--ip-address=10.0.0.5",
            "--compute-name=box-1",
            "--poll-interval=5s",
        ])
        .unwrap();
        let args = cli.agent;
        assert_eq!(args.compute_name, "box-1");
        assert_eq!(args.poll_interval, Duration::from_secs(5));
        assert_eq!(args.grace_period, Duration::from_secs(30));
        assert_eq!(args.ready_timeout, Duration::from_secs(300));
        assert_eq!(args.heartbeat_interval, Duration::from_secs(60));
        assert_eq!(args.port_range, PortRange::new(7000, 7999));
        assert_eq!(args.log_dir, PathBuf::from("./openlift-agent-logs"));
        assert!(
            Cli::try_parse_from([
                "agent",
                "--endpoint=x",
                "--fleet-id=f",
                "--location=l",
                "--ip-address=i",
                "--compute-name=a.b"
            ])
            .is_err()
        );
    }

    #[test]
    fn durations_take_an_optional_unit() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
    }
}
