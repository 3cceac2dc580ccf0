//! A project's scheduled tasks, in its settings: each task with when it is next due on its own
//! clock, enable, Run now, edit and delete, and its latest runs with links to their workspaces
//! and pull requests; and the form that adds or edits one. Times show in the task's zone, the
//! same text on the server and in the browser. The server's checks decide; its reason for
//! refusing shows here.

use crate::commands;
use crate::components::agent_select::AgentSelect;
use ff_core::enums::{ExecutionStatus, RunTrigger};
use ff_core::ids::{ProjectId, ScheduleId, Timestamp};
use ff_core::schedules::{Execution, NewSchedule, Schedule, SchedulePatch};
use leptos::prelude::*;

/// How people read a time of a task: on the task's clock, with its zone's abbreviation, as the
/// server wrote it (this module carries no time-zone database); in UTC if it did not.
fn on_clock(written: Option<&String>, at: Timestamp) -> String {
    written
        .cloned()
        .unwrap_or_else(|| at.utc("%Y-%m-%d %H:%M UTC"))
}

fn trigger_label(trigger: RunTrigger) -> &'static str {
    match trigger {
        RunTrigger::Scheduled => "on schedule",
        RunTrigger::CatchUp => "caught up at startup",
        RunTrigger::Manual => "run now",
    }
}

fn status_label(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Running => "running",
        ExecutionStatus::Completed => "completed",
        ExecutionStatus::Failed => "failed",
        ExecutionStatus::Skipped => "skipped",
    }
}

#[derive(Clone)]
struct Form {
    name: String,
    prompt: String,
    cron: String,
    time_zone: String,
    enabled: bool,
}

impl Default for Form {
    fn default() -> Self {
        Self {
            name: String::new(),
            prompt: String::new(),
            cron: "0 9 * * 1-5".into(),
            time_zone: "UTC".into(),
            enabled: true,
        }
    }
}

impl Form {
    fn of(schedule: &Schedule) -> Self {
        Self {
            name: schedule.name.clone(),
            prompt: schedule.prompt.clone(),
            cron: schedule.cron.clone(),
            time_zone: schedule.time_zone.clone(),
            enabled: schedule.enabled,
        }
    }

    /// The request; `agent` empty: the project's default. The server checks it: reading cron
    /// expressions and time zones takes a zone database this module leaves out.
    fn request(&self, agent: &str) -> NewSchedule {
        NewSchedule {
            name: self.name.clone(),
            prompt: self.prompt.clone(),
            agent: Some(agent.to_owned()).filter(|a| !a.is_empty()),
            cron: self.cron.clone(),
            time_zone: self.time_zone.trim().to_owned(),
            enabled: self.enabled,
        }
    }
}

/// What a button of the list asked for.
#[derive(Clone)]
enum Command {
    Save(Option<ScheduleId>, NewSchedule),
    Enable(ScheduleId, bool),
    Run(ScheduleId),
    Delete(ScheduleId),
}

/// The project's tasks after the command, and whether it saved the form.
async fn send(project: ProjectId, command: Command) -> Result<(Vec<Schedule>, bool), String> {
    let saved = matches!(command, Command::Save(..));
    match command {
        Command::Save(None, request) => {
            commands::create_schedule(project.clone(), request).await?;
        }
        Command::Save(Some(id), r) => {
            let patch = SchedulePatch {
                name: Some(r.name),
                prompt: Some(r.prompt),
                agent: Some(r.agent),
                cron: Some(r.cron),
                time_zone: Some(r.time_zone),
                enabled: Some(r.enabled),
            };
            commands::patch_schedule(id, patch).await?;
        }
        Command::Enable(id, enabled) => {
            let patch = SchedulePatch {
                enabled: Some(enabled),
                ..SchedulePatch::default()
            };
            commands::patch_schedule(id, patch).await?;
        }
        Command::Run(id) => {
            commands::run_schedule(id).await?;
        }
        Command::Delete(id) => commands::delete_schedule(id).await?,
    }
    Ok((commands::schedules(project).await?, saved))
}

#[component]
pub fn ScheduledTasks(project: ProjectId, schedules: RwSignal<Vec<Schedule>>) -> impl IntoView {
    let form = RwSignal::new(Form::default());
    let agent = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<ScheduleId>);
    let confirming = RwSignal::new(None::<ScheduleId>);
    let error = RwSignal::new(None::<String>);
    let act = Action::new(move |command: &Command| send(project.clone(), command.clone()));
    Effect::new(move |_| match act.value().get() {
        Some(Ok((fresh, saved))) => {
            schedules.set(fresh);
            error.set(None);
            // A saved form starts over; a refused one stays as it was typed.
            if saved {
                form.set(Form::default());
                agent.set(String::new());
                editing.set(None);
            }
        }
        Some(Err(message)) => error.set(Some(message)),
        None => {}
    });
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        // A new task's zone is the browser's, once there is a browser to ask.
        if let Some(zone) = browser_time_zone() {
            form.update(|f| {
                if f.time_zone == "UTC" {
                    f.time_zone = zone;
                }
            });
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = form.with_untracked(|f| f.request(&agent.get_untracked()));
        act.dispatch(Command::Save(editing.get_untracked(), request));
    };
    let field = move |label: &'static str,
                      testid: &'static str,
                      placeholder: &'static str,
                      get: fn(&Form) -> String,
                      set: fn(&mut Form, String)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input type="text" data-testid=testid placeholder=placeholder
                    prop:value=move || form.with(get)
                    on:input=move |ev| form.update(|f| set(f, event_target_value(&ev))) />
            </label>
        }
    };
    view! {
        <section class="scheduled-tasks" data-testid="scheduled-tasks" aria-labelledby="scheduled-tasks-title">
            <h3 id="scheduled-tasks-title">"Scheduled tasks"</h3>
            <p class="muted">"A prompt that starts a workspace at each due time. A task whose previous run is still working skips its turn; a due time missed while ff was stopped runs once when it starts."</p>
            <ul class="schedules">
                {move || schedules.get().into_iter().map(|s| {
                        let id = s.id.clone();
                        let next = match s.next_due_at {
                            Some(at) => format!("Next run {}", on_clock(s.next_due_on_clock.as_ref(), at)),
                            None if s.enabled => "Not due again".to_owned(),
                            None => "Disabled".to_owned(),
                        };
                        let runs = s.recent_executions.clone();
                        let (toggle, run, edit, delete, really) = (id.clone(), id.clone(), s.clone(), id.clone(), id.clone());
                        let confirm_shown = id.clone();
                        view! {
                            <li class="schedule" data-testid="schedule">
                                <div class="schedule-head">
                                    <strong data-testid="schedule-name">{s.name.clone()}</strong>
                                    <code>{s.cron.clone()}</code>
                                    <span class="muted">{s.time_zone.clone()}</span>
                                    <label class="toggle">
                                        <input type="checkbox" data-testid="schedule-enabled" prop:checked=s.enabled
                                            on:change=move |ev| { act.dispatch(Command::Enable(toggle.clone(), event_target_checked(&ev))); } />
                                        "Enabled"
                                    </label>
                                </div>
                                <p class="muted" data-testid="schedule-next">{next}</p>
                                <div class="actions">
                                    <button type="button" class="button secondary" data-testid="schedule-run"
                                        on:click=move |_| { act.dispatch(Command::Run(run.clone())); }>"Run now"</button>
                                    <button type="button" class="button secondary" data-testid="schedule-edit"
                                        on:click=move |_| {
                                            form.set(Form::of(&edit));
                                            agent.set(edit.agent.clone().unwrap_or_default());
                                            editing.set(Some(edit.id.clone()));
                                        }>"Edit"</button>
                                    {move || if confirming.get().as_ref() == Some(&confirm_shown) {
                                        let really = really.clone();
                                        view! {
                                            <button type="button" class="button danger" data-testid="schedule-delete-confirm"
                                                on:click=move |_| { act.dispatch(Command::Delete(really.clone())); }>"Delete it and its history"</button>
                                            <button type="button" class="button secondary" on:click=move |_| confirming.set(None)>"Keep"</button>
                                        }.into_any()
                                    } else {
                                        let delete = delete.clone();
                                        view! {
                                            <button type="button" class="button secondary" data-testid="schedule-delete"
                                                on:click=move |_| confirming.set(Some(delete.clone()))>"Delete"</button>
                                        }.into_any()
                                    }}
                                </div>
                                <History runs />
                            </li>
                        }
                    }).collect_view()}
            </ul>
            <p class="server-error" role="alert" data-testid="schedule-error">{move || error.get()}</p>
            <form class="schedule-form" on:submit=submit data-testid="schedule-form">
                <h4>{move || if editing.get().is_some() { "Edit the task" } else { "New task" }}</h4>
                {field("Name", "schedule-name-input", "Nightly dependency update", |f| f.name.clone(), |f, v| f.name = v)}
                <label class="field">
                    <span>"Prompt"</span>
                    <textarea rows="3" data-testid="schedule-prompt" placeholder="What the agent does at each run"
                        prop:value=move || form.with(|f| f.prompt.clone())
                        on:input=move |ev| form.update(|f| f.prompt = event_target_value(&ev))></textarea>
                </label>
                {field("Cron (minute hour day month weekday)", "schedule-cron", "0 9 * * 1-5", |f| f.cron.clone(), |f, v| f.cron = v)}
                {field("Time zone", "schedule-zone", "Europe/Berlin", |f| f.time_zone.clone(), |f, v| f.time_zone = v)}
                <AgentSelect value=agent testid="schedule-agent" />
                <label class="toggle">
                    <input type="checkbox" data-testid="schedule-form-enabled"
                        prop:checked=move || form.with(|f| f.enabled)
                        on:change=move |ev| form.update(|f| f.enabled = event_target_checked(&ev)) />
                    "Enabled"
                </label>
                <div class="actions">
                    {move || editing.get().is_some().then(|| view! {
                        <button type="button" class="button secondary" on:click=move |_| {
                            editing.set(None);
                            form.set(Form::default());
                            agent.set(String::new());
                        }>"Cancel edit"</button>
                    })}
                    <button type="submit" class="button" data-testid="schedule-save" disabled=move || act.pending().get()>
                        {move || if editing.get().is_some() { "Save task" } else { "Add task" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// A task's latest runs, newest first.
#[component]
fn History(runs: Vec<Execution>) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="muted" data-testid="schedule-history">"No runs yet."</p> }
            .into_any();
    }
    view! {
        <ol class="executions" data-testid="schedule-history">
            {runs.into_iter().map(|run| {
                let when = on_clock(run.on_clock.as_ref(), run.due_at.unwrap_or(run.started_at));
                let workspace = run.workspace_id.clone().map(|id| {
                    let name = run.workspace_name.clone().unwrap_or_else(|| id.to_string());
                    view! { <a href=format!("/workspaces/{id}") data-testid="execution-workspace">{name}</a> }
                });
                // Only a web address becomes a link; anything else is shown as text.
                let pr = run.pr_url.clone().map(|url| {
                    let label = run.pr_number.map_or_else(|| "pull request".to_owned(), |n| format!("PR #{n}"));
                    if url.starts_with("https://") || url.starts_with("http://") {
                        view! { <a href=url rel="noopener noreferrer" target="_blank" data-testid="execution-pr">{label}</a> }.into_any()
                    } else {
                        view! { <span data-testid="execution-pr">{label} " " {url}</span> }.into_any()
                    }
                });
                view! {
                    <li data-testid="execution" data-status=run.status.to_string()>
                        <span>{when}</span>
                        " · " <span class="muted">{trigger_label(run.trigger)}</span>
                        " · " <span class="execution-status">{status_label(run.status)}</span>
                        {workspace.map(|w| view! { " · " {w} })}
                        {pr.map(|p| view! { " · " {p} })}
                        {run.error.map(|e| view! { <div class="muted execution-error">{e}</div> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// The browser's IANA time zone, as `Intl` resolves it.
#[cfg(feature = "hydrate")]
fn browser_time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    let options = format.resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()?
        .as_string()
}
