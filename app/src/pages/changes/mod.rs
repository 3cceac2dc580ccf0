//! The workspace page's Changes tab (`/workspaces/{id}/changes`): what the agent changed, file by
//! file, and line comments sent back to it (review.md §1–§2). The first HTML has the file list and
//! the first (or asked-for) file's hunks; then the keyboard moves between files, hunks and lines
//! while the tab is shown, and the tab refreshes itself when the workspace's live entry says the
//! worktree moved.

mod state;
mod view;

use crate::commands;
use crate::data::Source;
use crate::live::Live;
use ff_core::ids::WorkspaceId;
use ff_core::review::comments::ReviewComment;
use ff_core::review::diff::{DiffList, FileDiff};
use futures_util::future::join;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use state::ReviewState;
use view::{FileList, FileView};

/// What the Changes tab starts from: the file list, the comments and the shown file.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Changes {
    list: DiffList,
    comments: Vec<ReviewComment>,
    file: Option<FileDiff>,
}

impl Changes {
    /// Reads them for the page's first load, the `wanted` file if it is listed, else the first.
    /// `None` while there is no diff to read (a workspace still being set up has no worktree).
    pub async fn load(source: &Source, id: &WorkspaceId, wanted: Option<String>) -> Option<Self> {
        let (list, comments) =
            join(source.diff(id.clone()), source.review_comments(id.clone())).await;
        let (list, comments) = (list.ok()?, comments.ok()?);
        let path = wanted
            .filter(|p| list.file(p).is_some())
            .or_else(|| list.files.first().map(|f| f.path.clone()));
        let file = match path {
            Some(path) => Some(source.diff_file(id.clone(), path).await.ok()?),
            None => None,
        };
        Some(Self {
            list,
            comments,
            file,
        })
    }
}

#[component]
pub fn ChangesPanel(
    id: WorkspaceId,
    live: Live,
    first: Option<Changes>,
    /// The tab is shown: only then do keys act on it.
    active: Signal<bool>,
) -> impl IntoView {
    let Some(Changes {
        list,
        comments,
        file,
    }) = first
    else {
        return view! {
            <section class="changes" data-testid="changes">
                <p class="muted" data-testid="no-changes">"No changes to show until the worktree is ready."</p>
            </section>
        }
        .into_any();
    };
    let state = ReviewState::new(id.clone(), list, file, comments);
    let query = use_query_map();
    // The asked-for file while it is listed, else the first one.
    let selected = Memo::new(move |_| {
        let asked = query.with(|q| q.get("path"));
        state.list.with(|l| {
            asked
                .filter(|p| l.file(p).is_some())
                .or_else(|| l.files.first().map(|f| f.path.clone()))
        })
    });
    // What says the worktree moved: its statistics, and a turn of its agent starting or ending
    // (an edit can leave the counts as they were).
    let moved = Memo::new({
        let id = id.clone();
        move |_| {
            live.cache.with(|c| {
                c.get(&id)
                    .map(|e| (e.raw.git_stats, e.raw.is_working, e.raw.last_activity_at))
            })
        }
    });
    #[cfg(feature = "hydrate")]
    browser::follow(state, selected, moved);
    #[cfg(not(feature = "hydrate"))]
    let _ = (moved, active);
    #[cfg(feature = "hydrate")]
    browser::keyboard(state, selected, active);
    let send = Action::new({
        let id = id.clone();
        move |_: &()| commands::send_review(id.clone())
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(sent)) => {
            let count = sent.comments.len();
            state.comments.update(|all| {
                for comment in all.iter_mut() {
                    if let Some(now) = sent.comments.iter().find(|c| c.id == comment.id) {
                        *comment = now.clone();
                    }
                }
            });
            state
                .announcement
                .set(format!("Sent {count} comment(s) to the agent"));
        }
        Some(Err(message)) => state.error.set(Some(message)),
        None => {}
    });
    let totals = move || {
        state.list.with(|l| {
            format!(
                "{} file(s) · +{} −{}",
                l.totals.total, l.totals.additions, l.totals.deletions
            )
        })
    };
    view! {
        <section class="changes" data-testid="changes">
            <header class="changes-head">
                <span class="muted" data-testid="totals">{totals}</span>
                <button
                    type="button"
                    id="send-review"
                    class="button"
                    data-testid="send-review"
                    disabled=move || state.drafts() == 0 || send.pending().get()
                    on:click=move |_| { send.dispatch(()); }
                >
                    {move || format!("Send {} comment(s) to the agent", state.drafts())}
                </button>
            </header>
            <p class="muted keys">"Keys: j/k files · n/p hunks · ↑/↓ lines, Shift to select · c comment · Ctrl+Enter save · s send · Esc cancel"</p>
            <p class="error" role="alert">{move || state.error.get()}</p>
            <p class="visually-hidden" aria-live="polite" data-testid="announcement">{move || state.announcement.get()}</p>
            <div class="changes-body">
                <FileList state selected />
                <div class="file-pane">
                    {move || {
                        state.comments.track();
                        match state.file.get() {
                            Some(file) => view! { <FileView state file /> }.into_any(),
                            None => view! { <p class="muted" data-testid="no-changes">"Nothing changed against the base branch."</p> }.into_any(),
                        }
                    }}
                </div>
            </div>
        </section>
    }
    .into_any()
}

/// What only the browser does: fetch again when the worktree moves or another file is asked
/// for, and answer keys.
#[cfg(feature = "hydrate")]
mod browser {
    use super::state::ReviewState;
    use crate::api::get_json;
    use crate::components::overlaps::changes_href;
    use crate::data::file_url;
    use ff_core::entry::GitStats;
    use ff_core::ids::Timestamp;
    use ff_core::review::comments::ReviewComment;
    use ff_core::review::diff::{DiffList, FileDiff};
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use leptos_router::hooks::use_navigate;
    use leptos_router::NavigateOptions;
    use wasm_bindgen::JsCast;

    type Moved = Option<(Option<GitStats>, bool, Option<Timestamp>)>;

    pub fn follow(state: ReviewState, selected: Memo<Option<String>>, moved: Memo<Moved>) {
        Effect::new(move |previous: Option<Moved>| {
            let now = moved.get();
            if previous.is_some_and(|p| p != now) {
                spawn_local(refresh(state, selected));
            }
            now
        });
        Effect::new(move |_| {
            let Some(path) = selected.get() else {
                state.file.set(None);
                return;
            };
            let shown = state
                .file
                .with_untracked(|f| f.as_ref().is_some_and(|f| f.file.path == path));
            if !shown {
                spawn_local(async move {
                    let id = state.workspace.get_value();
                    match get_json::<FileDiff>(file_url(&id, &path)).await {
                        Ok(file) => {
                            state.cursor.set(None);
                            state.selection.set(None);
                            state.composing.set(false);
                            state.file.set(Some(file));
                        }
                        Err(message) => state.error.set(Some(message)),
                    }
                });
            }
        });
        // The focused line keeps the focus when the file is drawn again (new comments, a
        // refresh), except while the comment form has it.
        Effect::new(move |_| {
            let cursor = state.cursor.get();
            state.file.track();
            state.comments.track();
            let composing = state.composing.get();
            request_animation_frame(move || {
                let document = document();
                let target = if composing {
                    document.query_selector("[data-testid=comment-body]")
                } else {
                    match cursor {
                        Some(at) => document.query_selector(&format!("[data-line=\"{at}\"]")),
                        None => return,
                    }
                };
                if let Some(element) = target
                    .ok()
                    .flatten()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = element.focus();
                }
            });
        });
    }

    /// Reads the list, the shown file and the comments again.
    async fn refresh(state: ReviewState, selected: Memo<Option<String>>) {
        let id = state.workspace.get_value();
        if let Ok(list) = get_json::<DiffList>(format!("/api/workspaces/{id}/diff")).await {
            state.list.set(list);
        }
        if let Some(path) = selected.get_untracked() {
            if let Ok(file) = get_json::<FileDiff>(file_url(&id, &path)).await {
                state.file.set(Some(file));
            }
        }
        if let Ok(comments) =
            get_json::<Vec<ReviewComment>>(format!("/api/workspaces/{id}/review/comments")).await
        {
            state.comments.set(comments);
        }
    }

    pub fn keyboard(state: ReviewState, selected: Memo<Option<String>>, active: Signal<bool>) {
        let navigate = use_navigate();
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if !active.get_untracked() {
                return;
            }
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            match ev.key().as_str() {
                "j" | "k" => {
                    let forward = ev.key() == "j";
                    let next = state.list.with_untracked(|l| {
                        let at = selected
                            .get_untracked()
                            .and_then(|p| l.files.iter().position(|f| f.path == p))?;
                        let to = if forward { at + 1 } else { at.checked_sub(1)? };
                        let file = l.files.get(to)?;
                        Some((file.path.clone(), to + 1, l.files.len()))
                    });
                    if let Some((path, n, of)) = next {
                        let id = state.workspace.get_value();
                        navigate(
                            &changes_href(&id, &path),
                            NavigateOptions {
                                replace: true,
                                scroll: false,
                                ..NavigateOptions::default()
                            },
                        );
                        state.announcement.set(format!("File {n} of {of}: {path}"));
                    }
                }
                "n" => state.jump_hunk(true),
                "p" => state.jump_hunk(false),
                "ArrowDown" | "ArrowUp" => {
                    ev.prevent_default();
                    let by = if ev.key() == "ArrowDown" { 1 } else { -1 };
                    state.step(by, ev.shift_key());
                }
                "c" if state.selection.get_untracked().is_some() => {
                    ev.prevent_default();
                    state.composing.set(true);
                }
                "s" => {
                    if let Some(button) = document()
                        .get_element_by_id("send-review")
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        ev.prevent_default();
                        let _ = button.focus();
                    }
                }
                "Escape" => {
                    state.composing.set(false);
                    state.selection.set(None);
                }
                _ => {}
            }
        });
        on_cleanup(move || keys.remove());
    }
}
