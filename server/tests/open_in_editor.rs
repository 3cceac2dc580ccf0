//! "Open in editor" with a custom command (issue 18 §2), over the real router: the command runs
//! on ff's machine without a shell, the path one argument whatever it holds, in the worktree,
//! without ff's token; bad settings and paths are refused naming the field.

mod common;

use common::repo::TestRepo;
use common::{eventually, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A ready workspace: its id and its worktree.
async fn ready_workspace(app: &TestApp, repo: &TestRepo) -> (String, String) {
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Editor"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    (id, ready["worktreePath"].as_str().unwrap().to_owned())
}

async fn set_editor(app: &TestApp, editor: Value) -> (StatusCode, Value) {
    app.send(
        Method::PATCH,
        "/api/settings",
        Some(json!({ "editor": editor })),
    )
    .await
}

/// A stand-in editor that records its arguments (NUL-separated), directory and environment.
fn recording_editor(dir: &Path) -> std::path::PathBuf {
    let script = dir.join("my editor");
    let out = dir.display();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\0' \"$@\" > '{out}/argv.tmp'\npwd > '{out}/cwd'\n\
             env > '{out}/env'\nmv '{out}/argv.tmp' '{out}/argv'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn recorded_argv(dir: &Path) -> Option<Vec<String>> {
    let bytes = std::fs::read(dir.join("argv")).ok()?;
    Some(
        bytes
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

#[tokio::test]
async fn a_custom_command_gets_the_path_as_one_argument_whatever_it_holds() {
    // The server must not hand its own token to the editor even when it has one in its
    // environment (ff serve scrubs it at start; the flow scrubs it again).
    std::env::set_var("FF_TOKEN", "secret-of-ff");
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (workspace, worktree) = ready_workspace(&app, &repo).await;
    let tools = tempfile::tempdir().unwrap();
    let script = recording_editor(tools.path());
    let (status, body) = set_editor(
        &app,
        json!({"editor": "custom", "customCommand": format!("'{}' --wait {{path}}", script.display())}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["editor"]["editor"], "custom");

    let hostile = "dir with space/a b;$(touch pwned)`id`.txt";
    std::fs::create_dir_all(Path::new(&worktree).join("dir with space")).unwrap();
    std::fs::write(Path::new(&worktree).join(hostile), "x").unwrap();
    let route = format!("/api/workspaces/{workspace}/open-in-editor");
    let (status, body) = app.post(&route, json!({"path": hostile, "line": 3})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    eventually("the editor ran", || recorded_argv(tools.path()).is_some()).await;
    assert_eq!(
        recorded_argv(tools.path()).unwrap(),
        ["--wait".to_owned(), format!("{worktree}/{hostile}")]
    );
    let cwd = std::fs::read_to_string(tools.path().join("cwd")).unwrap();
    assert_eq!(
        std::fs::canonicalize(cwd.trim()).unwrap(),
        std::fs::canonicalize(&worktree).unwrap()
    );
    let env = std::fs::read_to_string(tools.path().join("env")).unwrap();
    assert!(!env.contains("secret-of-ff"), "the editor got ff's token");
    for place in [tools.path(), Path::new(&worktree)] {
        assert!(!place.join("pwned").exists(), "a shell ran the path");
    }

    // No body: the worktree itself.
    std::fs::remove_file(tools.path().join("argv")).unwrap();
    let (status, body) = app.command(&route).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    eventually("the editor ran again", || {
        recorded_argv(tools.path()).is_some()
    })
    .await;
    assert_eq!(
        recorded_argv(tools.path()).unwrap(),
        ["--wait".to_owned(), worktree.clone()]
    );
}

#[tokio::test]
async fn bad_settings_and_paths_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (workspace, _) = ready_workspace(&app, &repo).await;
    let route = format!("/api/workspaces/{workspace}/open-in-editor");

    for (editor, field) in [
        (json!({"editor": "custom"}), "customCommand"),
        (
            json!({"editor": "custom", "customCommand": "code 'unclosed {path}"}),
            "customCommand",
        ),
        (
            json!({"editor": "vscode", "sshHost": "-oProxyCommand=evil"}),
            "sshHost",
        ),
    ] {
        let (status, body) = set_editor(&app, editor.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{editor}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{editor}: {message}");
    }
    let (status, body) = set_editor(&app, json!({"editor": "emacs"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A URL-scheme editor is the browser's to open.
    let (status, body) = app.command(&route).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, body) = set_editor(
        &app,
        json!({"editor": "custom", "customCommand": "/nonexistent/editor {path}"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (request, field) in [
        (json!({"path": "../outside"}), "path"),
        (json!({"path": "/etc/passwd"}), "path"),
        (json!({"path": "no/such/file"}), "path"),
        (json!({"line": 0}), "line"),
        (json!({}), "customCommand"),
    ] {
        let (status, body) = app.post(&route, request.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{request}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{request}: {message}");
    }
    let (status, body) = app.post(&route, json!({"file": "a"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = app
        .command("/api/workspaces/01HZZZZZZZZZZZZZZZZZZZZZZZ/open-in-editor")
        .await;
    assert!(status.is_client_error());
}
