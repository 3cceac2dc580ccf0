//! Starting another session in the workspace, with the agent of one's choice.

use crate::commands;
use crate::components::agent_select::AgentSelect;
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::sessions::CreateSession;
use leptos::prelude::*;

#[component]
pub fn NewSession(workspace: WorkspaceId, on_created: Callback<SessionId>) -> impl IntoView {
    let open = RwSignal::new(false);
    let agent = RwSignal::new(String::new());
    let create = Action::new(move |agent: &String| {
        let request = CreateSession {
            agent: Some(agent.clone()).filter(|a| !a.is_empty()),
            ..CreateSession::default()
        };
        commands::create_session(workspace.clone(), request)
    });
    Effect::new(move |_| {
        if let Some(Ok(session)) = create.value().get() {
            open.set(false);
            on_created.run(session.id);
        }
    });
    let refused = move || create.value().get().and_then(Result::err);
    view! {
        <button type="button" class="button secondary" data-testid="new-session"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|o| *o = !*o)>
            "New session"
        </button>
        {move || open.get().then(|| view! {
            <form class="new-session" data-testid="new-session-form" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(agent.get_untracked());
            }>
                <AgentSelect value=agent testid="new-session-agent" />
                <div class="actions">
                    <button type="button" class="button secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button type="submit" class="button" data-testid="new-session-submit"
                        disabled=move || create.pending().get()>"Start session"</button>
                </div>
                <p class="server-error" role="alert">{refused}</p>
            </form>
        })}
    }
    .into_any()
}
