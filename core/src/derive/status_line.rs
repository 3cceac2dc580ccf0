//! One workspace's status as every view says it (card, sidebar row, list row, the workspace
//! page's header, the home page): the status reason once, in words, and only the facts the words
//! leave out. Views never combine badges of their own, so "Agent working" never sits beside
//! "Needs permission", nor "Ready for review" beside "CI Failing".

use crate::entry::Entry;
use crate::enums::StatusReasonCode as C;
use crate::enums::{KanbanColumn, SidebarCiState, StatusReasonTone};
use std::cmp::Reverse;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusLine {
    pub code: C,
    /// The reason in words.
    pub words: String,
    pub tone: StatusReasonTone,
    /// The PR's CI state as a chip, when there is a PR and the words do not already say it.
    pub ci: Option<SidebarCiState>,
    /// The PR conflicts with its base and the words do not already say it.
    pub conflict: bool,
}

/// The one status of a workspace: core's status reason, with a failing CI folded into "Ready
/// for review" (the reason R§12.3 gives a PR without auto-fix whatever its checks say).
pub fn status_line(entry: &Entry) -> StatusLine {
    let reason = &entry.derived.status_reason;
    let ci = entry.derived.sidebar_status.ci_state;
    let code = reason.code;
    let (words, tone) = match (code, ci) {
        (C::ReadyForReview, SidebarCiState::Failing) => (
            "Ready for review, CI failing".to_owned(),
            StatusReasonTone::Attention,
        ),
        _ => (reason.label.clone(), reason.tone),
    };
    StatusLine {
        code,
        words,
        tone,
        ci: ci_fact(code, ci),
        conflict: entry.raw.has_merge_conflict
            && !matches!(code, C::MergeConflict | C::FixingMergeConflict),
    }
}

/// The CI chip unless the reason already says as much (merged, closed, waiting for CI, fixing
/// CI) or it says nothing (no PR, unknown); conflicts have a chip of their own.
fn ci_fact(code: C, ci: SidebarCiState) -> Option<SidebarCiState> {
    use SidebarCiState as S;
    let said = match ci {
        S::None | S::Unknown | S::Conflict => true,
        S::Merged => code == C::Merged,
        S::Closed => code == C::PrClosed,
        S::Running => code == C::WaitingForCi,
        S::Failing => matches!(code, C::FixingCiFailures | C::ReadyForReview),
        S::Passing => false,
    };
    (!said).then_some(ci)
}

/// How many workspaces of a project are in each board column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColumnCounts {
    pub working: usize,
    pub waiting: usize,
    pub done: usize,
}

impl ColumnCounts {
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Self {
        let mut counts = Self::default();
        for entry in entries {
            match entry.derived.kanban_column {
                Some(KanbanColumn::Working) => counts.working += 1,
                Some(KanbanColumn::Waiting) => counts.waiting += 1,
                Some(KanbanColumn::Done) => counts.done += 1,
                None => {}
            }
        }
        counts
    }
}

/// "Needs you": the workspaces waiting on a person (the board's "Waiting on you" column), the
/// most recently active first (then the newest, then by id, so the order is stable).
pub fn needs_you<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<&'a Entry> {
    let mut waiting: Vec<&Entry> = entries
        .into_iter()
        .filter(|e| e.derived.kanban_column == Some(KanbanColumn::Waiting))
        .collect();
    waiting.sort_by_key(|e| {
        (
            Reverse(e.raw.last_activity_at.or(e.raw.created_at)),
            Reverse(e.raw.created_at),
            e.workspace_id.clone(),
        )
    });
    waiting
}
