//! Compare-and-swap updates: read a versioned record, change it, write it back if its
//! version is unchanged, and start over when another writer got there first.
//!
//! Every such update counts its tries with [`Attempts`] and judges its write with
//! [`written`], so they all give up the same way: after [`ATTEMPTS`] conflicts, a
//! `ConflictException` naming the resource ([`exhausted`]), which the dispatcher answers as
//! `InvalidRequestException` where the operation does not declare it (`docs/decisions.md`,
//! "Errors").
//!
//! The update itself stays a plain loop in its caller rather than a closure handed to a
//! helper: a future that borrows the caller's state across attempts must stay `Send` for
//! the server's tasks, which an async closure's future cannot yet promise.

use openlift_model::ApiError;
use openlift_store::StoreError;

use crate::service::common::internal;

/// How often a compare-and-swap update is tried before it gives up.
pub const ATTEMPTS: usize = 16;

/// The tries of one compare-and-swap update of one resource.
#[derive(Debug)]
pub struct Attempts<'a> {
    resource: &'a str,
    tried: usize,
}

impl<'a> Attempts<'a> {
    /// The tries of an update of `resource`, as named in messages ("Game session gsess-1").
    pub fn new(resource: &'a str) -> Self {
        Attempts { resource, tried: 0 }
    }

    /// Starts the next try: [`exhausted`] once [`ATTEMPTS`] tries have conflicted.
    pub fn next(&mut self) -> Result<(), ApiError> {
        if self.tried == ATTEMPTS {
            tracing::debug!(resource = self.resource, attempts = ATTEMPTS, "compare-and-swap update gave up");
            return Err(exhausted(self.resource));
        }
        self.tried += 1;
        Ok(())
    }
}

/// The one answer to an update that kept conflicting with other writers.
pub fn exhausted(resource: &str) -> ApiError {
    ApiError::conflict(format!("{resource} is being changed by other requests; retry."))
}

/// What a versioned write's outcome means to the update: `Some` when it is done, `None`
/// when the record changed since it was read (try again), `not_found` for `NotFound`, and
/// any other store error as [`internal`] reports it.
pub fn written<T>(outcome: Result<T, StoreError>, not_found: impl FnOnce() -> ApiError) -> Result<Option<T>, ApiError> {
    match outcome {
        Ok(value) => Ok(Some(value)),
        Err(StoreError::VersionConflict) => Ok(None),
        Err(StoreError::NotFound) => Err(not_found()),
        Err(error) => Err(internal(error)),
    }
}

#[cfg(test)]
mod tests {
    use openlift_model::ErrorCode;

    use super::*;

    /// An update whose `n`th write (from 0) answers `write(n)`, run as the callers' loops run it.
    fn update(write: impl Fn(usize) -> Result<u32, StoreError>) -> (Result<u32, ApiError>, usize) {
        let mut attempts = Attempts::new("Fleet fleet-1");
        let mut writes = 0;
        let result = loop {
            if let Err(error) = attempts.next() {
                break Err(error);
            }
            let outcome = write(writes);
            writes += 1;
            match written(outcome, || ApiError::not_found("Fleet fleet-1 not found.")) {
                Ok(Some(version)) => break Ok(version),
                Ok(None) => continue,
                Err(error) => break Err(error),
            }
        };
        (result, writes)
    }

    #[test]
    fn conflicts_are_retried_until_a_write_succeeds() {
        let third_wins = |n| if n < 2 { Err(StoreError::VersionConflict) } else { Ok(9) };
        assert_eq!(update(third_wins), (Ok(9), 3), "no write after the one that won");
    }

    #[test]
    fn conflicts_on_every_attempt_give_the_one_exhausted_answer() {
        let (result, writes) = update(|_| Err(StoreError::VersionConflict));
        assert_eq!(writes, ATTEMPTS);
        let error = result.unwrap_err();
        assert_eq!(error.code, ErrorCode::ConflictException);
        assert_eq!(error.message, "Fleet fleet-1 is being changed by other requests; retry.");
        assert_eq!(error, exhausted("Fleet fleet-1"));
    }

    #[test]
    fn a_store_error_is_not_retried_and_passes_through() {
        let (result, writes) = update(|_| Err(StoreError::Backend("disk full".into())));
        assert_eq!((result.unwrap_err().code, writes), (ErrorCode::InternalServiceException, 1));
        let (result, writes) = update(|_| Err(StoreError::NotFound));
        assert_eq!((result, writes), (Err(ApiError::not_found("Fleet fleet-1 not found.")), 1));
        let (result, _) = update(|_| Err(StoreError::Unstorable));
        assert_eq!(result.unwrap_err().code, ErrorCode::InvalidRequestException);
    }
}
