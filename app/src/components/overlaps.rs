//! Overlaps with parallel workspaces (review.md §3): the mark on cards and sidebar rows, and the
//! shared paths on the workspace page, each linking both diffs.

use ff_core::ids::WorkspaceId;
use ff_core::overlaps::{mark, Overlap};
use leptos::prelude::*;

/// "2 files also changed in Fix login"; nothing without overlaps.
#[component]
pub fn OverlapMark(overlaps: Vec<Overlap>) -> impl IntoView {
    mark(&overlaps).map(|text| {
        let title = overlaps
            .iter()
            .map(|o| format!("{}: {}", o.name, o.paths.join(", ")))
            .collect::<Vec<_>>()
            .join("\n");
        view! { <span class="chip overlap" data-testid="overlap" title=title>{text}</span> }
    })
}

/// The changes page of `workspace`, on `path`.
pub fn changes_href(workspace: &WorkspaceId, path: &str) -> String {
    let mut href = format!("/workspaces/{workspace}/changes?path=");
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                href.push(byte as char)
            }
            _ => href.push_str(&format!("%{byte:02X}")),
        }
    }
    href
}

/// The workspace page's list: per overlapping workspace, the shared paths with both diffs.
#[component]
pub fn OverlapList(workspace: WorkspaceId, overlaps: Vec<Overlap>) -> impl IntoView {
    (!overlaps.is_empty()).then(|| {
        let items = overlaps
            .into_iter()
            .map(|o| {
                let more = o.count as usize - o.paths.len();
                let paths = o
                    .paths
                    .iter()
                    .map(|path| {
                        let ours = changes_href(&workspace, path);
                        let theirs = changes_href(&o.workspace_id, path);
                        view! {
                            <li>
                                <code>{path.clone()}</code>
                                " — "<a href=ours>"this diff"</a>
                                " · "<a href=theirs>{format!("{}'s diff", o.name)}</a>
                            </li>
                        }
                    })
                    .collect_view();
                let other = format!("/workspaces/{}", o.workspace_id);
                view! {
                    <li data-testid="overlap-item">
                        <a href=other>{o.name.clone()}</a>
                        {format!(" also changes {} of the same file(s):", o.count)}
                        <ul>{paths}</ul>
                        {(more > 0).then(|| view! { <p class="muted">{format!("and {more} more")}</p> })}
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="overlaps" data-testid="overlaps" aria-labelledby="overlaps-title">
                <h2 id="overlaps-title">"Also changed in parallel workspaces"</h2>
                <ul>{items}</ul>
            </section>
        }
    })
}
