//! What one ratchet check reads: the PR as GitHub shows it, the stored dispatch bookkeeping, and
//! what the workspace's sessions are doing.

use crate::enums::{CiStatus, RatchetDispatchOutcome, ReviewDecision, ReviewState};
use serde::{Deserialize, Serialize};

/// GitHub's raw state of a pull request. ff's `PrState` also folds in drafts and the review
/// decision; the ratchet decides on the raw state (D§6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GithubPrState {
    Open,
    Closed,
    Merged,
}

/// Which review feedback makes the ratchet act (the `ratchetReviewTriggerMode` setting, D§6.6).
/// Plain PR conversation comments never do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewTrigger {
    /// Changes-requested reviews and unresolved inline threads.
    #[default]
    ChangesRequested,
    /// Also review summaries left as plain comments (COMMENTED with a body).
    AllReviewFeedback,
}

/// Whose feedback counts and which: the authenticated user's own reviews and comments never
/// trigger (ratchet.md §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReviewPolicy<'a> {
    pub self_login: Option<&'a str>,
    pub trigger: ReviewTrigger,
}

impl ReviewPolicy<'_> {
    /// GitHub logins are case-insensitive ASCII, so "Me" and "me" are the same user.
    pub(crate) fn is_self(&self, author: &str) -> bool {
        self.self_login
            .is_some_and(|login| login.eq_ignore_ascii_case(author))
    }
}

/// One failed check of the PR, after re-runs were reduced to their latest attempt (D§5.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FailedCheck {
    pub name: String,
    /// GitHub's conclusion as given (FAILURE, TIMED_OUT, STARTUP_FAILURE, …).
    pub conclusion: String,
    /// The Actions run id when there is one, else the check's details URL: a re-run gets a new
    /// one, so a re-run that fails again is a new state worth a new fixer.
    pub run: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Review {
    pub author: String,
    pub state: ReviewState,
    pub body: String,
    pub submitted_at_ms: i64,
}

/// One comment of an inline review thread.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReviewComment {
    pub author: String,
    pub body: String,
    pub path: String,
    pub line: Option<u32>,
    pub url: String,
    pub updated_at_ms: i64,
    /// Its thread was resolved: no longer feedback to act on, but still review activity.
    pub resolved: bool,
    /// GitHub's node id of its thread, which the fixer's report and ff's reply name.
    pub thread_id: Option<String>,
}

/// A pull request as one check observed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrObservation {
    pub number: u64,
    pub url: String,
    pub state: GithubPrState,
    pub ci_status: CiStatus,
    pub failing_checks: Vec<FailedCheck>,
    pub review_decision: Option<ReviewDecision>,
    pub reviews: Vec<Review>,
    /// Every inline review comment, resolved or not: the latest activity counts them all, the
    /// feedback quoted to the fixer only the unresolved ones (D§6.2).
    pub inline_comments: Vec<ReviewComment>,
    pub has_merge_conflict: bool,
    pub base_branch: String,
}

impl PrObservation {
    pub fn changes_requested(&self) -> bool {
        self.review_decision == Some(ReviewDecision::ChangesRequested)
    }
}

/// What `workspace_ratchet` stores about the last dispatch. `stalled` and `active_session` do not
/// change the decision; they are here because the caller's write is a compare-and-swap on
/// everything it read (ratchet.md §1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bookkeeping {
    /// The snapshot key the last fixer was dispatched for.
    pub snapshot_key: Option<String>,
    /// As settled by the active-fixer check of this same check (D§6.3), not as first read.
    pub outcome: Option<RatchetDispatchOutcome>,
    pub retry_count: u32,
    pub stalled: bool,
    /// When a fixer prompt was last sent.
    pub review_last_checked_ms: Option<i64>,
    pub active_session: Option<String>,
}

/// What the workspace's sessions are doing while the check runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// The active fixer session has a turn in flight.
    pub fixer_working: bool,
    /// The active fixer ended while this check was settling it (D§6.3 "ended concurrently").
    pub fixer_ended_during_check: bool,
    /// A session of the workspace other than the fixer is working.
    pub other_session_working: bool,
}
