//! The agents ff can run, as `GET /api/agents` lists them (installed or not, and how to install
//! a missing built-in), and the form that adds, edits or removes the user's own agent servers.

use crate::pages::settings::SettingsState;
use ff_core::sessions::{AgentInfo, AgentServer, SettingsPatch};
use leptos::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Default)]
struct Draft {
    name: String,
    command: String,
    /// One argument a line.
    args: String,
    /// `NAME=value`, one a line.
    env: String,
}

impl Draft {
    fn of(name: &str, server: &AgentServer) -> Self {
        Self {
            name: name.to_owned(),
            command: server.command.clone(),
            args: server.args.join("\n"),
            env: server
                .env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The patch that saves this entry; the server checks the name and the command.
    fn patch(&self) -> Result<SettingsPatch, String> {
        let mut env = BTreeMap::new();
        for (n, line) in self.env.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| format!("env line {} must be NAME=value", n + 1))?;
            env.insert(key.trim().to_owned(), value.to_owned());
        }
        let server = AgentServer {
            command: self.command.clone(),
            args: self
                .args
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect(),
            env,
        };
        Ok(SettingsPatch {
            agent_servers: Some(BTreeMap::from([(
                self.name.trim().to_owned(),
                Some(server),
            )])),
            ..SettingsPatch::default()
        })
    }
}

#[component]
pub fn AgentServers(state: SettingsState) -> impl IntoView {
    let draft = RwSignal::new(Draft::default());
    let problem = RwSignal::new(None::<String>);
    let editing = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(saved) = state.save.value().get() else {
            return;
        };
        // This form's entry was kept: the form is free for the next one.
        if saved.is_ok() && editing.get_untracked() {
            draft.set(Draft::default());
        }
        editing.set(false);
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match draft.with(Draft::patch) {
            Ok(patch) => {
                problem.set(None);
                editing.set(true);
                state.save.dispatch(patch);
            }
            Err(message) => problem.set(Some(message)),
        }
    };
    let remove = move |name: String| {
        state.save.dispatch(SettingsPatch {
            agent_servers: Some(BTreeMap::from([(name, None)])),
            ..SettingsPatch::default()
        });
    };
    let field = move |label: &'static str,
                      testid: &'static str,
                      get: fn(&Draft) -> String,
                      set: fn(&mut Draft, String)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input type="text" data-testid=testid
                    prop:value=move || draft.with(get)
                    on:input=move |ev| draft.update(|d| set(d, event_target_value(&ev))) />
            </label>
        }
    };
    let lines = move |label: &'static str,
                      testid: &'static str,
                      get: fn(&Draft) -> String,
                      set: fn(&mut Draft, String)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <textarea rows="3" data-testid=testid
                    prop:value=move || draft.with(get)
                    on:input=move |ev| draft.update(|d| set(d, event_target_value(&ev)))></textarea>
            </label>
        }
    };
    view! {
        <table class="agents" data-testid="agents">
            <thead>
                <tr><th>"Agent"</th><th>"Command"</th><th>"Installed"</th><th></th></tr>
            </thead>
            <tbody>
                {move || {
                    let (servers, default) = state.settings.with(|s| (s.agent_servers.clone(), s.default_agent.clone()));
                    state.agents.get().into_iter().map(|agent| {
                        let own = servers.get(&agent.name).cloned();
                        row(agent, own, &default, draft, remove)
                    }).collect_view()
                }}
            </tbody>
        </table>

        <form class="agent-form" data-testid="agent-form" on:submit=submit>
            <h3>"Add or change an agent server"</h3>
            <p class="muted">
                "Any ACP agent: a name, its command (an absolute path or a program on PATH), its arguments and environment. "
                "An entry named like a built-in agent replaces it."
            </p>
            {field("Name", "agent-name", |d| d.name.clone(), |d, v| d.name = v)}
            {field("Command", "agent-command", |d| d.command.clone(), |d, v| d.command = v)}
            {lines("Arguments (one a line)", "agent-args", |d| d.args.clone(), |d, v| d.args = v)}
            {lines("Environment (NAME=value, one a line)", "agent-env", |d| d.env.clone(), |d, v| d.env = v)}
            <p class="field-error" role="alert">{move || problem.get()}</p>
            <div class="actions">
                <button type="submit" class="button" data-testid="agent-save" disabled=move || state.save.pending().get()>
                    "Save agent"
                </button>
                <button type="button" class="button secondary" on:click=move |_| draft.set(Draft::default())>"Clear"</button>
            </div>
        </form>
    }
    .into_any()
}

fn row(
    agent: AgentInfo,
    own: Option<AgentServer>,
    default: &str,
    draft: RwSignal<Draft>,
    remove: impl Fn(String) + Copy + 'static,
) -> impl IntoView {
    let name = agent.name.clone();
    let command = std::iter::once(agent.command.clone())
        .chain(agent.args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let installed = if agent.installed {
        let version = agent
            .version
            .clone()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        let path = agent.path.clone().unwrap_or_default();
        view! { <span class="ok">"Yes" {version}</span> " " <span class="muted mono">{path}</span> }
            .into_any()
    } else {
        let hint = agent.install_hint.clone();
        view! {
            <span class="warning">"Not installed"</span>
            {hint.map(|h| view! { " — run " <code data-testid="install-hint">{h}</code> })}
        }
        .into_any()
    };
    let is_default = agent.name == default;
    view! {
        <tr data-testid="agent-row" data-agent=agent.name.clone()>
            <td>
                <strong>{agent.name.clone()}</strong>
                {agent.built_in.then(|| view! { " " <span class="badge">"built in"</span> })}
                {is_default.then(|| view! { " " <span class="badge">"default"</span> })}
            </td>
            <td class="mono">{command}</td>
            <td data-testid="agent-installed">{installed}</td>
            <td class="row-actions">
                {own.map(|server| {
                    let (edit_name, remove_name) = (name.clone(), name.clone());
                    view! {
                        <button type="button" class="button secondary" data-testid="agent-edit"
                            on:click=move |_| draft.set(Draft::of(&edit_name, &server))>"Edit"</button>
                        <button type="button" class="button secondary" data-testid="agent-remove"
                            on:click=move |_| remove(remove_name.clone())>"Remove"</button>
                    }
                })}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_becomes_one_entry_with_its_args_and_env() {
        let draft = Draft {
            name: " gemini ".into(),
            command: "/opt/gemini".into(),
            args: "--experimental-acp\n\n--yolo".into(),
            env: "API_KEY=a=b\n\nDEBUG=1".into(),
        };
        let patch = draft.patch().unwrap();
        let server = patch.agent_servers.unwrap()["gemini"].clone().unwrap();
        assert_eq!(server.args, ["--experimental-acp", "--yolo"]);
        assert_eq!(server.env["API_KEY"], "a=b");
        assert_eq!(server.env["DEBUG"], "1");
        let back = Draft::of("gemini", &server);
        assert_eq!(back.env, "API_KEY=a=b\nDEBUG=1");
    }

    #[test]
    fn an_env_line_without_a_value_is_refused_in_the_page() {
        let draft = Draft {
            name: "x".into(),
            command: "x".into(),
            env: "GOOD=1\nBAD".into(),
            ..Draft::default()
        };
        assert_eq!(draft.patch().unwrap_err(), "env line 2 must be NAME=value");
    }
}
