//! The open permission request of a session: what the agent wants to do, and its options as
//! buttons. When it appears its first option takes the focus (unless the user is in the middle
//! of writing something), so Enter answers it.

use super::tool_call::tool_body;
use crate::commands;
use ff_core::enums::PendingRequestType;
use ff_core::ids::SessionId;
use ff_core::markdown::to_safe_html;
use ff_core::sessions::{PendingRequest, PermissionAnswer};
use ff_core::transcript::ToolCall;
use leptos::prelude::*;

#[component]
pub fn PermissionCard(
    session: SessionId,
    request: PendingRequest,
    /// The tool call as the transcript holds it: a request may name only its id and title.
    tool: Option<ToolCall>,
    worktree: Option<String>,
) -> impl IntoView {
    let request_id = request.request_id.clone();
    let answer = Action::new(move |option_id: &String| {
        commands::answer_permission(
            session.clone(),
            PermissionAnswer {
                request_id: request_id.clone(),
                option_id: option_id.clone(),
            },
        )
    });
    let refused = move || answer.value().get().and_then(Result::err);
    let card = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(card) = card.get() {
            focus_first_option(&card);
        }
    });
    let heading = match request.request_type {
        PendingRequestType::PermissionRequest => "The agent asks for permission",
        PendingRequestType::PlanApproval => "The agent asks you to approve its plan",
        PendingRequestType::UserQuestion => "The agent asks you a question",
    };
    let tool = tool.or_else(|| request.tool_call.clone());
    let title = tool
        .as_ref()
        .map_or_else(|| "(no details given)".to_owned(), |t| t.title.clone());
    // A plan to approve comes as Markdown in the tool's input.
    let plan = tool.as_ref().and_then(|t| {
        t.raw_input
            .as_ref()?
            .get("plan")?
            .as_str()
            .map(to_safe_html)
    });
    let command = tool.as_ref().and_then(|t| {
        t.raw_input
            .as_ref()?
            .get("command")?
            .as_str()
            .map(str::to_owned)
    });
    view! {
        <div class="permission-card" role="group" aria-labelledby="permission-heading"
            data-testid="permission-card" data-request=request.request_id.clone() node_ref=card>
            <h3 id="permission-heading">{heading}</h3>
            <p class="permission-title">{title}</p>
            {command.map(|c| view! { <pre class="output">{c}</pre> })}
            {plan.map(|html| view! { <div class="markdown plan-text" inner_html=html></div> })}
            {tool.map(|t| view! { <div class="permission-details">{tool_body(&t, worktree.as_deref())}</div> })}
            <div class="actions">
                {request.options.into_iter().map(|option| {
                    let class = if option.allows() {
                        if option.kind == "allow_once" { "button" } else { "button secondary" }
                    } else {
                        "button danger"
                    };
                    let id = option.option_id.clone();
                    view! {
                        <button type="button" class=class data-testid="permission-option" data-option=option.option_id.clone()
                            disabled=move || answer.pending().get()
                            on:click=move |_| { answer.dispatch(id.clone()); }>
                            {option.name}
                        </button>
                    }
                }).collect_view()}
            </div>
            <p class="server-error" role="alert">{refused}</p>
        </div>
    }
    .into_any()
}

/// Moves the focus to the card's first option, unless the user is writing in a text field.
#[cfg(feature = "hydrate")]
fn focus_first_option(card: &web_sys::HtmlDivElement) {
    use wasm_bindgen::JsCast;
    let document = web_sys::window().and_then(|w| w.document());
    let writing = document
        .and_then(|d| d.active_element())
        .and_then(|active| {
            let value = js_sys::Reflect::get(&active, &"value".into()).ok()?;
            let field = matches!(active.tag_name().as_str(), "TEXTAREA" | "INPUT");
            Some(field && value.as_string().is_some_and(|v| !v.trim().is_empty()))
        })
        .unwrap_or(false);
    if writing {
        return;
    }
    if let Some(button) = card
        .query_selector("button")
        .ok()
        .flatten()
        .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = button.focus();
    }
}
