//! One async lock per key (a workspace, a project): operations on the same key never interleave,
//! operations on different keys never wait for each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
