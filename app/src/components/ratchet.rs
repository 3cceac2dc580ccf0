//! The workspace page's ratchet (ratchet.md §4): its toggle, the last decision with its reason
//! and time, the fixer at work (a link into its transcript), the dispatch history, and a check on
//! demand.

use crate::commands;
use ff_core::entry::Entry;
use ff_core::enums::RatchetDispatchOutcome;
use ff_core::ids::{SessionId, Timestamp, WorkspaceId};
use ff_core::ratchet::{RatchetDispatch, RatchetView};
use leptos::prelude::*;

#[component]
pub fn RatchetPanel(
    id: WorkspaceId,
    entry: Memo<Option<Entry>>,
    /// What the server rendered the page with.
    first: RatchetView,
) -> impl IntoView {
    let shown = RwSignal::new(first);
    let error = RwSignal::new(None::<String>);
    let toggle = {
        let id = id.clone();
        Action::new(move |enabled: &bool| commands::set_ratchet(id.clone(), *enabled))
    };
    let check = {
        let id = id.clone();
        Action::new(move |(): &()| commands::check_ratchet(id.clone()))
    };
    Effect::new(move |_| {
        if let Some(Err(message)) = toggle.value().get() {
            error.set(Some(message));
        }
    });
    Effect::new(move |_| match check.value().get() {
        Some(Ok(fresh)) => {
            error.set(None);
            shown.set(fresh);
        }
        Some(Err(message)) => error.set(Some(message)),
        None => {}
    });
    #[cfg(feature = "hydrate")]
    follow(id.clone(), entry, shown);
    let enabled = move || {
        entry.with(|e| {
            e.as_ref()
                .map_or_else(|| shown.with(|v| v.enabled), |e| e.raw.ratchet_enabled)
        })
    };
    view! {
        <section class="ratchet-panel" data-testid="ratchet-panel" aria-labelledby="ratchet-title">
            <h2 id="ratchet-title">"Auto-fix (ratchet)"</h2>
            <div class="actions">
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="ratchet"
                        prop:checked=enabled
                        on:change=move |ev| { toggle.dispatch(event_target_checked(&ev)); }
                    />
                    "Fix this workspace's failing CI, review feedback and conflicts"
                </label>
                <button type="button" class="button secondary" data-testid="ratchet-check"
                    disabled=move || !enabled() || check.pending().get()
                    on:click=move |_| { check.dispatch(()); }>
                    "Check now"
                </button>
                {move || check.pending().get().then(|| view! { <span class="muted" role="status">"Checking…"</span> })}
            </div>
            <p class="error" role="alert" data-testid="ratchet-error">{move || error.get()}</p>
            {move || {
                let view = shown.get();
                view! {
                    <LastCheck view=view.clone() />
                    {view.active_session.map(|session| view! {
                        <p data-testid="ratchet-fixer">
                            "A fixer is at work: " <SessionLink workspace=id.clone() session text="open its transcript" />
                        </p>
                    })}
                    <History workspace=id.clone() history=view.history />
                }
            }}
        </section>
    }
}

#[component]
fn LastCheck(view: RatchetView) -> impl IntoView {
    match view.last_check {
        Some(check) => view! {
            <p class="ratchet-last" data-testid="ratchet-last">
                <strong>{check.verdict.label()}</strong>
                " · " <span>{check.reason}</span>
                " · " <time datetime=check.at.to_string()>{when(check.at)}</time>
            </p>
        }
        .into_any(),
        None if view.enabled => {
            view! { <p class="muted" data-testid="ratchet-last">"Not checked yet."</p> }.into_any()
        }
        None => view! { <p class="muted" data-testid="ratchet-last">"Off."</p> }.into_any(),
    }
}

#[component]
fn History(workspace: WorkspaceId, history: Vec<RatchetDispatch>) -> impl IntoView {
    if history.is_empty() {
        return view! { <p class="muted">"No fixer dispatched yet."</p> }.into_any();
    }
    view! {
        <table class="ratchet-history" data-testid="ratchet-history">
            <caption>"Fixers dispatched, newest first"</caption>
            <thead>
                <tr><th>"When"</th><th>"For"</th><th>"Why"</th><th>"Retry"</th><th>"Outcome"</th><th>"Transcript"</th></tr>
            </thead>
            <tbody>
                {history.into_iter().map(|d| {
                    let key = d.key.clone();
                    view! {
                    <tr data-testid="ratchet-dispatch">
                        <td><time datetime=d.at.to_string()>{when(d.at)}</time></td>
                        <td class="mono key" title=key>{d.key}</td>
                        <td>{d.reason}</td>
                        <td>{d.retry}</td>
                        <td>{outcome(d.outcome)}</td>
                        <td><SessionLink workspace=workspace.clone() session=d.session_id text="open" /></td>
                    </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The workspace page with that session's tab chosen.
#[component]
fn SessionLink(workspace: WorkspaceId, session: SessionId, text: &'static str) -> impl IntoView {
    let href = format!("/workspaces/{workspace}?session={session}#sessions");
    view! { <a href=href data-testid="ratchet-session">{text}</a> }
}

fn outcome(outcome: Option<RatchetDispatchOutcome>) -> &'static str {
    match outcome {
        None | Some(RatchetDispatchOutcome::Running) => "Running",
        Some(RatchetDispatchOutcome::Completed) => "Finished",
        Some(RatchetDispatchOutcome::Died) => "Died",
    }
}

fn when(at: Timestamp) -> String {
    at.utc("%Y-%m-%d %H:%M:%S UTC")
}

/// Reads the view again whenever the board shows the ratchet or the PR moved (a check follows
/// both), a moment later so that the check has recorded what it decided.
#[cfg(feature = "hydrate")]
fn follow(id: WorkspaceId, entry: Memo<Option<Entry>>, shown: RwSignal<RatchetView>) {
    use gloo_timers::future::sleep;
    use std::time::Duration;
    Effect::new(move |previous: Option<Option<(i64, i64)>>| {
        let key = entry.with(|e| {
            e.as_ref()
                .map(|e| (e.field_timestamps.ratchet, e.field_timestamps.pr))
        });
        if previous.is_some() && previous.as_ref() != Some(&key) {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                sleep(Duration::from_secs(1)).await;
                if let Ok(fresh) = commands::ratchet(id).await {
                    shown.set(fresh);
                }
            });
        }
        key
    });
}
