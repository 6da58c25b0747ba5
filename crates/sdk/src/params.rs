//! Server and process parameters, and how they are read from the environment (protocol spec
//! §1.1 "Where the parameters come from").

use std::fmt;

/// The process ID value that asks the SDK to generate a random one (container fleets).
pub const MANAGED_RESOURCE_PROCESS_ID: &str = "ManagedResource";

/// How the SDK authenticates its WebSocket connection (spec §1.2 and §1.4).
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A compute auth token, sent as the `Authorization` query parameter.
    AuthToken(String),
    /// AWS credentials that sign the connection query with SigV4.
    SigV4(SigV4Credentials),
}

impl Default for Credentials {
    fn default() -> Self {
        Self::AuthToken(String::new())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AuthToken(_) => f.write_str("AuthToken(<redacted>)"),
            Self::SigV4(credentials) => f.debug_tuple("SigV4").field(credentials).finish(),
        }
    }
}

/// AWS credentials for SigV4 query signing.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SigV4Credentials {
    /// The AWS region, e.g. `us-west-2`.
    pub region: String,
    /// The access key ID.
    pub access_key: String,
    /// The secret access key.
    pub secret_key: String,
    /// The session token of temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for SigV4Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Credentials")
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Where and as whom the SDK connects: the official SDKs' `ServerParameters`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerParameters {
    /// The service's SDK endpoint, `ws://` or `wss://`.
    pub web_socket_url: String,
    /// This process's unique ID (`pID`); `ManagedResource` makes the SDK generate one.
    pub process_id: String,
    /// The compute (host) name, sent as `ComputeId`.
    pub host_id: String,
    /// The fleet ID.
    pub fleet_id: String,
    /// How to authenticate.
    pub credentials: Credentials,
}

impl ServerParameters {
    /// Parameters read only from the environment, as a launcher (the GameLift Agent or the
    /// openlift agent) sets it: `GAMELIFT_SDK_WEBSOCKET_URL`, `GAMELIFT_SDK_PROCESS_ID`,
    /// `GAMELIFT_SDK_HOST_ID`, `GAMELIFT_SDK_FLEET_ID`, `GAMELIFT_SDK_AUTH_TOKEN`, or for SigV4
    /// `GAMELIFT_REGION`, `GAMELIFT_ACCESS_KEY`, `GAMELIFT_SECRET_KEY`, `GAMELIFT_SESSION_TOKEN`.
    pub fn from_env() -> Self {
        Self::default().with_env_overrides()
    }

    /// These parameters with every variable that is set in the environment taking precedence,
    /// which is what the official SDKs' `InitSDK(params)` does.
    pub fn with_env_overrides(self) -> Self {
        self.with_overrides(|key| std::env::var(key).ok().filter(|value| !value.is_empty()))
    }

    /// Applies overrides from `lookup` (an environment stand-in) using the official rules: each
    /// set variable replaces its field, and a non-empty auth token wins over SigV4 credentials.
    pub(crate) fn with_overrides(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let set = |field: &mut String, key: &str| {
            if let Some(value) = lookup(key) {
                *field = value;
            }
        };
        set(&mut self.web_socket_url, "GAMELIFT_SDK_WEBSOCKET_URL");
        set(&mut self.process_id, "GAMELIFT_SDK_PROCESS_ID");
        set(&mut self.host_id, "GAMELIFT_SDK_HOST_ID");
        set(&mut self.fleet_id, "GAMELIFT_SDK_FLEET_ID");
        let (mut token, mut sigv4) = match self.credentials {
            Credentials::AuthToken(token) => (token, SigV4Credentials::default()),
            Credentials::SigV4(sigv4) => (String::new(), sigv4),
        };
        set(&mut token, "GAMELIFT_SDK_AUTH_TOKEN");
        set(&mut sigv4.region, "GAMELIFT_REGION");
        set(&mut sigv4.access_key, "GAMELIFT_ACCESS_KEY");
        set(&mut sigv4.secret_key, "GAMELIFT_SECRET_KEY");
        if let Some(session_token) = lookup("GAMELIFT_SESSION_TOKEN") {
            sigv4.session_token = Some(session_token);
        }
        self.credentials = if token.is_empty() && !sigv4.access_key.is_empty() {
            Credentials::SigV4(sigv4)
        } else {
            Credentials::AuthToken(token)
        };
        self
    }
}

/// What `process_ready` tells the service about this process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessParameters {
    /// The port players connect to (1–60000).
    pub port: u16,
    /// Files or folders the service should keep after the process ends.
    pub log_paths: Vec<String>,
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{Credentials, ServerParameters, SigV4Credentials};

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn environment_overrides_explicit_parameters() {
        let explicit = ServerParameters {
            web_socket_url: "ws://explicit".into(),
            process_id: "p-explicit".into(),
            host_id: "host-explicit".into(),
            fleet_id: "fleet-explicit".into(),
            credentials: Credentials::AuthToken("tok-explicit".into()),
        };
        let merged = explicit.with_overrides(env(&[
            ("GAMELIFT_SDK_WEBSOCKET_URL", "wss://env:7443"),
            ("GAMELIFT_SDK_PROCESS_ID", "p-env"),
            ("GAMELIFT_SDK_AUTH_TOKEN", "tok-env"),
        ]));
        assert_eq!(merged.web_socket_url, "wss://env:7443");
        assert_eq!(merged.process_id, "p-env");
        assert_eq!(merged.host_id, "host-explicit");
        assert_eq!(merged.fleet_id, "fleet-explicit");
        assert_eq!(merged.credentials, Credentials::AuthToken("tok-env".into()));
    }

    #[test]
    fn sigv4_credentials_are_read_when_no_auth_token_is_set() {
        let merged = ServerParameters::default().with_overrides(env(&[
            ("GAMELIFT_REGION", "us-east-1"),
            ("GAMELIFT_ACCESS_KEY", "AKID"),
            ("GAMELIFT_SECRET_KEY", "secret"),
            ("GAMELIFT_SESSION_TOKEN", "session"),
        ]));
        assert_eq!(
            merged.credentials,
            Credentials::SigV4(SigV4Credentials {
                region: "us-east-1".into(),
                access_key: "AKID".into(),
                secret_key: "secret".into(),
                session_token: Some("session".into()),
            })
        );
    }

    #[test]
    fn auth_token_wins_over_sigv4_credentials() {
        let merged = ServerParameters::default()
            .with_overrides(env(&[("GAMELIFT_SDK_AUTH_TOKEN", "tok"), ("GAMELIFT_ACCESS_KEY", "AKID")]));
        assert_eq!(merged.credentials, Credentials::AuthToken("tok".into()));
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let params =
            ServerParameters { credentials: Credentials::AuthToken("very-secret".into()), ..Default::default() };
        assert!(!format!("{params:?}").contains("very-secret"));
        let sigv4 = Credentials::SigV4(SigV4Credentials { secret_key: "s3cr3t".into(), ..Default::default() });
        assert!(!format!("{sigv4:?}").contains("s3cr3t"));
    }
}
