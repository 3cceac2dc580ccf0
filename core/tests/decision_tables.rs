//! Every row of the reference decision tables ff adopts (R§4.1, R§4.2, R§4.4, R§7.4, R§7.5,
//! R§12.3, R§12.6), one table per function. Each row carries a label, so a failure names the rule
//! that broke.

use ff_core::derive::{
    activity_tooltip, ci_label, ci_observation, ci_tooltip, flow_state, pr_tooltip_suffix,
    ratchet_state, sidebar_status, status_reason, Derived, FlowInput, FlowState, RatchetInput,
    SidebarInput, SidebarStatus, StatusReason, StatusReasonInput,
};
use ff_core::drift::{detect_drift, Drift};
use ff_core::entry::{Entry, GitStats, LastExit, ParentLink, RawFields, SessionSummary};
use ff_core::enums::*;
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use ff_core::overlaps::Overlap;
use ff_core::patch::Patch;
use ff_core::pending::{classify_pending, PendingRequest};
use serde_json::{json, Value};
use std::collections::HashSet;

const URL: &str = "https://github.com/acme/app/pull/12";
const T0: i64 = 1_790_000_000_000;

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms).expect("timestamp in range")
}

fn ready() -> RawFields {
    RawFields {
        name: "fix login".into(),
        status: WorkspaceStatus::Ready,
        created_at: Some(ts(T0)),
        branch_name: Some("fix/login".into()),
        ..RawFields::new(ProjectId::new("p1"))
    }
}

fn open_pr(ci: CiStatus, ratchet_enabled: bool) -> RawFields {
    RawFields {
        pr_url: Some(URL.into()),
        pr_number: Some(12),
        pr_state: PrState::Open,
        pr_ci_status: ci,
        has_had_sessions: true,
        ratchet_enabled,
        ..ready()
    }
}

fn session(id: &str, phase: SessionRuntimePhase) -> SessionSummary {
    SessionSummary {
        session_id: id.into(),
        name: None,
        workflow: Some("default".into()),
        model: None,
        provider: Some(SessionProvider::Claude),
        persisted_status: SessionStatus::Idle,
        runtime_phase: phase,
        process_state: SessionProcessState::Alive,
        activity: SessionActivity::Idle,
        updated_at: ts(T0),
        last_exit: None,
        error_message: None,
        agent: Some("claude".into()),
        usage: None,
        queued_behind: None,
        waiting: None,
    }
}

#[test]
fn ci_observation_head_column() {
    use CiStatus as S;
    use WorkspaceCiObservation as O;
    // HEAD has no clock dependence: prUpdatedAt must not matter. The "anything else" row has no
    // counterpart because CiStatus is a closed enum.
    #[rustfmt::skip]
    const ROWS: &[(&str, CiStatus, Option<i64>, WorkspaceCiObservation)] = &[
        ("PENDING", S::Pending, Some(T0), O::ChecksPending),
        ("FAILURE", S::Failure, Some(T0), O::ChecksFailed),
        ("SUCCESS", S::Success, Some(T0), O::ChecksPassed),
        ("UNKNOWN, prUpdatedAt null", S::Unknown, None, O::NotFetched),
        ("UNKNOWN, prUpdatedAt set", S::Unknown, Some(T0), O::NotFetched),
    ];
    for &(label, status, updated_at, expected) in ROWS {
        assert_eq!(ci_observation(status), expected, "{label}");
        let raw = RawFields {
            pr_updated_at: updated_at.map(ts),
            ..open_pr(status, true)
        };
        assert_eq!(
            Derived::of(&raw).ci_observation,
            expected,
            "{label} (assembled)"
        );
    }
}

#[test]
fn flow_state_rules() {
    use RatchetState as R;
    use WorkspaceCiObservation as O;
    use WorkspaceFlowPhase as P;
    const PR: FlowInput<'static> = FlowInput {
        pr_url: Some(URL),
        pr_state: PrState::Open,
        ci_observation: O::ChecksPassed,
        ratchet_enabled: true,
        ratchet_state: R::Ready,
    };
    /// (phase, isWorking, animate, hasActivePr)
    type Expected = (WorkspaceFlowPhase, bool, bool, bool);
    #[rustfmt::skip]
    const ROWS: &[(&str, FlowInput<'static>, Expected)] = &[
        ("1 merged", FlowInput { pr_state: PrState::Merged, ratchet_state: R::Merged, ..PR }, (P::Merged, false, false, false)),
        ("1 merged without prUrl", FlowInput { pr_url: None, pr_state: PrState::Merged, ..PR }, (P::Merged, false, false, false)),
        ("1 merged beats CI pending", FlowInput { pr_state: PrState::Merged, ci_observation: O::ChecksPending, ..PR }, (P::Merged, false, false, false)),
        ("2 no prUrl", FlowInput { pr_url: None, ..PR }, (P::NoPr, false, false, false)),
        ("2 empty prUrl", FlowInput { pr_url: Some(""), ci_observation: O::ChecksPending, ..PR }, (P::NoPr, false, false, false)),
        ("2 prState NONE", FlowInput { pr_state: PrState::None, ..PR }, (P::NoPr, false, false, false)),
        ("2 prState CLOSED", FlowInput { pr_state: PrState::Closed, ci_observation: O::ChecksPending, ..PR }, (P::NoPr, false, false, false)),
        ("3 NOT_FETCHED, ratchet on", FlowInput { ci_observation: O::NotFetched, ratchet_state: R::CiRunning, ..PR }, (P::CiWait, true, true, true)),
        ("3 CHECKS_PENDING, ratchet on", FlowInput { ci_observation: O::ChecksPending, ratchet_state: R::CiRunning, ..PR }, (P::CiWait, true, true, true)),
        ("3 CHECKS_PENDING, ratchet off", FlowInput { ci_observation: O::ChecksPending, ratchet_enabled: false, ratchet_state: R::Idle, ..PR }, (P::CiWait, true, false, true)),
        ("3 DRAFT is active", FlowInput { pr_state: PrState::Draft, ci_observation: O::NotFetched, ..PR }, (P::CiWait, true, true, true)),
        ("4 ratchet off, checks failed", FlowInput { ci_observation: O::ChecksFailed, ratchet_enabled: false, ratchet_state: R::Idle, ..PR }, (P::Ready, false, false, true)),
        ("4 ratchet off, checks passed", FlowInput { ratchet_enabled: false, ratchet_state: R::Idle, ..PR }, (P::Ready, false, false, true)),
        ("4 ratchet off, NO_CHECKS", FlowInput { ci_observation: O::NoChecks, ratchet_enabled: false, ..PR }, (P::Ready, false, false, true)),
        ("5 CI_FAILED", FlowInput { ci_observation: O::ChecksFailed, ratchet_state: R::CiFailed, ..PR }, (P::RatchetFixing, true, false, true)),
        ("5 REVIEW_PENDING", FlowInput { pr_state: PrState::ChangesRequested, ratchet_state: R::ReviewPending, ..PR }, (P::RatchetFixing, true, false, true)),
        ("6 READY", FlowInput { pr_state: PrState::Approved, ..PR }, (P::Ready, false, false, true)),
        ("6 stale ratchet MERGED", FlowInput { ratchet_state: R::Merged, ..PR }, (P::Ready, false, false, true)),
        ("7 IDLE", FlowInput { ratchet_state: R::Idle, ..PR }, (P::RatchetVerify, true, false, true)),
        ("7 CI_RUNNING", FlowInput { ci_observation: O::ChecksUnknown, ratchet_state: R::CiRunning, ..PR }, (P::RatchetVerify, true, false, true)),
        ("7 MERGE_CONFLICT", FlowInput { ratchet_state: R::MergeConflict, ..PR }, (P::RatchetVerify, true, false, true)),
    ];
    for &(label, input, (phase, is_working, animate_ratchet_button, has_active_pr)) in ROWS {
        let expected = FlowState {
            phase,
            is_working,
            animate_ratchet_button,
            has_active_pr,
            ci_observation: input.ci_observation,
        };
        assert_eq!(flow_state(input), expected, "{label}");
    }
}

#[test]
fn ratchet_state_rules() {
    use CiStatus as S;
    use RatchetState as R;
    const PR: RatchetInput = RatchetInput {
        ratchet_enabled: true,
        pr_state: PrState::Open,
        pr_ci_status: S::Success,
        has_merge_conflict: false,
        pr_review_state: None,
    };
    #[rustfmt::skip]
    const ROWS: &[(&str, RatchetInput, RatchetState)] = &[
        ("disabled", RatchetInput { ratchet_enabled: false, ..PR }, R::Idle),
        ("disabled beats merged PR", RatchetInput { ratchet_enabled: false, pr_state: PrState::Merged, ..PR }, R::Idle),
        ("disabled beats CI failure", RatchetInput { ratchet_enabled: false, pr_ci_status: S::Failure, ..PR }, R::Idle),
        ("merged", RatchetInput { pr_state: PrState::Merged, ..PR }, R::Merged),
        ("merged beats CI failure", RatchetInput { pr_state: PrState::Merged, pr_ci_status: S::Failure, ..PR }, R::Merged),
        ("no PR", RatchetInput { pr_state: PrState::None, pr_ci_status: S::Unknown, ..PR }, R::Idle),
        ("closed beats CI failure", RatchetInput { pr_state: PrState::Closed, pr_ci_status: S::Failure, ..PR }, R::Idle),
        ("CI failure", RatchetInput { pr_ci_status: S::Failure, ..PR }, R::CiFailed),
        ("CI failure beats conflict", RatchetInput { pr_ci_status: S::Failure, has_merge_conflict: true, ..PR }, R::CiFailed),
        ("conflict", RatchetInput { has_merge_conflict: true, ..PR }, R::MergeConflict),
        ("conflict beats CI pending", RatchetInput { pr_ci_status: S::Pending, has_merge_conflict: true, ..PR }, R::MergeConflict),
        ("CI pending", RatchetInput { pr_state: PrState::Draft, pr_ci_status: S::Pending, ..PR }, R::CiRunning),
        ("CI unknown", RatchetInput { pr_ci_status: S::Unknown, ..PR }, R::CiRunning),
        ("CI pending beats changes requested", RatchetInput { pr_ci_status: S::Pending, pr_review_state: Some(ReviewDecision::ChangesRequested), ..PR }, R::CiRunning),
        ("changes requested", RatchetInput { pr_state: PrState::ChangesRequested, pr_review_state: Some(ReviewDecision::ChangesRequested), ..PR }, R::ReviewPending),
        ("review required", RatchetInput { pr_review_state: Some(ReviewDecision::ReviewRequired), ..PR }, R::Ready),
        ("approved", RatchetInput { pr_state: PrState::Approved, pr_review_state: Some(ReviewDecision::Approved), ..PR }, R::Ready),
        ("no review", PR, R::Ready),
    ];
    for &(label, input, expected) in ROWS {
        assert_eq!(ratchet_state(input), expected, "{label}");
    }
}

#[test]
fn sidebar_status_head_rows() {
    use CiStatus as S;
    use RatchetState as R;
    use SidebarActivityState as A;
    use SidebarCiState as C;
    const PR: SidebarInput<'static> = SidebarInput {
        is_working: false,
        pr_url: Some(URL),
        pr_state: PrState::Open,
        pr_ci_status: S::Unknown,
        ratchet_state: R::Idle,
    };
    #[rustfmt::skip]
    const ROWS: &[(&str, SidebarInput<'static>, SidebarActivityState, SidebarCiState)] = &[
        ("1 no prUrl", SidebarInput { pr_url: None, pr_state: PrState::Merged, ..PR }, A::Idle, C::None),
        ("1 empty prUrl, agent working", SidebarInput { is_working: true, pr_url: Some(""), ..PR }, A::Working, C::None),
        ("2 PR merged", SidebarInput { pr_state: PrState::Merged, pr_ci_status: S::Failure, ..PR }, A::Idle, C::Merged),
        ("2 ratchet merged", SidebarInput { ratchet_state: R::Merged, ..PR }, A::Idle, C::Merged),
        ("2 ratchet merged beats closed", SidebarInput { pr_state: PrState::Closed, ratchet_state: R::Merged, ..PR }, A::Idle, C::Merged),
        ("2a closed", SidebarInput { pr_state: PrState::Closed, pr_ci_status: S::Failure, ..PR }, A::Idle, C::Closed),
        ("2a closed beats conflict", SidebarInput { pr_state: PrState::Closed, ratchet_state: R::MergeConflict, ..PR }, A::Idle, C::Closed),
        ("2b conflict beats CI success", SidebarInput { pr_ci_status: S::Success, ratchet_state: R::MergeConflict, ..PR }, A::Idle, C::Conflict),
        ("3 SUCCESS", SidebarInput { pr_ci_status: S::Success, ratchet_state: R::Ready, ..PR }, A::Idle, C::Passing),
        ("3 FAILURE", SidebarInput { pr_ci_status: S::Failure, ratchet_state: R::CiFailed, ..PR }, A::Idle, C::Failing),
        ("3 PENDING, agent working", SidebarInput { is_working: true, pr_ci_status: S::Pending, ratchet_state: R::CiRunning, ..PR }, A::Working, C::Running),
        ("3 FAILURE beats stale CI_RUNNING", SidebarInput { pr_ci_status: S::Failure, ratchet_state: R::CiRunning, ..PR }, A::Idle, C::Failing),
        ("3 SUCCESS beats stale CI_FAILED", SidebarInput { pr_ci_status: S::Success, ratchet_state: R::CiFailed, ..PR }, A::Idle, C::Passing),
        ("3 PENDING beats stale CI_FAILED", SidebarInput { pr_ci_status: S::Pending, ratchet_state: R::CiFailed, ..PR }, A::Idle, C::Running),
        ("4 UNKNOWN falls back to CI_FAILED", SidebarInput { ratchet_state: R::CiFailed, ..PR }, A::Idle, C::Failing),
        ("5 UNKNOWN falls back to CI_RUNNING", SidebarInput { ratchet_state: R::CiRunning, ..PR }, A::Idle, C::Running),
        ("6 UNKNOWN, ratchet IDLE", PR, A::Idle, C::Unknown),
        ("6 UNKNOWN, ratchet READY", SidebarInput { ratchet_state: R::Ready, ..PR }, A::Idle, C::Unknown),
        ("6 UNKNOWN, ratchet REVIEW_PENDING", SidebarInput { ratchet_state: R::ReviewPending, ..PR }, A::Idle, C::Unknown),
    ];
    for &(label, input, activity_state, ci_state) in ROWS {
        let expected = SidebarStatus {
            activity_state,
            ci_state,
        };
        assert_eq!(sidebar_status(input), expected, "{label}");
    }
}

#[test]
fn sidebar_helper_texts() {
    use SidebarCiState as C;

    const ACTIVITY: &[(SidebarActivityState, &str)] = &[
        (SidebarActivityState::Working, "Claude is working"),
        (SidebarActivityState::Idle, "Claude is idle"),
    ];
    for &(state, text) in ACTIVITY {
        assert_eq!(activity_tooltip(state), text, "activity tooltip {state:?}");
    }

    const LABELS: &[(SidebarCiState, &str)] = &[
        (C::None, "No PR"),
        (C::Running, "CI Running"),
        (C::Failing, "CI Failing"),
        (C::Passing, "CI Passing"),
        (C::Unknown, "CI Unknown"),
        (C::Closed, "Closed"),
        (C::Merged, "Merged"),
        (C::Conflict, "Conflicts"),
    ];
    assert_eq!(
        LABELS.len(),
        SidebarCiState::ALL.len(),
        "a CI state has no label row"
    );
    for &(state, text) in LABELS {
        assert_eq!(ci_label(state), text, "CI label {state:?}");
    }

    const TOOLTIPS: &[(SidebarCiState, PrState, &str)] = &[
        (C::None, PrState::None, "No PR attached"),
        (C::Running, PrState::Open, "CI checks are running"),
        (C::Failing, PrState::Open, "CI checks are failing"),
        (C::Passing, PrState::Approved, "CI checks are passing"),
        (C::Unknown, PrState::Open, "CI status is unknown"),
        (C::Unknown, PrState::Closed, "PR is closed"),
        (C::Closed, PrState::Closed, "PR is closed"),
        (C::Merged, PrState::Merged, "PR is merged"),
        (C::Conflict, PrState::Open, "PR has merge conflicts"),
    ];
    for &(state, pr_state, text) in TOOLTIPS {
        assert_eq!(
            ci_tooltip(state, pr_state),
            text,
            "CI tooltip {state:?} {pr_state:?}"
        );
    }

    #[rustfmt::skip]
    const SUFFIXES: &[(&str, PrState, SidebarCiState, &str)] = &[
        ("prState CLOSED", PrState::Closed, C::Unknown, " · Closed"),
        ("prState CLOSED beats FAILING", PrState::Closed, C::Failing, " · Closed"),
        ("ciState CLOSED", PrState::Open, C::Closed, " · Closed"),
        ("ciState MERGED", PrState::Merged, C::Merged, " · Merged"),
        ("ciState MERGED from the ratchet", PrState::Open, C::Merged, " · Merged"),
        ("merged PR without prUrl shows no CI", PrState::Merged, C::None, ""),
        ("FAILING", PrState::Open, C::Failing, " · CI failing"),
        ("CONFLICT", PrState::Open, C::Conflict, " · Conflicts"),
        ("RUNNING", PrState::Draft, C::Running, " · CI running"),
        ("PASSING", PrState::Approved, C::Passing, " · CI passing"),
        ("UNKNOWN", PrState::Open, C::Unknown, ""),
        ("NONE", PrState::None, C::None, ""),
    ];
    for &(label, pr_state, ci_state, text) in SUFFIXES {
        assert_eq!(
            pr_tooltip_suffix(pr_state, ci_state),
            text,
            "PR tooltip suffix: {label}"
        );
    }
}

#[test]
fn status_reason_first_match_wins() {
    use PendingRequestType as Pending;
    use RatchetState as R;
    use StatusReasonCode as C;
    use WorkspaceCiObservation as O;
    use WorkspaceFlowPhase as P;
    use WorkspaceStatus as W;

    const IDLE: StatusReasonInput = StatusReasonInput {
        status: W::Ready,
        flow_phase: P::NoPr,
        ci_observation: O::NotFetched,
        pr_state: PrState::None,
        ratchet_state: R::Idle,
        pending_request_type: None,
        has_session_runtime_error: false,
        is_working: false,
        only_fixers_working: false,
        is_session_starting: false,
        ratchet_enabled: false,
        has_merge_conflict: false,
        dispatch_stalled: false,
        has_had_sessions: true,
    };
    const CI_WAIT: StatusReasonInput = StatusReasonInput {
        flow_phase: P::CiWait,
        ci_observation: O::ChecksPending,
        pr_state: PrState::Open,
        ratchet_state: R::CiRunning,
        ratchet_enabled: true,
        ..IDLE
    };
    const PASSED: StatusReasonInput = StatusReasonInput {
        flow_phase: P::Ready,
        ci_observation: O::ChecksPassed,
        ratchet_state: R::Ready,
        ..CI_WAIT
    };
    const MERGED: StatusReasonInput = StatusReasonInput {
        flow_phase: P::Merged,
        pr_state: PrState::Merged,
        ratchet_state: R::Merged,
        ..PASSED
    };
    const CI_FAILED: StatusReasonInput = StatusReasonInput {
        flow_phase: P::RatchetFixing,
        ci_observation: O::ChecksFailed,
        ratchet_state: R::CiFailed,
        ..PASSED
    };

    #[rustfmt::skip]
    const ROWS: &[(&str, StatusReasonInput, StatusReasonCode)] = &[
        ("1 archiving", StatusReasonInput { status: W::Archiving, ..IDLE }, C::Archiving),
        ("1 archived", StatusReasonInput { status: W::Archived, ..IDLE }, C::Archived),
        ("2 merged PR", MERGED, C::Merged),
        ("2 closed PR", StatusReasonInput { pr_state: PrState::Closed, ci_observation: O::ChecksFailed, ..IDLE }, C::PrClosed),
        ("3 permission", StatusReasonInput { pending_request_type: Some(Pending::PermissionRequest), ..IDLE }, C::NeedsPermission),
        ("3 plan approval", StatusReasonInput { pending_request_type: Some(Pending::PlanApproval), ..IDLE }, C::NeedsPlanApproval),
        ("3 user question", StatusReasonInput { pending_request_type: Some(Pending::UserQuestion), ..CI_WAIT }, C::NeedsAnswer),
        ("3 session error", StatusReasonInput { has_session_runtime_error: true, ..IDLE }, C::SessionError),
        ("4 provisioning", StatusReasonInput { status: W::Provisioning, has_had_sessions: false, ..IDLE }, C::SettingUp),
        ("4 new", StatusReasonInput { status: W::New, has_had_sessions: false, ..IDLE }, C::SettingUp),
        ("4 failed", StatusReasonInput { status: W::Failed, has_had_sessions: false, ..IDLE }, C::SetupFailed),
        ("5 agent working", StatusReasonInput { is_working: true, ..IDLE }, C::AgentWorking),
        ("5 session starting", StatusReasonInput { is_session_starting: true, has_had_sessions: false, ..IDLE }, C::StartingSession),
        ("6 ratchet stalled", StatusReasonInput { dispatch_stalled: true, ..CI_FAILED }, C::RatchetStalled),
        ("6 conflict, ratchet on", StatusReasonInput { has_merge_conflict: true, flow_phase: P::RatchetVerify, ratchet_state: R::MergeConflict, ..PASSED }, C::FixingMergeConflict),
        ("6 conflict, ratchet off", StatusReasonInput { has_merge_conflict: true, ratchet_enabled: false, ratchet_state: R::Idle, ..PASSED }, C::MergeConflict),
        ("7 CI wait", CI_WAIT, C::WaitingForCi),
        ("7 fixing review comments", StatusReasonInput { flow_phase: P::RatchetFixing, pr_state: PrState::ChangesRequested, ratchet_state: R::ReviewPending, ..PASSED }, C::FixingReviewComments),
        ("7 fixing CI failures", CI_FAILED, C::FixingCiFailures),
        ("7 verifying", StatusReasonInput { flow_phase: P::RatchetVerify, ratchet_state: R::Idle, ..PASSED }, C::CheckingPr),
        ("7 ready, checks passed", PASSED, C::ReadyToMerge),
        ("7 ready, checks failed", StatusReasonInput { flow_phase: P::Ready, ratchet_enabled: false, ratchet_state: R::Idle, ..CI_FAILED }, C::ReadyForReview),
        ("8 never had a session", StatusReasonInput { has_had_sessions: false, ..IDLE }, C::NoSessionStarted),
        ("8 otherwise", IDLE, C::ReadyForNextPrompt),
        ("archiving beats merged PR", StatusReasonInput { status: W::Archiving, ..MERGED }, C::Archiving),
        ("archived beats pending request", StatusReasonInput { status: W::Archived, pending_request_type: Some(Pending::PlanApproval), ..IDLE }, C::Archived),
        ("merged beats pending request", StatusReasonInput { pending_request_type: Some(Pending::PermissionRequest), ..MERGED }, C::Merged),
        ("merged beats setup failed", StatusReasonInput { status: W::Failed, ..MERGED }, C::Merged),
        ("flow MERGED alone", StatusReasonInput { flow_phase: P::Merged, ..IDLE }, C::Merged),
        ("prState MERGED alone", StatusReasonInput { pr_state: PrState::Merged, ..IDLE }, C::Merged),
        ("ratchet MERGED alone", StatusReasonInput { ratchet_state: R::Merged, ..PASSED }, C::Merged),
        ("closed PR beats pending request", StatusReasonInput { pr_state: PrState::Closed, pending_request_type: Some(Pending::UserQuestion), ..IDLE }, C::PrClosed),
        ("closed PR beats no session", StatusReasonInput { pr_state: PrState::Closed, has_had_sessions: false, ..IDLE }, C::PrClosed),
        ("pending beats session error", StatusReasonInput { pending_request_type: Some(Pending::PlanApproval), has_session_runtime_error: true, ..IDLE }, C::NeedsPlanApproval),
        ("pending beats setup failed", StatusReasonInput { status: W::Failed, pending_request_type: Some(Pending::PermissionRequest), ..IDLE }, C::NeedsPermission),
        ("pending beats agent working", StatusReasonInput { is_working: true, pending_request_type: Some(Pending::UserQuestion), ..IDLE }, C::NeedsAnswer),
        ("session error beats setting up", StatusReasonInput { status: W::New, has_session_runtime_error: true, ..IDLE }, C::SessionError),
        ("setting up beats agent working", StatusReasonInput { status: W::Provisioning, is_working: true, ..IDLE }, C::SettingUp),
        ("setup failed beats session starting", StatusReasonInput { status: W::Failed, is_session_starting: true, ..IDLE }, C::SetupFailed),
        ("agent working beats session starting", StatusReasonInput { is_working: true, is_session_starting: true, ..IDLE }, C::AgentWorking),
        ("agent working beats CI wait", StatusReasonInput { is_working: true, ..CI_WAIT }, C::AgentWorking),
        ("a fixer at work says what it fixes", StatusReasonInput { is_working: true, only_fixers_working: true, ..CI_FAILED }, C::FixingCiFailures),
        ("a fixer at work on a conflict", StatusReasonInput { is_working: true, only_fixers_working: true, has_merge_conflict: true, flow_phase: P::RatchetVerify, ratchet_state: R::MergeConflict, ..PASSED }, C::FixingMergeConflict),
        ("a fixer at work on review comments", StatusReasonInput { is_working: true, only_fixers_working: true, flow_phase: P::RatchetFixing, pr_state: PrState::ChangesRequested, ratchet_state: R::ReviewPending, ..PASSED }, C::FixingReviewComments),
        ("a fixer at work while CI runs is an agent working", StatusReasonInput { is_working: true, only_fixers_working: true, ..CI_WAIT }, C::AgentWorking),
        ("a fixer with the ratchet off is an agent working", StatusReasonInput { is_working: true, only_fixers_working: true, ratchet_enabled: false, ..CI_FAILED }, C::AgentWorking),
        ("a fixer of a stalled ratchet is an agent working", StatusReasonInput { is_working: true, only_fixers_working: true, dispatch_stalled: true, ..CI_FAILED }, C::AgentWorking),
        ("a person's agent beside a fixer is an agent working", StatusReasonInput { is_working: true, ..CI_FAILED }, C::AgentWorking),
        ("session starting beats stalled ratchet", StatusReasonInput { is_session_starting: true, dispatch_stalled: true, ..CI_FAILED }, C::StartingSession),
        ("stalled beats conflict", StatusReasonInput { dispatch_stalled: true, has_merge_conflict: true, ..CI_FAILED }, C::RatchetStalled),
        ("stalled needs the ratchet on", StatusReasonInput { dispatch_stalled: true, ratchet_enabled: false, ratchet_state: R::Idle, ..PASSED }, C::ReadyToMerge),
        ("stalled needs a PR", StatusReasonInput { dispatch_stalled: true, ratchet_enabled: true, ..IDLE }, C::ReadyForNextPrompt),
        ("conflict needs a PR", StatusReasonInput { has_merge_conflict: true, ..IDLE }, C::ReadyForNextPrompt),
        ("conflict beats CI wait", StatusReasonInput { has_merge_conflict: true, ratchet_enabled: false, ..CI_WAIT }, C::MergeConflict),
    ];

    let mut reached = HashSet::new();
    for &(label, input, code) in ROWS {
        assert_eq!(status_reason(&input), StatusReason::from(code), "{label}");
        reached.insert(code);
    }
    for code in StatusReasonCode::ALL {
        assert!(reached.contains(code), "no row reaches {code:?}");
    }
}

#[test]
fn status_reason_presentation() {
    use KanbanColumn as K;
    use StatusReasonCode as C;
    use StatusReasonTone as T;
    /// (code, label, tone, needsUser, column, chip)
    type Row = (
        StatusReasonCode,
        &'static str,
        StatusReasonTone,
        bool,
        Option<KanbanColumn>,
        &'static str,
    );
    // R§12.3 verbatim, AUTO_ITERATING left out.
    #[rustfmt::skip]
    const ROWS: &[Row] = &[
        (C::Archiving, "Archiving", T::Working, false, None, "Archiving"),
        (C::Archived, "Archived", T::Neutral, false, None, "Archived"),
        (C::Merged, "Merged", T::Success, false, Some(K::Done), "Merged"),
        (C::PrClosed, "PR closed", T::Neutral, false, Some(K::Done), "PR closed"),
        (C::NeedsPermission, "Needs permission", T::Attention, true, Some(K::Waiting), "Needs permission"),
        (C::NeedsPlanApproval, "Needs plan approval", T::Attention, true, Some(K::Waiting), "Needs plan approval"),
        (C::NeedsAnswer, "Needs your answer", T::Attention, true, Some(K::Waiting), "Needs your answer"),
        (C::SessionError, "Session error", T::Danger, true, Some(K::Waiting), "Session error"),
        (C::SettingUp, "Setting up workspace", T::Working, false, Some(K::Working), "Setting up workspace"),
        (C::SetupFailed, "Setup failed", T::Danger, true, Some(K::Waiting), "Setup failed"),
        (C::AgentWorking, "Agent working", T::Working, false, Some(K::Working), "Agent working"),
        (C::StartingSession, "Starting session", T::Working, false, Some(K::Working), "Starting session"),
        (C::RatchetStalled, "Auto-fix stalled", T::Attention, true, Some(K::Waiting), "Auto-fix stalled"),
        (C::FixingMergeConflict, "Fixing merge conflict", T::Working, false, Some(K::Working), "Fixing merge conflict"),
        (C::MergeConflict, "Merge conflict", T::Attention, true, Some(K::Waiting), "Merge conflict"),
        (C::WaitingForCi, "Waiting for CI", T::Waiting, false, Some(K::Working), "CI Running"),
        (C::FixingReviewComments, "Fixing review comments", T::Working, false, Some(K::Working), "Fixing review comments"),
        (C::FixingCiFailures, "Fixing CI failures", T::Working, false, Some(K::Working), "Fixing CI failures"),
        (C::CheckingPr, "Checking PR", T::Working, false, Some(K::Working), "Checking PR"),
        (C::ReadyToMerge, "Ready to merge", T::Success, true, Some(K::Waiting), "Ready to merge"),
        (C::ReadyForReview, "Ready for review", T::Neutral, true, Some(K::Waiting), "Ready for review"),
        (C::NoSessionStarted, "No session started", T::Neutral, true, Some(K::Waiting), "No session started"),
        (C::ReadyForNextPrompt, "Ready for next prompt", T::Neutral, true, Some(K::Waiting), "Ready for next prompt"),
    ];
    let codes: Vec<StatusReasonCode> = ROWS.iter().map(|row| row.0).collect();
    assert_eq!(
        codes,
        StatusReasonCode::ALL,
        "one row per code, in declared order"
    );
    for &(code, label, tone, needs_user, column, chip) in ROWS {
        let expected = StatusReason {
            code,
            label: label.into(),
            tone,
            needs_user,
        };
        assert_eq!(StatusReason::from(code), expected, "{code:?}");
        assert_eq!(code.kanban_column(), column, "{code:?} column");
        assert_eq!(code.chip_label(), chip, "{code:?} chip");
    }
}

fn tool(name: &str) -> PendingRequest {
    PendingRequest {
        tool_name: name.into(),
        input: None,
    }
}

fn call(name: &str, input: Value) -> PendingRequest {
    PendingRequest {
        tool_name: name.into(),
        input: Some(input),
    }
}

#[test]
fn pending_request_priority() {
    use PendingRequestType as T;
    let plan = || tool("ExitPlanMode");
    let question = || tool("AskUserQuestion");
    let permission = || call("Bash", json!({"command": "rm -rf target"}));
    #[rustfmt::skip]
    let rows: Vec<(&str, Vec<PendingRequest>, Option<PendingRequestType>)> = vec![
        ("nothing pending", vec![], None),
        ("plan approval by toolName", vec![plan()], Some(T::PlanApproval)),
        ("plan approval by input.type", vec![call("mcp__plan", json!({"type": "ExitPlanMode"}))], Some(T::PlanApproval)),
        ("user question by toolName", vec![question()], Some(T::UserQuestion)),
        ("user question by questions array", vec![call("mcp__ask", json!({"questions": [{"question": "Which DB?"}]}))], Some(T::UserQuestion)),
        ("empty questions array is still a question", vec![call("mcp__ask", json!({"questions": []}))], Some(T::UserQuestion)),
        ("questions object is not a question", vec![call("mcp__ask", json!({"questions": {"q": "Which DB?"}}))], Some(T::PermissionRequest)),
        ("questions string is not a question", vec![call("mcp__ask", json!({"questions": "Which DB?"}))], Some(T::PermissionRequest)),
        ("other input.type is a permission", vec![call("mcp__plan", json!({"type": "EnterPlanMode"}))], Some(T::PermissionRequest)),
        ("any other tool, no input", vec![tool("Write")], Some(T::PermissionRequest)),
        ("any other tool with input", vec![permission()], Some(T::PermissionRequest)),
        ("plan beats question and permission", vec![permission(), question(), plan()], Some(T::PlanApproval)),
        ("plan beats permission", vec![permission(), plan()], Some(T::PlanApproval)),
        ("question beats permission", vec![permission(), question(), permission()], Some(T::UserQuestion)),
        ("several permissions", vec![permission(), tool("Edit")], Some(T::PermissionRequest)),
    ];
    for (label, requests, expected) in rows {
        // Rotations and their reversals are every ordering of up to three sessions.
        for k in 0..requests.len().max(1) {
            let mut order = requests.clone();
            order.rotate_left(k);
            assert_eq!(
                classify_pending(&order),
                expected,
                "{label}, rotated by {k}"
            );
            assert_eq!(
                classify_pending(order.iter().rev()),
                expected,
                "{label}, rotated by {k}, reversed"
            );
        }
    }
}

fn tracked_entry() -> Entry {
    let raw = RawFields {
        has_had_sessions: true,
        pr_updated_at: Some(ts(T0)),
        is_working: true,
        pending_request_type: Some(PendingRequestType::UserQuestion),
        session_summaries: vec![
            session("s1", SessionRuntimePhase::Running),
            session("s2", SessionRuntimePhase::Idle),
        ]
        .into(),
        ratchet_dispatch_outcome: Some(RatchetDispatchOutcome::Running),
        ratchet_dispatch_retry_count: 1,
        run_script_status: RunScriptStatus::Running,
        git_stats: Some(GitStats {
            total: 3,
            additions: 40,
            deletions: 2,
            has_uncommitted: true,
        }),
        last_activity_at: Some(ts(T0)),
        ..open_pr(CiStatus::Pending, true)
    };
    Entry {
        derived: Derived::of(&raw),
        raw,
        ..Entry::new(WorkspaceId::new("w1"), ProjectId::new("p1"))
    }
}

/// What reconciliation would send when it agrees with the entry: every field present and equal.
fn agreeing_patch(entry: &Entry) -> Patch {
    serde_json::from_value(serde_json::to_value(&entry.raw).expect("raw fields serialize"))
        .expect("raw fields read back as a patch")
}

fn drift(field: &'static str, group: FieldGroup, snapshot: Value, authoritative: Value) -> Drift {
    Drift {
        field,
        group,
        snapshot,
        authoritative,
    }
}

#[test]
fn drift_per_compared_field() {
    use FieldGroup as G;
    let entry = tracked_entry();
    let none = Patch::default;
    let s1 = session("s1", SessionRuntimePhase::Running);
    let s2 = session("s2", SessionRuntimePhase::Idle);
    let s2_error = session("s2", SessionRuntimePhase::Error);
    #[rustfmt::skip]
    let rows = vec![
        ("status", Patch { status: Some(WorkspaceStatus::Failed), ..none() }, drift("status", G::Workspace, json!("READY"), json!("FAILED"))),
        ("name", Patch { name: Some("fix signup".into()), ..none() }, drift("name", G::Workspace, json!("fix login"), json!("fix signup"))),
        ("branchName cleared", Patch { branch_name: Some(None), ..none() }, drift("branchName", G::Workspace, json!("fix/login"), Value::Null)),
        ("parent", Patch { parent: Some(Some(ParentLink { id: WorkspaceId::new("w0"), name: "Lead".into() })), ..none() }, drift("parent", G::Workspace, Value::Null, json!({"id": "w0", "name": "Lead"}))),
        ("prState", Patch { pr_state: Some(PrState::Approved), ..none() }, drift("prState", G::Pr, json!("OPEN"), json!("APPROVED"))),
        ("prCiStatus", Patch { pr_ci_status: Some(CiStatus::Failure), ..none() }, drift("prCiStatus", G::Pr, json!("PENDING"), json!("FAILURE"))),
        ("prNumber", Patch { pr_number: Some(Some(13)), ..none() }, drift("prNumber", G::Pr, json!(12), json!(13))),
        ("prNumber cleared", Patch { pr_number: Some(None), ..none() }, drift("prNumber", G::Pr, json!(12), Value::Null)),
        ("ratchetEnabled", Patch { ratchet_enabled: Some(false), ..none() }, drift("ratchetEnabled", G::Ratchet, json!(true), json!(false))),
        ("ratchetDispatchOutcome", Patch { ratchet_dispatch_outcome: Some(Some(RatchetDispatchOutcome::Died)), ..none() }, drift("ratchetDispatchOutcome", G::Ratchet, json!("RUNNING"), json!("DIED"))),
        ("ratchetDispatchRetryCount", Patch { ratchet_dispatch_retry_count: Some(3), ..none() }, drift("ratchetDispatchRetryCount", G::Ratchet, json!(1), json!(3))),
        ("runScriptStatus", Patch { run_script_status: Some(RunScriptStatus::Failed), ..none() }, drift("runScriptStatus", G::RunScript, json!("RUNNING"), json!("FAILED"))),
        ("isWorking", Patch { is_working: Some(false), ..none() }, drift("isWorking", G::Session, json!(true), json!(false))),
        ("pendingRequestType cleared", Patch { pending_request_type: Some(None), ..none() }, drift("pendingRequestType", G::Session, json!("user_question"), Value::Null)),
        ("sessionSummaries", Patch { session_summaries: Some(vec![s2_error.clone(), s1.clone()].into()), ..none() }, drift("sessionSummaries", G::Session, json!([s1, s2]), json!([s1, s2_error]))),
    ];
    for (label, authoritative, expected) in rows {
        assert_eq!(
            detect_drift(&entry, &authoritative),
            vec![expected],
            "{label}"
        );
    }

    let several = Patch {
        status: Some(WorkspaceStatus::Failed),
        pr_number: Some(Some(13)),
        is_working: Some(false),
        ..agreeing_patch(&entry)
    };
    let fields: Vec<&str> = detect_drift(&entry, &several)
        .iter()
        .map(|d| d.field)
        .collect();
    assert_eq!(
        fields,
        ["status", "prNumber", "isWorking"],
        "several fields, in R§7.5 order"
    );
}

#[test]
fn drift_ignores_absent_and_uncompared_fields() {
    let entry = tracked_entry();
    let agreeing = agreeing_patch(&entry);
    #[rustfmt::skip]
    let rows = vec![
        ("every field absent", Patch::default()),
        ("every field present and equal", agreeing.clone()),
        ("createdAt", Patch { created_at: Some(Some(ts(T0 + 1))), ..agreeing.clone() }),
        ("prUrl", Patch { pr_url: Some(Some("https://github.com/acme/app/pull/13".into())), ..agreeing.clone() }),
        ("prUpdatedAt", Patch { pr_updated_at: Some(None), ..agreeing.clone() }),
        ("hasHadSessions", Patch { has_had_sessions: Some(false), ..agreeing.clone() }),
        ("gitStats", Patch { git_stats: Some(None), ..agreeing.clone() }),
        ("overlaps", Patch { overlaps: Some(vec![Overlap { workspace_id: WorkspaceId::new("w9"), name: "Other".into(), paths: vec!["a.rs".into()], count: 1 }]), ..agreeing.clone() }),
        ("lastActivityAt", Patch { last_activity_at: Some(Some(ts(T0 + 60_000))), ..agreeing.clone() }),
    ];
    for (label, authoritative) in rows {
        assert_eq!(
            detect_drift(&entry, &authoritative),
            Vec::<Drift>::new(),
            "{label}"
        );
    }
}

#[test]
fn session_summaries_in_another_order_are_not_drift() {
    let entry = tracked_entry();
    let s1 = session("s1", SessionRuntimePhase::Running);
    let s2 = session("s2", SessionRuntimePhase::Idle);
    let reordered: Patch = serde_json::from_value(json!({ "sessionSummaries": [s2, s1] }))
        .expect("a patch with sessions in writer order");
    assert_eq!(detect_drift(&entry, &reordered), Vec::<Drift>::new());
}

#[test]
fn derived_end_to_end() {
    use KanbanColumn as K;
    use SessionRuntimePhase as Phase;
    use StatusReasonCode as C;
    let unexpected_exit = SessionSummary {
        process_state: SessionProcessState::Stopped,
        last_exit: Some(LastExit {
            code: Some(137),
            timestamp: ts(T0),
            unexpected: true,
        }),
        ..session("s1", Phase::Idle)
    };
    let sessions = |list: Vec<SessionSummary>| RawFields {
        has_had_sessions: true,
        session_summaries: list.into(),
        ..ready()
    };
    // Expected: (status reason, kanban column, ratchet button animated).
    #[rustfmt::skip]
    let rows = vec![
        ("READY, no sessions", ready(), (C::NoSessionStarted, Some(K::Waiting), false)),
        ("NEW", RawFields::new(ProjectId::new("p1")), (C::SettingUp, Some(K::Working), false)),
        ("PROVISIONING", RawFields { status: WorkspaceStatus::Provisioning, ..ready() }, (C::SettingUp, Some(K::Working), false)),
        ("FAILED", RawFields { status: WorkspaceStatus::Failed, ..ready() }, (C::SetupFailed, Some(K::Waiting), false)),
        ("ARCHIVING", RawFields { status: WorkspaceStatus::Archiving, ..open_pr(CiStatus::Pending, true) }, (C::Archiving, None, true)),
        ("idle after a session", sessions(vec![session("s1", Phase::Idle)]), (C::ReadyForNextPrompt, Some(K::Waiting), false)),
        ("agent working", RawFields { is_working: true, ..sessions(vec![session("s1", Phase::Running)]) }, (C::AgentWorking, Some(K::Working), false)),
        ("session starting", sessions(vec![session("s1", Phase::Idle), session("s2", Phase::Starting)]), (C::StartingSession, Some(K::Working), false)),
        ("session loading", sessions(vec![session("s1", Phase::Loading)]), (C::StartingSession, Some(K::Working), false)),
        ("session in error", sessions(vec![session("s1", Phase::Idle), session("s2", Phase::Error)]), (C::SessionError, Some(K::Waiting), false)),
        ("session exited unexpectedly", sessions(vec![unexpected_exit]), (C::SessionError, Some(K::Waiting), false)),
        ("plan approval pending", RawFields { pending_request_type: Some(PendingRequestType::PlanApproval), ..open_pr(CiStatus::Pending, true) }, (C::NeedsPlanApproval, Some(K::Waiting), true)),
        ("CI pending, ratchet on", open_pr(CiStatus::Pending, true), (C::WaitingForCi, Some(K::Working), true)),
        ("CI not fetched, ratchet off", open_pr(CiStatus::Unknown, false), (C::WaitingForCi, Some(K::Working), false)),
        ("CI failing, ratchet on", open_pr(CiStatus::Failure, true), (C::FixingCiFailures, Some(K::Working), false)),
        ("changes requested, ratchet on", RawFields { pr_state: PrState::ChangesRequested, pr_review_state: Some(ReviewDecision::ChangesRequested), ..open_pr(CiStatus::Success, true) }, (C::FixingReviewComments, Some(K::Working), false)),
        ("merge conflict, ratchet on", RawFields { has_merge_conflict: true, ..open_pr(CiStatus::Success, true) }, (C::FixingMergeConflict, Some(K::Working), false)),
        ("merge conflict, ratchet off", RawFields { has_merge_conflict: true, ..open_pr(CiStatus::Success, false) }, (C::MergeConflict, Some(K::Waiting), false)),
        ("auto-fix stalled", RawFields { ratchet_dispatch_stalled: true, ..open_pr(CiStatus::Failure, true) }, (C::RatchetStalled, Some(K::Waiting), false)),
        ("CI passing, ratchet on", open_pr(CiStatus::Success, true), (C::ReadyToMerge, Some(K::Waiting), false)),
        ("CI failing, ratchet off", open_pr(CiStatus::Failure, false), (C::ReadyForReview, Some(K::Waiting), false)),
        ("merged", RawFields { pr_state: PrState::Merged, ..open_pr(CiStatus::Success, true) }, (C::Merged, Some(K::Done), false)),
        ("closed", RawFields { pr_state: PrState::Closed, ..open_pr(CiStatus::Failure, true) }, (C::PrClosed, Some(K::Done), false)),
    ];
    for (label, raw, (code, column, animated)) in rows {
        let derived = Derived::of(&raw);
        assert_eq!(derived.status_reason, StatusReason::from(code), "{label}");
        assert_eq!(derived.kanban_column, column, "{label} column");
        assert_eq!(
            derived.ratchet_button_animated, animated,
            "{label} animated"
        );
    }
}
