//! A pull request's state and conflict mark as ff tracks them (D§5.3, github.md §2).

use super::enums::{MergeStateStatus, MergeableState, PullRequestState};
use crate::enums::{PrState, ReviewDecision};

/// D§5.3. A state GitHub may add later reads like OPEN: the PR exists and is not known to be
/// finished.
pub fn pr_state(
    state: &PullRequestState,
    is_draft: bool,
    review_decision: Option<ReviewDecision>,
) -> PrState {
    match state {
        PullRequestState::Merged => PrState::Merged,
        PullRequestState::Closed => PrState::Closed,
        PullRequestState::Open | PullRequestState::Other(_) => match review_decision {
            // A draft masks the review decision.
            _ if is_draft => PrState::Draft,
            Some(ReviewDecision::Approved) => PrState::Approved,
            Some(ReviewDecision::ChangesRequested) => PrState::ChangesRequested,
            Some(ReviewDecision::ReviewRequired) | None => PrState::Open,
        },
    }
}

/// `hasMergeConflict`: CONFLICTING or DIRTY is a conflict. While GitHub is still computing
/// (`mergeable` UNKNOWN, or a value added later) the `previous` mark stands until the next poll.
pub fn merge_conflict(
    mergeable: &MergeableState,
    merge_state_status: &MergeStateStatus,
    previous: bool,
) -> bool {
    match (mergeable, merge_state_status) {
        (MergeableState::Conflicting, _) | (_, MergeStateStatus::Dirty) => true,
        (MergeableState::Unknown | MergeableState::Other(_), _) => previous,
        (MergeableState::Mergeable, _) => false,
    }
}
