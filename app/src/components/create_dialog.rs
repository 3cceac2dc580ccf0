//! Creating a workspace from one of the three sources, with an optional first prompt and agent
//! for its first session, validated as you type with the same parser the server uses, and
//! showing the server's reason when it refuses.

use crate::commands;
use crate::components::agent_select::AgentSelect;
use crate::components::issue_picker::IssuePicker;
use ff_core::create::{CreateWorkspaceRequest, FieldError};
use ff_core::enums::WorkspaceCreationSource;
use ff_core::github::IssueSummary;
use ff_core::ids::ProjectId;
use leptos::prelude::*;

/// The sources a person starts a workspace from (a scheduled task's runs are the server's own).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Manual,
    ResumeBranch,
    GithubIssue,
}

impl std::fmt::Display for Source {
    /// The wire name, as the create request spells it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let wire = match self {
            Self::Manual => WorkspaceCreationSource::Manual,
            Self::ResumeBranch => WorkspaceCreationSource::ResumeBranch,
            Self::GithubIssue => WorkspaceCreationSource::GithubIssue,
        };
        wire.fmt(f)
    }
}

fn optional(text: String) -> Option<String> {
    Some(text).filter(|t| !t.trim().is_empty())
}

#[derive(Clone, Default)]
struct Form {
    name: String,
    description: String,
    base_branch: String,
    branch_name: String,
    issue_number: String,
    issue_url: String,
    ratchet: bool,
    prompt: String,
    agent: String,
}

impl Form {
    fn request(&self, source: Source) -> Result<CreateWorkspaceRequest, FieldError> {
        let ratchet_enabled = Some(self.ratchet);
        let initial_prompt = (!self.prompt.trim().is_empty()).then(|| self.prompt.clone());
        let agent = optional(self.agent.clone());
        let request = match source {
            Source::Manual => CreateWorkspaceRequest::Manual {
                name: self.name.clone(),
                description: optional(self.description.clone()),
                base_branch: optional(self.base_branch.clone()),
                ratchet_enabled,
                initial_prompt,
                agent,
            },
            Source::ResumeBranch => CreateWorkspaceRequest::ResumeBranch {
                branch_name: self.branch_name.trim().to_owned(),
                name: optional(self.name.clone()),
                description: optional(self.description.clone()),
                ratchet_enabled,
                initial_prompt,
                agent,
            },
            Source::GithubIssue => CreateWorkspaceRequest::GithubIssue {
                issue_number: self.issue_number.trim().parse().map_err(|_| {
                    FieldError::new("issueNumber", "issueNumber must be a positive whole number")
                })?,
                issue_url: self.issue_url.trim().to_owned(),
                name: optional(self.name.clone()),
                ratchet_enabled,
                initial_prompt,
                agent,
            },
        };
        request.clone().parse().map(|_| request)
    }
}

#[component]
pub fn CreateDialog(
    project: ProjectId,
    open: RwSignal<bool>,
    /// The project's agent, which a workspace naming none gets.
    default_agent: Signal<Option<String>>,
) -> impl IntoView {
    let source = RwSignal::new(Source::Manual);
    let form = RwSignal::new(Form::default());
    let attempted = RwSignal::new(false);
    let refused = RwSignal::new(None::<String>);
    // The agent select writes here; the form reads it when it is checked and sent.
    let agent = RwSignal::new(String::new());
    Effect::new(move |_| {
        let chosen = agent.get();
        form.update(|f| f.agent = chosen);
    });
    let checked = Memo::new(move |_| {
        form.with(|f| f.request(source.get()))
            .map_err(|e| (e.field, e.message))
    });
    let picker_project = StoredValue::new(project.clone());
    let create = Action::new(move |request: &CreateWorkspaceRequest| {
        commands::create_workspace(project.clone(), request.clone())
    });
    let pick = Callback::new(move |issue: IssueSummary| {
        form.update(|f| {
            f.issue_number = issue.number.to_string();
            f.issue_url = issue.url.clone();
            f.name = issue.title.clone();
        })
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(_)) => {
            open.set(false);
            form.set(Form::default());
            agent.set(String::new());
            attempted.set(false);
        }
        Some(Err(message)) => refused.set(Some(message)),
        None => {}
    });
    let close = move || {
        open.set(false);
        refused.set(None);
    };
    // Escape closes the dialog wherever the focus is.
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if open.get_untracked() && ev.key() == "Escape" {
            close();
        }
    });
    on_cleanup(move || escape.remove());
    let error_for = move |field: &'static str| {
        move || {
            let show = attempted.get();
            checked.with(|c| match c {
                Err((f, message)) if *f == field && show => Some(message.clone()),
                _ => None,
            })
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        attempted.set(true);
        refused.set(None);
        if let Ok(request) = form.with(|f| f.request(source.get())) {
            create.dispatch(request);
        }
    };
    let text = move |label: &'static str,
                     field: &'static str,
                     testid: &'static str,
                     get: fn(&Form) -> String,
                     set: fn(&mut Form, String)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type="text"
                    data-testid=testid
                    prop:value=move || form.with(get)
                    on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))
                    aria-invalid=move || error_for(field)().is_some().then_some("true")
                />
                <span class="field-error" role="alert">{error_for(field)}</span>
            </label>
        }
    };
    move || {
        open.get().then(|| {
            view! {
                <div class="overlay" on:click=move |_| close()></div>
                <div
                    class="dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="create-title"
                    data-testid="create-dialog"
                >
                    <h2 id="create-title">"New workspace"</h2>
                    <form on:submit=submit>
                        <fieldset class="sources">
                            <legend>"Start from"</legend>
                            {[(Source::Manual, "A new branch"), (Source::ResumeBranch, "An existing branch"), (Source::GithubIssue, "A GitHub issue")]
                                .into_iter()
                                .map(|(value, label)| {
                                    view! {
                                        <label class="source">
                                            <input
                                                type="radio"
                                                name="source"
                                                data-testid=format!("source-{value}")
                                                prop:checked=move || source.get() == value
                                                on:change=move |_| source.set(value)
                                            />
                                            {label}
                                        </label>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                        {move || match source.get() {
                            Source::Manual => view! {
                                {text("Name", "name", "name", |f| f.name.clone(), |f, v| f.name = v)}
                                {text("Base branch (optional)", "baseBranch", "base-branch", |f| f.base_branch.clone(), |f, v| f.base_branch = v)}
                            }
                            .into_any(),
                            Source::ResumeBranch => view! {
                                {text("Branch", "branchName", "branch-name", |f| f.branch_name.clone(), |f, v| f.branch_name = v)}
                                {text("Name (optional)", "name", "name", |f| f.name.clone(), |f, v| f.name = v)}
                            }
                            .into_any(),
                            Source::GithubIssue => view! {
                                <IssuePicker project=picker_project.get_value() on_pick=pick />
                                {text("Issue number", "issueNumber", "issue-number", |f| f.issue_number.clone(), |f, v| f.issue_number = v)}
                                {text("Issue URL", "issueUrl", "issue-url", |f| f.issue_url.clone(), |f, v| f.issue_url = v)}
                                {text("Name (optional)", "name", "name", |f| f.name.clone(), |f, v| f.name = v)}
                            }
                            .into_any(),
                        }}
                        {move || (source.get() != Source::GithubIssue).then(|| text("Description (optional)", "description", "description", |f| f.description.clone(), |f, v| f.description = v))}
                        <label class="field">
                            <span>"First prompt for the agent (optional)"</span>
                            <textarea
                                rows="4"
                                data-testid="prompt"
                                placeholder="What should the agent do once the workspace is ready?"
                                prop:value=move || form.with(|f| f.prompt.clone())
                                on:input=move |ev| form.update(|f| f.prompt = event_target_value(&ev))
                                aria-invalid=move || error_for("initialPrompt")().is_some().then_some("true")
                            ></textarea>
                            <span class="field-error" role="alert">{error_for("initialPrompt")}</span>
                        </label>
                        <AgentSelect value=agent testid="agent" inherited=default_agent />
                        <label class="check">
                            <input
                                type="checkbox"
                                prop:checked=move || form.with(|f| f.ratchet)
                                on:change=move |ev| form.update(|f| f.ratchet = event_target_checked(&ev))
                            />
                            "Auto-fix CI failures and review comments (ratchet)"
                        </label>
                        <p class="server-error" role="alert" data-testid="create-error">{move || refused.get()}</p>
                        <div class="actions">
                            <button type="button" class="button secondary" on:click=move |_| close()>"Cancel"</button>
                            <button type="submit" class="button" data-testid="create-submit" disabled=move || create.pending().get()>
                                "Create workspace"
                            </button>
                        </div>
                    </form>
                </div>
            }
        })
    }
}
