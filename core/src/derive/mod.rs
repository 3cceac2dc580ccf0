//! Derived state: every field the views show but nobody writes (snapshot.md §2, R§4, R§12).
//!
//! Only these functions decide what a workspace's state means; the server runs them after every
//! accepted merge and clients display the result without re-deriving it.

mod ci;
mod flow;
mod ratchet;
mod sidebar;
mod status_line;
mod status_reason;

pub use ci::ci_observation;
pub use flow::{flow_state, FlowInput, FlowState};
pub use ratchet::{ratchet_state, RatchetInput};
pub use sidebar::{
    activity_tooltip, ci_label, ci_tooltip, pr_tooltip_suffix, sidebar_status, SidebarInput,
    SidebarStatus,
};
pub use status_line::{needs_you, status_line, ColumnCounts, StatusLine};
pub use status_reason::{status_reason, StatusReason, StatusReasonInput};

use crate::entry::RawFields;
use crate::enums::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Derived {
    pub ratchet_state: RatchetState,
    pub ci_observation: WorkspaceCiObservation,
    pub flow_phase: WorkspaceFlowPhase,
    pub ratchet_button_animated: bool,
    pub status_reason: StatusReason,
    /// `None`: the workspace is not on the board.
    pub kanban_column: Option<KanbanColumn>,
    pub sidebar_status: SidebarStatus,
    /// What the workspace's agents cost so far, per currency.
    pub costs: Vec<crate::transcript::Cost>,
}

impl Derived {
    /// The assembly of R§12.2: ratchet state first, then flow, then reason and its projections.
    pub fn of(raw: &RawFields) -> Self {
        let ratchet_state = ratchet_state(RatchetInput {
            ratchet_enabled: raw.ratchet_enabled,
            pr_state: raw.pr_state,
            pr_ci_status: raw.pr_ci_status,
            has_merge_conflict: raw.has_merge_conflict,
            pr_review_state: raw.pr_review_state,
        });
        let flow = flow_state(FlowInput {
            pr_url: raw.pr_url.as_deref(),
            pr_state: raw.pr_state,
            ci_observation: ci_observation(raw.pr_ci_status),
            ratchet_enabled: raw.ratchet_enabled,
            ratchet_state,
        });
        let status_reason = status_reason(&StatusReasonInput {
            status: raw.status,
            flow_phase: flow.phase,
            ci_observation: flow.ci_observation,
            pr_state: raw.pr_state,
            ratchet_state,
            pending_request_type: raw.pending_request_type,
            has_session_runtime_error: raw.session_summaries.any_runtime_error(),
            is_working: raw.is_working,
            only_fixers_working: raw.session_summaries.only_fixers_working(),
            is_session_starting: raw.session_summaries.any_starting(),
            ratchet_enabled: raw.ratchet_enabled,
            has_merge_conflict: raw.has_merge_conflict,
            dispatch_stalled: raw.ratchet_dispatch_stalled,
            has_had_sessions: raw.has_had_sessions,
        });
        let sidebar_status = sidebar_status(SidebarInput {
            is_working: raw.is_working,
            pr_url: raw.pr_url.as_deref(),
            pr_state: raw.pr_state,
            pr_ci_status: raw.pr_ci_status,
            ratchet_state,
        });
        Self {
            ratchet_state,
            ci_observation: flow.ci_observation,
            flow_phase: flow.phase,
            ratchet_button_animated: flow.animate_ratchet_button,
            kanban_column: status_reason.code.kanban_column(),
            status_reason,
            sidebar_status,
            costs: raw.session_summaries.costs(),
        }
    }
}
