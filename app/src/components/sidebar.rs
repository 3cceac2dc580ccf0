//! The sidebar row of a workspace (R§9.5): its name (wrapping, never cut to a few letters; the
//! full name in the tooltip), its one status in words, and its chips wrapping inside the row.

use super::chips::{CostChip, DiffStat, PrChips, PrLink, QueuedBadge, StatusChips};
use super::overlaps::OverlapMark;
use ff_core::derive::activity_tooltip;
use ff_core::entry::Entry;
use ff_core::enums::{RunScriptStatus, SidebarActivityState};
use leptos::prelude::*;

#[component]
pub fn SidebarRow(entry: Entry, attention: bool) -> impl IntoView {
    let href = format!("/workspaces/{}", entry.workspace_id);
    let activity = entry.derived.sidebar_status.activity_state;
    let running = entry.raw.run_script_status == RunScriptStatus::Running;
    let name = entry.raw.name.clone();
    let title = name.clone();
    view! {
        <li class="side-row" class:attention=attention data-testid="sidebar-row" data-workspace=entry.workspace_id.to_string()>
            <a href=href title=title>
                <span class="side-line">
                    <span
                        class="dot"
                        class:working=activity == SidebarActivityState::Working
                        title=activity_tooltip(activity)
                    ></span>
                    <span class="side-name" data-testid="side-name">{name}</span>
                    {running.then(|| view! { <span class="run-dot" title="Dev server running">"▶"</span> })}
                </span>
                <span class="branch">{entry.raw.branch_name.clone().unwrap_or_default()}</span>
                <span class="side-chips">
                    <StatusChips entry=entry.clone() />
                    <DiffStat stats=entry.raw.git_stats />
                    <OverlapMark overlaps=entry.raw.overlaps.clone() />
                    <QueuedBadge entry=entry.clone() />
                    <CostChip entry=entry.clone() />
                </span>
            </a>
            {entry.raw.pr_number.is_some().then(|| view! {
                <span class="side-pr">
                    <PrLink entry=entry.clone() />
                    <PrChips entry=entry.clone() />
                </span>
            })}
        </li>
    }
}
