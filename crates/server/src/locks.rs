//! In-process locks keyed by resource, serialising read-check-write sequences that
//! must not interleave on one node (a fleet's compare-and-swap updates, a resource's
//! tag limit, a creator's session count).
//!
//! Several control-plane nodes sharing PostgreSQL still rely on the store's
//! compare-and-swap for correctness; these locks only keep one node's own requests
//! from racing each other into conflicts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

/// How many idle entries may accumulate before unused ones are dropped.
const PRUNE_AT: usize = 4096;

/// Async mutexes created on demand for each key and dropped when unused.
#[derive(Debug, Default)]
pub struct KeyedLocks {
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    /// Waits for, then holds, the lock of `key` until the guard is dropped.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if locks.len() >= PRUNE_AT {
                locks.retain(|_, weak| weak.strong_count() > 0);
            }
            match locks.get(key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(key.to_owned(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::FutureExt;
    use tokio::time::timeout;

    use super::*;

    #[tokio::test]
    async fn one_key_is_held_by_one_task_at_a_time() {
        let locks = Arc::new(KeyedLocks::default());
        let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (locks, counter) = (locks.clone(), counter.clone());
            tasks.push(tokio::spawn(async move {
                let _guard = locks.lock("fleet-1").await;
                let inside = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                assert_eq!(inside, 0, "two holders at once");
                tokio::task::yield_now().await;
                counter.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_held_key_makes_only_that_key_wait_until_released() {
        let locks = KeyedLocks::default();
        let a = locks.lock("a").await;
        assert!(locks.lock("b").now_or_never().is_some(), "another key waited for a held one");
        let mut second_a = Box::pin(locks.lock("a"));
        assert!((&mut second_a).now_or_never().is_none(), "a held key was given out twice");
        drop(a);
        timeout(Duration::from_secs(5), second_a).await.expect("a released key stayed held");
    }

    #[tokio::test]
    async fn pruning_unused_keys_keeps_the_held_ones() {
        let locks = KeyedLocks::default();
        let held = locks.lock("held").await;
        for key in 0..PRUNE_AT {
            drop(locks.lock(&key.to_string()).await);
        }
        let entries = locks.locks.lock().unwrap().len();
        assert!(entries < PRUNE_AT, "{entries} entries were kept");
        assert!(locks.lock("held").now_or_never().is_none(), "pruning forgot a held key");
        drop(held);
        assert!(locks.lock("held").now_or_never().is_some());
    }
}
