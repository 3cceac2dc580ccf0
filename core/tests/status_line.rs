//! The one status every view shows (issue 17): the reason's words once, and only the chips that
//! add a fact. One row per situation that used to show two statuses at once.

use ff_core::derive::{needs_you, status_line, ColumnCounts, Derived, StatusLine};
use ff_core::entry::{Entry, RawFields};
use ff_core::enums::*;
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};

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
        has_had_sessions: true,
        ..RawFields::new(ProjectId::new("p1"))
    }
}

fn open_pr(ci: CiStatus, ratchet_enabled: bool) -> RawFields {
    RawFields {
        pr_url: Some(URL.into()),
        pr_number: Some(12),
        pr_state: PrState::Open,
        pr_ci_status: ci,
        ratchet_enabled,
        ..ready()
    }
}

fn entry(id: &str, raw: RawFields) -> Entry {
    let mut entry = Entry::new(WorkspaceId::new(id), ProjectId::new("p1"));
    entry.derived = Derived::of(&raw);
    entry.raw = raw;
    entry
}

#[test]
fn one_status_in_words_plus_the_facts_it_leaves_out() {
    use SidebarCiState as S;
    use StatusReasonTone as T;
    let permission = Some(PendingRequestType::PermissionRequest);
    // Expected: (words, tone, CI chip, conflict chip).
    type Expected = (&'static str, T, Option<S>, bool);
    #[rustfmt::skip]
    let rows: Vec<(&str, RawFields, Expected)> = vec![
        ("idle", ready(), ("Ready for next prompt", T::Neutral, None, false)),
        ("setting up", RawFields { status: WorkspaceStatus::Provisioning, ..ready() }, ("Setting up workspace", T::Working, None, false)),
        ("setup failed", RawFields { status: WorkspaceStatus::Failed, ..ready() }, ("Setup failed", T::Danger, None, false)),
        ("working", RawFields { is_working: true, ..ready() }, ("Agent working", T::Working, None, false)),
        // An agent mid-turn asking for a permission: the request is the one status.
        ("working and asking", RawFields { is_working: true, pending_request_type: permission, ..ready() }, ("Needs permission", T::Attention, None, false)),
        ("plan approval", RawFields { pending_request_type: Some(PendingRequestType::PlanApproval), ..ready() }, ("Needs plan approval", T::Attention, None, false)),
        ("question", RawFields { pending_request_type: Some(PendingRequestType::UserQuestion), ..ready() }, ("Needs your answer", T::Attention, None, false)),
        // Without auto-fix a PR with failing checks is ready for review: said once, with its CI.
        ("failing CI, no auto-fix", open_pr(CiStatus::Failure, false), ("Ready for review, CI failing", T::Attention, None, false)),
        ("failing CI, auto-fix", open_pr(CiStatus::Failure, true), ("Fixing CI failures", T::Working, None, false)),
        ("CI running", open_pr(CiStatus::Pending, false), ("Waiting for CI", T::Waiting, None, false)),
        ("CI passing", open_pr(CiStatus::Success, true), ("Ready to merge", T::Success, Some(S::Passing), false)),
        ("CI unknown says nothing", RawFields { is_working: true, ..open_pr(CiStatus::Unknown, false) }, ("Agent working", T::Working, None, false)),
        ("working on a PR whose CI fails", RawFields { is_working: true, ..open_pr(CiStatus::Failure, false) }, ("Agent working", T::Working, Some(S::Failing), false)),
        ("asking on a PR whose CI runs", RawFields { pending_request_type: permission, ..open_pr(CiStatus::Pending, false) }, ("Needs permission", T::Attention, Some(S::Running), false)),
        ("merged", RawFields { pr_state: PrState::Merged, ..open_pr(CiStatus::Success, false) }, ("Merged", T::Success, None, false)),
        ("closed", RawFields { pr_state: PrState::Closed, ..open_pr(CiStatus::Failure, false) }, ("PR closed", T::Neutral, None, false)),
        ("conflict, no auto-fix", RawFields { has_merge_conflict: true, ..open_pr(CiStatus::Success, false) }, ("Merge conflict", T::Attention, Some(S::Passing), false)),
        ("conflict, auto-fix", RawFields { has_merge_conflict: true, ..open_pr(CiStatus::Success, true) }, ("Fixing merge conflict", T::Working, None, false)),
        ("conflict while asking", RawFields { has_merge_conflict: true, pending_request_type: permission, ..open_pr(CiStatus::Success, false) }, ("Needs permission", T::Attention, Some(S::Passing), true)),
    ];
    for (label, raw, (words, tone, ci, conflict)) in rows {
        let line = status_line(&entry("w1", raw));
        assert_eq!(
            (line.words.as_str(), line.tone, line.ci, line.conflict),
            (words, tone, ci, conflict),
            "{label}"
        );
    }
}

#[test]
fn the_words_are_the_reason_label_except_where_a_fact_is_folded_in() {
    let line: StatusLine = status_line(&entry("w1", open_pr(CiStatus::Success, false)));
    assert_eq!(line.code, StatusReasonCode::ReadyToMerge);
    assert_eq!(line.words, StatusReasonCode::ReadyToMerge.label());
}

#[test]
fn counts_and_needs_you_follow_the_board_columns_newest_activity_first() {
    let active = |id: &str, at: i64, raw: RawFields| {
        entry(
            id,
            RawFields {
                last_activity_at: Some(ts(at)),
                ..raw
            },
        )
    };
    let entries = vec![
        active("old", T0 + 1, ready()),
        active(
            "working",
            T0 + 5,
            RawFields {
                is_working: true,
                ..ready()
            },
        ),
        active(
            "asking",
            T0 + 3,
            RawFields {
                pending_request_type: Some(PendingRequestType::PermissionRequest),
                ..ready()
            },
        ),
        // Never active: its creation time places it.
        entry(
            "fresh",
            RawFields {
                created_at: Some(ts(T0 + 4)),
                ..ready()
            },
        ),
        active(
            "merged",
            T0 + 9,
            RawFields {
                pr_state: PrState::Merged,
                ..open_pr(CiStatus::Success, false)
            },
        ),
        active(
            "archived",
            T0 + 9,
            RawFields {
                status: WorkspaceStatus::Archived,
                ..ready()
            },
        ),
    ];
    assert_eq!(
        ColumnCounts::of(&entries),
        ColumnCounts {
            working: 1,
            waiting: 3,
            done: 1
        }
    );
    let order: Vec<&str> = needs_you(&entries)
        .iter()
        .map(|e| e.workspace_id.as_str())
        .collect();
    assert_eq!(order, ["fresh", "asking", "old"]);
}
