//! Control-plane configuration: what `openlift serve` needs to run.
//!
//! Values come from command-line flags, then `OPENLIFT_*` environment variables,
//! then a TOML file, then defaults; the binary merges them in that order and
//! hands the result here as a [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::credentials::CredentialEntry;

/// Default address of the API.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9080";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "./openlift-data";
/// Default Region.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default account ID shown in fleet, compute and location ARNs.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

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
}

impl Config {
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
    }

    #[test]
    fn an_unknown_key_is_an_error_not_silently_ignored() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_dir() {
        let config = Config {
            listen: DEFAULT_LISTEN.parse().unwrap(),
            data_dir: PathBuf::from("/tmp/x"),
            region: DEFAULT_REGION.into(),
            account_id: DEFAULT_ACCOUNT_ID.into(),
            database_url: None,
            credentials: vec![],
            sdk_endpoint: None,
        };
        assert_eq!(config.database_url(), "sqlite:///tmp/x/openlift.db");
    }
}
