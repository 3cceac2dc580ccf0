//! The decision of one ratchet check: D§6.2 step 5, first matching rule wins.

use super::feedback::{has_review_feedback, latest_review_activity_ms};
use super::key::snapshot_key;
use super::observation::{Activity, Bookkeeping, GithubPrState, PrObservation, ReviewPolicy};
use crate::derive::{ratchet_state, RatchetInput};
use crate::enums::{CiStatus, PrState, RatchetDispatchOutcome, RatchetState};
use std::fmt;

/// A fixer that died is dispatched again for the same key at most this many times.
pub const MAX_RETRIES: u32 = 3;

/// Why the ratchet does nothing this time; it looks again at the next check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitReason {
    PrNotOpen,
    CiPending,
    /// The fixer ended while this check settled it: the next check sees the settled outcome.
    FixerEnded,
    /// A fixer would be dispatched, but a person (or another agent) is at work in the workspace.
    OtherSessionWorking,
    PrClean,
    NothingToFix,
}

/// Why the ratchet gives up on this PR state until it changes: the workspace waits on a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StallReason {
    /// Every dispatch for this key died: the first one and [`MAX_RETRIES`] retries.
    FixerDied { times: u32 },
    /// A fixer finished for this exact key and the PR did not change.
    Unchanged,
}

/// What a fixer is sent to fix, for the board's status and the prompt. When several apply the
/// order is the ratchet state's: CI first, then the conflict, then review feedback. The prompt
/// carries everything observed either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TriggerReason {
    CiFailure,
    MergeConflict,
    ReviewFeedback,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The PR is merged: the ratchet's work is done.
    Completed,
    Waiting(WaitReason),
    /// The fixer dispatched earlier is still working on it.
    FixerActive,
    /// Dispatch a fixer; `retry_count` is recorded with the dispatch.
    Trigger {
        retry_count: u32,
        reason: TriggerReason,
    },
    MarkStalled(StallReason),
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub decision: Decision,
    /// The snapshot key of the observation, recorded with a dispatch.
    pub key: String,
    pub ratchet_state: RatchetState,
}

/// Everything one check decides on. The caller has already checked that the ratchet is on (D§6.2
/// step 1) and settled the active fixer (D§6.3).
#[derive(Clone, Copy, Debug)]
pub struct CheckInput<'a> {
    pub pr: &'a PrObservation,
    pub bookkeeping: &'a Bookkeeping,
    pub activity: Activity,
    pub policy: ReviewPolicy<'a>,
}

/// D§6.2 steps 4 and 5.
pub fn decide(input: CheckInput<'_>) -> Check {
    let key = snapshot_key(input.pr, input.policy);
    Check {
        decision: decision(&input, &key),
        ratchet_state: state_of(input.pr),
        key,
    }
}

fn decision(input: &CheckInput<'_>, key: &str) -> Decision {
    let CheckInput {
        pr,
        bookkeeping,
        activity,
        policy,
    } = *input;
    match pr.state {
        GithubPrState::Merged => return Decision::Completed,
        GithubPrState::Closed => return Decision::Waiting(WaitReason::PrNotOpen),
        GithubPrState::Open => {}
    }
    let ci_settled = matches!(pr.ci_status, CiStatus::Success | CiStatus::Failure);
    // A conflict needs fixing whatever CI says, so it does not wait for CI.
    if !ci_settled && !pr.has_merge_conflict {
        return Decision::Waiting(WaitReason::CiPending);
    }
    if activity.fixer_working {
        return Decision::FixerActive;
    }
    if activity.fixer_ended_during_check {
        return Decision::Waiting(WaitReason::FixerEnded);
    }
    let unchanged = bookkeeping.snapshot_key.as_deref() == Some(key);
    // The dispatch that died already established that this state needs a fixer, so its retry
    // comes before the gates below.
    if unchanged && bookkeeping.outcome == Some(RatchetDispatchOutcome::Died) {
        return if bookkeeping.retry_count >= MAX_RETRIES {
            Decision::MarkStalled(StallReason::FixerDied {
                times: bookkeeping.retry_count + 1,
            })
        } else if activity.other_session_working {
            Decision::Waiting(WaitReason::OtherSessionWorking)
        } else {
            trigger(pr, bookkeeping.retry_count + 1)
        };
    }
    let has_feedback = has_review_feedback(pr, policy);
    let new_review_activity = latest_review_activity_ms(pr, policy).is_some_and(|latest| {
        bookkeeping
            .review_last_checked_ms
            .is_none_or(|checked| latest > checked)
    });
    let clean = pr.ci_status == CiStatus::Success
        && !pr.changes_requested()
        && !has_feedback
        && !pr.has_merge_conflict
        && !new_review_activity;
    if clean {
        return Decision::Waiting(WaitReason::PrClean);
    }
    let actionable = pr.ci_status == CiStatus::Failure
        || pr.has_merge_conflict
        || pr.changes_requested()
        || has_feedback;
    if !actionable {
        return Decision::Waiting(WaitReason::NothingToFix);
    }
    if unchanged {
        return Decision::MarkStalled(StallReason::Unchanged);
    }
    if activity.other_session_working {
        return Decision::Waiting(WaitReason::OtherSessionWorking);
    }
    trigger(pr, 0)
}

/// A retry's state may have nothing left but review activity (a resolved thread does not change
/// the key), so review feedback is the reason when neither CI nor a conflict is.
fn trigger(pr: &PrObservation, retry_count: u32) -> Decision {
    let reason = if pr.ci_status == CiStatus::Failure {
        TriggerReason::CiFailure
    } else if pr.has_merge_conflict {
        TriggerReason::MergeConflict
    } else {
        TriggerReason::ReviewFeedback
    };
    Decision::Trigger {
        retry_count,
        reason,
    }
}

/// The derived ratchet state of the live observation. Any open state behaves the same there, so
/// the raw OPEN stands for all of them.
fn state_of(pr: &PrObservation) -> RatchetState {
    ratchet_state(RatchetInput {
        ratchet_enabled: true,
        pr_state: match pr.state {
            GithubPrState::Open => PrState::Open,
            GithubPrState::Closed => PrState::Closed,
            GithubPrState::Merged => PrState::Merged,
        },
        pr_ci_status: pr.ci_status,
        has_merge_conflict: pr.has_merge_conflict,
        pr_review_state: pr.review_decision,
    })
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PrNotOpen => "PR is not open",
            Self::CiPending => "Waiting for CI to complete",
            Self::FixerEnded => "Fixer session ended during this check; re-evaluating next cycle",
            Self::OtherSessionWorking => "Another session in this workspace is working",
            Self::PrClean => "PR is clean (green CI and no new review activity)",
            Self::NothingToFix => "No CI failures or PR review comments to address",
        })
    }
}

impl fmt::Display for StallReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FixerDied { times } => write!(
                f,
                "Fixer died {times} times for this PR state; waiting for PR state to change"
            ),
            Self::Unchanged => f.write_str("PR state unchanged since last ratchet dispatch"),
        }
    }
}

impl fmt::Display for TriggerReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CiFailure => "CI is failing",
            Self::MergeConflict => "PR has a merge conflict",
            Self::ReviewFeedback => "PR has review feedback",
        })
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Completed => f.write_str("PR is merged"),
            Self::Waiting(reason) => reason.fmt(f),
            Self::FixerActive => f.write_str("A fixer is working on this PR"),
            Self::Trigger {
                retry_count: 0,
                reason,
            } => write!(f, "Dispatching a fixer: {reason}"),
            Self::Trigger {
                retry_count,
                reason,
            } => write!(
                f,
                "Dispatching a fixer again: {reason} (retry {retry_count} of {MAX_RETRIES})"
            ),
            Self::MarkStalled(reason) => reason.fmt(f),
        }
    }
}
