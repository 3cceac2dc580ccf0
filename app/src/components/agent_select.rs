//! Choosing an agent: every configured one (`GET /api/agents`), the default first and marked,
//! and those not installed said so.

use crate::commands;
use leptos::prelude::*;

/// `value` is the chosen agent's name, or empty for the default agent: the user's, or the one
/// `inherited` names (a project's).
#[component]
pub fn AgentSelect(
    value: RwSignal<String>,
    testid: &'static str,
    #[prop(optional)] inherited: Option<Signal<Option<String>>>,
) -> impl IntoView {
    let load = Action::new(|_: &()| commands::agent_choices());
    // Loaded once the page runs in the browser: a select rendered on the server (in a dialog
    // a page opens from its address) must hydrate from the same markup, without the choices.
    Effect::new(move |_| {
        load.dispatch(());
    });
    let choices = move || load.value().get();
    view! {
        <label class="field">
            <span>"Agent"</span>
            <select data-testid=testid prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))>
                {move || match choices() {
                    None | Some(Err(_)) => view! { <option value="">"Default agent"</option> }.into_any(),
                    Some(Ok((agents, settings))) => {
                        let inherited = inherited.and_then(|i| i.get());
                        let whose = if inherited.is_some() { " (project default)" } else { " (default)" };
                        let default = inherited.unwrap_or_else(|| settings.default_agent.clone());
                        let missing = |installed: bool| (!installed).then_some(" — not installed");
                        let default_installed = agents.iter().any(|a| a.name == default && a.installed);
                        view! {
                            <option value="" selected=move || value.get().is_empty()>{default.clone()} {whose} {missing(default_installed)}</option>
                            // `selected` too: the options arrive after the select's value was set.
                            {agents.into_iter().filter(|a| a.name != default).map(|a| {
                                let name = a.name.clone();
                                view! {
                                    <option value=a.name.clone() selected=move || value.with(|v| *v == name)>{a.name.clone()} {missing(a.installed)}</option>
                                }
                            }).collect_view()}
                        }.into_any()
                    }
                }}
            </select>
            <span class="field-error" role="alert">{move || choices().and_then(Result::err)}</span>
        </label>
    }
}
