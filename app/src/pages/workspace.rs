//! `/workspaces/{id}` and `/workspaces/{id}/changes`: the cockpit of one workspace. The chat is
//! the main pane, its composer at the bottom of the viewport; beside it a tabbed panel (Changes,
//! Pull request, Auto-fix, Dev server, Setup) whose width each browser remembers; on a phone the
//! panel is a full-screen sheet. The header is one line: name, branch, status, PR, a menu.
//! Status comes from the project's live cache like everywhere else; the setup output and the
//! dev-server logs, which the snapshot does not carry, are fetched while they are moving.

use super::changes::{Changes, ChangesPanel};
use crate::commands;
use crate::components::chat::Sessions;
use crate::components::chips::{CostChip, DiffStat, PrChips, PrLink, StatusChips};
use crate::components::open_in_editor::{EditorTarget, OpenInEditor, Worktree};
use crate::components::overlaps::OverlapList;
use crate::components::pull_request::PullRequest;
use crate::components::ratchet::RatchetPanel;
use crate::components::terminal::Terminal;
use crate::data::Source;
use crate::live::Live;
use ff_core::api::{ArchiveRequest, ChildrenOnArchive, WorkspaceDetail};
use ff_core::chat::ChatFrame;
use ff_core::entry::Entry;
use ff_core::enums::{RunScriptStatus, WorkspaceStatus};
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::ratchet::RatchetView;
use ff_core::wire::Frame;
use futures_util::future::join4;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Everything a tab of the panel may draw from.
#[derive(Clone)]
struct Cockpit {
    id: WorkspaceId,
    live: Live,
    entry: Memo<Option<Entry>>,
    detail: RwSignal<WorkspaceDetail>,
    status: Signal<WorkspaceStatus>,
    ready: Signal<bool>,
    logs: RwSignal<String>,
    command: Action<&'static str, Result<(), String>>,
    ratchet: StoredValue<RatchetView>,
    changes: StoredValue<Option<Changes>>,
    /// The tab shown.
    tab: Memo<&'static str>,
}

/// One tab of the panel: its key (in `?tab=` and `data-tab`), its label, and what it shows.
struct Tab {
    key: &'static str,
    label: &'static str,
    view: fn(&Cockpit) -> AnyView,
}

/// The panel's tabs, in order; the first is shown unless the address asks for another.
const TABS: &[Tab] = &[
    Tab {
        key: "changes",
        label: "Changes",
        view: changes_tab,
    },
    Tab {
        key: "pr",
        label: "Pull request",
        view: pr_tab,
    },
    Tab {
        key: "autofix",
        label: "Auto-fix",
        view: autofix_tab,
    },
    Tab {
        key: "dev",
        label: "Dev server",
        view: dev_tab,
    },
    Tab {
        key: "terminal",
        label: "Terminal",
        view: terminal_tab,
    },
    Tab {
        key: "setup",
        label: "Setup",
        view: setup_tab,
    },
];

/// The tab the address asks for: `/workspaces/{id}/{tab}` or `?tab=` (which wins), if it is one.
fn asked_tab(path: Option<&str>, query: Option<&str>) -> Option<&'static str> {
    query
        .or(path)
        .and_then(|asked| TABS.iter().find(|t| t.key == asked))
        .map(|t| t.key)
}

/// The panel's width (px) until the person drags it.
const PANEL_WIDTH: i32 = 560;

#[component]
pub fn WorkspacePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || WorkspaceId::new(params.read().get("id").unwrap_or_default());
    // `?session=` chooses a session's tab (the ratchet links its fixers' transcripts so).
    let query = use_query_map();
    let wanted = Memo::new(move |_| query.with(|q| q.get("session").map(SessionId::new)));
    let source = Source::current();
    let page_host = EditorTarget::page_host();
    let page = Resource::new(id, move |id| {
        let source = source.clone();
        let page_host = page_host.clone();
        let wanted = wanted.get_untracked();
        let path = query.with_untracked(|q| q.get("path"));
        async move {
            let detail = source.workspace(id.clone()).await?;
            // A worktree being set up has no diff yet; the tab says so.
            let diffable = detail.workspace.status == WorkspaceStatus::Ready
                && detail.workspace.worktree_path.is_some();
            // The rest needs only the workspace: read it all at once, so the first load waits
            // for the slowest read and not their sum.
            let snapshot_and_chat = async {
                let frame = source.snapshot(detail.workspace.project_id.clone()).await?;
                let chat = match shown_session(&frame, &id, wanted.as_ref()) {
                    Some(session) => source.chat(session).await,
                    None => None,
                };
                Ok::<_, String>((frame, chat))
            };
            let changes = async {
                match diffable {
                    true => Changes::load(&source, &id, path).await,
                    false => None,
                }
            };
            let (snapshot_and_chat, ratchet, changes, settings) = join4(
                snapshot_and_chat,
                source.ratchet(id.clone()),
                changes,
                source.settings(),
            )
            .await;
            let (frame, chat) = snapshot_and_chat?;
            let ratchet = ratchet?;
            // Without the settings the page still works, with no "Open in editor".
            let editor = settings.ok().map(|s| EditorTarget {
                settings: s.editor,
                page_host,
            });
            Ok::<_, String>((detail, frame, ratchet, chat, changes, editor))
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || page.get().map(|loaded| match loaded {
                Ok((detail, frame, ratchet, chat, changes, editor)) => view! { <WorkspaceView detail frame ratchet chat changes editor wanted /> }.into_any(),
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
    changes: Option<Changes>,
    editor: Option<EditorTarget>,
    wanted: Memo<Option<SessionId>>,
) -> impl IntoView {
    if let Some(editor) = editor {
        provide_context(editor);
    }
    if let Some(worktree) = detail.workspace.worktree_path.clone() {
        provide_context(Worktree(worktree));
    }
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
    let status = Signal::derive(move || {
        entry
            .with(|e| e.as_ref().map(|e| e.raw.status))
            .unwrap_or_else(|| detail.with(|d| d.workspace.status))
    });
    #[cfg(feature = "hydrate")]
    follow(id.clone(), live, detail, logs);
    // Agents work in a ready workspace; the chat appears (once) when it is.
    let ready = Memo::new(move |_| status.get() == WorkspaceStatus::Ready);
    let error = RwSignal::new(None::<String>);
    let command = {
        let id = id.clone();
        Action::new(move |name: &&'static str| commands::workspace_command(id.clone(), name))
    };
    Effect::new(move |_| error.set(command.value().get().and_then(Result::err)));
    let archive = {
        let id = id.clone();
        Action::new(move |request: &ArchiveRequest| {
            commands::archive_workspace(id.clone(), *request)
        })
    };
    Effect::new(move |_| {
        if let Some(Err(e)) = archive.value().get() {
            error.set(Some(e));
        }
    });
    let confirming = RwSignal::new(false);
    // The children its agents created that are still on the board: archiving asks about them.
    let live_children = Memo::new({
        let id = id.clone();
        move |_| {
            live.entries.with(|all| {
                all.iter()
                    .filter(|e| e.raw.parent.as_ref().is_some_and(|p| p.id == id))
                    .count()
            })
        }
    });
    let board = format!("/projects/{project}");
    let workspace_for_editor = id.clone();
    let workspace = id.clone();
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
    let params = use_params_map();
    let query = use_query_map();
    let tab = Memo::new(move |_| {
        let path = params.with(|p| p.get("tab"));
        let asked = query.with(|q| q.get("tab"));
        asked_tab(path.as_deref(), asked.as_deref()).unwrap_or(TABS[0].key)
    });
    // On a phone the panel is a sheet over the chat: open on the first load when the address
    // asked for a tab (a link to a diff opens it).
    let sheet = RwSignal::new(
        params.with_untracked(|p| p.get("tab").is_some())
            || query.with_untracked(|q| q.get("tab").is_some()),
    );
    let width = RwSignal::new(PANEL_WIDTH);
    #[cfg(feature = "hydrate")]
    browser::remember_width(width);
    let cockpit = Cockpit {
        id: id.clone(),
        live,
        entry,
        detail,
        status,
        ready: Signal::from(ready),
        logs,
        command,
        ratchet: StoredValue::new(ratchet),
        changes: StoredValue::new(changes),
        tab,
    };
    let session_query = move || {
        query
            .with(|q| q.get("session"))
            .map(|s| format!("&session={s}"))
            .unwrap_or_default()
    };
    let tab_list = TABS
        .iter()
        .map(|t| {
            let key = t.key;
            let href = {
                let id = id.clone();
                move || match key {
                    "changes" => format!("/workspaces/{id}/changes"),
                    _ => format!("/workspaces/{id}?tab={key}{}", session_query()),
                }
            };
            view! {
                <a role="tab" class="panel-tab" data-testid="panel-tab" data-tab=key href=href
                    aria-selected=move || (tab.get() == key).to_string()>{t.label}</a>
            }
        })
        .collect_view();
    let panes = TABS
        .iter()
        .map(|t| {
            let key = t.key;
            view! {
                <div class="panel-pane" role="tabpanel" data-tab=key aria-label=t.label
                    hidden=move || tab.get() != key>
                    {(t.view)(&cockpit)}
                </div>
            }
        })
        .collect_view();
    let name = move || detail.with(|d| d.workspace.name.clone());
    let drag = move |ev: leptos::ev::PointerEvent| {
        #[cfg(feature = "hydrate")]
        browser::drag(ev, width);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let nudge = move |ev: leptos::ev::KeyboardEvent| {
        #[cfg(feature = "hydrate")]
        browser::nudge(ev, width);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <section class="cockpit" data-testid="workspace" data-status=move || status.get().to_string()>
            <header class="workspace-head">
                <a class="back" href=board.clone() title="Back to the board" aria-label="Back to the board">"←"</a>
                <h1 title=name>{name}</h1>
                <span class="branch" data-testid="branch" title=branch>{branch}</span>
                {move || entry.get().map(|e| view! {
                    <StatusChips entry=e.clone() />
                    <DiffStat stats=e.raw.git_stats />
                    <PrLink entry=e.clone() />
                    <PrChips entry=e.clone() />
                    <CostChip entry=e />
                })}
                <span class="spacer"></span>
                <button type="button" class="button secondary sheet-open" data-testid="open-panel"
                    aria-expanded=move || sheet.get().to_string() on:click=move |_| sheet.set(true)>
                    "Changes & PR"
                </button>
                {move || detail.with(|d| d.workspace.worktree_path.clone()).map(|worktree| view! {
                    <OpenInEditor workspace=workspace_for_editor.clone() worktree />
                })}
                <details class="menu" data-testid="workspace-menu">
                    <summary aria-label="More actions">"⋯"</summary>
                    <div class="menu-items">
                        <p class="mono muted" data-testid="worktree" title="Worktree">{move || detail.with(|d| d.workspace.worktree_path.clone().unwrap_or_else(|| "—".to_owned()))}</p>
                        <p class="muted">"Created from " {move || detail.with(|d| d.workspace.creation_source.to_string())}</p>
                        {move || matches!(status.get(), WorkspaceStatus::Ready | WorkspaceStatus::Failed).then(|| view! {
                            <button type="button" class="button danger" data-testid="archive" on:click=move |_| confirming.set(true)>"Archive…"</button>
                        })}
                    </div>
                </details>
            </header>
            {move || detail.with(|d| d.archive_error.clone()).map(|e| view! {
                <p class="error" role="alert">"The last archive was rolled back: " {e.message}</p>
            })}
            <p class="error" role="alert">{move || error.get()}</p>
            {move || confirming.get().then(|| {
                let children = live_children.get();
                let plural = if children == 1 { "" } else { "s" };
                let choose = move |choice: Option<ChildrenOnArchive>| {
                    confirming.set(false);
                    archive.dispatch(ArchiveRequest { children: choice });
                };
                view! {
                    <div class="confirm" role="alertdialog" aria-labelledby="confirm-title" data-testid="archive-confirm">
                        <h2 id="confirm-title">"Archive this workspace?"</h2>
                        <p>
                            "Any uncommitted or untracked work in the worktree will be committed to branch "
                            <code>{branch}</code>
                            " first. Then the worktree is removed; the branch is kept."
                        </p>
                        {(children > 0).then(|| view! {
                            <p data-testid="archive-children">
                                {format!("Its agents created {children} child workspace{plural} that {} still live. Archive them too (their work is committed the same way), or keep them as workspaces of their own?", if children == 1 { "is" } else { "are" })}
                            </p>
                        })}
                        <div class="actions">
                            <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            {if children > 0 {
                                view! {
                                    <button type="button" class="button secondary" data-testid="archive-detach-children"
                                        on:click=move |_| choose(Some(ChildrenOnArchive::Detach))>"Keep them (detach)"</button>
                                    <button type="button" class="button danger" data-testid="archive-with-children"
                                        on:click=move |_| choose(Some(ChildrenOnArchive::Archive))>
                                        {format!("Archive its {children} child workspace{plural} too")}
                                    </button>
                                }.into_any()
                            } else {
                                view! {
                                    <button type="button" class="button danger" data-testid="archive-confirm-button"
                                        on:click=move |_| choose(None)>"Commit and archive"</button>
                                }.into_any()
                            }}
                        </div>
                    </div>
                }
            })}
            {move || (status.get() == WorkspaceStatus::Archived).then(|| view! {
                <p class="muted" data-testid="archived">"This workspace is archived. " <a href=board.clone()>"Back to the board"</a></p>
            })}
            {move || detail.with(|d| d.archive_note.clone()).map(|note| view! {
                <p class="muted" data-testid="archive-note">{note}</p>
            })}
            {move || detail.with(|d| d.parent.clone()).map(|parent| view! {
                <p class="muted" data-testid="parent">
                    "Child of " <a href=format!("/workspaces/{}", parent.id)>{parent.name}</a>
                </p>
            })}
            {move || detail.with(|d| (!d.children.is_empty()).then(|| d.children.clone())).map(|children| view! {
                <details class="children" data-testid="children">
                    <summary>{format!("Child workspaces ({})", children.len())}</summary>
                    <ul>
                        {children.into_iter().map(|child| view! {
                            <li>
                                <a href=format!("/workspaces/{}", child.id)>{child.name}</a>
                                " " <span class="muted">{child.status.to_string()}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                </details>
            })}
            <div class="cockpit-body" style=move || format!("--panel-width: {}px", width.get())>
                <div class="cockpit-chat">
                    {move || entry.get().map(|e| view! { <OverlapList workspace=e.workspace_id.clone() overlaps=e.raw.overlaps.clone() /> })}
                    {move || if ready.get() {
                        view! {
                            <Sessions workspace=workspace.clone() entry first=chat.try_update_value(Option::take).flatten() worktree=worktree.clone() wanted />
                        }.into_any()
                    } else {
                        view! { <p class="muted not-ready">"The agents start once the workspace is set up: see Setup."</p> }.into_any()
                    }}
                </div>
                <div class="resizer" role="separator" aria-orientation="vertical" aria-label="Resize the panel"
                    tabindex="0" data-testid="resizer"
                    aria-valuenow=move || width.get().to_string()
                    on:pointerdown=drag on:keydown=nudge
                ></div>
                <aside class="work-panel" class:open=move || sheet.get() aria-label="Workspace panel" data-testid="work-panel">
                    <div class="panel-bar">
                        <nav class="panel-tabs" role="tablist" aria-label="Panel">{tab_list}</nav>
                        <button type="button" class="button secondary sheet-close" data-testid="close-panel"
                            on:click=move |_| sheet.set(false)>"Back to chat"</button>
                    </div>
                    {panes}
                </aside>
            </div>
        </section>
    }
    .into_any()
}

fn changes_tab(c: &Cockpit) -> AnyView {
    let tab = c.tab;
    let first = c.changes.try_update_value(Option::take).flatten();
    view! {
        <ChangesPanel id=c.id.clone() live=c.live first active=Signal::derive(move || tab.get() == "changes") />
    }
    .into_any()
}

fn pr_tab(c: &Cockpit) -> AnyView {
    view! { <PullRequest id=c.id.clone() entry=c.entry ready=c.ready /> }.into_any()
}

fn autofix_tab(c: &Cockpit) -> AnyView {
    let first = c.ratchet.get_value();
    view! { <RatchetPanel id=c.id.clone() entry=c.entry first /> }.into_any()
}

fn dev_tab(c: &Cockpit) -> AnyView {
    let (entry, detail, status, logs, command) = (c.entry, c.detail, c.status, c.logs, c.command);
    let run_status = move || {
        entry
            .with(|e| e.as_ref().map(|e| e.raw.run_script_status))
            .unwrap_or(RunScriptStatus::Idle)
    };
    // The address ff gave the dev server, while it runs.
    let url = move || {
        detail
            .with(|d| d.run_script.port)
            .filter(|_| run_status().is_active())
            .map(|port| format!("http://localhost:{port}"))
    };
    view! {
        <section class="dev-server" aria-labelledby="dev-title">
            <h2 id="dev-title">"Dev server"</h2>
            <div class="actions">
                <span data-testid="run-status" class="mono">{move || run_status().to_string()}</span>
                {move || detail.with(|d| d.run_script.command.clone()).map(|c| view! { <code class="command">{c}</code> })}
                <button type="button" class="button" data-testid="run-start"
                    disabled=move || run_status().is_active() || status.get() != WorkspaceStatus::Ready
                    on:click=move |_| { command.dispatch("run-script/start"); }>"Start"</button>
                <button type="button" class="button secondary" data-testid="run-stop"
                    disabled=move || !run_status().is_active()
                    on:click=move |_| { command.dispatch("run-script/stop"); }>"Stop"</button>
                {move || url().map(|u| view! {
                    <a href=u.clone() target="_blank" rel="noopener noreferrer" data-testid="run-url">{u.clone()}</a>
                })}
            </div>
            <pre class="log" data-testid="run-logs" aria-live="polite">{move || logs.get()}</pre>
        </section>
    }
    .into_any()
}

/// Mounted while its tab is shown (and the worktree is ready): xterm.js measures a visible screen,
/// and leaving the tab detaches while the shell runs on, so coming back shows its scrollback.
fn terminal_tab(c: &Cockpit) -> AnyView {
    let (tab, ready, id) = (c.tab, c.ready, c.id.clone());
    (move || {
        (tab.get() == "terminal").then(|| {
            if ready.get() {
                view! { <Terminal workspace=id.clone() /> }.into_any()
            } else {
                view! { <p class="muted">"A terminal opens once the workspace is set up."</p> }
                    .into_any()
            }
        })
    })
    .into_any()
}

fn setup_tab(c: &Cockpit) -> AnyView {
    let (detail, status, command) = (c.detail, c.status, c.command);
    view! {
        <section class="setup" aria-labelledby="setup-title">
            <h2 id="setup-title">"Setup output"</h2>
            {move || detail.with(|d| d.workspace.init_error_message.clone()).map(|message| view! {
                <p class="warning" role="status" data-testid="init-error">{message}</p>
            })}
            {move || {
                let retryable = status.get() == WorkspaceStatus::Failed
                    || (status.get() == WorkspaceStatus::Ready && detail.with(|d| d.workspace.init_error_message.is_some()));
                retryable.then(|| view! {
                    <div class="actions">
                        <button type="button" class="button secondary" data-testid="retry" on:click=move |_| { command.dispatch("retry"); }>"Retry setup"</button>
                    </div>
                })
            }}
            <pre class="log" data-testid="init-output">{move || detail.with(|d| d.init_output.clone())}</pre>
        </section>
    }
    .into_any()
}

/// The panel width a browser keeps: read once hydrated, written when a drag ends, bounded by the
/// window so a width saved on a wide screen still leaves the chat its room on a narrow one.
#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;

    const PANEL_WIDTH_KEY: &str = "ff.panelWidth";
    const PANEL_MIN: i32 = 320;
    /// What the chat keeps at least when the panel grows.
    const CHAT_MIN: i32 = 360;

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    fn bounded(width: i32) -> i32 {
        let window = web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .map_or(i32::MAX, |w| w as i32);
        width.min(window - CHAT_MIN).max(PANEL_MIN)
    }

    pub fn remember_width(width: RwSignal<i32>) {
        Effect::new(move |_| {
            if let Some(saved) = storage()
                .and_then(|s| s.get_item(PANEL_WIDTH_KEY).ok().flatten())
                .and_then(|w| w.parse::<i32>().ok())
            {
                width.set(bounded(saved));
            }
        });
    }

    fn save(width: i32) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(PANEL_WIDTH_KEY, &width.to_string());
        }
    }

    /// Dragging the separator: the panel's left edge follows the pointer until it is released.
    pub fn drag(ev: leptos::ev::PointerEvent, width: RwSignal<i32>) {
        ev.prevent_default();
        let start_x = ev.client_x();
        let start_width = width.get_untracked();
        let moves = window_event_listener(leptos::ev::pointermove, move |ev| {
            width.set(bounded(start_width + start_x - ev.client_x()));
        });
        let moves = StoredValue::new_local(Some(moves));
        let ups = StoredValue::new_local(None::<WindowListenerHandle>);
        ups.set_value(Some(window_event_listener(
            leptos::ev::pointerup,
            move |_| {
                if let Some(handle) = moves.try_update_value(Option::take).flatten() {
                    handle.remove();
                }
                if let Some(handle) = ups.try_update_value(Option::take).flatten() {
                    handle.remove();
                }
                save(width.get_untracked());
            },
        )));
    }

    /// The keyboard's way to resize: arrows move the separator by 32 px.
    pub fn nudge(ev: leptos::ev::KeyboardEvent, width: RwSignal<i32>) {
        let by = match ev.key().as_str() {
            "ArrowLeft" => 32,
            "ArrowRight" => -32,
            _ => return,
        };
        ev.prevent_default();
        let now = bounded(width.get_untracked() + by);
        width.set(now);
        save(now);
    }
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
        let mut seen_run = None;
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
            let active = now.is_some_and(|(_, run)| run.is_active());
            // A dev server that starts gets its port: the detail has it.
            let run_moved = now.map(|(_, run)| run) != seen_run;
            if busy || status != seen || run_moved {
                if let Ok(fresh) = commands::workspace(id.clone()).await {
                    detail.set(fresh);
                    seen = status;
                    seen_run = now.map(|(_, run)| run);
                }
            }
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

#[cfg(test)]
mod tests {
    use super::{asked_tab, TABS};

    #[test]
    fn the_address_chooses_the_tab_and_the_query_wins() {
        assert_eq!(asked_tab(None, None), None);
        assert_eq!(asked_tab(Some("changes"), None), Some("changes"));
        assert_eq!(asked_tab(Some("changes"), Some("pr")), Some("pr"));
        assert_eq!(asked_tab(None, Some("autofix")), Some("autofix"));
        assert_eq!(asked_tab(Some("nonsense"), Some("nope")), None);
        assert_eq!(TABS[0].key, "changes");
    }
}
