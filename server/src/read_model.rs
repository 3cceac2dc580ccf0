//! Read models that domains offer to the snapshot service without either knowing the other: a
//! domain implements a trait here, `lib.rs` hands the implementation to the snapshot service.

use ff_core::sessions::RuntimeFacts;

/// The live runtime of agent sessions, which only the sessions domain holds (in memory).
pub trait SessionRuntimes: Send + Sync {
    /// `None` when the session has no runtime in this process (not started since ff started).
    fn runtime(&self, session_id: &str) -> Option<RuntimeFacts>;
}
