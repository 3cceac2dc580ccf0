//! A project's settings: its name, default branch, setup timeout, the agent of its sessions and
//! its GitHub repository, saved with one `PATCH /api/projects/{id}` of what changed; and its
//! scheduled tasks. The server's checks decide; its reason for refusing shows in the dialog.
//! `?settings` in the page's address opens it, server-rendered with the page.

use crate::commands;
use crate::components::agent_select::AgentSelect;
use crate::components::scheduled_tasks::ScheduledTasks;
use ff_core::api::{PatchProject, Project};
use ff_core::schedules::Schedule;
use leptos::prelude::*;

#[derive(Clone)]
struct Form {
    name: String,
    default_branch: String,
    setup_timeout: String,
    owner: String,
    repo: String,
}

impl Form {
    fn of(project: &Project) -> Self {
        Self {
            name: project.name.clone(),
            default_branch: project.default_branch.clone(),
            setup_timeout: project.setup_timeout_seconds.to_string(),
            owner: project.github_owner.clone().unwrap_or_default(),
            repo: project.github_repo.clone().unwrap_or_default(),
        }
    }

    /// Only the fields that changed, so an untouched one never overwrites another writer's.
    /// `agent` empty: the user's default.
    fn patch(&self, agent: &str, project: &Project) -> Result<PatchProject, String> {
        let setup_timeout_seconds: u32 = self
            .setup_timeout
            .trim()
            .parse()
            .map_err(|_| "The setup timeout must be a whole number of seconds".to_owned())?;
        let text = |now: &str, before: &str| (now.trim() != before).then(|| now.trim().to_owned());
        let optional = |now: &str, before: &Option<String>| {
            let now = Some(now.trim().to_owned()).filter(|t| !t.is_empty());
            (now != *before).then_some(now)
        };
        Ok(PatchProject {
            name: text(&self.name, &project.name),
            default_branch: text(&self.default_branch, &project.default_branch),
            setup_timeout_seconds: (setup_timeout_seconds != project.setup_timeout_seconds)
                .then_some(setup_timeout_seconds),
            github_owner: optional(&self.owner, &project.github_owner),
            github_repo: optional(&self.repo, &project.github_repo),
            github_host: None,
            default_agent: optional(agent, &project.default_agent),
        })
    }
}

#[component]
pub fn ProjectSettings(
    project: RwSignal<Project>,
    open: RwSignal<bool>,
    schedules: RwSignal<Vec<Schedule>>,
) -> impl IntoView {
    let agent_of = |p: &Project| p.default_agent.clone().unwrap_or_default();
    let form = RwSignal::new(project.with_untracked(Form::of));
    let agent = RwSignal::new(project.with_untracked(agent_of));
    let error = RwSignal::new(None::<String>);
    let save = Action::new(move |patch: &PatchProject| {
        commands::patch_project(project.with_untracked(|p| p.id.clone()), patch.clone())
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(saved)) => {
            project.set(saved);
            open.set(false);
        }
        Some(Err(message)) => error.set(Some(message)),
        None => {}
    });
    let reload =
        Action::new(move |_: &()| commands::schedules(project.with_untracked(|p| p.id.clone())));
    Effect::new(move |_| {
        if let Some(Ok(fresh)) = reload.value().get() {
            schedules.set(fresh);
        }
    });
    // Each opening starts from the project as it is now, and its tasks' latest runs.
    Effect::new(move |_| {
        if open.get() {
            reload.dispatch(());
            form.set(project.with_untracked(Form::of));
            agent.set(project.with_untracked(agent_of));
            error.set(None);
        }
    });
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if open.get_untracked() && ev.key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || escape.remove());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let agent = agent.get_untracked();
        match project.with_untracked(|p| form.with_untracked(|f| f.patch(&agent, p))) {
            Ok(patch) if patch == PatchProject::default() => open.set(false),
            Ok(patch) => {
                error.set(None);
                save.dispatch(patch);
            }
            Err(message) => error.set(Some(message)),
        }
    };
    let field = move |label: &'static str,
                      testid: &'static str,
                      get: fn(&Form) -> String,
                      set: fn(&mut Form, String)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input type="text" data-testid=testid
                    prop:value=move || form.with(get)
                    on:input=move |ev| form.update(|f| set(f, event_target_value(&ev))) />
            </label>
        }
    };
    move || {
        open.get().then(|| view! {
            <div class="overlay" on:click=move |_| open.set(false)></div>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="project-settings-title"
                data-testid="project-settings">
                <h2 id="project-settings-title">"Project settings"</h2>
                <form on:submit=submit>
                    {field("Name", "project-name", |f| f.name.clone(), |f, v| f.name = v)}
                    {field("Default branch", "project-default-branch", |f| f.default_branch.clone(), |f, v| f.default_branch = v)}
                    {field("Setup timeout (seconds)", "project-setup-timeout", |f| f.setup_timeout.clone(), |f, v| f.setup_timeout = v)}
                    <AgentSelect value=agent testid="project-agent" />
                    <p class="muted">"The agent of this project's sessions when a workspace names none."</p>
                    {field("GitHub owner", "project-github-owner", |f| f.owner.clone(), |f, v| f.owner = v)}
                    {field("GitHub repository", "project-github-repo", |f| f.repo.clone(), |f, v| f.repo = v)}
                    <p class="server-error" role="alert" data-testid="project-settings-error">{move || error.get()}</p>
                    <div class="actions">
                        <button type="button" class="button secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                        <button type="submit" class="button" data-testid="project-settings-save"
                            disabled=move || save.pending().get()>"Save"</button>
                    </div>
                </form>
                <ScheduledTasks project=project.with_untracked(|p| p.id.clone()) schedules />
            </div>
        })
    }
}
