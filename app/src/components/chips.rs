//! Small status elements shared by cards, sidebar rows, the list and the detail page. Every text
//! comes from core (labels, tooltips): the views never re-derive state.

use ff_core::derive::{ci_label, ci_tooltip, StatusReason};
use ff_core::entry::{Entry, GitStats};
use ff_core::enums::{PendingRequestType, SidebarCiState, WorkspaceStatus};
use leptos::prelude::*;

#[component]
pub fn ReasonChip(reason: StatusReason) -> impl IntoView {
    let class = format!("chip tone-{}", reason.tone);
    view! {
        <span class=class data-testid="reason" title=reason.label.clone()>
            {reason.code.chip_label()}
        </span>
    }
}

/// The PR's CI state; nothing when there is no PR.
#[component]
pub fn CiChip(entry: Entry) -> impl IntoView {
    let state = entry.derived.sidebar_status.ci_state;
    (state != SidebarCiState::None).then(|| {
        let class = format!("chip ci-{}", state.to_string().to_lowercase());
        view! {
            <span class=class title=ci_tooltip(state, entry.raw.pr_state)>{ci_label(state)}</span>
        }
    })
}

/// `+12 −3` lines against the merge base; nothing while there is nothing to show.
#[component]
pub fn DiffStat(stats: Option<GitStats>) -> impl IntoView {
    stats
        .filter(|s| s.additions > 0 || s.deletions > 0)
        .map(|s| {
            let title = format!("{} file(s) changed against the base branch", s.total);
            view! {
                <span class="diffstat" title=title data-testid="diffstat">
                    <span class="added">"+" {s.additions}</span>
                    " "
                    <span class="deleted">"−" {s.deletions}</span>
                </span>
            }
        })
}

/// The setup state of a workspace that is not simply ready.
#[component]
pub fn LifecycleBadge(status: WorkspaceStatus) -> impl IntoView {
    let (label, class) = match status {
        WorkspaceStatus::New => ("Pending", "badge"),
        WorkspaceStatus::Provisioning => ("Setting up", "badge busy"),
        WorkspaceStatus::Failed => ("Setup failed", "badge danger"),
        WorkspaceStatus::Ready | WorkspaceStatus::Archiving | WorkspaceStatus::Archived => {
            return None
        }
    };
    Some(view! { <span class=class>{label}</span> })
}

#[component]
pub fn PendingBadge(pending: Option<PendingRequestType>) -> impl IntoView {
    pending.map(|p| {
        let (label, class) = match p {
            PendingRequestType::PlanApproval => ("Plan Approval Needed", "badge plan"),
            PendingRequestType::PermissionRequest => ("Permission Needed", "badge permission"),
            PendingRequestType::UserQuestion => ("Question Waiting", "badge question"),
        };
        view! { <span class=class>{label}</span> }
    })
}
