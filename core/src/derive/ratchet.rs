use crate::enums::{CiStatus, PrState, RatchetState, ReviewDecision};

#[derive(Clone, Copy, Debug)]
pub struct RatchetInput {
    pub ratchet_enabled: bool,
    pub pr_state: PrState,
    pub pr_ci_status: CiStatus,
    pub has_merge_conflict: bool,
    pub pr_review_state: Option<ReviewDecision>,
}

/// R§12.6: the ratchet state is derived from the PR, never stored. First match wins.
pub fn ratchet_state(input: RatchetInput) -> RatchetState {
    if !input.ratchet_enabled {
        RatchetState::Idle
    } else if input.pr_state == PrState::Merged {
        RatchetState::Merged
    } else if !input.pr_state.is_active() {
        RatchetState::Idle
    } else if input.pr_ci_status == CiStatus::Failure {
        RatchetState::CiFailed
    } else if input.has_merge_conflict {
        RatchetState::MergeConflict
    } else if matches!(input.pr_ci_status, CiStatus::Pending | CiStatus::Unknown) {
        RatchetState::CiRunning
    } else if input.pr_review_state == Some(ReviewDecision::ChangesRequested) {
        RatchetState::ReviewPending
    } else {
        RatchetState::Ready
    }
}
