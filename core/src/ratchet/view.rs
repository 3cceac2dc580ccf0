//! The ratchet as the workspace page shows it (ratchet.md §4): the last decision with its reason
//! and time, the fixer at work, and the recent dispatches.

use crate::enums::RatchetDispatchOutcome;
use crate::ids::{SessionId, Timestamp};
use serde::{Deserialize, Serialize};

/// What one check came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Completed,
    Waiting,
    FixerActive,
    Dispatched,
    Stalled,
    /// The check could not decide (GitHub failed, the fixer could not start); it runs again.
    Failed,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Completed,
        Verdict::Waiting,
        Verdict::FixerActive,
        Verdict::Dispatched,
        Verdict::Stalled,
        Verdict::Failed,
    ];

    /// What the workspace page calls it; the check's reason says the rest.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Completed => "Nothing to fix",
            Verdict::Waiting => "Waiting",
            Verdict::FixerActive => "Fixer at work",
            Verdict::Dispatched => "Fixer dispatched",
            Verdict::Stalled => "Stalled: waiting on you",
            Verdict::Failed => "Check failed, will retry",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatchetCheck {
    pub at: Timestamp,
    pub verdict: Verdict,
    pub reason: String,
}

/// One fixer dispatched, and how it ended (`None` while it runs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatchetDispatch {
    pub at: Timestamp,
    /// The PR state it was dispatched for (the snapshot key).
    pub key: String,
    pub session_id: SessionId,
    pub reason: String,
    pub retry: u32,
    pub outcome: Option<RatchetDispatchOutcome>,
}

/// `GET /api/workspaces/{id}/ratchet`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatchetView {
    pub enabled: bool,
    pub dispatch_outcome: Option<RatchetDispatchOutcome>,
    pub retry_count: u32,
    pub stalled: bool,
    /// The fixer session at work, if one is.
    pub active_session: Option<SessionId>,
    pub last_check: Option<RatchetCheck>,
    /// Newest first.
    pub history: Vec<RatchetDispatch>,
}
