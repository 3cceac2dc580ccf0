use crate::enums::{PrState, RatchetState, WorkspaceCiObservation, WorkspaceFlowPhase};

#[derive(Clone, Copy, Debug)]
pub struct FlowInput<'a> {
    pub pr_url: Option<&'a str>,
    pub pr_state: PrState,
    pub ci_observation: WorkspaceCiObservation,
    pub ratchet_enabled: bool,
    pub ratchet_state: RatchetState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowState {
    pub phase: WorkspaceFlowPhase,
    /// Whether the PR flow itself is busy (not an agent: HEAD keeps the two apart).
    pub is_working: bool,
    pub animate_ratchet_button: bool,
    pub has_active_pr: bool,
    pub ci_observation: WorkspaceCiObservation,
}

/// R§4.2: rules checked in order, first match wins.
pub fn flow_state(input: FlowInput<'_>) -> FlowState {
    let has_active_pr =
        input.pr_url.is_some_and(|url| !url.is_empty()) && input.pr_state.is_active();
    let (phase, is_working, animate) = if input.pr_state == PrState::Merged {
        (WorkspaceFlowPhase::Merged, false, false)
    } else if !has_active_pr {
        (WorkspaceFlowPhase::NoPr, false, false)
    } else if matches!(
        input.ci_observation,
        WorkspaceCiObservation::NotFetched | WorkspaceCiObservation::ChecksPending
    ) {
        (WorkspaceFlowPhase::CiWait, true, input.ratchet_enabled)
    } else if !input.ratchet_enabled {
        (WorkspaceFlowPhase::Ready, false, false)
    } else {
        match input.ratchet_state {
            RatchetState::CiFailed | RatchetState::ReviewPending => {
                (WorkspaceFlowPhase::RatchetFixing, true, false)
            }
            RatchetState::Ready | RatchetState::Merged => (WorkspaceFlowPhase::Ready, false, false),
            RatchetState::Idle | RatchetState::CiRunning | RatchetState::MergeConflict => {
                (WorkspaceFlowPhase::RatchetVerify, true, false)
            }
        }
    };
    FlowState {
        phase,
        is_working,
        animate_ratchet_button: animate,
        has_active_pr,
        ci_observation: input.ci_observation,
    }
}
