//! One async lock per key (a workspace, a project): operations on the same key never interleave,
//! operations on different keys never wait for each other.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::OwnedMutexGuard;

#[derive(Clone, Default)]
pub struct KeyedLocks(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

impl KeyedLocks {
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = self
            .0
            .lock()
            .expect("keyed lock registry")
            .entry(key.to_owned())
            .or_default()
            .clone();
        lock.lock_owned().await
    }
}

/// Keys with a task at work (a repository's poll): a second task of the same key is skipped, not
/// queued. The key is freed when the task's guard drops, however the task ends, a panic
/// included, so that one failed task never stops the next.
#[derive(Clone)]
pub struct InFlight<K>(Arc<Mutex<HashSet<K>>>);

impl<K> Default for InFlight<K> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

/// Holds a key of an [`InFlight`] set until it drops.
pub struct InFlightGuard<K: Eq + Hash> {
    set: Arc<Mutex<HashSet<K>>>,
    key: Option<K>,
}

impl<K: Eq + Hash + Clone> InFlight<K> {
    /// The key's guard, or `None` while another task holds it.
    pub fn start(&self, key: &K) -> Option<InFlightGuard<K>> {
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        set.insert(key.clone()).then(|| InFlightGuard {
            set: self.0.clone(),
            key: Some(key.clone()),
        })
    }
}

impl<K: Eq + Hash> Drop for InFlightGuard<K> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.set
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_panics_frees_its_key_for_the_next() {
        let running = InFlight::<String>::default();
        let key = "project".to_owned();
        let guard = running.start(&key).expect("free");
        assert!(running.start(&key).is_none(), "one at a time");
        let task = tokio::spawn(async move {
            let _guard = guard;
            panic!("a poll that panics");
        });
        assert!(task.await.unwrap_err().is_panic());
        let next = running.start(&key);
        assert!(next.is_some(), "the next poll runs");
        assert!(running.start(&"other".to_owned()).is_some());
    }
}
