//! "Open in editor" (issue 18 §2): for VS Code, Cursor and Zed a link in the editor's URL scheme,
//! which the browser's machine opens (through the editor's SSH remote when the page is not on
//! loopback and an SSH host is set); for a custom command a button that asks ff to run it on
//! its own machine.

use crate::commands;
use ff_core::editor::{link, EditorSettings, OpenRequest};
use ff_core::ids::WorkspaceId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What every link of a page needs: the user's editor settings and the host the page was served
/// as (provided once by the workspace page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorTarget {
    pub settings: EditorSettings,
    pub page_host: String,
}

impl EditorTarget {
    /// The host this page is served as: the request's `Host` while rendering on the server, the
    /// address bar in the browser. Read where the request is in context (a component's body).
    pub fn page_host() -> String {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| {
                    let host = parts.headers.get(http::header::HOST)?;
                    host.to_str().ok().map(str::to_owned)
                })
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            web_sys::window()
                .and_then(|w| w.location().host().ok())
                .unwrap_or_default()
        }
    }

    /// The link that opens `file` (relative to `worktree`; `None`: the worktree) at `line`, or
    /// `None` for a custom command.
    pub fn href(&self, worktree: &str, file: Option<&str>, line: Option<u32>) -> Option<String> {
        let worktree = worktree.trim_end_matches('/');
        let path = match file {
            Some(file) => format!("{worktree}/{file}"),
            None => worktree.to_owned(),
        };
        link(&self.settings, &path, line, &self.page_host)
    }
}

/// The worktree of the page's workspace, for links deep in its views (the changes tab).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worktree(pub String);

/// Opens the worktree, or `path` in it at `line`, in the user's editor. Renders nothing where
/// the page provided no [`EditorTarget`].
#[component]
pub fn OpenInEditor(
    workspace: WorkspaceId,
    worktree: String,
    #[prop(default = None)] path: Option<String>,
    #[prop(default = None)] line: Option<u32>,
    /// The visible text; the title always says what opens.
    #[prop(default = "Open in editor")]
    label: &'static str,
    #[prop(default = "open-in-editor")] testid: &'static str,
) -> impl IntoView {
    let target = use_context::<EditorTarget>()?;
    let what = match (&path, line) {
        (Some(path), Some(line)) => format!("{path}, line {line}"),
        (Some(path), None) => path.clone(),
        (None, _) => "the worktree".to_owned(),
    };
    let title = format!("Open {what} in {}", target.settings.editor.label());
    if let Some(href) = target.href(&worktree, path.as_deref(), line) {
        return Some(
            view! {
                <a class="button secondary open-in-editor" data-testid=testid href=href title=title>{label}</a>
            }
            .into_any(),
        );
    }
    let open = Action::new(move |request: &OpenRequest| {
        commands::open_in_editor(workspace.clone(), request.clone())
    });
    let refused = move || open.value().get().and_then(Result::err);
    Some(
        view! {
            <button type="button" class="button secondary open-in-editor" data-testid=testid title=title
                disabled=move || open.pending().get()
                on:click=move |_| {
                    open.dispatch(OpenRequest { path: path.clone(), line });
                }>
                {label}
            </button>
            <span class="error" role="alert">{refused}</span>
        }
        .into_any(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::editor::Editor;

    fn target(editor: Editor, ssh_host: Option<&str>, page_host: &str) -> EditorTarget {
        EditorTarget {
            settings: EditorSettings {
                editor,
                custom_command: None,
                ssh_host: ssh_host.map(str::to_owned),
            },
            page_host: page_host.to_owned(),
        }
    }

    #[test]
    fn the_rendered_link_opens_the_worktree_or_a_file_at_its_line() {
        let local = target(Editor::Vscode, Some("box"), "127.0.0.1:8080");
        let remote = target(Editor::Cursor, Some("me@box"), "ff.lan:8080");
        let custom = target(Editor::Custom, None, "127.0.0.1:8080");
        for (target, file, line, expected) in [
            (&local, None, None, Some("vscode://file/w/t")),
            (
                &local,
                Some("src/a b.rs"),
                Some(4),
                Some("vscode://file/w/t/src/a%20b.rs:4"),
            ),
            (
                &remote,
                Some("a.rs"),
                Some(2),
                Some("cursor://vscode-remote/ssh-remote+me@box/w/t/a.rs:2"),
            ),
            (&custom, Some("a.rs"), None, None),
        ] {
            assert_eq!(
                target.href("/w/t/", file, line).as_deref(),
                expected,
                "{file:?}"
            );
        }
    }

    #[test]
    fn the_component_renders_an_editor_link_in_the_page() {
        let owner = Owner::new();
        owner.set();
        provide_context(target(Editor::Zed, None, "localhost:3000"));
        let html = view! {
            <OpenInEditor workspace=WorkspaceId::new("w1") worktree="/w/my tree".to_owned() />
        }
        .to_html();
        assert!(html.contains(r#"href="zed://file/w/my%20tree""#), "{html}");
        assert!(html.contains(r#"data-testid="open-in-editor""#), "{html}");
    }
}
