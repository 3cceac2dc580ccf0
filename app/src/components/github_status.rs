//! GitHub's state where it matters (github.md §4): one plain line when the project's host is
//! not connected, paused or failing, and nothing when all is well. Never a popup.

use ff_core::github::HostStatus;
use leptos::prelude::*;

#[component]
pub fn GithubStatusLine(status: RwSignal<Option<HostStatus>>) -> impl IntoView {
    move || {
        status.get().and_then(|s| s.message).map(|message| {
            view! { <p class="github-status" role="status" data-testid="github-status">{message}</p> }
        })
    }
}
