use crate::enums::{CiStatus, PrState, RatchetState, SidebarActivityState, SidebarCiState};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SidebarStatus {
    pub activity_state: SidebarActivityState,
    pub ci_state: SidebarCiState,
}

#[derive(Clone, Copy, Debug)]
pub struct SidebarInput<'a> {
    /// The raw session signal (HEAD): PR automation is not agent work.
    pub is_working: bool,
    pub pr_url: Option<&'a str>,
    pub pr_state: PrState,
    pub pr_ci_status: CiStatus,
    pub ratchet_state: RatchetState,
}

/// R§4.4 HEAD rows, first match wins. The PR's own CI status outranks a possibly stale ratchet
/// state; the ratchet state only fills in while CI is UNKNOWN.
pub fn sidebar_status(input: SidebarInput<'_>) -> SidebarStatus {
    let activity_state = if input.is_working {
        SidebarActivityState::Working
    } else {
        SidebarActivityState::Idle
    };
    SidebarStatus {
        activity_state,
        ci_state: ci_state(input),
    }
}

fn ci_state(input: SidebarInput<'_>) -> SidebarCiState {
    if input.pr_url.is_none_or(str::is_empty) {
        return SidebarCiState::None;
    }
    if input.pr_state == PrState::Merged || input.ratchet_state == RatchetState::Merged {
        return SidebarCiState::Merged;
    }
    if input.pr_state == PrState::Closed {
        return SidebarCiState::Closed;
    }
    if input.ratchet_state == RatchetState::MergeConflict {
        return SidebarCiState::Conflict;
    }
    match (input.pr_ci_status, input.ratchet_state) {
        (CiStatus::Success, _) => SidebarCiState::Passing,
        (CiStatus::Failure, _) => SidebarCiState::Failing,
        (CiStatus::Pending, _) => SidebarCiState::Running,
        (CiStatus::Unknown, RatchetState::CiFailed) => SidebarCiState::Failing,
        (CiStatus::Unknown, RatchetState::CiRunning) => SidebarCiState::Running,
        (CiStatus::Unknown, _) => SidebarCiState::Unknown,
    }
}

pub fn activity_tooltip(state: SidebarActivityState) -> &'static str {
    match state {
        SidebarActivityState::Working => "Claude is working",
        SidebarActivityState::Idle => "Claude is idle",
    }
}

pub fn ci_label(state: SidebarCiState) -> &'static str {
    match state {
        SidebarCiState::None => "No PR",
        SidebarCiState::Running => "CI Running",
        SidebarCiState::Failing => "CI Failing",
        SidebarCiState::Passing => "CI Passing",
        SidebarCiState::Unknown => "CI Unknown",
        SidebarCiState::Closed => "Closed",
        SidebarCiState::Merged => "Merged",
        SidebarCiState::Conflict => "Conflicts",
    }
}

pub fn ci_tooltip(state: SidebarCiState, pr_state: PrState) -> &'static str {
    match state {
        SidebarCiState::None => "No PR attached",
        SidebarCiState::Running => "CI checks are running",
        SidebarCiState::Failing => "CI checks are failing",
        SidebarCiState::Passing => "CI checks are passing",
        SidebarCiState::Unknown if pr_state == PrState::Closed => "PR is closed",
        SidebarCiState::Unknown => "CI status is unknown",
        SidebarCiState::Closed => "PR is closed",
        SidebarCiState::Merged => "PR is merged",
        SidebarCiState::Conflict => "PR has merge conflicts",
    }
}

/// The suffix of the PR button's tooltip ("PR #12 · CI failing"), first match wins.
pub fn pr_tooltip_suffix(pr_state: PrState, ci_state: SidebarCiState) -> &'static str {
    match (pr_state, ci_state) {
        (PrState::Closed, _) => " · Closed",
        (_, SidebarCiState::Merged) => " · Merged",
        (_, SidebarCiState::Failing) => " · CI failing",
        (_, SidebarCiState::Closed) => " · Closed",
        (_, SidebarCiState::Conflict) => " · Conflicts",
        (_, SidebarCiState::Running) => " · CI running",
        (_, SidebarCiState::Passing) => " · CI passing",
        _ => "",
    }
}
