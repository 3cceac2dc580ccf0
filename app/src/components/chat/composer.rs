//! Writing to the agent: a message box that queues while the agent works (Enter sends,
//! Shift+Enter starts a new line), checked with the server's own rules before it is sent; the
//! model and mode pickers; and Stop for the turn in flight.

use crate::chat_live::ChatLive;
use crate::commands;
use ff_core::sessions::{Choice, MessageText, SessionConfig};
use leptos::prelude::*;

#[component]
pub fn Composer(live: ChatLive) -> impl IntoView {
    let id = live.id();
    let session = live.session.clone();
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let sent = RwSignal::new(String::new());
    let send = {
        let id = id.clone();
        Action::new(move |message: &String| commands::send_message(id.clone(), message.clone()))
    };
    Effect::new(move |_| {
        if let Some(Err(message)) = send.value().get() {
            // Refused: the text comes back, unless the user has started another one.
            text.update(|t| {
                if t.trim().is_empty() {
                    *t = sent.get_untracked();
                }
            });
            problem.set(Some(message));
        }
    });
    // The box empties at once, so that it is clear what was sent (and a request that appears
    // meanwhile may take the focus from an empty box).
    let submit = move || {
        let message = text.get_untracked();
        match MessageText::parse("text", &message) {
            Err(e) => problem.set(Some(e.message)),
            Ok(_) => {
                problem.set(None);
                text.set(String::new());
                sent.set(message.clone());
                send.dispatch(message);
            }
        }
    };
    let stop = {
        let id = id.clone();
        Action::new(move |_: &()| commands::session_command(id.clone(), "cancel"))
    };
    let configure = {
        let id = id.clone();
        Action::new(move |config: &SessionConfig| {
            commands::configure_session(id.clone(), config.clone())
        })
    };
    let refused = move || {
        stop.value()
            .get()
            .and_then(Result::err)
            .or_else(|| configure.value().get().and_then(Result::err))
    };
    let working = {
        let session = session.clone();
        Memo::new(move |_| session.with(|s| s.as_ref().is_some_and(|s| s.runtime.working)))
    };
    let choices = {
        let session = session.clone();
        Memo::new(move |_| {
            session.with(|s| {
                s.as_ref().map(|s| {
                    (
                        (s.models.clone(), s.model.clone()),
                        (s.modes.clone(), s.mode.clone()),
                    )
                })
            })
        })
    };
    let models = move || choices.with(|c| c.as_ref().map(|c| c.0.clone()));
    let modes = move || choices.with(|c| c.as_ref().map(|c| c.1.clone()));
    view! {
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <label class="visually-hidden" for="composer-text">"Message to the agent"</label>
            <textarea
                id="composer-text"
                data-testid="composer"
                rows="3"
                placeholder=move || if working.get() {
                    "The agent is working: your message waits in the queue"
                } else {
                    "Message the agent (Enter sends, Shift+Enter for a new line)"
                }
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
                aria-invalid=move || problem.with(Option::is_some).then_some("true")
                aria-describedby="composer-problem"
            ></textarea>
            <p class="field-error" id="composer-problem" role="alert" data-testid="composer-error">{move || problem.get()}</p>
            <div class="composer-bar">
                {move || models().filter(|(offered, _)| !offered.is_empty()).map(|(offered, current)| {
                    picker("Model", "model-picker", offered, current, move |model| {
                        configure.dispatch(SessionConfig { model: Some(model), mode: None });
                    })
                })}
                {move || modes().filter(|(offered, _)| !offered.is_empty()).map(|(offered, current)| {
                    picker("Mode", "mode-picker", offered, current, move |mode| {
                        configure.dispatch(SessionConfig { model: None, mode: Some(mode) });
                    })
                })}
                <span class="spacer"></span>
                {move || working.get().then(|| view! {
                    <button type="button" class="button danger" data-testid="stop-turn"
                        disabled=move || stop.pending().get()
                        on:click=move |_| { stop.dispatch(()); }>
                        "Stop"
                    </button>
                })}
                <button type="submit" class="button" data-testid="send" disabled=move || send.pending().get()>
                    {move || if working.get() { "Queue" } else { "Send" }}
                </button>
            </div>
            <p class="server-error" role="alert">{refused}</p>
        </form>
    }
    .into_any()
}

fn picker(
    label: &'static str,
    testid: &'static str,
    offered: Vec<Choice>,
    current: Option<String>,
    choose: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label class="picker">
            <span>{label}</span>
            <select data-testid=testid on:change=move |ev| choose(event_target_value(&ev))>
                {current.is_none().then(|| view! { <option value="" selected>"—"</option> })}
                {offered.into_iter().map(|choice| {
                    let selected = current.as_deref() == Some(choice.id.as_str());
                    view! { <option value=choice.id selected=selected>{choice.name}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}
