//! `/projects/{id}` and `/projects/{id}/list`: the sidebar and the board or the list, all read
//! from the one live cache of the project.

use super::{board::Board, list::List};
use crate::components::connection::ConnectionIndicator;
use crate::components::create_dialog::CreateDialog;
use crate::components::github_status::GithubStatusLine;
use crate::components::project_settings::ProjectSettings;
use crate::components::sidebar::SidebarRow;
use crate::data::Source;
use crate::live::Live;
use ff_core::api::Project;
use ff_core::github::HostStatus;
use ff_core::ids::ProjectId;
use ff_core::schedules::Schedule;
use ff_core::wire::Frame;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Board,
    List,
}

#[component]
pub fn ProjectPage(mode: Mode) -> impl IntoView {
    let params = use_params_map();
    let id = move || ProjectId::new(params.read().get("id").unwrap_or_default());
    let settings_open = use_query_map().with_untracked(|q| q.get("settings").is_some());
    let source = Source::current();
    let page = Resource::new(id, move |id| {
        let source = source.clone();
        async move {
            let snapshot = source.snapshot(id.clone());
            let schedules = source.schedules(id.clone());
            let project = source.project(id).await?;
            // GitHub's state is a status line: failing to read it never fails the page.
            let github = source.github_status(&project).await.ok().flatten();
            Ok::<_, String>((project, snapshot.await?, github, schedules.await?))
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || page.get().map(|loaded| match loaded {
                Ok((project, frame, github, schedules)) => view! { <ProjectView project frame mode github schedules settings_open /> }.into_any(),
                Err(message) => view! {
                    <section class="panel"><h1>"Project unavailable"</h1><p class="error">{message}</p><a href="/">"All projects"</a></section>
                }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn ProjectView(
    project: Project,
    frame: Frame,
    mode: Mode,
    github: Option<HostStatus>,
    schedules: Vec<Schedule>,
    /// `?settings`: the settings open on the first load.
    settings_open: bool,
) -> impl IntoView {
    let live = Live::new(project.id.clone(), frame);
    let github = RwSignal::new(github);
    #[cfg(feature = "hydrate")]
    follow_github(project.clone(), github);
    let creating = RwSignal::new(false);
    let configuring = RwSignal::new(settings_open);
    let schedules = RwSignal::new(schedules);
    let board = format!("/projects/{}", project.id);
    let list = format!("/projects/{}/list", project.id);
    let id = project.id.clone();
    let project = RwSignal::new(project);
    let default_agent = Signal::derive(move || project.with(|p| p.default_agent.clone()));
    view! {
        <div class="project" data-testid="project">
            <header class="project-head">
                <h1 data-testid="project-title">{move || project.with(|p| p.name.clone())}</h1>
                <nav class="tabs" aria-label="Views">
                    <a href=board aria-current=(mode == Mode::Board).then_some("page")>"Board"</a>
                    <a href=list aria-current=(mode == Mode::List).then_some("page")>"List"</a>
                </nav>
                <ConnectionIndicator connection=live.connection />
                <button type="button" class="button secondary" data-testid="project-settings-open" on:click=move |_| configuring.set(true)>
                    "Settings"
                </button>
                <button type="button" class="button" data-testid="new-workspace" on:click=move |_| creating.set(true)>
                    "New workspace"
                </button>
            </header>
            <GithubStatusLine status=github />
            <div class="project-body">
                <aside class="sidebar" aria-label="Workspaces">
                    <ul>
                        <For
                            each=move || live.entries.get()
                            key=|e| (e.workspace_id.clone(), e.version)
                            children=move |e| {
                                let attention = live.cache.with_untracked(|c| c.needs_attention(&e.workspace_id));
                                view! { <SidebarRow entry=e attention /> }
                            }
                        />
                    </ul>
                </aside>
                <main class="project-main">
                    {match mode {
                        Mode::Board => view! { <Board live /> }.into_any(),
                        Mode::List => view! { <List live /> }.into_any(),
                    }}
                </main>
            </div>
            <CreateDialog project=id open=creating default_agent />
            <ProjectSettings project open=configuring schedules />
        </div>
    }
}

/// GitHub's status line follows the host while the page is open (every 30 s; every 2 s while
/// ff is still looking for the token).
#[cfg(feature = "hydrate")]
fn follow_github(project: Project, github: RwSignal<Option<HostStatus>>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    if project.github_owner.is_none() {
        return;
    }
    let running = Arc::new(AtomicBool::new(true));
    let stop = running.clone();
    on_cleanup(move || stop.store(false, Ordering::Relaxed));
    leptos::task::spawn_local(async move {
        let source = Source::current();
        while running.load(Ordering::Relaxed) {
            // While the token is still being looked for, the answer is seconds away.
            let looking =
                github.with_untracked(|s| s.as_ref().is_none_or(HostStatus::still_looking));
            let wait = if looking { 2 } else { 30 };
            gloo_timers::future::sleep(std::time::Duration::from_secs(wait)).await;
            if let Ok(status) = source.github_status(&project).await {
                github.set(status);
            }
        }
    });
}
