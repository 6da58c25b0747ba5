//! Shared state of a running control plane, handed to every request.

use std::collections::HashMap;
use std::sync::Arc;

use openlift_core::clock::Clock;
use openlift_core::ids::ArnScope;
use openlift_model::Timestamp;
use openlift_protocol::sigv4::{Credential, SecretKey};
use openlift_store::Store;

use crate::service::Services;
use crate::service::common::Paging;

/// Everything a request handler may use.
pub struct App {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Region and account used in ARNs; the Region is also the SigV4 scope.
    pub scope: ArnScope,
    /// Accepted access keys by ID.
    pub credentials: HashMap<String, Credential>,
    /// Issues and checks `NextToken`s.
    pub paging: Paging,
    /// The URL game servers connect to, returned by RegisterCompute.
    pub sdk_endpoint: String,
    /// The SDK endpoint: server processes and the tasks serving them.
    pub sdk: crate::sdk::endpoint::SdkEndpoint,
    /// The URL host agents connect to, returned by RegisterCompute as `GameLiftAgentEndpoint`.
    pub agent_endpoint: String,
    /// The agent endpoint: the computes' agent connections and their liveness.
    pub agents: Arc<crate::hosting::agents::Agents>,
    /// Per-resource locks that keep this node's own updates from racing.
    pub locks: Arc<crate::locks::KeyedLocks>,
    /// The domain operations.
    pub services: Services,
    /// The listen port's connection budget.
    pub connections: Arc<crate::front::admission::Admission>,
}

impl App {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// The SigV4 credential table for the configured access keys.
pub fn credential_table(entries: Vec<crate::credentials::CredentialEntry>) -> HashMap<String, Credential> {
    entries.into_iter().map(|e| (e.access_key_id, Credential::long_term(SecretKey::new(e.secret_access_key)))).collect()
}
