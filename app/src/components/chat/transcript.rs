//! The transcript of a session, each item updated in place as it streams or changes. Text from
//! agents becomes HTML only through `ff_core::markdown::to_safe_html`; everything else is text.

use super::tool_call::ToolCallView;
use crate::chat_live::ChatLive;
use crate::commands;
use ff_core::markdown::to_safe_html;
use ff_core::transcript::{DecidedBy, Item, ItemBody, PermissionRecord, PlanEntry, Usage};
use leptos::prelude::*;

/// Items fetched per "Load earlier".
const EARLIER_PAGE: u32 = 100;

#[component]
pub fn Transcript(live: ChatLive, worktree: Option<String>) -> impl IntoView {
    let seqs = live.seqs.clone();
    let empty = {
        let seqs = seqs.clone();
        move || seqs.with(Vec::is_empty)
    };
    let has_earlier = live.has_earlier.clone();
    let earlier = {
        let live = live.clone();
        Action::new(move |before: &u64| commands::earlier_items(live.id(), *before, EARLIER_PAGE))
    };
    let error = RwSignal::new(None::<String>);
    {
        let live = live.clone();
        Effect::new(move |_| match earlier.value().get() {
            Some(Ok(items)) => {
                error.set(None);
                live.prepend(items);
            }
            Some(Err(message)) => error.set(Some(message)),
            None => {}
        });
    }
    let load_earlier = {
        let live = live.clone();
        move |_| {
            if let Some(first) = live.first_seq() {
                earlier.dispatch(first);
            }
        }
    };
    view! {
        // Reversed flex keeps the view pinned to the newest item while the reader is there.
        <div class="transcript" data-testid="transcript" role="log" aria-label="Transcript">
            <div class="items">
                {move || has_earlier.get().then(|| view! {
                    <button type="button" class="button secondary earlier" data-testid="load-earlier"
                        disabled=move || earlier.pending().get()
                        on:click=load_earlier.clone()>
                        "Load earlier"
                    </button>
                })}
                <p class="error" role="alert">{move || error.get()}</p>
                {move || empty().then(|| view! {
                    <p class="muted empty">"Nothing said yet. Write to the agent below."</p>
                })}
                <For
                    each=move || seqs.get()
                    key=|seq| *seq
                    children=move |seq| {
                        live.item(seq).map(|item| item_view(item, worktree.clone()))
                    }
                />
            </div>
        </div>
    }
    .into_any()
}

/// One item. Its kind never changes, so the element is made once and only its contents follow
/// the item (a tool call the reader opened stays open while its status moves).
fn item_view(item: ArcRwSignal<Item>, worktree: Option<String>) -> AnyView {
    let kind = item.with_untracked(|i| kind_of(&i.body));
    let seq = item.with_untracked(|i| i.seq);
    let read = |f: fn(&ItemBody) -> String| follow(&item, f);
    match kind {
        "user" => view! {
            <div class="item user" data-kind="user" data-seq=seq>
                <div class="who">"You"</div>
                <div class="text">{read(|b| text_of(b).to_owned())}</div>
            </div>
        }
        .into_any(),
        "agent" => view! {
            <div class="item agent" data-kind="agent" data-seq=seq>
                <div class="markdown" inner_html=read(|b| to_safe_html(text_of(b)))></div>
            </div>
        }
        .into_any(),
        "thought" => view! {
            <details class="item thought" data-kind="thought" data-seq=seq>
                <summary>"Thinking"</summary>
                <div class="markdown" inner_html=read(|b| to_safe_html(text_of(b)))></div>
            </details>
        }
        .into_any(),
        "tool" => view! { <ToolCallView item worktree /> }.into_any(),
        "plan" => view! {
            <div class="item plan" data-kind="plan" data-seq=seq>
                <div class="who">"Plan"</div>
                <ul class="checklist">
                    {move || item.with(|i| match &i.body {
                        ItemBody::Plan { entries } => entries.iter().map(plan_entry).collect_view(),
                        _ => Vec::new(),
                    })}
                </ul>
            </div>
        }
        .into_any(),
        "permission" => view! {
            <div class="item permission-record" data-kind="permission" data-seq=seq>
                {move || item.with(|i| match &i.body {
                    ItemBody::Permission(record) => permission_record(record).into_any(),
                    _ => ().into_any(),
                })}
            </div>
        }
        .into_any(),
        other => {
            let class = format!("item note {other}");
            view! {
                <div class=class data-kind=other data-seq=seq>{read(note)}</div>
            }
            .into_any()
        }
    }
}

/// Text made from an item, following its changes.
fn follow(item: &ArcRwSignal<Item>, f: fn(&ItemBody) -> String) -> impl Fn() -> String {
    let item = item.clone();
    move || item.with(|i| f(&i.body))
}

fn kind_of(body: &ItemBody) -> &'static str {
    match body {
        ItemBody::User { .. } => "user",
        ItemBody::Agent { .. } => "agent",
        ItemBody::Thought { .. } => "thought",
        ItemBody::Tool(_) => "tool",
        ItemBody::Plan { .. } => "plan",
        ItemBody::Permission(_) => "permission",
        ItemBody::Config { .. } => "config",
        ItemBody::Usage(_) => "usage",
        ItemBody::Notice { .. } => "notice",
        ItemBody::Error { .. } => "error",
        ItemBody::Stop { .. } => "stop",
    }
}

fn text_of(body: &ItemBody) -> &str {
    match body {
        ItemBody::User { text, .. } | ItemBody::Agent { text } | ItemBody::Thought { text } => text,
        _ => "",
    }
}

fn plan_entry(entry: &PlanEntry) -> impl IntoView {
    let (mark, label) = match entry.status.as_str() {
        "completed" => ("✓", "done"),
        "in_progress" => ("◐", "in progress"),
        _ => ("○", "to do"),
    };
    let class = format!("plan-entry {}", entry.status);
    view! {
        <li class=class>
            <span class="mark" role="img" aria-label=label>{mark}</span>
            <span>{entry.content.clone()}</span>
            {(entry.priority == "high").then(|| view! { <span class="badge">"high"</span> })}
        </li>
    }
}

/// A permission request and what became of it: the choice made, and by whom.
fn permission_record(record: &PermissionRecord) -> impl IntoView {
    let chosen = record.choice.as_deref().map(|id| {
        record
            .options
            .iter()
            .find(|o| o.option_id == id)
            .map_or_else(|| id.to_owned(), |o| o.name.clone())
    });
    let outcome = match (chosen, record.decided_by) {
        (Some(name), Some(DecidedBy::Policy)) => format!("{name}, by the permission policy"),
        (Some(name), _) => format!("{name}, by you"),
        (None, Some(DecidedBy::Cancelled | DecidedBy::Person | DecidedBy::Policy)) => {
            "Not answered: the turn ended first".to_owned()
        }
        (None, None) => "Waiting for your answer".to_owned(),
    };
    let kind = crate::components::chips::request_label(record.request_type);
    view! {
        <span class="who">"Asked (" {kind} ")"</span>
        " "
        <span class="title">{record.title.clone()}</span>
        " → "
        <span class="outcome" data-testid="permission-outcome">{outcome}</span>
    }
}

/// The text of a short item: configuration, usage, notices, errors and stop reasons.
fn note(body: &ItemBody) -> String {
    match body {
        ItemBody::Config { mode, model } => {
            let mut parts = Vec::new();
            if let Some(mode) = mode {
                parts.push(format!("Mode: {mode}"));
            }
            if let Some(model) = model {
                parts.push(format!("Model: {model}"));
            }
            parts.join(" · ")
        }
        ItemBody::Usage(usage) => usage_text(usage),
        ItemBody::Notice { text } => text.clone(),
        ItemBody::Error { message } => message.clone(),
        ItemBody::Stop { reason } => stop_text(reason).to_owned(),
        _ => String::new(),
    }
}

/// "Context: 1,200 of 200,000 tokens · $0.01".
pub fn usage_text(usage: &Usage) -> String {
    let mut parts = Vec::new();
    match (usage.used, usage.size) {
        (Some(used), Some(size)) => parts.push(format!(
            "Context: {} of {} tokens",
            thousands(used),
            thousands(size)
        )),
        (Some(used), None) => parts.push(format!("Context: {} tokens", thousands(used))),
        _ => {}
    }
    if let Some(cost) = &usage.cost {
        parts.push(cost.display());
    }
    parts.join(" · ")
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn stop_text(reason: &str) -> &str {
    match reason {
        "end_turn" => "Turn ended",
        "cancelled" => "Turn cancelled",
        "max_tokens" => "Turn stopped: the reply reached its length limit",
        "max_turn_requests" => "Turn stopped: too many model requests in one turn",
        "refusal" => "The agent refused to go on",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::transcript::Cost;

    #[test]
    fn usage_reads_as_context_and_cost() {
        let usage = Usage {
            used: Some(1200),
            size: Some(200_000),
            cost: Cost::from_amount(0.0123, "USD"),
        };
        assert_eq!(
            usage_text(&usage),
            "Context: 1,200 of 200,000 tokens · $0.01"
        );
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
