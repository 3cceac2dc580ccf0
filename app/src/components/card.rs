//! A workspace on the kanban board (R§9.6): its name, its one status and the facts it adds.

use super::chips::{CostChip, DiffStat, ParentOf, PrChips, PrLink, QueuedBadge, StatusChips};
use super::overlaps::OverlapMark;
use ff_core::entry::Entry;
use ff_core::enums::RunScriptStatus;
use leptos::prelude::*;

#[component]
pub fn Card(entry: Entry, attention: bool) -> impl IntoView {
    let href = format!("/workspaces/{}", entry.workspace_id);
    let working = entry.raw.is_working;
    let pending = entry.raw.pending_request_type.is_some();
    let running = entry.raw.run_script_status == RunScriptStatus::Running;
    let name = entry.raw.name.clone();
    let title = name.clone();
    // The whole card opens the workspace (the name's link covers it), while the PR link inside
    // stays a link of its own: links cannot nest.
    view! {
        <article
            class="card"
            class:working=working
            class:pending=pending
            class:attention=attention
            data-testid="card"
            data-workspace=entry.workspace_id.to_string()
            data-status=entry.raw.status.to_string()
        >
            <div class="card-top">
                <a class="card-name" href=href title=title>{name}</a>
                <PrLink entry=entry.clone() />
                {running.then(|| view! { <span class="run-dot" title="Dev server running">"▶"</span> })}
            </div>
            <ParentOf entry=entry.clone() />
            <div class="card-meta">
                <span class="branch">{entry.raw.branch_name.clone().unwrap_or_default()}</span>
                <DiffStat stats=entry.raw.git_stats />
            </div>
            <div class="card-chips">
                <StatusChips entry=entry.clone() />
                <PrChips entry=entry.clone() />
                <OverlapMark overlaps=entry.raw.overlaps.clone() />
                <QueuedBadge entry=entry.clone() />
                <CostChip entry=entry.clone() />
            </div>
        </article>
    }
}
