//! Shared state of a running control plane, handed to every request.

use std::collections::HashMap;
use std::sync::Arc;

use openlift_core::clock::Clock;
use openlift_core::ids::ArnScope;
use openlift_core::paging::PageTokens;
use openlift_model::{ApiError, Timestamp};
use openlift_protocol::sigv4::{Credential, SecretKey};
use openlift_store::{Page, PageRequest, Store, StoreError};

/// Largest page any listing returns when the caller asks for more or gives no `Limit`
/// (`control-plane-api.md` section 7.13: clamp, never refuse).
pub const MAX_PAGE: usize = 100;

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
    /// Signs and checks `NextToken`s.
    pub page_tokens: PageTokens,
    /// The URL game servers connect to, returned by RegisterCompute.
    pub sdk_endpoint: String,
    /// The SDK endpoint: server processes and the tasks serving them.
    pub sdk: crate::sdk::endpoint::SdkEndpoint,
    /// The URL host agents connect to, returned by RegisterCompute as `GameLiftAgentEndpoint`.
    pub agent_endpoint: String,
    /// The agent endpoint: the computes' agent connections and their liveness.
    pub agents: crate::agent::agents::Agents,
    /// Per-resource locks that keep this node's own updates from racing.
    pub locks: crate::locks::KeyedLocks,
    /// Fleet records for hot paths, kept current with this node's fleet changes.
    pub fleets: crate::fleet_cache::FleetCache,
    /// The listen port's connection budget.
    pub connections: Arc<crate::front::admission::Admission>,
}

impl App {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The page a `Limit`/`NextToken` pair asks for within the listing `scope`.
    pub fn page_request(
        &self,
        scope: &str,
        limit: Option<i32>,
        next_token: Option<&str>,
        max: usize,
    ) -> Result<PageRequest, ApiError> {
        let after = next_token.map(|t| self.page_tokens.check(scope, t)).transpose()?;
        let limit = limit.and_then(|l| usize::try_from(l).ok()).filter(|&l| l > 0).map_or(max, |l| l.min(max));
        Ok(PageRequest { after, limit })
    }

    /// The `NextToken` to return with `page`, if more items remain.
    pub fn next_token<T>(&self, scope: &str, page: &Page<T>) -> Option<String> {
        page.next.map(|cursor| self.page_tokens.issue(scope, cursor))
    }
}

/// The SigV4 credential table for the configured access keys.
pub fn credential_table(entries: Vec<crate::credentials::CredentialEntry>) -> HashMap<String, Credential> {
    entries.into_iter().map(|e| (e.access_key_id, Credential::long_term(SecretKey::new(e.secret_access_key)))).collect()
}

/// Maps a backend failure to the generic `InternalServiceException`, logging the cause;
/// a value the database cannot store is the client's `InvalidRequestException`.
///
/// Callers handle the meaningful variants (`AlreadyExists`, `NotFound`, …) themselves
/// before falling back to this.
pub fn internal(err: StoreError) -> ApiError {
    if matches!(err, StoreError::Unstorable) {
        return ApiError::invalid_request("A string value holds the character U+0000, which cannot be stored.");
    }
    tracing::error!(error = %err, cause = ?std::error::Error::source(&err), "store operation failed");
    ApiError::internal()
}

#[cfg(test)]
mod tests {
    use openlift_model::ErrorCode;

    use super::*;

    #[test]
    fn an_unstorable_value_is_the_clients_error_and_other_failures_are_internal() {
        let refused = internal(StoreError::Unstorable);
        assert_eq!(refused.code, ErrorCode::InvalidRequestException);
        assert!(refused.message.contains("U+0000"), "{}", refused.message);
        assert_eq!(internal(StoreError::Backend("disk full".into())).code, ErrorCode::InternalServiceException);
    }
}
