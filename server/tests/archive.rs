//! Archive never loses work (domain.md §3): worktrees in states an archive commit would strand
//! are refused with a CONFLICT that says why, untracked repositories are refused, ignored files
//! are moved aside and the workspace says where.

mod common;

use common::repo::{git, TestRepo};
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

async fn ready_workspace(app: &TestApp, repo: &TestRepo, name: &str) -> (String, PathBuf) {
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": name}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    let worktree = PathBuf::from(ready["worktreePath"].as_str().unwrap());
    (id, worktree)
}

/// Asks for an archive and waits for it to be rolled back; returns the error it left.
async fn refused(app: &TestApp, id: &str) -> Value {
    let (status, _) = app.command(&format!("/api/workspaces/{id}/archive")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let back = app
        .wait_for(id, "rolled back", |w| {
            w["status"] == "READY" && w["archiveError"].is_object()
        })
        .await;
    assert_eq!(back["archiveError"]["code"], "CONFLICT", "{back:#}");
    back["archiveError"].clone()
}

async fn archived(app: &TestApp, id: &str) -> Value {
    let (status, body) = app.command(&format!("/api/workspaces/{id}/archive")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    app.wait_for_status(id, "ARCHIVED").await
}

fn message(error: &Value) -> &str {
    error["message"].as_str().unwrap()
}

#[tokio::test]
async fn a_detached_head_with_new_commits_is_refused_until_the_branch_holds_them() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (id, tree) = ready_workspace(&app, &repo, "Detached").await;
    git(&tree, &["checkout", "-q", "--detach"]);
    std::fs::write(tree.join("feature.txt"), "committed while detached\n").unwrap();
    git(&tree, &["add", "feature.txt"]);
    git(&tree, &["commit", "-q", "-m", "work on a detached HEAD"]);
    let detached = git(&tree, &["rev-parse", "HEAD"]);
    std::fs::write(tree.join("scratch.txt"), "untracked\n").unwrap();

    let error = refused(&app, &id).await;
    let text = message(&error);
    assert!(text.contains("HEAD is detached at"), "{text}");
    assert!(text.contains("1 commit(s) not on detached"), "{text}");
    assert!(text.contains("git switch -C detached"), "{text}");
    assert_eq!(
        git(&tree, &["rev-parse", "HEAD"]),
        detached,
        "nothing moved"
    );
    assert!(
        tree.join("scratch.txt").exists(),
        "the untracked file is still there"
    );
    assert_eq!(git(&tree, &["status", "--porcelain"]), "?? scratch.txt");

    // Following the advice keeps the commit on the branch, and the archive then goes through.
    git(&tree, &["switch", "-q", "-C", "detached"]);
    archived(&app, &id).await;
    assert!(!tree.exists());
    assert!(repo
        .files_on("detached")
        .contains(&"feature.txt".to_owned()));
    assert!(repo
        .files_on("detached")
        .contains(&"scratch.txt".to_owned()));
    assert_eq!(
        repo.git(&["rev-parse", "detached~1"]),
        detached,
        "the detached commit is on the branch under the archive commit"
    );
}

#[tokio::test]
async fn a_rebase_stopped_on_a_conflict_is_refused_and_the_hand_fixed_file_stays() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (id, tree) = ready_workspace(&app, &repo, "Rebasing").await;
    std::fs::write(tree.join("README.md"), "the workspace's line\n").unwrap();
    git(&tree, &["commit", "-q", "-am", "workspace change"]);
    std::fs::write(repo.path.join("README.md"), "main's line\n").unwrap();
    repo.git(&["commit", "-q", "-am", "main change"]);
    let output = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@t",
            "rebase",
            "main",
        ])
        .current_dir(&tree)
        .output()
        .unwrap();
    assert!(!output.status.success(), "the rebase stops on the conflict");
    std::fs::write(tree.join("README.md"), "resolved by hand\n").unwrap();

    let error = refused(&app, &id).await;
    let text = message(&error);
    assert!(text.contains("in the middle of a rebase"), "{text}");
    assert!(text.contains("git rebase --abort"), "{text}");
    assert_eq!(
        std::fs::read_to_string(tree.join("README.md")).unwrap(),
        "resolved by hand\n"
    );
    assert!(
        Path::new(&git(&tree, &["rev-parse", "--git-path", "rebase-merge"])).exists()
            || tree
                .join(git(&tree, &["rev-parse", "--git-path", "rebase-merge"]))
                .exists(),
        "the rebase is still in progress, untouched"
    );
}

#[tokio::test]
async fn another_branch_checked_out_is_refused() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (id, tree) = ready_workspace(&app, &repo, "Elsewhere").await;
    git(&tree, &["switch", "-q", "-c", "experiment"]);
    let error = refused(&app, &id).await;
    assert!(
        message(&error)
            .contains("has branch experiment checked out, not the workspace's branch elsewhere"),
        "{error}"
    );
}

#[tokio::test]
async fn an_untracked_repository_inside_the_worktree_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (id, tree) = ready_workspace(&app, &repo, "Nested").await;
    let inner = tree.join("vendor/lib");
    std::fs::create_dir_all(&inner).unwrap();
    git(&inner, &["init", "-q"]);
    std::fs::write(inner.join("code.rs"), "fn main() {}\n").unwrap();
    git(&inner, &["add", "-A"]);
    git(&inner, &["commit", "-q", "-m", "inner work"]);

    let error = refused(&app, &id).await;
    assert!(message(&error).contains("vendor/lib/"), "{error}");
    assert_eq!(git(&inner, &["log", "--format=%s"]), "inner work");
    assert_eq!(
        git(&tree, &["status", "--porcelain"]),
        "?? vendor/",
        "nothing was committed"
    );
}

#[tokio::test]
async fn ignored_files_are_moved_aside_and_the_workspace_says_where() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    std::fs::write(repo.path.join(".gitignore"), ".env.local\nnode_modules/\n").unwrap();
    repo.git(&["add", ".gitignore"]);
    repo.git(&["commit", "-q", "-m", "ignore local files"]);
    repo.git(&["push", "-q", "origin", "main"]);
    let (id, tree) = ready_workspace(&app, &repo, "Secrets").await;
    std::fs::write(tree.join(".env.local"), "API_KEY=hand-written\n").unwrap();
    std::fs::create_dir_all(tree.join("node_modules/dep")).unwrap();
    std::fs::write(tree.join("node_modules/dep/index.js"), "x\n").unwrap();

    let done = archived(&app, &id).await;
    assert!(!tree.exists());
    let aside = app.data_dir.path().join("archived").join(&id);
    assert_eq!(
        std::fs::read_to_string(aside.join(".env.local")).unwrap(),
        "API_KEY=hand-written\n"
    );
    assert!(aside.join("node_modules/dep/index.js").exists());
    let note = done["archiveNote"].as_str().expect("an archive note");
    assert!(note.contains(&aside.display().to_string()), "{note}");
    assert!(
        note.contains(".env.local") && note.contains("node_modules/"),
        "{note}"
    );
    assert!(
        !repo.files_on("secrets").contains(&".env.local".to_owned()),
        "ignored files are not committed"
    );
}
