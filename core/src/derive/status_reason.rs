use crate::enums::*;
use serde::{Deserialize, Serialize};

/// Why a workspace is where it is: one code, with its label, tone and whether the user must act.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReason {
    pub code: StatusReasonCode,
    pub label: String,
    pub tone: StatusReasonTone,
    pub needs_user: bool,
}

impl From<StatusReasonCode> for StatusReason {
    fn from(code: StatusReasonCode) -> Self {
        Self {
            code,
            label: code.label().to_owned(),
            tone: code.tone(),
            needs_user: code.needs_user(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct StatusReasonInput {
    pub status: WorkspaceStatus,
    pub flow_phase: WorkspaceFlowPhase,
    pub ci_observation: WorkspaceCiObservation,
    pub pr_state: PrState,
    pub ratchet_state: RatchetState,
    pub pending_request_type: Option<PendingRequestType>,
    pub has_session_runtime_error: bool,
    pub is_working: bool,
    /// Every working session is a ratchet fixer.
    pub only_fixers_working: bool,
    pub is_session_starting: bool,
    pub ratchet_enabled: bool,
    pub has_merge_conflict: bool,
    pub dispatch_stalled: bool,
    pub has_had_sessions: bool,
}

/// A ratchet fixer alone at work says what it is fixing rather than "Agent working" (beyond the
/// original, which shows the fixing reasons only while no agent runs).
fn fixer_at_work(i: &StatusReasonInput) -> bool {
    i.only_fixers_working
        && i.ratchet_enabled
        && !i.dispatch_stalled
        && (i.flow_phase == WorkspaceFlowPhase::RatchetFixing
            || (i.has_merge_conflict && i.flow_phase != WorkspaceFlowPhase::NoPr))
}

/// R§12.3: the first matching rule decides.
pub fn status_reason(input: &StatusReasonInput) -> StatusReason {
    reason_code(input).into()
}

fn reason_code(i: &StatusReasonInput) -> StatusReasonCode {
    use StatusReasonCode as C;
    match i.status {
        WorkspaceStatus::Archiving => return C::Archiving,
        WorkspaceStatus::Archived => return C::Archived,
        _ => {}
    }
    if i.flow_phase == WorkspaceFlowPhase::Merged
        || i.pr_state == PrState::Merged
        || i.ratchet_state == RatchetState::Merged
    {
        return C::Merged;
    }
    if i.pr_state == PrState::Closed {
        return C::PrClosed;
    }
    match i.pending_request_type {
        Some(PendingRequestType::PermissionRequest) => return C::NeedsPermission,
        Some(PendingRequestType::PlanApproval) => return C::NeedsPlanApproval,
        Some(PendingRequestType::UserQuestion) => return C::NeedsAnswer,
        None => {}
    }
    if i.has_session_runtime_error {
        return C::SessionError;
    }
    match i.status {
        WorkspaceStatus::New | WorkspaceStatus::Provisioning => return C::SettingUp,
        WorkspaceStatus::Failed => return C::SetupFailed,
        _ => {}
    }
    if i.is_working && !fixer_at_work(i) {
        return C::AgentWorking;
    }
    if i.is_session_starting {
        return C::StartingSession;
    }
    if i.flow_phase != WorkspaceFlowPhase::NoPr {
        if i.ratchet_enabled && i.dispatch_stalled {
            return C::RatchetStalled;
        }
        if i.has_merge_conflict {
            return if i.ratchet_enabled {
                C::FixingMergeConflict
            } else {
                C::MergeConflict
            };
        }
    }
    match i.flow_phase {
        WorkspaceFlowPhase::CiWait => C::WaitingForCi,
        WorkspaceFlowPhase::RatchetFixing if i.ratchet_state == RatchetState::ReviewPending => {
            C::FixingReviewComments
        }
        WorkspaceFlowPhase::RatchetFixing => C::FixingCiFailures,
        WorkspaceFlowPhase::RatchetVerify => C::CheckingPr,
        WorkspaceFlowPhase::Ready if i.ci_observation == WorkspaceCiObservation::ChecksPassed => {
            C::ReadyToMerge
        }
        WorkspaceFlowPhase::Ready => C::ReadyForReview,
        WorkspaceFlowPhase::NoPr | WorkspaceFlowPhase::Merged if !i.has_had_sessions => {
            C::NoSessionStarted
        }
        WorkspaceFlowPhase::NoPr | WorkspaceFlowPhase::Merged => C::ReadyForNextPrompt,
    }
}

impl StatusReasonCode {
    pub fn label(self) -> &'static str {
        use StatusReasonCode as C;
        match self {
            C::Archiving => "Archiving",
            C::Archived => "Archived",
            C::Merged => "Merged",
            C::PrClosed => "PR closed",
            C::NeedsPermission => "Needs permission",
            C::NeedsPlanApproval => "Needs plan approval",
            C::NeedsAnswer => "Needs your answer",
            C::SessionError => "Session error",
            C::SettingUp => "Setting up workspace",
            C::SetupFailed => "Setup failed",
            C::AgentWorking => "Agent working",
            C::StartingSession => "Starting session",
            C::RatchetStalled => "Auto-fix stalled",
            C::FixingMergeConflict => "Fixing merge conflict",
            C::MergeConflict => "Merge conflict",
            C::WaitingForCi => "Waiting for CI",
            C::FixingReviewComments => "Fixing review comments",
            C::FixingCiFailures => "Fixing CI failures",
            C::CheckingPr => "Checking PR",
            C::ReadyToMerge => "Ready to merge",
            C::ReadyForReview => "Ready for review",
            C::NoSessionStarted => "No session started",
            C::ReadyForNextPrompt => "Ready for next prompt",
        }
    }

    /// The text of the chip on a kanban card: the label, except that waiting for CI reads as
    /// "CI Running" there (R§12.3).
    pub fn chip_label(self) -> &'static str {
        match self {
            Self::WaitingForCi => "CI Running",
            other => other.label(),
        }
    }

    pub fn tone(self) -> StatusReasonTone {
        use StatusReasonCode as C;
        use StatusReasonTone as T;
        match self {
            C::Archived | C::PrClosed | C::ReadyForReview | C::NoSessionStarted => T::Neutral,
            C::ReadyForNextPrompt => T::Neutral,
            C::Archiving | C::SettingUp | C::AgentWorking | C::StartingSession => T::Working,
            C::FixingMergeConflict | C::FixingReviewComments | C::FixingCiFailures => T::Working,
            C::CheckingPr => T::Working,
            C::WaitingForCi => T::Waiting,
            C::NeedsPermission | C::NeedsPlanApproval | C::NeedsAnswer => T::Attention,
            C::RatchetStalled | C::MergeConflict => T::Attention,
            C::Merged | C::ReadyToMerge => T::Success,
            C::SessionError | C::SetupFailed => T::Danger,
        }
    }

    pub fn needs_user(self) -> bool {
        use StatusReasonCode as C;
        match self {
            C::NeedsPermission | C::NeedsPlanApproval | C::NeedsAnswer | C::SessionError => true,
            C::SetupFailed | C::RatchetStalled | C::MergeConflict | C::ReadyToMerge => true,
            C::ReadyForReview | C::NoSessionStarted | C::ReadyForNextPrompt => true,
            C::Archiving | C::Archived | C::Merged | C::PrClosed | C::SettingUp => false,
            C::AgentWorking | C::StartingSession | C::FixingMergeConflict => false,
            C::WaitingForCi | C::FixingReviewComments | C::FixingCiFailures | C::CheckingPr => {
                false
            }
        }
    }

    /// The kanban projection of R§12.3. Deliberately no wildcard: a new code does not compile
    /// until someone decides which column it belongs to.
    pub fn kanban_column(self) -> Option<KanbanColumn> {
        use KanbanColumn as K;
        use StatusReasonCode as C;
        match self {
            C::Archiving | C::Archived => None,
            C::Merged | C::PrClosed => Some(K::Done),
            C::NeedsPermission | C::NeedsPlanApproval | C::NeedsAnswer | C::SessionError => {
                Some(K::Waiting)
            }
            C::SetupFailed | C::RatchetStalled | C::MergeConflict | C::ReadyToMerge => {
                Some(K::Waiting)
            }
            C::ReadyForReview | C::NoSessionStarted | C::ReadyForNextPrompt => Some(K::Waiting),
            C::SettingUp | C::AgentWorking | C::StartingSession | C::FixingMergeConflict => {
                Some(K::Working)
            }
            C::WaitingForCi | C::FixingReviewComments | C::FixingCiFailures | C::CheckingPr => {
                Some(K::Working)
            }
        }
    }
}
