//! What every service shares: the answer to a store failure, and paging.

use openlift_core::paging::PageTokens;
use openlift_model::ApiError;
use openlift_store::{Page, PageRequest, StoreError};

/// Largest page any listing returns when the caller asks for more or gives no `Limit`
/// (`control-plane-api.md` section 7.13: clamp, never refuse).
pub const MAX_PAGE: usize = 100;

/// Issues and checks the `NextToken`s of listings.
#[derive(Clone)]
pub struct Paging {
    /// Signs and checks the tokens; log download URLs use them too.
    pub tokens: PageTokens,
}

impl Paging {
    /// The page a `Limit`/`NextToken` pair asks for within the listing `scope`.
    pub fn request(
        &self,
        scope: &str,
        limit: Option<i32>,
        next_token: Option<&str>,
        max: usize,
    ) -> Result<PageRequest, ApiError> {
        let after = next_token.map(|t| self.tokens.check(scope, t)).transpose()?;
        let limit = limit.and_then(|l| usize::try_from(l).ok()).filter(|&l| l > 0).map_or(max, |l| l.min(max));
        Ok(PageRequest { after, limit })
    }

    /// The `NextToken` to return with `page`, if more items remain.
    pub fn next_token<T>(&self, scope: &str, page: &Page<T>) -> Option<String> {
        page.next.map(|cursor| self.tokens.issue(scope, cursor))
    }
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
