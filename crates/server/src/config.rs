//! Control-plane configuration: what `openlift serve` needs to run.
//!
//! Values come from command-line flags, then `OPENLIFT_*` environment variables,
//! then a TOML file, then defaults; the binary merges them in that order and
//! hands the result here as a [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::credentials::CredentialEntry;

/// Default address of the API.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9080";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "./openlift-data";
/// Default Region.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default account ID shown in fleet, compute and location ARNs.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";
/// Default time a server process may go without a healthy heartbeat before it is
/// terminated (`server-sdk-protocol.md` section 5: GameLift uses about 3 minutes).
pub const DEFAULT_PROCESS_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(180);
/// Default time a compute's agent may go without a heartbeat before the compute is marked
/// `IMPAIRED`: three of the GameLift Agent's 60-second heartbeats (`server-sdk-protocol.md`
/// section 9).
pub const DEFAULT_AGENT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(180);
/// Default cap on the connections open at once on the listen port.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default cap on the connections one peer IP address may hold open.
pub const DEFAULT_MAX_CONNECTIONS_PER_PEER: usize = 2_500;
/// Default number of connections, within [`DEFAULT_MAX_CONNECTIONS`], kept for WebSocket
/// upgrades (game servers' SDK connections, host agents) and health checks.
pub const DEFAULT_RESERVED_CONNECTIONS: usize = 100;
/// Default time a request body may take to arrive, counted from the end of its headers.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything the control plane needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// Where local state lives: the SQLite database, generated credentials.
    pub data_dir: PathBuf,
    /// The Region this control plane serves (checked in every SigV4 scope).
    pub region: String,
    /// The account ID used in ARNs.
    pub account_id: String,
    /// `sqlite://…` or `postgres://…`; `None` means the SQLite file in the data dir.
    pub database_url: Option<String>,
    /// Credentials accepted for SigV4; when empty, a pair is generated into the data dir.
    pub credentials: Vec<CredentialEntry>,
    /// The WebSocket URL game servers use, returned by RegisterCompute;
    /// `None` means `ws://<listen address>`.
    pub sdk_endpoint: Option<String>,
    /// PEM certificate chain for TLS connections (`wss://`, `https://`) on the listen port;
    /// `None` (with `tls_key`) means a self-signed certificate kept in the data dir.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// How long a server process may go without a healthy heartbeat before it is
    /// terminated ([`DEFAULT_PROCESS_HEARTBEAT_TIMEOUT`]).
    pub process_heartbeat_timeout: Duration,
    /// How long a compute's agent may go without a heartbeat before the compute is marked
    /// `IMPAIRED` ([`DEFAULT_AGENT_HEARTBEAT_TIMEOUT`]).
    pub agent_heartbeat_timeout: Duration,
    /// The most connections open at once on the listen port ([`DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// The most connections one peer IP address may hold open
    /// ([`DEFAULT_MAX_CONNECTIONS_PER_PEER`]).
    pub max_connections_per_peer: usize,
    /// How many of `max_connections` API requests may not use: they are kept for WebSocket
    /// upgrades and health checks ([`DEFAULT_RESERVED_CONNECTIONS`]).
    pub reserved_connections: usize,
    /// How long a request body may take to arrive after its headers ([`DEFAULT_BODY_TIMEOUT`]).
    pub body_timeout: Duration,
}

impl Config {
    /// A configuration listening on `listen` with its state in `data_dir` and every other
    /// setting at its default: the default Region and account, the SQLite file in the data dir,
    /// generated credentials, the SDK endpoint on the listen address, a self-signed certificate,
    /// the default heartbeat timeouts and the default connection limits.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Config {
            listen,
            data_dir,
            region: DEFAULT_REGION.to_owned(),
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            database_url: None,
            credentials: Vec::new(),
            sdk_endpoint: None,
            tls_cert: None,
            tls_key: None,
            process_heartbeat_timeout: DEFAULT_PROCESS_HEARTBEAT_TIMEOUT,
            agent_heartbeat_timeout: DEFAULT_AGENT_HEARTBEAT_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_peer: DEFAULT_MAX_CONNECTIONS_PER_PEER,
            reserved_connections: DEFAULT_RESERVED_CONNECTIONS,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("openlift.db").display()),
        }
    }
}

/// The optional TOML configuration file; every key mirrors a flag.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileConfig {
    /// `listen = "127.0.0.1:9080"`.
    pub listen: Option<SocketAddr>,
    /// `data_dir = "./openlift-data"`.
    pub data_dir: Option<PathBuf>,
    /// `region = "us-east-1"`.
    pub region: Option<String>,
    /// `account_id = "000000000000"`.
    pub account_id: Option<String>,
    /// `database_url = "postgres://…"`.
    pub database_url: Option<String>,
    /// `sdk_endpoint = "ws://…"`.
    pub sdk_endpoint: Option<String>,
    /// `tls_cert = "/etc/openlift/cert.pem"`.
    pub tls_cert: Option<PathBuf>,
    /// `tls_key = "/etc/openlift/key.pem"`.
    pub tls_key: Option<PathBuf>,
    /// `process_heartbeat_timeout = "3m"` (see [`parse_duration`]).
    #[serde(default, deserialize_with = "duration_text")]
    pub process_heartbeat_timeout: Option<Duration>,
    /// `agent_heartbeat_timeout = "3m"` (see [`parse_duration`]).
    #[serde(default, deserialize_with = "duration_text")]
    pub agent_heartbeat_timeout: Option<Duration>,
    /// `max_connections = 10000`.
    pub max_connections: Option<usize>,
    /// `max_connections_per_peer = 2500`.
    pub max_connections_per_peer: Option<usize>,
    /// `reserved_connections = 100`.
    pub reserved_connections: Option<usize>,
    /// `body_timeout = "30s"` (see [`parse_duration`]).
    #[serde(default, deserialize_with = "duration_text")]
    pub body_timeout: Option<Duration>,
    /// `[[credentials]]` tables with `access_key_id` and `secret_access_key`.
    #[serde(default)]
    pub credentials: Vec<CredentialEntry>,
}

/// Why the configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: toml::de::Error,
    },
}

impl FileConfig {
    /// Reads and parses the TOML file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.to_owned(), source })
    }
}

/// Parses a duration written as a whole number with an optional unit: `ms`, `s`
/// (the default), `m` or `h`, e.g. `180`, `90s`, `3m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits.parse().map_err(|_| format!("{text:?} is not a duration such as 180, 90s or 3m"))?;
    let millis_per_unit = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => return Err(format!("unknown duration unit {other:?} in {text:?}; use ms, s, m or h")),
    };
    amount.checked_mul(millis_per_unit).map(Duration::from_millis).ok_or_else(|| format!("{text:?} is too long"))
}

fn duration_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map(Some).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_sets_every_key() {
        let file: FileConfig = toml::from_str(
            r#"
            listen = "0.0.0.0:9999"
            data_dir = "/var/lib/openlift"
            region = "eu-west-1"
            account_id = "111122223333"
            database_url = "postgres://db/openlift"
            sdk_endpoint = "wss://gl.example.net:7443"
            tls_cert = "/etc/openlift/cert.pem"
            tls_key = "/etc/openlift/key.pem"
            process_heartbeat_timeout = "90s"
            agent_heartbeat_timeout = "45s"
            max_connections = 500
            max_connections_per_peer = 50
            reserved_connections = 20
            body_timeout = "5s"
            [[credentials]]
            access_key_id = "AKIAEXAMPLE"
            secret_access_key = "secret"
            "#,
        )
        .unwrap();
        assert_eq!(file.listen, Some("0.0.0.0:9999".parse().unwrap()));
        assert_eq!(file.region.as_deref(), Some("eu-west-1"));
        assert_eq!(file.credentials.len(), 1);
        assert_eq!(file.credentials[0].access_key_id, "AKIAEXAMPLE");
        assert_eq!(file.tls_cert, Some(PathBuf::from("/etc/openlift/cert.pem")));
        assert_eq!(file.process_heartbeat_timeout, Some(Duration::from_secs(90)));
        assert_eq!(file.agent_heartbeat_timeout, Some(Duration::from_secs(45)));
        assert_eq!(
            (file.max_connections, file.max_connections_per_peer, file.reserved_connections),
            (Some(500), Some(50), Some(20))
        );
        assert_eq!(file.body_timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn durations_take_an_optional_unit() {
        assert_eq!(parse_duration("180"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("3m"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("3 days").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn an_unknown_key_is_an_error_not_silently_ignored() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_dir() {
        let config = Config::new(DEFAULT_LISTEN.parse().unwrap(), PathBuf::from("/tmp/x"));
        assert_eq!(config.database_url(), "sqlite:///tmp/x/openlift.db");
    }
}
