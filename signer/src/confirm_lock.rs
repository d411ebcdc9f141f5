//! Confirmations of one upload run one at a time in this process. Two at
//! once could both find the confirmed copy missing and both copy, and on a
//! file-system store the second copy rewrites the file in place while a
//! reader may already be downloading it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub struct ConfirmLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// Held while one upload is confirmed; the next waits.
pub struct ConfirmLock<'a> {
    locks: &'a ConfirmLocks,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl ConfirmLocks {
    pub async fn lock(&self, key: &str) -> ConfirmLock<'_> {
        let mutex = {
            let mut map = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(map.entry(key.to_owned()).or_default())
        };
        ConfirmLock {
            locks: self,
            key: key.to_owned(),
            guard: Some(mutex.lock_owned().await),
        }
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }
}

impl Drop for ConfirmLock<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.locks.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget the key once nobody holds or waits for it.
        if map.get(&self.key).is_some_and(|m| Arc::strong_count(m) == 1) {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_key_at_a_time_others_freely_and_nothing_left_behind() {
        let locks = Arc::new(ConfirmLocks::default());
        let first = locks.lock("a").await;
        // Another key is not held up.
        drop(locks.lock("b").await);
        let waiter = {
            let locks = Arc::clone(&locks);
            tokio::spawn(async move {
                let _second = locks.lock("a").await;
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "the second confirmation waits");
        drop(first);
        waiter.await.expect("then it runs");
        assert_eq!(locks.held(), 0);
    }
}
