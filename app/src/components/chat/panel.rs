//! One session's chat: where it stands, its transcript, the request waiting on the user, the
//! queue, the composer, and starting, stopping or deleting the session.

use super::composer::Composer;
use super::permission::PermissionCard;
use super::queue::Queue;
use super::transcript::{usage_text, Transcript};
use crate::chat_live::ChatLive;
use crate::commands;
use crate::live::Connection;
use ff_core::chat::ChatFrame;
use ff_core::enums::{SessionRuntimePhase, SessionStatus};
use ff_core::ids::{SessionId, Timestamp};
use ff_core::sessions::Session;
use leptos::prelude::*;

#[component]
pub fn ChatPanel(
    id: SessionId,
    baseline: Option<ChatFrame>,
    worktree: Option<String>,
    /// The session was deleted: the page shows another one.
    on_deleted: Callback<()>,
) -> impl IntoView {
    let live = ChatLive::new(id.clone(), baseline);
    let session = live.session.clone();
    let connection = live.connection.clone();
    let ended = live.ended.clone();
    let pending = {
        let session = session.clone();
        Memo::new(move |_| session.with(|s| s.as_ref().and_then(|s| s.pending_request.clone())))
    };
    let state = {
        let session = session.clone();
        Memo::new(move |_| session.with(|s| s.as_ref().map(State::of)))
    };
    let command = {
        let id = id.clone();
        Action::new(move |name: &&'static str| commands::session_command(id.clone(), name))
    };
    let delete = {
        let id = id.clone();
        Action::new(move |_: &()| commands::delete_session(id.clone()))
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            on_deleted.run(());
        }
    });
    let refused = move || {
        command
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| delete.value().get().and_then(Result::err))
    };
    let confirming = RwSignal::new(false);
    let card_worktree = worktree.clone();
    let card_live = live.clone();
    let shown = id.to_string();
    view! {
        <section class="chat" data-testid="chat" data-session=shown role="tabpanel">
            <header class="chat-head">
                {move || state.get().map(|s| view! {
                    <span class="agent-name" data-testid="agent-name">{s.agent.clone()}</span>
                    {s.model.clone().map(|m| view! { <span class="muted mono">{m}</span> })}
                    <span class=format!("session-state {}", s.tone) data-testid="session-state">{s.label.clone()}</span>
                    {s.usage.clone().map(|u| view! { <span class="muted" data-testid="usage">{u}</span> })}
                })}
                {move || (connection.get() == Connection::Reconnecting).then(|| view! {
                    <span class="reconnecting" role="status" data-testid="chat-reconnecting">"Reconnecting…"</span>
                })}
                {move || ended.get().map(|reason| view! {
                    <span class="reconnecting" role="status" data-testid="chat-ended">{reason}</span>
                })}
                <span class="spacer"></span>
                {move || state.get().map(|s| view! {
                    {s.can_start.then(|| view! {
                        <button type="button" class="button secondary" data-testid="session-start"
                            on:click=move |_| { command.dispatch("start"); }>"Start agent"</button>
                    })}
                    {s.can_stop.then(|| view! {
                        <button type="button" class="button secondary" data-testid="session-stop"
                            on:click=move |_| { command.dispatch("stop"); }>"Stop agent"</button>
                    })}
                })}
                <button type="button" class="button secondary" data-testid="session-delete"
                    on:click=move |_| confirming.set(true)>"Delete…"</button>
            </header>
            {move || state.get().and_then(|s| s.problem.clone()).map(|p| view! {
                <p class="error" role="alert" data-testid="session-error">{p}</p>
            })}
            {move || confirming.get().then(|| view! {
                <div class="confirm" role="alertdialog" aria-labelledby="delete-session-title" data-testid="delete-confirm">
                    <h2 id="delete-session-title">"Delete this session?"</h2>
                    <p>"Its agent stops and the session leaves this workspace. Its transcript is kept with the workspace."</p>
                    <div class="actions">
                        <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        <button type="button" class="button danger" data-testid="delete-confirm-button" on:click=move |_| {
                            confirming.set(false);
                            delete.dispatch(());
                        }>"Delete session"</button>
                    </div>
                </div>
            })}
            <p class="server-error" role="alert">{refused}</p>
            <Transcript live=live.clone() worktree />
            {move || pending.get().map(|request| {
                let tool = request.tool_call.as_ref().and_then(|t| card_live.tool(&t.tool_call_id));
                view! { <PermissionCard session=id.clone() request tool worktree=card_worktree.clone() /> }
            })}
            <Queue live=live.clone() />
            <Composer live />
        </section>
    }
    .into_any()
}

/// How a session stands, in words.
#[derive(Clone, Debug, PartialEq)]
struct State {
    agent: String,
    model: Option<String>,
    label: String,
    tone: &'static str,
    problem: Option<String>,
    usage: Option<String>,
    can_start: bool,
    can_stop: bool,
}

impl State {
    fn of(session: &Session) -> Self {
        let runtime = &session.runtime;
        let alive = session.status == SessionStatus::Running;
        let (label, tone) = if runtime.working {
            ("Working…".to_owned(), "working")
        } else if let Some(until) = runtime.paused_until {
            (
                format!(
                    "Paused until {} (the model API is rate limited)",
                    clock(until)
                ),
                "waiting",
            )
        } else {
            match runtime.phase {
                SessionRuntimePhase::Starting | SessionRuntimePhase::Loading => {
                    match runtime.queued_behind {
                        Some(0) => (
                            "Waiting for a free agent slot: next in line".to_owned(),
                            "waiting",
                        ),
                        Some(ahead) => (
                            format!("Waiting for a free agent slot: queued behind {ahead}"),
                            "waiting",
                        ),
                        None => ("Starting the agent…".to_owned(), "working"),
                    }
                }
                SessionRuntimePhase::Stopping => ("Stopping the agent…".to_owned(), "working"),
                SessionRuntimePhase::Error => ("Stopped by an error".to_owned(), "danger"),
                SessionRuntimePhase::Running | SessionRuntimePhase::Idle if alive => {
                    ("Ready".to_owned(), "neutral")
                }
                SessionRuntimePhase::Running | SessionRuntimePhase::Idle => {
                    ("Agent not running".to_owned(), "neutral")
                }
            }
        };
        let starting = matches!(
            runtime.phase,
            SessionRuntimePhase::Starting | SessionRuntimePhase::Loading
        );
        Self {
            agent: session.agent.clone(),
            model: session.model.clone(),
            label,
            tone,
            problem: runtime.error.clone(),
            usage: session
                .usage
                .as_ref()
                .map(usage_text)
                .filter(|u| !u.is_empty()),
            can_start: !alive && !starting && !runtime.working,
            can_stop: alive || starting || runtime.working,
        }
    }
}

fn clock(at: Timestamp) -> String {
    at.utc("%H:%M:%S UTC")
}
