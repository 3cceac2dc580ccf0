//! How the changes page draws a file: the list of changed files, the unified hunks with their
//! highlighted tokens, the comments on their lines and the comment form.

use super::state::{positions, side_of, ReviewState};
use crate::commands;
use crate::components::open_in_editor::{OpenInEditor, Worktree};
use crate::components::overlaps::changes_href;
use ff_core::review::comments::{CommentState, NewComment, ReviewComment, Side};
use ff_core::review::diff::{DiffFile, DiffLine, FileDiff, FileStatus, LineKind, Token};
use leptos::prelude::*;

fn status_letter(status: FileStatus) -> (&'static str, &'static str) {
    match status {
        FileStatus::Added => ("A", "added"),
        FileStatus::Modified => ("M", "modified"),
        FileStatus::Deleted => ("D", "deleted"),
        FileStatus::Renamed => ("R", "renamed"),
        FileStatus::Untracked => ("U", "untracked"),
    }
}

#[component]
pub fn FileList(state: ReviewState, selected: Memo<Option<String>>) -> impl IntoView {
    let workspace = state.workspace.get_value();
    view! {
        <nav class="files" aria-label="Changed files">
            <ul>
                <For
                    each=move || state.list.get().files
                    key=|f| (f.path.clone(), f.additions, f.deletions)
                    children=move |f: DiffFile| {
                        let href = changes_href(&workspace, &f.path);
                        let (letter, title) = status_letter(f.status);
                        let path = f.path.clone();
                        let current = move || (selected.get().as_deref() == Some(path.as_str())).then_some("page");
                        view! {
                            <li>
                                <a href=href data-testid="file" data-path=f.path.clone() aria-current=current>
                                    <span class="status" title=title>{letter}</span>
                                    <span class="path">{f.path.clone()}</span>
                                    <span class="added">"+" {f.additions}</span>
                                    <span class="deleted">"−" {f.deletions}</span>
                                </a>
                            </li>
                        }
                    }
                />
            </ul>
        </nav>
    }
}

fn tokens(tokens: Vec<Token>) -> impl IntoView {
    tokens
        .into_iter()
        .map(|t| match t.class {
            Some(class) => view! { <span class=class.css()>{t.text}</span> }.into_any(),
            None => t.text.into_any(),
        })
        .collect_view()
}

/// The comments whose lines end at `line` (on their side) in the shown file.
fn comments_at(state: ReviewState, path: &str, line: &DiffLine) -> Vec<ReviewComment> {
    state.comments.with(|comments| {
        comments
            .iter()
            .filter(|c| c.is_open() && c.path == path)
            .filter(|c| {
                let end = c
                    .current_start_line
                    .map(|s| s + (c.end_line - c.start_line));
                end.is_some() && end == line.number(c.side)
            })
            .cloned()
            .collect()
    })
}

#[component]
pub fn CommentBox(state: ReviewState, comment: ReviewComment) -> impl IntoView {
    let workspace = state.workspace.get_value();
    let id = comment.id.clone();
    let resolve = Action::new({
        let (workspace, id) = (workspace.clone(), id.clone());
        move |_: &()| commands::resolve_comment(workspace.clone(), id.clone(), true)
    });
    let delete = Action::new(move |_: &()| commands::delete_comment(workspace.clone(), id.clone()));
    let gone = comment.id.clone();
    Effect::new(move |_| {
        let done = resolve
            .value()
            .get()
            .map(|r| r.map(drop))
            .or(delete.value().get());
        match done {
            Some(Ok(())) => state.comments.update(|c| c.retain(|c| c.id != gone)),
            Some(Err(message)) => state.error.set(Some(message)),
            None => {}
        }
    });
    let (state_label, state_class, state_name) = match comment.state {
        CommentState::Draft => ("Draft", "chip draft", "DRAFT"),
        CommentState::Sent => ("Sent", "chip sent", "SENT"),
    };
    let side = match comment.side {
        Side::Old => " (removed)",
        Side::New => "",
    };
    view! {
        <div class="comment" data-testid="comment" data-state=state_name role="note">
            <div class="comment-head">
                <span class=state_class data-testid="comment-state">{state_label}</span>
                <span class="muted">{format!("{}{side}", comment.lines_label())}</span>
                {comment.changed_since().then(|| view! {
                    <span class="chip changed" data-testid="changed-since">"lines changed since"</span>
                })}
            </div>
            <p class="comment-body">{comment.body.clone()}</p>
            <div class="actions">
                <button type="button" class="button secondary small" on:click=move |_| { resolve.dispatch(()); }>"Resolve"</button>
                <button type="button" class="button secondary small" on:click=move |_| { delete.dispatch(()); }>"Delete"</button>
            </div>
        </div>
    }
}

#[component]
fn CommentForm(state: ReviewState, path: String) -> impl IntoView {
    let body = state.draft;
    let workspace = state.workspace.get_value();
    let save = Action::new(move |comment: &NewComment| {
        commands::add_comment(workspace.clone(), comment.clone())
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(added)) => {
            body.set(String::new());
            state.comments.update(|c| c.push(added));
            state.composing.set(false);
            state
                .announcement
                .set("Comment saved as a draft".to_owned());
        }
        Some(Err(message)) => state.error.set(Some(message)),
        None => {}
    });
    let submit = move || {
        let Some(selection) = state.selection.get_untracked() else {
            return;
        };
        save.dispatch(NewComment {
            path: path.clone(),
            side: selection.side,
            start_line: selection.start,
            end_line: selection.end,
            body: body.get_untracked(),
        });
    };
    let submit_key = submit.clone();
    let label = move || {
        state
            .selection
            .get()
            .map(|s| format!("Comment on {}", s.label()))
            .unwrap_or_default()
    };
    view! {
        <form class="comment-form" data-testid="comment-form" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <label>
                <span>{label}</span>
                <textarea
                    data-testid="comment-body"
                    rows="3"
                    prop:value=move || body.get()
                    on:input=move |ev| body.set(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                            ev.prevent_default();
                            submit_key();
                        } else if ev.key() == "Escape" {
                            state.composing.set(false);
                        }
                    }
                ></textarea>
            </label>
            <div class="actions">
                <button type="submit" class="button small" data-testid="comment-save" disabled=move || save.pending().get()>"Save draft (Ctrl+Enter)"</button>
                <button type="button" class="button secondary small" on:click=move |_| state.composing.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}

/// One line row: numbers, sign, tokens; focusable for keyboard review, clickable to select.
fn line_row(state: ReviewState, index: usize, line: DiffLine) -> impl IntoView {
    let (class, sign) = match line.kind {
        LineKind::Added => ("dl added", "+"),
        LineKind::Deleted => ("dl deleted", "−"),
        LineKind::Context => ("dl", " "),
    };
    let side = side_of(&line);
    let number = line.number(side);
    let selected = move || {
        state
            .selection
            .get()
            .is_some_and(|s| s.contains(side, number))
    };
    let focused = move || state.cursor.get() == Some(index);
    view! {
        <div
            class=class
            class:selected=selected
            data-testid="diff-line"
            data-line=index.to_string()
            data-side=if side == Side::Old { "OLD" } else { "NEW" }
            data-number=number.map(|n| n.to_string())
            tabindex=move || if focused() { "0" } else { "-1" }
            aria-selected=move || selected().to_string()
            on:click=move |ev| state.focus_line(index, ev.shift_key())
        >
            <span class="ln">{line.old_line.map(|n| n.to_string())}</span>
            <span class="ln">{line.new_line.map(|n| n.to_string())}</span>
            <span class="sign" aria-hidden="true">{sign}</span>
            <code class="code">{tokens(line.tokens.clone())}</code>
            {line.no_newline.then(|| view! { <span class="muted eol" title="No newline at end of file">"⏎̸"</span> })}
        </div>
    }
}

#[component]
pub fn FileView(state: ReviewState, file: FileDiff) -> impl IntoView {
    let path = file.file.path.clone();
    let moved_away: Vec<ReviewComment> = state.comments.with(|c| {
        c.iter()
            .filter(|c| c.is_open() && c.path == path && c.changed_since())
            .cloned()
            .collect()
    });
    let hidden = file.file.hidden_reason();
    // A deleted file is nowhere in the worktree to open.
    let worktree = use_context::<Worktree>().filter(|_| file.file.status != FileStatus::Deleted);
    let open = {
        let path = path.clone();
        move |line: Option<u32>, label: &'static str, testid: &'static str| {
            worktree.clone().map(|Worktree(worktree)| {
                view! {
                    <OpenInEditor workspace=state.workspace.get_value() worktree path=Some(path.clone()) line label testid />
                }
            })
        }
    };
    let mut index = 0;
    let hunks = file
        .hunks
        .iter()
        .enumerate()
        .map(|(h, hunk)| {
            let rows = hunk
                .lines
                .iter()
                .map(|line| {
                    let at = index;
                    index += 1;
                    let line = line.clone();
                    let here = comments_at(state, &path, &line);
                    let last_selected = {
                        let side = side_of(&line);
                        let number = line.number(side);
                        move || {
                            state.composing.get()
                                && state.selection.get().is_some_and(|s| {
                                    s.side == side && number == Some(s.end)
                                })
                        }
                    };
                    let form_path = path.clone();
                    view! {
                        {line_row(state, at, line)}
                        {here.into_iter().map(|comment| view! { <CommentBox state comment /> }).collect_view()}
                        {move || last_selected().then(|| view! { <CommentForm state path=form_path.clone() /> })}
                    }
                })
                .collect_view();
            view! {
                <section class="hunk" data-testid="hunk" data-hunk=h.to_string()>
                    <div class="hunk-head mono">
                        {hunk.header()}
                        {open(Some(hunk.new_start.max(1)), "Open at line", "open-hunk-in-editor")}
                    </div>
                    {rows}
                </section>
            }
        })
        .collect_view();
    let renamed = file
        .file
        .old_path
        .clone()
        .map(|old| view! { <p class="muted">"Renamed from " <code>{old}</code></p> });
    let lines = positions(&file).len();
    view! {
        <article class="file-diff" data-testid="file-diff" data-path=file.file.path.clone() data-lines=lines.to_string()>
            <h2 class="mono">{file.file.path.clone()} {open(None, "Open in editor", "open-file-in-editor")}</h2>
            {renamed}
            {(!moved_away.is_empty()).then(|| view! {
                <div class="moved-comments">
                    <p class="muted">"Comments whose lines changed since:"</p>
                    {moved_away.into_iter().map(|comment| view! { <CommentBox state comment /> }).collect_view()}
                </div>
            })}
            {hidden.map(|reason| view! { <p class="muted" data-testid="not-shown">{reason}</p> })}
            {hunks}
        </article>
    }
}
