//! Messages waiting for their turn, each cancellable until it is sent to the agent.

use crate::chat_live::ChatLive;
use crate::commands;
use ff_core::ids::MessageId;
use ff_core::sessions::QueuedMessage;
use leptos::prelude::*;

/// Characters of a queued message shown; the rest is in its title.
const SHOWN: usize = 200;

#[component]
pub fn Queue(live: ChatLive) -> impl IntoView {
    let id = live.id();
    let session = live.session.clone();
    let queue = Memo::new(move |_| {
        session.with(|s| s.as_ref().map(|s| s.queue.clone()).unwrap_or_default())
    });
    let cancel = Action::new(move |message: &MessageId| {
        commands::cancel_message(id.clone(), message.clone())
    });
    let refused = move || cancel.value().get().and_then(Result::err);
    move || {
        let waiting = queue.get();
        (!waiting.is_empty()).then(|| {
            view! {
                <div class="queue" data-testid="queue">
                    <h3>"Waiting to be sent (" {waiting.len()} ")"</h3>
                    <ol>
                        {waiting.into_iter().map(|m| queued(m, cancel)).collect_view()}
                    </ol>
                    <p class="server-error" role="alert">{refused}</p>
                </div>
            }
        })
    }
}

fn queued(message: QueuedMessage, cancel: Action<MessageId, Result<(), String>>) -> impl IntoView {
    let shown: String = message.text.chars().take(SHOWN).collect();
    let cut = shown.len() < message.text.len();
    let id = message.id.clone();
    view! {
        <li data-testid="queued-message" data-message=message.id.to_string()>
            <span class="queued-text" title=cut.then(|| message.text.clone())>
                {shown}{cut.then_some("…")}
            </span>
            <button type="button" class="button secondary" data-testid="cancel-queued"
                on:click=move |_| { cancel.dispatch(id.clone()); }>
                "Cancel"
            </button>
        </li>
    }
}
