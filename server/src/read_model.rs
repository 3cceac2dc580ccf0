//! Read models that domains offer to the snapshot service without either knowing the other: a
//! domain implements a trait here, `lib.rs` hands the implementation to the snapshot service.

use ff_core::sessions::{RuntimeFacts, SessionGroup};

/// The live runtime of agent sessions, which only the sessions domain holds (in memory).
pub trait SessionRuntimes: Send + Sync {
    /// `None` when the session has no runtime in this process (not started since ff started).
    fn runtime(&self, session_id: &str) -> Option<RuntimeFacts>;

    /// The session group of a workspace whose sessions are live in this process, exactly as its
    /// last event announced it (`None`: none of them has been touched since ff started, and the
    /// database alone says what they are).
    fn group(&self, workspace_id: &str) -> Option<SessionGroup>;
}
