//! A tool call in the transcript, collapsed by default: its kind, title and status on one line;
//! opened, the files it touches, its diffs and its output.

use ff_core::diff::{unified, DiffLine};
use ff_core::transcript::{Item, ItemBody, Location, ToolCall, ToolContent};
use leptos::prelude::*;
use serde_json::Value;

/// Unchanged lines kept around each change of a diff.
const DIFF_CONTEXT: usize = 3;

#[component]
pub fn ToolCallView(item: ArcRwSignal<Item>, worktree: Option<String>) -> impl IntoView {
    let seq = item.with_untracked(|i| i.seq);
    let tool = {
        let item = item.clone();
        move |f: fn(&ToolCall) -> String| {
            let item = item.clone();
            move || {
                item.with(|i| match &i.body {
                    ItemBody::Tool(tool) => f(tool),
                    _ => String::new(),
                })
            }
        }
    };
    let status = tool(|t| t.status.clone());
    let status_class = tool(|t| format!("tool-status status-{}", t.status));
    let status_text = tool(|t| status_label(&t.status));
    let body = {
        let item = item.clone();
        move || {
            item.with(|i| match &i.body {
                ItemBody::Tool(tool) => Some(tool_body(tool, worktree.as_deref())),
                _ => None,
            })
        }
    };
    view! {
        <details class="item tool" data-kind="tool" data-seq=seq data-status=status>
            <summary>
                <span class="tool-kind">{tool(|t| t.kind.clone())}</span>
                <span class="tool-title">{tool(|t| t.title.clone())}</span>
                <span class=status_class data-testid="tool-status">{status_text}</span>
            </summary>
            <div class="tool-body">{body}</div>
        </details>
    }
    .into_any()
}

fn status_label(status: &str) -> String {
    match status {
        "pending" => "pending".to_owned(),
        "in_progress" => "running".to_owned(),
        "completed" => "done".to_owned(),
        other => other.to_owned(),
    }
}

/// The opened part of a tool call: where, what changed, what came out.
pub fn tool_body(tool: &ToolCall, worktree: Option<&str>) -> impl IntoView {
    let has_text = tool
        .content
        .iter()
        .any(|c| matches!(c, ToolContent::Text { .. }));
    let output = (!has_text)
        .then(|| tool.raw_output.as_ref().and_then(output_text))
        .flatten();
    view! {
        {(!tool.locations.is_empty()).then(|| view! {
            <ul class="locations">
                {tool.locations.iter().map(|l| view! { <li class="mono">{location(l, worktree)}</li> }).collect_view()}
            </ul>
        })}
        {tool.content.iter().map(|content| match content {
            ToolContent::Text { text } => view! { <pre class="output">{text.clone()}</pre> }.into_any(),
            ToolContent::Diff { path, old_text, new_text } => view! {
                <DiffView path=shown(path, worktree) old=old_text.clone() new=new_text.clone() />
            }.into_any(),
            ToolContent::Terminal { terminal_id } => view! {
                <p class="muted">"Terminal " <code>{terminal_id.clone()}</code></p>
            }.into_any(),
        }).collect_view()}
        {output.map(|text| view! { <pre class="output">{text}</pre> })}
    }
}

/// What a tool printed, when its raw output says (a string, or `stdout`/`output` fields).
fn output_text(raw: &Value) -> Option<String> {
    match raw {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        Value::Object(fields) => ["stdout", "output", "content"]
            .iter()
            .find_map(|key| fields.get(*key)?.as_str().map(str::to_owned))
            .or_else(|| serde_json::to_string_pretty(raw).ok()),
        other => serde_json::to_string_pretty(other).ok(),
    }
}

/// A path inside the worktree is shown relative to it.
fn shown(path: &str, worktree: Option<&str>) -> String {
    worktree
        .and_then(|root| path.strip_prefix(root.trim_end_matches('/')))
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(path)
        .to_owned()
}

fn location(l: &Location, worktree: Option<&str>) -> String {
    match l.line {
        Some(line) => format!("{}:{line}", shown(&l.path, worktree)),
        None => shown(&l.path, worktree),
    }
}

/// An edit as a unified diff.
#[component]
pub fn DiffView(path: String, old: Option<String>, new: String) -> impl IntoView {
    let lines = unified(old.as_deref(), &new, DIFF_CONTEXT);
    let label = if old.is_none() { "new file" } else { "edit" };
    view! {
        <div class="diff" data-testid="diff">
            <div class="diff-path mono">{path} " " <span class="muted">"(" {label} ")"</span></div>
            <pre class="diff-lines">
                {lines.into_iter().map(|line| match line {
                    DiffLine::Context(text) => view! { <span class="line">" " {text}</span> }.into_any(),
                    DiffLine::Removed(text) => view! { <span class="line removed">"-" {text}</span> }.into_any(),
                    DiffLine::Added(text) => view! { <span class="line added">"+" {text}</span> }.into_any(),
                    DiffLine::Skipped(n) => view! { <span class="line skipped">{format!("… {n} unchanged line(s)")}</span> }.into_any(),
                }).collect_view()}
            </pre>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_in_the_worktree_are_relative_and_others_whole() {
        assert_eq!(shown("/w/tree/src/a.rs", Some("/w/tree")), "src/a.rs");
        assert_eq!(shown("/w/tree/src/a.rs", Some("/w/tree/")), "src/a.rs");
        assert_eq!(
            shown("/w/treehouse/a.rs", Some("/w/tree")),
            "/w/treehouse/a.rs"
        );
        assert_eq!(shown("/etc/passwd", None), "/etc/passwd");
    }

    #[test]
    fn output_comes_from_the_usual_fields() {
        assert_eq!(output_text(&json!("done")), Some("done".into()));
        assert_eq!(
            output_text(&json!({"stdout": "x\n", "exit": 0})),
            Some("x\n".into())
        );
        assert_eq!(output_text(&Value::Null), None);
        assert!(output_text(&json!({"code": 3}))
            .unwrap()
            .contains("\"code\": 3"));
    }
}
