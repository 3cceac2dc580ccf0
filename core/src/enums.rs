//! Every enumeration of the snapshot (snapshot.md §1), serialized exactly as listed there.

use serde::{Deserialize, Serialize};

/// Declares a wire enum with its serde spelling and `ALL`, the complete value list in declared
/// order (tests and property strategies iterate it, so a new value cannot be forgotten).
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident as $case:literal { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = $case)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
        }

        /// The wire name, so messages read the way the API spells values.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.serialize(f)
            }
        }
    };
}

wire_enum!(
    /// Lifecycle of a workspace (D§2.1).
    WorkspaceStatus as "SCREAMING_SNAKE_CASE" {
        New, Provisioning, Ready, Failed, Archiving, Archived
    }
);

impl WorkspaceStatus {
    /// ARCHIVING and ARCHIVED workspaces are never shown: they leave every view at once.
    pub fn is_hidden(self) -> bool {
        matches!(self, Self::Archiving | Self::Archived)
    }
}

wire_enum!(
    /// Pull request state as ff tracks it.
    PrState as "SCREAMING_SNAKE_CASE" {
        None, Draft, Open, ChangesRequested, Approved, Merged, Closed
    }
);

impl PrState {
    /// The "active" PR states of R§1: a PR that can still change.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Self::Open | Self::Draft | Self::ChangesRequested | Self::Approved
        )
    }
}

wire_enum!(
    /// Combined CI status of a PR; UNKNOWN means no CI configured or not fetched yet.
    CiStatus as "SCREAMING_SNAKE_CASE" { Unknown, Pending, Success, Failure }
);

wire_enum!(
    /// GitHub's raw `reviewDecision` of a PR.
    ReviewDecision as "SCREAMING_SNAKE_CASE" { Approved, ChangesRequested, ReviewRequired }
);

wire_enum!(
    /// A submitted review's verdict, normalised as D§5.3 says (GitHub's unknown values read
    /// PENDING).
    ReviewState as "SCREAMING_SNAKE_CASE" {
        Approved, ChangesRequested, Commented, Pending, Dismissed
    }
);

wire_enum!(
    KanbanColumn as "SCREAMING_SNAKE_CASE" { Working, Waiting, Done }
);

wire_enum!(
    /// Ratchet (auto-fix) progression, derived and never stored (R§12.6).
    RatchetState as "SCREAMING_SNAKE_CASE" {
        Idle, CiRunning, CiFailed, MergeConflict, ReviewPending, Ready, Merged
    }
);

wire_enum!(
    RatchetDispatchOutcome as "SCREAMING_SNAKE_CASE" { Running, Completed, Died }
);

wire_enum!(
    /// Run-script state machine (D§7.2).
    RunScriptStatus as "SCREAMING_SNAKE_CASE" {
        Idle, Starting, Running, Stopping, Completed, Failed
    }
);

wire_enum!(
    WorkspaceFlowPhase as "SCREAMING_SNAKE_CASE" {
        NoPr, CiWait, RatchetVerify, RatchetFixing, Ready, Merged
    }
);

wire_enum!(
    WorkspaceCiObservation as "SCREAMING_SNAKE_CASE" {
        NotFetched, NoChecks, ChecksPending, ChecksFailed, ChecksPassed, ChecksUnknown
    }
);

wire_enum!(
    SidebarActivityState as "SCREAMING_SNAKE_CASE" { Working, Idle }
);

wire_enum!(
    /// HEAD list of sidebar CI states (R§1).
    SidebarCiState as "SCREAMING_SNAKE_CASE" {
        None, Running, Failing, Passing, Unknown, Closed, Merged, Conflict
    }
);

wire_enum!(
    /// What an agent session is blocked on, in priority order of R§7.4.
    PendingRequestType as "snake_case" { PlanApproval, UserQuestion, PermissionRequest }
);

wire_enum!(
    /// Status reason codes of R§12.3. `AUTO_ITERATING` is left out with the auto-iteration
    /// fields it depends on (snapshot.md).
    StatusReasonCode as "SCREAMING_SNAKE_CASE" {
        Archiving, Archived, Merged, PrClosed, NeedsPermission, NeedsPlanApproval, NeedsAnswer,
        SessionError, SettingUp, SetupFailed, AgentWorking, StartingSession, RatchetStalled,
        FixingMergeConflict, MergeConflict, WaitingForCi, FixingReviewComments,
        FixingCiFailures, CheckingPr, ReadyToMerge, ReadyForReview, NoSessionStarted,
        ReadyForNextPrompt
    }
);

wire_enum!(
    StatusReasonTone as "lowercase" { Neutral, Working, Waiting, Attention, Success, Danger }
);

wire_enum!(
    /// Where a workspace came from: a person (the first three) or a scheduled task's run.
    WorkspaceCreationSource as "SCREAMING_SNAKE_CASE" { Manual, ResumeBranch, GithubIssue, Scheduled }
);

wire_enum!(
    /// How a scheduled task's run went (`RUNNING` until its workspace's first turn ends).
    ExecutionStatus as "SCREAMING_SNAKE_CASE" { Running, Completed, Failed, Skipped }
);

wire_enum!(
    /// What started a scheduled task's run: its due time, a due time missed while ff was
    /// stopped (run once at startup), or Run now.
    RunTrigger as "SCREAMING_SNAKE_CASE" { Scheduled, CatchUp, Manual }
);

wire_enum!(
    /// Persisted status of an agent session.
    SessionStatus as "SCREAMING_SNAKE_CASE" { Idle, Running, Paused, Completed, Failed }
);

wire_enum!(
    SessionRuntimePhase as "lowercase" { Loading, Starting, Running, Idle, Stopping, Error }
);

wire_enum!(
    SessionProcessState as "lowercase" { Unknown, Alive, Stopped }
);

wire_enum!(
    SessionActivity as "SCREAMING_SNAKE_CASE" { Working, Idle }
);

wire_enum!(
    SessionProvider as "SCREAMING_SNAKE_CASE" { Claude, Codex }
);

wire_enum!(
    /// The six field groups of R§3.1, in processing order.
    FieldGroup as "camelCase" { Workspace, Pr, Session, Ratchet, RunScript, Reconciliation }
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    fn names<T: Serialize>(values: &[T]) -> Vec<String> {
        values
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(values: &[T]) {
        for v in values {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
        }
    }

    #[test]
    fn wire_names_are_exactly_the_specified_ones() {
        let cases: Vec<(Vec<String>, &str)> =
            vec![
            (names(WorkspaceStatus::ALL), "NEW PROVISIONING READY FAILED ARCHIVING ARCHIVED"),
            (names(PrState::ALL), "NONE DRAFT OPEN CHANGES_REQUESTED APPROVED MERGED CLOSED"),
            (names(CiStatus::ALL), "UNKNOWN PENDING SUCCESS FAILURE"),
            (names(ReviewDecision::ALL), "APPROVED CHANGES_REQUESTED REVIEW_REQUIRED"),
            (
                names(ReviewState::ALL),
                "APPROVED CHANGES_REQUESTED COMMENTED PENDING DISMISSED",
            ),
            (names(KanbanColumn::ALL), "WORKING WAITING DONE"),
            (
                names(RatchetState::ALL),
                "IDLE CI_RUNNING CI_FAILED MERGE_CONFLICT REVIEW_PENDING READY MERGED",
            ),
            (names(RatchetDispatchOutcome::ALL), "RUNNING COMPLETED DIED"),
            (
                names(RunScriptStatus::ALL),
                "IDLE STARTING RUNNING STOPPING COMPLETED FAILED",
            ),
            (
                names(WorkspaceFlowPhase::ALL),
                "NO_PR CI_WAIT RATCHET_VERIFY RATCHET_FIXING READY MERGED",
            ),
            (
                names(WorkspaceCiObservation::ALL),
                "NOT_FETCHED NO_CHECKS CHECKS_PENDING CHECKS_FAILED CHECKS_PASSED CHECKS_UNKNOWN",
            ),
            (names(SidebarActivityState::ALL), "WORKING IDLE"),
            (
                names(SidebarCiState::ALL),
                "NONE RUNNING FAILING PASSING UNKNOWN CLOSED MERGED CONFLICT",
            ),
            (
                names(PendingRequestType::ALL),
                "plan_approval user_question permission_request",
            ),
            (
                names(StatusReasonTone::ALL),
                "neutral working waiting attention success danger",
            ),
            (
                names(WorkspaceCreationSource::ALL),
                "MANUAL RESUME_BRANCH GITHUB_ISSUE SCHEDULED",
            ),
            (names(ExecutionStatus::ALL), "RUNNING COMPLETED FAILED SKIPPED"),
            (names(RunTrigger::ALL), "SCHEDULED CATCH_UP MANUAL"),
            (
                names(FieldGroup::ALL),
                "workspace pr session ratchet runScript reconciliation",
            ),
            (
                names(SessionRuntimePhase::ALL),
                "loading starting running idle stopping error",
            ),
        ];
        for (actual, expected) in cases {
            assert_eq!(actual.join(" "), expected);
        }
        assert_eq!(
            names(StatusReasonCode::ALL).join(" "),
            "ARCHIVING ARCHIVED MERGED PR_CLOSED NEEDS_PERMISSION NEEDS_PLAN_APPROVAL NEEDS_ANSWER \
             SESSION_ERROR SETTING_UP SETUP_FAILED AGENT_WORKING STARTING_SESSION RATCHET_STALLED \
             FIXING_MERGE_CONFLICT MERGE_CONFLICT WAITING_FOR_CI FIXING_REVIEW_COMMENTS \
             FIXING_CI_FAILURES CHECKING_PR READY_TO_MERGE READY_FOR_REVIEW NO_SESSION_STARTED \
             READY_FOR_NEXT_PROMPT"
        );
    }

    #[test]
    fn display_is_the_wire_name() {
        assert_eq!(WorkspaceStatus::Archiving.to_string(), "ARCHIVING");
        assert_eq!(
            PendingRequestType::PlanApproval.to_string(),
            "plan_approval"
        );
        assert_eq!(FieldGroup::RunScript.to_string(), "runScript");
    }

    #[test]
    fn every_enum_round_trips_through_json() {
        round_trips(WorkspaceStatus::ALL);
        round_trips(PrState::ALL);
        round_trips(StatusReasonCode::ALL);
        round_trips(PendingRequestType::ALL);
        round_trips(FieldGroup::ALL);
        assert!(serde_json::from_str::<WorkspaceStatus>("\"ready\"").is_err());
    }
}
