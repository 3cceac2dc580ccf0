//! The real `ff` binary as a user runs it: flags, printed URL, signals, exit codes.

mod common;

use common::binary::RunningFf;
use common::repo::TestRepo;
use reqwest::StatusCode;
use serde_json::json;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const FF: &str = env!("CARGO_BIN_EXE_ff");

fn ff(args: &[&str]) -> Output {
    Command::new(FF).args(args).output().expect("ff runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[test]
fn version_and_help() {
    let version = ff(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        text(&version.stdout).trim(),
        format!("ff {}", env!("CARGO_PKG_VERSION"))
    );

    let help = ff(&["help", "serve"]);
    assert!(help.status.success());
    let help = text(&help.stdout);
    for flag in [
        "--host",
        "--port",
        "--data-dir",
        "--database-url",
        "--worktree-dir",
        "--reconcile-interval-ms",
        "--coalesce-window-ms",
        "--allowed-origins",
        "--log",
        "FF_PORT",
    ] {
        assert!(help.contains(flag), "help lacks {flag}:\n{help}");
    }
}

#[test]
fn bad_flags_are_refused_with_a_clear_message() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["serve", "--port", "http"],
            "invalid value 'http' for '--port",
        ),
        (
            &["serve", "--host", "localhost:1"],
            "invalid value 'localhost:1' for '--host",
        ),
        (
            &["serve", "--allowed-origins", "example.com"],
            "allowed origin \"example.com\"",
        ),
        (
            &["serve", "--coalesce-window-ms", "0"],
            "--coalesce-window-ms",
        ),
    ];
    for (args, expected) in cases {
        let out = ff(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn serve_prints_its_url_serves_and_stops_cleanly_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut ff = RunningFf::start(data.path(), "warn");
    let url = ff.url.clone();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let health = reqwest::get(format!("{url}/healthz"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    let kill = Command::new("kill")
        .args(["-TERM", &ff.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status =
        wait_with_timeout(&mut ff.child, Duration::from_secs(10)).expect("ff exits after SIGTERM");
    assert!(status.success(), "exit status {status}");
}

#[test]
fn an_unusable_data_dir_fails_with_a_message_not_a_panic() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new(FF)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(file.path().join("sub"))
        .env("FF_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot create the data directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn relative_data_and_worktree_dirs_are_resolved_once_against_where_ff_started() {
    let start_dir = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    repo.configure(json!({"scripts": {"setup": "echo ran > setup-ran.txt"}}));
    let ff = RunningFf::start_with(
        ["--data-dir", "data", "--worktree-dir", "trees"].map(OsStr::new),
        Some(start_dir.path()),
        "warn",
    );
    let (status, project) = ff
        .post("/api/projects", Some(json!({"repoPath": repo.path})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let base = start_dir.path().join("trees");
    assert_eq!(
        project["worktreeBasePath"],
        base.join(project["slug"].as_str().unwrap())
            .to_str()
            .unwrap()
    );
    let (_, workspace) = ff
        .post(
            &format!(
                "/api/projects/{}/workspaces",
                project["id"].as_str().unwrap()
            ),
            Some(json!({"source": "MANUAL", "name": "Relative"})),
        )
        .await;
    let id = workspace["id"].as_str().unwrap();
    let ready = ff.wait_for(id, "ready", |w| w["status"] == "READY").await;
    let worktree = PathBuf::from(ready["worktreePath"].as_str().unwrap());
    assert!(worktree.starts_with(&base), "{}", worktree.display());
    assert!(
        worktree.join("setup-ran.txt").exists(),
        "the setup script ran in the worktree: {}",
        ready["initOutput"]
    );
    assert!(
        !repo.path.join("trees").exists() && !repo.path.join("data").exists(),
        "nothing was created inside the user's repository"
    );
    assert!(start_dir.path().join("data/ff.db").exists());

    let (status, _) = ff
        .post(&format!("/api/workspaces/{id}/archive"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    ff.wait_for(id, "archived", |w| w["status"] == "ARCHIVED")
        .await;
    assert!(!worktree.exists(), "archive removed the worktree");
    assert!(repo
        .files_on("relative")
        .contains(&"setup-ran.txt".to_owned()));
}

#[test]
fn agents_are_listed_and_a_built_in_one_is_installed_with_npm_at_its_pinned_version() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let before = ff(&["agents", "list", "--data-dir", dir]);
    assert!(before.status.success(), "{}", text(&before.stderr));
    let listed = text(&before.stdout);
    assert!(listed.contains("claude"), "{listed}");
    assert!(
        listed.contains("not installed: Claude is not installed: run `ff agents install claude`"),
        "{listed}"
    );

    let install = ff(&["agents", "install", "claude", "--data-dir", dir]);
    assert!(install.status.success(), "{}", text(&install.stderr));
    let after = text(&ff(&["agents", "list", "--data-dir", dir]).stdout);
    let claude = after.lines().find(|l| l.starts_with("claude")).unwrap();
    assert!(claude.contains("installed 0.23.1 at"), "{claude}");
    assert!(
        claude.contains("/agents/node_modules/.bin/claude-agent-acp"),
        "{claude}"
    );

    let unknown = ff(&["agents", "install", "gemini", "--data-dir", dir]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("ff can install claude and codex"),
        "{}",
        text(&unknown.stderr)
    );
}
