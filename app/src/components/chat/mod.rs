//! The agent sessions of a workspace: one tab per session (from the live snapshot, so tabs come
//! and go with sessions wherever they are created), the chosen session's chat, and starting
//! another session.

mod composer;
mod new_session;
mod panel;
mod permission;
mod queue;
mod tool_call;
mod transcript;

use ff_core::chat::ChatFrame;
use ff_core::entry::Entry;
use ff_core::enums::{SessionActivity, SessionRuntimePhase};
use ff_core::ids::{SessionId, WorkspaceId};
use leptos::prelude::*;
use new_session::NewSession;
use panel::ChatPanel;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Tab {
    id: SessionId,
    name: String,
    agent: String,
    working: bool,
    failed: bool,
}

#[component]
pub fn Sessions(
    workspace: WorkspaceId,
    entry: Memo<Option<Entry>>,
    /// The first session's chat as the server rendered it.
    first: Option<ChatFrame>,
    worktree: Option<String>,
    /// The session asked for by the page's address, chosen whenever it changes.
    wanted: Memo<Option<SessionId>>,
) -> impl IntoView {
    let tabs = Memo::new(move |_| {
        entry.with(|e| {
            e.iter()
                .flat_map(|e| e.raw.session_summaries.as_slice())
                .map(|s| Tab {
                    id: SessionId::new(s.session_id.clone()),
                    name: s.name.clone().unwrap_or_else(|| "Session".to_owned()),
                    agent: s.agent.clone().unwrap_or_default(),
                    working: s.activity == SessionActivity::Working,
                    failed: s.runtime_phase == SessionRuntimePhase::Error,
                })
                .collect::<Vec<_>>()
        })
    });
    let chosen = RwSignal::new(wanted.get_untracked());
    Effect::new(move |previous: Option<Option<SessionId>>| {
        let now = wanted.get();
        if previous.is_some_and(|p| p != now) && now.is_some() {
            chosen.set(now.clone());
        }
        now
    });
    // A session just created is chosen once its tab exists.
    let awaiting = RwSignal::new(None::<SessionId>);
    Effect::new(move |_| {
        if let Some(id) = awaiting.get() {
            if tabs.with(|tabs| tabs.iter().any(|t| t.id == id)) {
                chosen.set(Some(id));
                awaiting.set(None);
            }
        }
    });
    let current = Memo::new(move |_| {
        tabs.with(|tabs| {
            chosen
                .get()
                .filter(|id| tabs.iter().any(|t| &t.id == id))
                .or_else(|| tabs.first().map(|t| t.id.clone()))
        })
    });
    // Used once: after that, a session's socket brings its baseline.
    let first = StoredValue::new(first);
    let baseline_of = move |id: &SessionId| {
        let fits = first.with_value(|f| match f {
            Some(ChatFrame::Items { session, .. }) => &session.id == id,
            _ => false,
        });
        fits.then(|| first.try_update_value(Option::take).flatten())
            .flatten()
    };
    view! {
        <section class="sessions" id="sessions" aria-label="Agent sessions" data-testid="sessions">
            <div class="session-bar">
                <div class="session-tabs" role="tablist" aria-label="Sessions">
                    // Keyed by session, so a tab keeps its element (and the focus) while what
                    // it shows changes.
                    <For
                        each=move || tabs.with(|tabs| tabs.iter().map(|t| t.id.clone()).collect::<Vec<_>>())
                        key=|id| id.clone()
                        children=move |id| {
                            let tab = {
                                let id = id.clone();
                                Memo::new(move |_| tabs.with(|tabs| tabs.iter().find(|t| t.id == id).cloned()))
                            };
                            let selected = {
                                let id = id.clone();
                                move || current.with(|c| c.as_ref() == Some(&id)).to_string()
                            };
                            let shown = id.to_string();
                            view! {
                                <button type="button" role="tab" class="session-tab" data-testid="session-tab"
                                    data-session=shown aria-selected=selected
                                    on:click=move |_| chosen.set(Some(id.clone()))>
                                    {move || tab.get().map(|tab| view! {
                                        {tab.working.then(|| view! { <span class="pulse" title="Working"></span> })}
                                        {tab.failed.then(|| view! { <span class="tab-error" title="Session error">"!"</span> })}
                                        {tab.name}
                                        <span class="muted">{tab.agent}</span>
                                    })}
                                </button>
                            }
                        }
                    />
                </div>
                <NewSession workspace=workspace.clone() on_created=Callback::new(move |id| awaiting.set(Some(id))) />
            </div>
            {move || match current.get() {
                Some(id) => {
                    let baseline = baseline_of(&id);
                    view! {
                        <ChatPanel id baseline worktree=worktree.clone()
                            on_deleted=Callback::new(move |()| chosen.set(None)) />
                    }.into_any()
                }
                None => view! {
                    <p class="muted" data-testid="no-session">
                        "No agent session yet. Start one with “New session”, or create the workspace with a prompt."
                    </p>
                }.into_any(),
            }}
        </section>
    }
    .into_any()
}
