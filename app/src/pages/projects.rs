//! `/`: the projects, and adding one by path.

use crate::commands;
use crate::data::Source;
use ff_core::api::AddProject;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let source = Source::current();
    let projects = Resource::new(|| (), move |_| source.projects());
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
        <section class="panel">
            <h1>"Projects"</h1>
            <Suspense fallback=|| ()>
                {move || projects.get().map(|loaded| match loaded {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No projects yet. Add a local git repository to start."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="project-list">
                            {list.into_iter().map(|p| view! {
                                <li>
                                    <a href=format!("/projects/{}", p.id) data-testid="project-link">{p.name}</a>
                                    <span class="muted mono">{p.repo_path}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
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
