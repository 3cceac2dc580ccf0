//! GitHub's state where it matters (github.md §4): one plain line when the project's host is
//! not connected, paused, failing or not GitHub at all, and nothing when all is well. Never a
//! popup. Where trying again can help (a refused token, a pause), a button does it.

use crate::commands;
use ff_core::github::{HostState, HostStatus};
use leptos::prelude::*;

#[component]
pub fn GithubStatusLine(status: RwSignal<Option<HostStatus>>) -> impl IntoView {
    let retry = Action::new(move |host: &String| commands::retry_github(host.clone()));
    Effect::new(move |_| {
        if let Some(Ok(fresh)) = retry.value().get() {
            status.set(Some(fresh));
        }
    });
    move || {
        status.get().and_then(|s| {
            let message = s.message?;
            let can_retry = matches!(
                s.state,
                HostState::NotConnected | HostState::Paused | HostState::Failing
            );
            let host = s.host;
            let failed = move || retry.value().get().and_then(Result::err);
            Some(view! {
                <p class="github-status" role="status" data-testid="github-status">
                    {message}
                    {can_retry.then(|| view! {
                        " "
                        <button type="button" class="button secondary" data-testid="github-retry"
                            disabled=move || retry.pending().get()
                            on:click=move |_| { retry.dispatch(host.clone()); }>
                            "Try again"
                        </button>
                    })}
                    {move || failed().map(|e| view! { <span class="error">" " {e}</span> })}
                </p>
            })
        })
    }
}
