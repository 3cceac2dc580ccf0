//! The create dialog's issue picker (github.md §3): open issues of the project's repository,
//! filtered by number or title words, mine or anyone's; choosing one fills the issue fields and
//! the name. Titles are GitHub text, shown as text.

use crate::commands;
use ff_core::github::IssueSummary;
use ff_core::ids::ProjectId;
use leptos::prelude::*;

#[component]
pub fn IssuePicker(project: ProjectId, on_pick: Callback<IssueSummary>) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let mine = RwSignal::new(false);
    let search = Action::new(move |(mine, filter): &(bool, String)| {
        commands::issues(project.clone(), *mine, filter.clone())
    });
    // The list is there as soon as the source is chosen.
    Effect::new(move |done: Option<()>| {
        if done.is_none() {
            search.dispatch((mine.get_untracked(), String::new()));
        }
    });
    let run = move || {
        search.dispatch((mine.get_untracked(), filter.get_untracked()));
    };
    view! {
        <div class="issue-picker" data-testid="issue-picker">
            <label class="field">
                <span>"Find an issue (number or words of the title)"</span>
                <input
                    type="search"
                    data-testid="issue-filter"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); run(); }
                />
            </label>
            <div class="actions">
                <label class="check">
                    <input type="checkbox" prop:checked=move || mine.get()
                        on:change=move |ev| { mine.set(event_target_checked(&ev)); run(); } />
                    "Assigned to me"
                </label>
                <button type="button" class="button secondary" data-testid="issue-search" on:click=move |_| run()>"Search"</button>
            </div>
            {move || match search.value().get() {
                None => view! { <p class="muted" role="status">"Loading issues…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(issues)) if issues.is_empty() => view! { <p class="muted">"No open issues match."</p> }.into_any(),
                Some(Ok(issues)) => view! {
                    <ul aria-label="Open issues">
                        {issues.into_iter().map(|issue| {
                            let label = format!("#{} {}", issue.number, issue.title);
                            view! {
                                <li>
                                    <button type="button" data-testid="issue-option"
                                        on:click=move |_| on_pick.run(issue.clone())>{label}</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
}
