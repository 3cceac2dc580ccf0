//! The workspaces as a table, sortable by name, status, creation and last activity.

use crate::components::chips::{
    CostChip, DiffStat, ParentOf, PrChips, PrLink, QueuedBadge, StatusChips,
};
use crate::live::Live;
use ff_core::derive::status_line;
use ff_core::entry::Entry;
use ff_core::ids::Timestamp;
use leptos::prelude::*;
use std::cmp::Ordering;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Name,
    Status,
    Created,
    Activity,
}

fn compare(key: Key, a: &Entry, b: &Entry) -> Ordering {
    match key {
        Key::Name => a.raw.name.to_lowercase().cmp(&b.raw.name.to_lowercase()),
        Key::Status => status_line(a).words.cmp(&status_line(b).words),
        Key::Created => a.raw.created_at.cmp(&b.raw.created_at),
        Key::Activity => a.raw.last_activity_at.cmp(&b.raw.last_activity_at),
    }
    .then_with(|| a.workspace_id.cmp(&b.workspace_id))
}

/// UTC, to the minute.
fn when(time: Option<Timestamp>) -> String {
    time.map_or_else(|| "—".to_owned(), |t| t.utc("%Y-%m-%d %H:%M"))
}

#[component]
pub fn List(live: Live) -> impl IntoView {
    let sort = RwSignal::new((Key::Created, true));
    let rows = Memo::new(move |_| {
        let (key, descending) = sort.get();
        let mut rows = live.entries.get();
        rows.sort_by(|a, b| {
            if descending {
                compare(key, b, a)
            } else {
                compare(key, a, b)
            }
        });
        rows
    });
    let header = move |key: Key, label: &'static str| {
        let order = move || match sort.get() {
            (k, true) if k == key => "descending",
            (k, false) if k == key => "ascending",
            _ => "none",
        };
        view! {
            <th aria-sort=order>
                <button type="button" class="sort" on:click=move |_| sort.update(|(k, descending)| {
                    *descending = if *k == key { !*descending } else { key != Key::Name };
                    *k = key;
                })>
                    {label}
                </button>
            </th>
        }
    };
    view! {
        <table class="workspace-table" data-testid="workspace-table">
            <thead>
                <tr>
                    {header(Key::Name, "Name")}
                    {header(Key::Status, "Status")}
                    <th>"Agents"</th>
                    <th>"Branch"</th>
                    <th>"Pull request"</th>
                    <th>"Changes"</th>
                    {header(Key::Created, "Created")}
                    {header(Key::Activity, "Last activity")}
                </tr>
            </thead>
            <tbody>
                <For
                    each=move || rows.get()
                    key=|e| (e.workspace_id.clone(), e.version)
                    children=|e| view! {
                        <tr data-testid="row" data-workspace=e.workspace_id.to_string()>
                            <td>
                                <a href=format!("/workspaces/{}", e.workspace_id)>{e.raw.name.clone()}</a>
                                <ParentOf entry=e.clone() />
                            </td>
                            <td class="status-cell"><StatusChips entry=e.clone() /></td>
                            <td class="agent-chips">
                                <QueuedBadge entry=e.clone() />
                                <CostChip entry=e.clone() />
                            </td>
                            <td class="mono">{e.raw.branch_name.clone().unwrap_or_default()}</td>
                            <td class="pr-cell"><PrLink entry=e.clone() /> <PrChips entry=e.clone() /></td>
                            <td><DiffStat stats=e.raw.git_stats /></td>
                            <td>{when(e.raw.created_at)}</td>
                            <td>{when(e.raw.last_activity_at)}</td>
                        </tr>
                    }
                />
            </tbody>
        </table>
    }
}
