//! A workspace on the kanban board (R§9.6).

use super::chips::{
    CiChip, CostChip, DiffStat, LifecycleBadge, PendingBadge, QueuedBadge, ReasonChip, WorkingBadge,
};
use ff_core::entry::Entry;
use ff_core::enums::RunScriptStatus;
use leptos::prelude::*;

#[component]
pub fn Card(entry: Entry, attention: bool) -> impl IntoView {
    let href = format!("/workspaces/{}", entry.workspace_id);
    let working = entry.raw.is_working;
    let pending = entry.raw.pending_request_type.is_some();
    let running = entry.raw.run_script_status == RunScriptStatus::Running;
    view! {
        <a
            class="card"
            class:working=working
            class:pending=pending
            class:attention=attention
            href=href
            data-testid="card"
            data-workspace=entry.workspace_id.to_string()
            data-status=entry.raw.status.to_string()
        >
            <div class="card-top">
                <span class="card-name">{entry.raw.name.clone()}</span>
                {running.then(|| view! { <span class="run-dot" title="Dev server running">"▶"</span> })}
                <WorkingBadge working />
                <LifecycleBadge status=entry.raw.status />
            </div>
            <div class="card-meta">
                <span class="branch">{entry.raw.branch_name.clone().unwrap_or_default()}</span>
                <DiffStat stats=entry.raw.git_stats />
            </div>
            <div class="card-chips">
                <ReasonChip reason=entry.derived.status_reason.clone() />
                <CiChip entry=entry.clone() />
                <PendingBadge pending=entry.raw.pending_request_type />
                <QueuedBadge entry=entry.clone() />
                <CostChip entry=entry.clone() />
            </div>
        </a>
    }
}
