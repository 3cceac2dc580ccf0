//! Small status elements shared by cards, sidebar rows, the list and the detail page. Every text
//! comes from core (labels, tooltips): the views never re-derive state.

use ff_core::derive::{ci_label, ci_tooltip, pr_tooltip_suffix, status_line};
use ff_core::entry::{Entry, GitStats};
use ff_core::enums::{PendingRequestType, PrState, SidebarCiState};
use ff_core::github::{pr_state_label, review_label, web_link};
use ff_core::transcript::Cost;
use leptos::prelude::*;

/// The workspace's one status, in core's words (the same on cards, sidebar rows, list rows and
/// the workspace page), then the CI and conflict chips when the words leave them out.
#[component]
pub fn StatusChips(entry: Entry) -> impl IntoView {
    let line = status_line(&entry);
    let class = format!("chip tone-{}", line.tone);
    view! {
        <span class=class data-testid="reason" data-code=line.code.to_string()>{line.words}</span>
        {line.ci.map(|state| ci_chip(state, entry.raw.pr_state))}
        {line.conflict.then(conflict_chip)}
    }
}

/// The PR's CI state; nothing when there is no PR.
#[component]
pub fn CiChip(entry: Entry) -> impl IntoView {
    let state = entry.derived.sidebar_status.ci_state;
    (state != SidebarCiState::None).then(|| ci_chip(state, entry.raw.pr_state))
}

fn ci_chip(state: SidebarCiState, pr: PrState) -> impl IntoView {
    let class = format!("chip ci-{}", state.to_string().to_lowercase());
    view! { <span class=class title=ci_tooltip(state, pr) data-testid="ci-chip">{ci_label(state)}</span> }
}

fn conflict_chip() -> impl IntoView {
    view! {
        <span class="chip pr-conflict" title="The PR has merge conflicts with its base" data-testid="pr-conflict">"Conflict"</span>
    }
}

/// The conflict mark of the PR panel.
#[component]
pub fn ConflictChip(entry: Entry) -> impl IntoView {
    entry.raw.has_merge_conflict.then(conflict_chip)
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

/// "needs permission", "plan approval", "question".
pub fn request_label(request: PendingRequestType) -> &'static str {
    match request {
        PendingRequestType::PermissionRequest => "needs permission",
        PendingRequestType::PlanApproval => "plan approval",
        PendingRequestType::UserQuestion => "question",
    }
}

/// What the workspace's sessions wait on, in core's words (a free agent slot, their agent's start
/// or answer, a rate limit), with since when: nothing looks "working" while it is stuck.
#[component]
pub fn QueuedBadge(entry: Entry) -> impl IntoView {
    entry
        .raw
        .session_summaries
        .waits()
        .into_iter()
        .next()
        .map(|words| {
            view! {
                <span class="badge" data-testid="queued" title="What the agent waits on before it can work">
                    {words}
                </span>
            }
        })
}

/// What the workspace's agents cost so far (`$0.42`), when they report it.
#[component]
pub fn CostChip(entry: Entry) -> impl IntoView {
    let costs = &entry.derived.costs;
    (!costs.is_empty()).then(|| {
        let text = costs
            .iter()
            .map(Cost::display)
            .collect::<Vec<_>>()
            .join(" + ");
        view! { <span class="cost" data-testid="cost" title="What the agents cost so far">{text}</span> }
    })
}

/// `#12` linking to the PR on GitHub (a new tab), titled with its state and CI.
#[component]
pub fn PrLink(entry: Entry) -> impl IntoView {
    let number = entry.raw.pr_number?;
    let title = format!(
        "PR #{number}{}",
        pr_tooltip_suffix(entry.raw.pr_state, entry.derived.sidebar_status.ci_state)
    );
    let text = format!("#{number}");
    Some(match entry.raw.pr_url.as_deref().and_then(web_link) {
        Some(url) => view! {
            <a class="pr-link" href=url.to_owned() target="_blank" rel="noopener noreferrer"
                title=title data-testid="pr-link">{text}</a>
        }
        .into_any(),
        None => view! { <span class="pr-link" title=title data-testid="pr-link">{text}</span> }
            .into_any(),
    })
}

/// "child of …", linking to the workspace whose agent created this one; nothing for the others.
#[component]
pub fn ParentOf(entry: Entry) -> impl IntoView {
    let parent = entry.raw.parent?;
    let href = format!("/workspaces/{}", parent.id);
    Some(view! {
        <a class="parent-link" href=href title=format!("Created by the agent of {}", parent.name)
            data-testid="parent-link">"child of " {parent.name.clone()}</a>
    })
}

/// The PR's state and review decision; nothing without a PR.
#[component]
pub fn PrChips(entry: Entry) -> impl IntoView {
    entry.raw.pr_number?;
    let state = entry.raw.pr_state;
    // The review decision is shown on its own only where the state does not say it already.
    let review = entry.raw.pr_review_state.filter(|_| {
        !matches!(
            state,
            PrState::Approved | PrState::ChangesRequested | PrState::Merged | PrState::Closed
        )
    });
    let state_class = format!("chip pr-{}", state.to_string().to_lowercase());
    Some(view! {
        <span class=state_class data-testid="pr-state">{pr_state_label(state)}</span>
        {review.map(|r| view! { <span class="chip pr-review" data-testid="pr-review">{review_label(r)}</span> })}
    })
}
