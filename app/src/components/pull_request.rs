//! The workspace page's pull request: its number (a link), state, CI and conflict mark from the
//! live snapshot; its checks, reviews and unresolved threads as the server last read them from
//! GitHub; "Create PR" while there is none. Everything GitHub wrote is shown as text.

use crate::commands;
use crate::components::chips::{CiChip, ConflictChip, PrChips, PrLink};
use ff_core::entry::Entry;
use ff_core::github::{web_link, PrView, Verdict};
use ff_core::ids::WorkspaceId;
use leptos::prelude::*;

/// A link when GitHub gave a web address, plain text otherwise.
fn link(url: Option<&str>, text: String) -> AnyView {
    match url.and_then(web_link) {
        Some(url) => {
            view! { <a href=url.to_owned() target="_blank" rel="noopener noreferrer">{text}</a> }
                .into_any()
        }
        None => view! { <span>{text}</span> }.into_any(),
    }
}

#[component]
pub fn PullRequest(
    id: WorkspaceId,
    entry: Memo<Option<Entry>>,
    ready: Signal<bool>,
) -> impl IntoView {
    let view_of_pr = RwSignal::new(None::<PrView>);
    let error = RwSignal::new(None::<String>);
    let command = {
        let id = id.clone();
        Action::new(move |name: &&'static str| commands::pr_command(id.clone(), name))
    };
    Effect::new(move |_| match command.value().get() {
        Some(Ok(fresh)) => {
            error.set(None);
            view_of_pr.set(Some(fresh));
        }
        Some(Err(message)) => error.set(Some(message)),
        None => {}
    });
    #[cfg(feature = "hydrate")]
    follow(id, entry, view_of_pr);
    let has_pr = move || entry.with(|e| e.as_ref().is_some_and(|e| e.raw.pr_number.is_some()));
    view! {
        <section class="pr-panel" data-testid="pr-panel" aria-labelledby="pr-title">
            <h2 id="pr-title">"Pull request"</h2>
            {move || entry.get().map(|e| if e.raw.pr_number.is_some() {
                view! {
                    <p class="card-chips">
                        <PrLink entry=e.clone() />
                        <CiChip entry=e.clone() />
                        <PrChips entry=e.clone() />
                        <ConflictChip entry=e.clone() />
                    </p>
                }.into_any()
            } else {
                view! { <p class="muted">"No pull request yet."</p> }.into_any()
            })}
            <div class="actions">
                {move || (!has_pr() && ready.get()).then(|| view! {
                    <button type="button" class="button" data-testid="create-pr"
                        disabled=move || command.pending().get()
                        on:click=move |_| { command.dispatch("pr/create"); }>
                        "Create PR"
                    </button>
                })}
                {move || has_pr().then(|| view! {
                    <button type="button" class="button secondary" data-testid="refresh-pr"
                        disabled=move || command.pending().get()
                        on:click=move |_| { command.dispatch("pr/refresh"); }>
                        "Refresh from GitHub"
                    </button>
                })}
                {move || command.pending().get().then(|| view! { <span class="muted" role="status">"Asking GitHub…"</span> })}
            </div>
            <p class="error" role="alert" data-testid="pr-error">{move || error.get()}</p>
            {move || view_of_pr.get().filter(|_| has_pr()).map(details)}
        </section>
    }
}

fn details(pr: PrView) -> impl IntoView {
    let checks = pr.checks.clone();
    let reviews = pr
        .details
        .as_ref()
        .map(|d| d.reviews.clone())
        .unwrap_or_default();
    let threads = pr
        .details
        .as_ref()
        .map(|d| d.unresolved_threads.clone())
        .unwrap_or_default();
    view! {
        {pr.details_error.map(|e| view! { <p class="warning" role="status">"Reviews and threads are not up to date: " {e}</p> })}
        <h3>"Checks"</h3>
        {if checks.is_empty() {
            view! { <p class="muted">"No checks reported."</p> }.into_any()
        } else {
            view! {
                <ul data-testid="pr-checks">
                    {checks.into_iter().map(|c| {
                        let class = match c.verdict {
                            Verdict::Failing => "verdict-failing",
                            Verdict::Passing => "verdict-passing",
                            Verdict::Pending => "verdict-pending",
                            Verdict::Unknown => "",
                        };
                        let name = match &c.workflow {
                            Some(w) => format!("{w} / {}", c.name),
                            None => c.name.clone(),
                        };
                        view! { <li class=class>{link(c.url.as_deref(), name)} " " <span class="mono">{c.outcome}</span></li> }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <h3>"Reviews"</h3>
        {if reviews.is_empty() {
            view! { <p class="muted">"No reviews yet."</p> }.into_any()
        } else {
            view! {
                <ul data-testid="pr-reviews">
                    {reviews.into_iter().map(|r| view! {
                        <li>
                            {link(Some(&r.url), r.author.clone())} " " <span class="mono">{r.state.to_string()}</span>
                            {(!r.body.trim().is_empty()).then(|| view! { <blockquote>{r.body.clone()}</blockquote> })}
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <h3>"Unresolved threads"</h3>
        {if threads.is_empty() {
            view! { <p class="muted">"None."</p> }.into_any()
        } else {
            view! {
                <ul data-testid="pr-threads">
                    {threads.into_iter().map(|t| {
                        let place = match t.line {
                            Some(line) => format!("{}:{line}", t.path),
                            None => t.path.clone(),
                        };
                        view! {
                            <li>
                                <span class="mono">{place}</span>
                                {t.comments.into_iter().map(|c| view! {
                                    <blockquote>{link(Some(&c.url), c.author.clone())} ": " {c.body}</blockquote>
                                }).collect_view()}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

/// Reads the PR's details once, then again whenever the snapshot shows the PR changed; while the
/// server is still reading them from GitHub (`details_pending`), again every second, a while.
#[cfg(feature = "hydrate")]
fn follow(id: WorkspaceId, entry: Memo<Option<Entry>>, view_of_pr: RwSignal<Option<PrView>>) {
    Effect::new(
        move |previous: Option<Option<(u64, Option<ff_core::ids::Timestamp>)>>| {
            let key = entry.with(|e| {
                e.as_ref()
                    .and_then(|e| e.raw.pr_number.map(|n| (n, e.raw.pr_updated_at)))
            });
            if key.is_some() && previous.as_ref() != Some(&key) {
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    for _ in 0..20 {
                        let Ok(fresh) = commands::pr(id.clone()).await else {
                            return;
                        };
                        let pending = fresh.details_pending;
                        view_of_pr.set(Some(fresh));
                        if !pending {
                            return;
                        }
                        gloo_timers::future::sleep(std::time::Duration::from_secs(1)).await;
                    }
                });
            }
            key
        },
    );
}
