//! The workspace lifecycle on real git repositories, over real HTTP.

mod common;

use common::repo::TestRepo;
use common::{eventually, TestApp};
use ff_core::enums::WorkspaceStatus;
use ff_server::events::DomainEvent;
use ff_server::process::process_alive;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;

async fn ready_project(app: &TestApp, repo: &TestRepo) -> String {
    app.add_project(&repo.path).await
}

/// Commits and pushes what the test wrote into `repo`, then creates a workspace named `name`
/// from it and waits until it is READY.
async fn ready_after_commit(app: &TestApp, repo: &TestRepo, name: &str) -> Value {
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", name]);
    repo.git(&["push", "-q", "origin", "main"]);
    let project = ready_project(app, repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": name}))
        .await;
    app.wait_for_status(&id, "READY").await
}

fn worktree(workspace: &Value) -> &Path {
    Path::new(workspace["worktreePath"].as_str().expect("worktree path"))
}

#[tokio::test]
async fn a_manual_workspace_gets_a_branch_named_after_it_and_events_follow_each_commit() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let mut events = app.events.subscribe();

    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Fix login"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;

    assert_eq!(ready["branchName"], "fix-login");
    assert_eq!(ready["creationSource"], "MANUAL");
    assert!(worktree(&ready).join("README.md").is_file());
    assert!(worktree(&ready).starts_with(app.data_dir.path().join("worktrees/repo")));
    assert!(repo.has_branch("fix-login"));
    assert!(ready["initStartedAt"].is_string() && ready["initCompletedAt"].is_string());

    let mut seen = Vec::new();
    while seen.len() < 3 {
        match events.next().await.expect("bus open").expect("no lag") {
            DomainEvent::WorkspaceCreated { workspace, parent } => {
                assert!(parent.is_none(), "a person's workspace has no parent");
                seen.push(("created", workspace.status))
            }
            DomainEvent::WorkspaceStateChanged {
                from,
                to,
                workspace,
            } => {
                assert_eq!(
                    workspace.status, to,
                    "the event carries the row as committed"
                );
                seen.push((
                    if from == WorkspaceStatus::New {
                        "started"
                    } else {
                        "finished"
                    },
                    to,
                ));
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            ("created", WorkspaceStatus::New),
            ("started", WorkspaceStatus::Provisioning),
            ("finished", WorkspaceStatus::Ready)
        ]
    );
}

#[tokio::test]
async fn branch_name_collisions_give_distinct_branches() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.git(&["branch", "fix-login"]);
    let project = ready_project(&app, &repo).await;
    let first = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Fix login"}))
        .await;
    let second = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "fix_login"}))
        .await;
    let mut branches = vec![
        app.wait_for_status(&first, "READY").await["branchName"].clone(),
        app.wait_for_status(&second, "READY").await["branchName"].clone(),
    ];
    branches.sort_by_key(|b| b.to_string());
    assert_eq!(branches, [json!("fix-login-1"), json!("fix-login-2")]);
}

#[tokio::test]
async fn a_github_issue_workspace_is_named_after_the_issue() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(
            &project,
            json!({"source": "GITHUB_ISSUE", "issueNumber": 42, "issueUrl": "https://github.com/o/r/issues/42", "ratchetEnabled": true}),
        )
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(ready["name"], "Issue #42");
    assert_eq!(ready["branchName"], "issue-42");
    assert_eq!(ready["githubIssueNumber"], 42);
    assert_eq!(ready["githubIssueUrl"], "https://github.com/o/r/issues/42");
    assert_eq!(ready["creationSource"], "GITHUB_ISSUE");
    assert_eq!(ready["ratchetEnabled"], true);
}

#[tokio::test]
async fn resuming_a_local_branch_checks_it_out_as_it_is() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.git(&["checkout", "-q", "-b", "feature/x"]);
    std::fs::write(repo.path.join("x.txt"), "x\n").unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "x"]);
    let tip = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["checkout", "-q", "main"]);
    let project = ready_project(&app, &repo).await;

    let id = app
        .create_workspace(
            &project,
            json!({"source": "RESUME_BRANCH", "branchName": "feature/x"}),
        )
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(ready["name"], "feature/x");
    assert_eq!(ready["branchName"], "feature/x");
    assert_eq!(
        common::repo::git(worktree(&ready), &["rev-parse", "HEAD"]),
        tip
    );

    let (status, body) = app
        .post(
            &format!("/api/projects/{project}/workspaces"),
            json!({"source": "RESUME_BRANCH", "branchName": "feature/x"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("feature/x"),
        "{body}"
    );
}

#[tokio::test]
async fn resuming_an_origin_only_branch_creates_the_local_branch() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.push_origin_only_branch("feature/remote", "remote.txt");
    assert!(!repo.has_branch("feature/remote"));
    let project = ready_project(&app, &repo).await;

    let id = app.create_workspace(&project, json!({"source": "RESUME_BRANCH", "branchName": "feature/remote", "name": "Remote work"})).await;
    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(ready["name"], "Remote work");
    assert!(worktree(&ready).join("remote.txt").is_file());
    assert!(repo.has_branch("feature/remote"));
}

#[tokio::test]
async fn resuming_the_branch_of_another_live_workspace_is_a_conflict() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Fix login"}))
        .await;
    app.wait_for_status(&id, "READY").await;
    let (status, body) = app
        .post(
            &format!("/api/projects/{project}/workspaces"),
            json!({"source": "RESUME_BRANCH", "branchName": "fix-login"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "CONFLICT");
    let (_, list) = app
        .get(&format!("/api/projects/{project}/workspaces"))
        .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the refused request created nothing"
    );
}

#[tokio::test]
async fn resuming_a_branch_that_exists_nowhere_fails_naming_it() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(
            &project,
            json!({"source": "RESUME_BRANCH", "branchName": "ghost"}),
        )
        .await;
    let failed = app.wait_for_status(&id, "FAILED").await;
    assert_eq!(
        failed["initErrorMessage"],
        "Branch 'ghost' does not exist locally or on origin"
    );
}

#[tokio::test]
async fn a_missing_base_branch_fails_with_its_name_and_a_retry_succeeds_once_it_exists() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(
            &project,
            json!({"source": "MANUAL", "name": "On release", "baseBranch": "release"}),
        )
        .await;
    let failed = app.wait_for_status(&id, "FAILED").await;
    assert_eq!(
        failed["initErrorMessage"],
        "Base branch 'release' does not exist locally or on origin"
    );
    assert!(failed["worktreePath"].is_null());

    repo.git(&["push", "-q", "origin", "main:release"]);
    let (status, body) = app.command(&format!("/api/workspaces/{id}/retry")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(ready["initRetryCount"], 1);
    assert_eq!(ready["initErrorMessage"], Value::Null);

    let (status, body) = app.command(&format!("/api/workspaces/{id}/retry")).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a healthy workspace has nothing to retry: {body}"
    );
}

#[tokio::test]
async fn retries_stop_after_three() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(
            &project,
            json!({"source": "MANUAL", "name": "Doomed", "baseBranch": "nope"}),
        )
        .await;
    app.wait_for_status(&id, "FAILED").await;
    for attempt in 1..=3 {
        let (status, body) = app.command(&format!("/api/workspaces/{id}/retry")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "retry {attempt}: {body}");
        app.wait_for(&id, "failed again", |w| {
            w["status"] == "FAILED" && w["initRetryCount"] == attempt
        })
        .await;
    }
    let (status, body) = app.command(&format!("/api/workspaces/{id}/retry")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "TOO_MANY_REQUESTS");
}

#[tokio::test]
async fn a_repository_without_commits_gets_an_empty_branch() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::empty();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "First steps"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(ready["branchName"], "first-steps");
    let head = common::repo::git(worktree(&ready), &["symbolic-ref", "HEAD"]);
    assert_eq!(head, "refs/heads/first-steps");
}

#[tokio::test]
async fn setup_output_is_streamed_while_it_runs_and_a_failure_only_warns() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.configure(
        json!({"scripts": {"setup": "echo first; sleep 2; echo second; echo broken >&2; exit 3"}}),
    );
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Setup"}))
        .await;

    let live = app
        .wait_for(&id, "showing output while provisioning", |w| {
            w["initOutput"]
                .as_str()
                .is_some_and(|o| o.contains("first\n"))
        })
        .await;
    assert_eq!(
        live["status"], "PROVISIONING",
        "output must be visible before setup ends"
    );

    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(
        ready["initErrorMessage"],
        "Setup script failed with exit code 3; see the setup output"
    );
    let output = ready["initOutput"].as_str().unwrap();
    assert!(
        output.contains("second\n") && output.contains("broken\n"),
        "{output}"
    );
}

#[tokio::test]
async fn a_setup_script_that_succeeds_leaves_no_warning() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.configure(
        json!({"scripts": {"setup": "echo \"setting up $WORKSPACE_PATH\" && touch .set-up"}}),
    );
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Fine"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(ready["initErrorMessage"], Value::Null);
    assert!(worktree(&ready).join(".set-up").exists());
    let expected = format!("setting up {}", worktree(&ready).display());
    assert!(
        ready["initOutput"].as_str().unwrap().contains(&expected),
        "{ready:#}"
    );
}

#[tokio::test]
async fn a_setup_script_past_its_timeout_is_killed_with_its_whole_process_group() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.configure(
        json!({"scripts": {"setup": "sleep 300 & echo $! > background.pid; sleep 300"}}),
    );
    let project = ready_project(&app, &repo).await;
    let (status, _) = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/projects/{project}"),
            Some(json!({"setupTimeoutSeconds": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Slow"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(
        ready["initErrorMessage"],
        "Setup script timed out after 1 seconds"
    );
    let background: u32 = std::fs::read_to_string(worktree(&ready).join("background.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eventually("the setup script's background process is gone", || {
        !process_alive(background)
    })
    .await;
}

#[tokio::test]
async fn an_invalid_factory_config_is_reported_but_not_fatal() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    std::fs::write(repo.path.join("factory-factory.json"), "{ not json").unwrap();
    let ready = ready_after_commit(&app, &repo, "Broken config").await;
    assert_eq!(ready["initErrorMessage"], Value::Null);
    assert!(
        ready["initOutput"]
            .as_str()
            .unwrap()
            .contains("factory-factory.json is not valid"),
        "{ready:#}"
    );
}

#[tokio::test]
async fn a_factory_config_linking_out_of_the_worktree_is_refused_and_its_scripts_never_run() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    // A repository's author controls what its files are: this one names a configuration
    // outside any worktree, whose setup script would leave a mark.
    let outside = tempfile::tempdir().unwrap();
    let mark = outside.path().join("setup-ran");
    std::fs::write(
        outside.path().join("config.json"),
        json!({"scripts": {"setup": format!("touch {}", mark.display())}}).to_string(),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("config.json"),
        repo.path.join("factory-factory.json"),
    )
    .unwrap();
    let ready = ready_after_commit(&app, &repo, "Linked config").await;
    let output = ready["initOutput"].as_str().unwrap_or_default();
    assert!(
        output.contains("factory-factory.json") && output.contains("outside the worktree"),
        "{ready:#}"
    );
    assert!(!mark.exists(), "the setup script named outside ran");
}

#[tokio::test]
async fn archive_commits_uncommitted_and_untracked_work_then_removes_the_worktree() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Dirty work"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    let dir = worktree(&ready).to_owned();
    std::fs::write(dir.join("README.md"), "changed\n").unwrap();
    std::fs::create_dir(dir.join("notes")).unwrap();
    std::fs::write(dir.join("notes/untracked.txt"), "new\n").unwrap();

    let path = format!("/api/workspaces/{id}/archive");
    let (first, second) = tokio::join!(app.command(&path), app.command(&path));
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::ACCEPTED, StatusCode::CONFLICT],
        "{first:?} {second:?}"
    );

    app.wait_for_status(&id, "ARCHIVED").await;
    assert!(!dir.exists(), "the worktree directory is gone");
    assert!(repo.has_branch("dirty-work"), "the branch is kept");
    assert_eq!(repo.git(&["show", "dirty-work:README.md"]), "changed");
    assert!(repo
        .files_on("dirty-work")
        .contains(&"notes/untracked.txt".to_owned()));
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s", "dirty-work"]),
        "Archive workspace Dirty work"
    );

    let (_, live) = app
        .get(&format!("/api/projects/{project}/workspaces"))
        .await;
    assert_eq!(live, json!([]));
    let (_, archived) = app
        .get(&format!("/api/projects/{project}/workspaces?archived=true"))
        .await;
    assert_eq!(archived[0]["id"], id.as_str());
}

#[tokio::test]
async fn a_locked_index_rolls_the_archive_back_as_a_conflict() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Locked"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    let dir = worktree(&ready).to_owned();
    std::fs::write(dir.join("work.txt"), "precious\n").unwrap();
    let lock = dir.join(common::repo::git(
        &dir,
        &["rev-parse", "--git-path", "index.lock"],
    ));
    std::fs::write(&lock, "").unwrap();

    let (status, _) = app.command(&format!("/api/workspaces/{id}/archive")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let rolled_back = app
        .wait_for(&id, "rolled back", |w| {
            w["status"] == "READY" && w["archiveError"].is_object()
        })
        .await;
    assert_eq!(rolled_back["archiveError"]["code"], "CONFLICT");
    assert!(rolled_back["archiveError"]["message"]
        .as_str()
        .unwrap()
        .contains("index.lock"));
    assert!(dir.join("work.txt").exists(), "nothing was lost");

    std::fs::remove_file(&lock).unwrap();
    let (status, _) = app.command(&format!("/api/workspaces/{id}/archive")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let archived = app.wait_for_status(&id, "ARCHIVED").await;
    assert_eq!(archived["archiveError"], Value::Null);
    assert_eq!(repo.git(&["show", "locked:work.txt"]), "precious");
}

#[tokio::test]
async fn only_ready_or_failed_workspaces_can_be_archived() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.configure(json!({"scripts": {"setup": "sleep 2"}}));
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Busy"}))
        .await;
    app.wait_for_status(&id, "PROVISIONING").await;
    let (status, body) = app.command(&format!("/api/workspaces/{id}/archive")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PROVISIONING"),
        "{body}"
    );
    app.wait_for_status(&id, "READY").await;
}

#[tokio::test]
async fn the_ratchet_toggle_is_stored_and_announced_once_per_change() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Ratchet"}))
        .await;
    app.wait_for_status(&id, "READY").await;
    let mut events = app.events.subscribe();
    for _ in 0..2 {
        let (status, body) = app
            .send(
                reqwest::Method::PUT,
                &format!("/api/workspaces/{id}/ratchet"),
                Some(json!({"enabled": true})),
            )
            .await;
        assert_eq!((status, body), (StatusCode::OK, json!({"enabled": true})));
    }
    assert_eq!(app.workspace(&id).await["ratchetEnabled"], true);
    let (status, _) = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/workspaces/{id}/ratchet"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut toggles = Vec::new();
    while toggles.len() < 2 {
        if let Ok(DomainEvent::RatchetToggled { enabled, .. }) = events.next().await.unwrap() {
            toggles.push(enabled);
        }
    }
    assert_eq!(
        toggles,
        [true, false],
        "setting the same value again announces nothing"
    );
}

#[tokio::test]
async fn what_a_successful_setup_left_running_is_stopped_and_writes_nothing_more() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.configure(json!({"scripts": {
        "setup": "(trap '' HUP; while true; do echo tick; sleep 0.1; done) & echo $! > bg.pid; echo setup done",
    }}));
    let project = ready_project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Leftovers"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    assert_eq!(ready["initErrorMessage"], Value::Null, "{ready:#}");
    let pid: u32 = std::fs::read_to_string(worktree(&ready).join("bg.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eventually("the background process the setup left is gone", || {
        !process_alive(pid)
    })
    .await;
    let output = app.workspace(&id).await["initOutput"].clone();
    assert!(output.as_str().unwrap().contains("setup done"), "{output}");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        app.workspace(&id).await["initOutput"],
        output,
        "nothing writes into the setup output after READY"
    );
}
