//! Choosing an agent: every configured one (`GET /api/agents`), the default first and marked,
//! and those not installed said so.

use crate::commands;
use leptos::prelude::*;

/// `value` is the chosen agent's name, or empty for the default agent.
#[component]
pub fn AgentSelect(value: RwSignal<String>, testid: &'static str) -> impl IntoView {
    let load = Action::new(|_: &()| commands::agent_choices());
    load.dispatch(());
    let choices = move || load.value().get();
    view! {
        <label class="field">
            <span>"Agent"</span>
            <select data-testid=testid prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))>
                {move || match choices() {
                    None | Some(Err(_)) => view! { <option value="">"Default agent"</option> }.into_any(),
                    Some(Ok((agents, settings))) => {
                        let default = settings.default_agent.clone();
                        let missing = |installed: bool| (!installed).then_some(" — not installed");
                        let default_installed = agents.iter().any(|a| a.name == default && a.installed);
                        view! {
                            <option value="">{default.clone()} " (default)" {missing(default_installed)}</option>
                            {agents.into_iter().filter(|a| a.name != default).map(|a| view! {
                                <option value=a.name.clone()>{a.name.clone()} {missing(a.installed)}</option>
                            }).collect_view()}
                        }.into_any()
                    }
                }}
            </select>
            <span class="field-error" role="alert">{move || choices().and_then(Result::err)}</span>
        </label>
    }
}
