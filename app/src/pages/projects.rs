//! `/`: the home page. "Needs you" first: every workspace of every project that waits on a
//! person, the most recent first, each one click from its chat; then each project with its live
//! counts (working, waiting on you, done); then adding a project by path.
//! Live through the projects' own snapshot sockets, one a project (the caches the boards use, so
//! the home page and the boards cannot disagree).

use crate::commands;
use crate::components::chips::StatusChips;
use crate::data::Source;
use crate::live::Live;
use ff_core::api::{AddProject, Project};
use ff_core::derive::{needs_you, ColumnCounts};
use ff_core::wire::Frame;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let source = Source::current();
    let projects = Resource::new(
        || (),
        move |_| {
            let source = source.clone();
            async move {
                let projects = source.projects().await?;
                let mut loaded = Vec::with_capacity(projects.len());
                for project in projects {
                    let frame = source.snapshot(project.id.clone()).await?;
                    loaded.push((project, frame));
                }
                Ok::<_, String>(loaded)
            }
        },
    );
    let path = RwSignal::new(String::new());
    let add = Action::new(|request: &AddProject| commands::add_project(request.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(project)) = add.value().get() {
            navigate(&format!("/projects/{}", project.id), Default::default());
        }
    });
    let refused = move || add.value().get().and_then(Result::err);
    view! {
        <section class="panel home">
            <h1>"Home"</h1>
            <Suspense fallback=|| ()>
                {move || projects.get().map(|loaded| match loaded {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No projects yet. Add a local git repository to start."</p>
                    }.into_any(),
                    Ok(list) => view! { <Home list /> }.into_any(),
                    Err(message) => view! { <p class="error">{message}</p> }.into_any(),
                })}
            </Suspense>
            <form class="add-project" on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch(AddProject { repo_path: path.get_untracked(), name: None });
            }>
                <label class="field">
                    <span>"Add a repository by its path"</span>
                    <input
                        type="text"
                        placeholder="/home/you/code/repo"
                        data-testid="repo-path"
                        prop:value=move || path.get()
                        on:input=move |ev| path.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" class="button" data-testid="add-project" disabled=move || add.pending().get()>
                    "Add project"
                </button>
                <p class="server-error" role="alert" data-testid="add-project-error">{refused}</p>
            </form>
        </section>
    }
}

#[component]
fn Home(list: Vec<(Project, Frame)>) -> impl IntoView {
    let projects: Vec<(Project, Live)> = list
        .into_iter()
        .map(|(project, frame)| {
            let live = Live::new(project.id.clone(), frame);
            (project, live)
        })
        .collect();
    let lives: Vec<(String, Live)> = projects
        .iter()
        .map(|(p, live)| (p.name.clone(), *live))
        .collect();
    let waiting = Memo::new(move |_| {
        let all: Vec<(String, ff_core::entry::Entry)> = lives
            .iter()
            .flat_map(|(name, live)| {
                live.entries
                    .get()
                    .into_iter()
                    .map(move |e| (name.clone(), e))
            })
            .collect();
        needs_you(all.iter().map(|(_, e)| e))
            .into_iter()
            .map(|e| {
                let project = all
                    .iter()
                    .find(|(_, x)| x.workspace_id == e.workspace_id)
                    .map(|(name, _)| name.clone())
                    .unwrap_or_default();
                (project, e.clone())
            })
            .collect::<Vec<_>>()
    });
    view! {
        <section class="needs-you" data-testid="needs-you" aria-labelledby="needs-you-title">
            <h2 id="needs-you-title">"Needs you " <span class="count" data-testid="needs-you-count">{move || waiting.with(Vec::len)}</span></h2>
            {move || waiting.with(Vec::is_empty).then(|| view! { <p class="muted">"Nothing waits on you."</p> })}
            <ul>
                <For
                    each=move || waiting.get()
                    key=|(_, e)| (e.workspace_id.clone(), e.version)
                    children=|(project, e)| {
                        let href = format!("/workspaces/{}", e.workspace_id);
                        let name = e.raw.name.clone();
                        let title = name.clone();
                        let workspace = e.workspace_id.to_string();
                        view! {
                            <li data-testid="needs-you-item" data-workspace=workspace>
                                <a href=href title=title>{name}</a>
                                <span class="muted">{project}</span>
                                <StatusChips entry=e />
                            </li>
                        }
                    }
                />
            </ul>
        </section>
        <h2>"Projects"</h2>
        <ul class="project-list">
            {projects.into_iter().map(|(p, live)| {
                let counts = Memo::new(move |_| live.entries.with(|all| ColumnCounts::of(all)));
                view! {
                    <li data-testid="project-row" data-project=p.id.to_string()>
                        <a href=format!("/projects/{}", p.id) data-testid="project-link">{p.name}</a>
                        <span class="project-counts">
                            <span data-testid="count-working">{move || counts.get().working} " working"</span>
                            <span data-testid="count-waiting">{move || counts.get().waiting} " waiting on you"</span>
                            <span data-testid="count-done">{move || counts.get().done} " done"</span>
                        </span>
                        <span class="muted mono">{p.repo_path}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
