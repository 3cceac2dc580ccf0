//! `/workspaces/{id}`: one workspace, its pull request, its ratchet, its agent sessions, its
//! setup output, its dev server and its actions.
//! Status comes from the project's live cache like everywhere else; the setup output and the
//! dev-server logs, which the snapshot does not carry, are fetched while they are moving.

use crate::commands;
use crate::components::chat::Sessions;
use crate::components::chips::{CiChip, CostChip, DiffStat, LifecycleBadge, ReasonChip};
use crate::components::overlaps::OverlapList;
use crate::components::pull_request::PullRequest;
use crate::components::ratchet::RatchetPanel;
use crate::components::terminal::Terminal;
use crate::data::Source;
use crate::live::Live;
use ff_core::api::WorkspaceDetail;
use ff_core::chat::ChatFrame;
use ff_core::enums::{RunScriptStatus, WorkspaceStatus};
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::ratchet::RatchetView;
use ff_core::wire::Frame;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn WorkspacePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || WorkspaceId::new(params.read().get("id").unwrap_or_default());
    // `?session=` chooses a session's tab (the ratchet links its fixers' transcripts so).
    let query = use_query_map();
    let wanted = Memo::new(move |_| query.with(|q| q.get("session").map(SessionId::new)));
    let source = Source::current();
    let page = Resource::new(id, move |id| {
        let source = source.clone();
        let wanted = wanted.get_untracked();
        async move {
            let detail = source.workspace(id.clone()).await?;
            let frame = source.snapshot(detail.workspace.project_id.clone()).await?;
            let ratchet = source.ratchet(id.clone()).await?;
            let chat = match shown_session(&frame, &id, wanted.as_ref()) {
                Some(session) => source.chat(session).await,
                None => None,
            };
            Ok::<_, String>((detail, frame, ratchet, chat))
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || page.get().map(|loaded| match loaded {
                Ok((detail, frame, ratchet, chat)) => view! { <WorkspaceView detail frame ratchet chat wanted /> }.into_any(),
                Err(message) => view! {
                    <section class="panel"><h1>"Workspace unavailable"</h1><p class="error">{message}</p><a href="/">"All projects"</a></section>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// The session whose chat the page shows first: the one asked for if the workspace has it, else
/// the workspace's first tab.
fn shown_session(
    frame: &Frame,
    workspace: &WorkspaceId,
    wanted: Option<&SessionId>,
) -> Option<SessionId> {
    let Frame::Full { entries, .. } = frame else {
        return None;
    };
    let sessions = entries
        .iter()
        .find(|e| &e.workspace_id == workspace)?
        .raw
        .session_summaries
        .as_slice();
    sessions
        .iter()
        .find(|s| wanted.is_some_and(|w| w.as_str() == s.session_id))
        .or_else(|| sessions.first())
        .map(|s| SessionId::new(s.session_id.clone()))
}

#[component]
fn WorkspaceView(
    detail: WorkspaceDetail,
    frame: Frame,
    ratchet: RatchetView,
    chat: Option<ChatFrame>,
    wanted: Memo<Option<SessionId>>,
) -> impl IntoView {
    let id = detail.workspace.id.clone();
    let project = detail.workspace.project_id.clone();
    let live = Live::new(project.clone(), frame);
    // Opening the workspace is what the attention mark asks for.
    live.cache.update(|c| c.acknowledge(&id));
    let detail = RwSignal::new(detail);
    let logs = RwSignal::new(String::new());
    let entry = Memo::new({
        let id = id.clone();
        move |_| live.cache.with(|c| c.get(&id).cloned())
    });
    // Hidden (archiving, archived) workspaces leave the live cache: then the fetched detail says.
    let status = move || {
        entry
            .with(|e| e.as_ref().map(|e| e.raw.status))
            .unwrap_or_else(|| detail.with(|d| d.workspace.status))
    };
    let run_status = move || {
        entry
            .with(|e| e.as_ref().map(|e| e.raw.run_script_status))
            .unwrap_or(RunScriptStatus::Idle)
    };
    #[cfg(feature = "hydrate")]
    follow(id.clone(), live, detail, logs);
    // Agents work in a ready workspace; the chat appears (once) when it is.
    let ready = Memo::new(move |_| status() == WorkspaceStatus::Ready);
    let error = RwSignal::new(None::<String>);
    let command = {
        let id = id.clone();
        Action::new(move |name: &&'static str| commands::workspace_command(id.clone(), name))
    };
    Effect::new(move |_| error.set(command.value().get().and_then(Result::err)));
    let confirming = RwSignal::new(false);
    let board = format!("/projects/{project}");
    let changes = format!("/workspaces/{id}/changes");
    let workspace = id.clone();
    let terminal = id.clone();
    let worktree = detail.with_untracked(|d| d.workspace.worktree_path.clone());
    let chat = StoredValue::new(chat);
    let branch = move || {
        detail.with(|d| {
            d.workspace
                .branch_name
                .clone()
                .unwrap_or_else(|| "—".to_owned())
        })
    };
    view! {
        <section class="panel workspace" data-testid="workspace">
            <p><a href=board.clone()>"← Board"</a></p>
            <header class="workspace-head">
                <h1>{move || detail.with(|d| d.workspace.name.clone())}</h1>
                <span data-testid="workspace-status" class="mono">{move || status().to_string()}</span>
                {move || entry.get().map(|e| view! {
                    <ReasonChip reason=e.derived.status_reason.clone() />
                    <LifecycleBadge status=e.raw.status />
                    <CiChip entry=e.clone() />
                    <DiffStat stats=e.raw.git_stats />
                    <CostChip entry=e.clone() />
                })}
            </header>
            <dl class="facts">
                <dt>"Branch"</dt><dd class="mono" data-testid="branch">{branch}</dd>
                <dt>"Worktree"</dt><dd class="mono" data-testid="worktree">{move || detail.with(|d| d.workspace.worktree_path.clone().unwrap_or_else(|| "—".to_owned()))}</dd>
                <dt>"Created from"</dt><dd>{move || detail.with(|d| d.workspace.creation_source.to_string())}</dd>
                <dt>"Changes"</dt><dd><a href=changes data-testid="changes-link">"Review the changes"</a></dd>
            </dl>
            {move || entry.get().map(|e| view! { <OverlapList workspace=e.workspace_id.clone() overlaps=e.raw.overlaps.clone() /> })}
            {move || detail.with(|d| d.workspace.init_error_message.clone()).map(|message| view! {
                <p class="warning" role="status" data-testid="init-error">{message}</p>
            })}
            {move || detail.with(|d| d.archive_error.clone()).map(|e| view! {
                <p class="error" role="alert">"The last archive was rolled back: " {e.message}</p>
            })}
            <p class="error" role="alert">{move || error.get()}</p>

            <div class="actions">
                {move || {
                    let retryable = status() == WorkspaceStatus::Failed
                        || (status() == WorkspaceStatus::Ready && detail.with(|d| d.workspace.init_error_message.is_some()));
                    retryable.then(|| view! {
                        <button type="button" class="button secondary" data-testid="retry" on:click=move |_| { command.dispatch("retry"); }>"Retry setup"</button>
                    })
                }}
                {move || matches!(status(), WorkspaceStatus::Ready | WorkspaceStatus::Failed).then(|| view! {
                    <button type="button" class="button danger" data-testid="archive" on:click=move |_| confirming.set(true)>"Archive…"</button>
                })}
            </div>
            {move || confirming.get().then(|| view! {
                <div class="confirm" role="alertdialog" aria-labelledby="confirm-title" data-testid="archive-confirm">
                    <h2 id="confirm-title">"Archive this workspace?"</h2>
                    <p>
                        "Any uncommitted or untracked work in the worktree will be committed to branch "
                        <code>{branch}</code>
                        " first. Then the worktree is removed; the branch is kept."
                    </p>
                    <div class="actions">
                        <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        <button type="button" class="button danger" data-testid="archive-confirm-button" on:click=move |_| {
                            confirming.set(false);
                            command.dispatch("archive");
                        }>"Commit and archive"</button>
                    </div>
                </div>
            })}
            {move || (status() == WorkspaceStatus::Archived).then(|| view! {
                <p class="muted" data-testid="archived">"This workspace is archived. " <a href=board.clone()>"Back to the board"</a></p>
            })}
            {move || detail.with(|d| d.archive_note.clone()).map(|note| view! {
                <p class="muted" data-testid="archive-note">{note}</p>
            })}

            <PullRequest id=id.clone() entry=entry ready=Signal::from(ready) />
            <RatchetPanel id=id.clone() entry first=ratchet />

            {move || ready.get().then(|| view! {
                <h2>"Agents"</h2>
                <Sessions workspace=workspace.clone() entry first=chat.try_update_value(Option::take).flatten() worktree=worktree.clone() wanted />
            })}
            {move || ready.get().then(|| view! { <Terminal workspace=terminal.clone() /> })}

            <h2>"Dev server"</h2>
            <div class="actions">
                <span data-testid="run-status" class="mono">{move || run_status().to_string()}</span>
                {move || detail.with(|d| d.run_script.command.clone()).map(|c| view! { <code class="command">{c}</code> })}
                <button type="button" class="button" data-testid="run-start"
                    disabled=move || run_status().is_active() || status() != WorkspaceStatus::Ready
                    on:click=move |_| { command.dispatch("run-script/start"); }>"Start"</button>
                <button type="button" class="button secondary" data-testid="run-stop"
                    disabled=move || !run_status().is_active()
                    on:click=move |_| { command.dispatch("run-script/stop"); }>"Stop"</button>
            </div>
            <pre class="log" data-testid="run-logs" aria-live="polite">{move || logs.get()}</pre>

            <h2>"Setup output"</h2>
            <pre class="log" data-testid="init-output">{move || detail.with(|d| d.init_output.clone())}</pre>
        </section>
    }
    .into_any()
}

/// While the page is open: the setup output whenever the status moves (and every second while
/// it is being set up), and the dev server's logs while it runs, plus once after it stops.
#[cfg(feature = "hydrate")]
fn follow(id: WorkspaceId, live: Live, detail: RwSignal<WorkspaceDetail>, logs: RwSignal<String>) {
    use gloo_timers::future::sleep;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let running = Arc::new(AtomicBool::new(true));
    let stop = running.clone();
    on_cleanup(move || stop.store(false, Ordering::Relaxed));
    leptos::task::spawn_local(async move {
        let mut seen = detail.with_untracked(|d| Some(d.workspace.status));
        let mut read_logs = true;
        while running.load(Ordering::Relaxed) {
            let now = live
                .cache
                .with_untracked(|c| c.get(&id).map(|e| (e.raw.status, e.raw.run_script_status)));
            // Not in the live cache: hidden, so archiving or archived; the detail tells which.
            let status = now
                .map(|(status, _)| status)
                .or_else(|| detail.with_untracked(|d| Some(d.workspace.status)));
            let busy = match now {
                Some((status, _)) => matches!(
                    status,
                    WorkspaceStatus::New
                        | WorkspaceStatus::Provisioning
                        | WorkspaceStatus::Archiving
                ),
                None => status != Some(WorkspaceStatus::Archived),
            };
            if busy || status != seen {
                if let Ok(fresh) = commands::workspace(id.clone()).await {
                    detail.set(fresh);
                    seen = status;
                }
            }
            let active = now.is_some_and(|(_, run)| run.is_active());
            if active || read_logs {
                if let Ok(text) = commands::logs(id.clone()).await {
                    logs.set(text);
                }
            }
            read_logs = active;
            sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}
