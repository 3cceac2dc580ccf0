//! Run scripts as real process groups, over real HTTP.

mod common;

use common::repo::TestRepo;
use common::{eventually, TestApp};
use ff_core::enums::RunScriptStatus;
use ff_server::events::DomainEvent;
use ff_server::process::process_alive;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A READY workspace of a repository whose `factory-factory.json` holds `scripts`.
async fn workspace_with(app: &TestApp, scripts: Value) -> (String, PathBuf, TestRepo) {
    let repo = TestRepo::new();
    repo.configure(json!({ "scripts": scripts }));
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Dev"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    let worktree = PathBuf::from(ready["worktreePath"].as_str().unwrap());
    (id, worktree, repo)
}

async fn run_script(app: &TestApp, id: &str) -> Value {
    let (status, body) = app.get(&format!("/api/workspaces/{id}/run-script")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn wait_for_run_status(app: &TestApp, id: &str, status: &str) -> Value {
    let path = format!("/api/workspaces/{id}/run-script");
    for _ in 0..500 {
        let (_, body) = app.get(&path).await;
        if body["status"] == status {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!(
        "the run script never became {status}: {}",
        run_script(app, id).await
    );
}

async fn logs(app: &TestApp, id: &str, query: &str) -> String {
    let response = app
        .client
        .get(app.at(&format!("/api/workspaces/{id}/run-script/logs{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

fn read_pid(path: &Path) -> u32 {
    try_read_pid(path).unwrap_or_else(|| panic!("no pid in {}", path.display()))
}

/// A pid file a script may be writing at this very moment.
fn try_read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[tokio::test]
async fn a_dev_server_gets_a_free_port_runs_in_its_group_and_stops_with_everything_it_started() {
    let app = TestApp::spawn().await;
    let (id, worktree, _repo) = workspace_with(
        &app,
        json!({
            "run": "sleep 300 & echo $! > grandchild.pid; echo \"serving on {port}\"; exec python3 -m http.server {port} --bind 127.0.0.1",
            "cleanup": "echo cleaning up {port}",
        }),
    )
    .await;
    let mut events = app.events.subscribe();

    let (status, started) = app
        .command(&format!("/api/workspaces/{id}/run-script/start"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert_eq!(started["status"], "RUNNING");
    let port = started["port"].as_u64().expect("a port was allocated") as u16;
    assert!(started["pid"].is_u64() && started["startedAt"].is_string());

    let url = format!("http://127.0.0.1:{port}/");
    let mut served = false;
    for _ in 0..250 {
        if reqwest::get(&url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        served,
        "the dev server answers on its substituted port {port}"
    );
    assert!(logs(&app, &id, "")
        .await
        .contains(&format!("serving on {port}")));

    let (status, body) = app
        .command(&format!("/api/workspaces/{id}/run-script/start"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a second start: {body}");

    let grandchild = read_pid(&worktree.join("grandchild.pid"));
    let (status, _) = app
        .command(&format!("/api/workspaces/{id}/run-script/stop"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let stopped = wait_for_run_status(&app, &id, "IDLE").await;
    assert_eq!(stopped["pid"], Value::Null);
    assert_eq!(stopped["port"], Value::Null);
    eventually("the grandchild is gone", || !process_alive(grandchild)).await;
    assert!(
        reqwest::get(&url).await.is_err(),
        "nothing listens on {port} any more"
    );

    let log = logs(&app, &id, "").await;
    assert!(
        log.contains(&format!("cleaning up {port}")),
        "cleanup ran with the port: {log}"
    );
    assert!(log.ends_with("[ff] Stopped\n"), "{log}");
    assert_eq!(logs(&app, &id, "?tail=1").await, "[ff] Stopped\n");

    use RunScriptStatus::*;
    let mut transitions = Vec::new();
    while transitions.len() < 4 {
        if let Ok(DomainEvent::RunScriptStatusChanged { from, to, .. }) =
            events.next().await.unwrap()
        {
            transitions.push((from, to));
        }
    }
    assert_eq!(
        transitions,
        [
            (Idle, Starting),
            (Starting, Running),
            (Running, Stopping),
            (Stopping, Idle)
        ]
    );
}

#[tokio::test]
async fn a_script_that_ends_by_itself_is_completed_or_failed_and_can_start_again() {
    let app = TestApp::spawn().await;
    let (id, worktree, _repo) = workspace_with(
        &app,
        json!({"run": "echo run >> runs.txt; test -f fail && exit 4; exit 0"}),
    )
    .await;
    app.command(&format!("/api/workspaces/{id}/run-script/start"))
        .await;
    wait_for_run_status(&app, &id, "COMPLETED").await;

    std::fs::write(worktree.join("fail"), "").unwrap();
    let (status, body) = app
        .command(&format!("/api/workspaces/{id}/run-script/start"))
        .await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "a completed script starts again: {body}"
    );
    wait_for_run_status(&app, &id, "FAILED").await;
    assert!(logs(&app, &id, "")
        .await
        .contains("[ff] Exited with code 4"));
    assert_eq!(
        std::fs::read_to_string(worktree.join("runs.txt")).unwrap(),
        "run\nrun\n"
    );

    app.command(&format!("/api/workspaces/{id}/run-script/stop"))
        .await;
    wait_for_run_status(&app, &id, "IDLE").await;
}

#[tokio::test]
async fn without_a_run_script_start_is_refused() {
    let app = TestApp::spawn().await;
    let (id, _, _repo) = workspace_with(&app, json!({"setup": "true"})).await;
    let (status, body) = app
        .command(&format!("/api/workspaces/{id}/run-script/start"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scripts.run"),
        "{body}"
    );
    assert_eq!(run_script(&app, &id).await["status"], "IDLE");
}

#[tokio::test]
async fn a_config_swapped_for_a_fifo_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let (id, worktree, _repo) = workspace_with(&app, json!({"run": "echo hi"})).await;
    // An agent can put anything in its worktree: a FIFO no one writes would hold a reader.
    std::fs::remove_file(worktree.join("factory-factory.json")).unwrap();
    nix::unistd::mkfifo(
        &worktree.join("factory-factory.json"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let (status, body) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        app.command(&format!("/api/workspaces/{id}/run-script/start")),
    )
    .await
    .expect("starting answers at once");
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("factory-factory.json") && message.contains("not a regular file"),
        "{body}"
    );
    assert_eq!(run_script(&app, &id).await["status"], "IDLE");
}

#[tokio::test]
async fn archive_and_server_shutdown_stop_run_scripts() {
    let app = TestApp::spawn().await;
    let (archived, archived_tree, repo) =
        workspace_with(&app, json!({"run": "echo $$ > leader.pid; exec sleep 300"})).await;
    let project = app.get("/api/projects").await.1[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Kept"}))
        .await;
    let kept_tree = PathBuf::from(
        app.wait_for_status(&kept, "READY").await["worktreePath"]
            .as_str()
            .unwrap(),
    );
    for id in [&archived, &kept] {
        app.command(&format!("/api/workspaces/{id}/run-script/start"))
            .await;
        wait_for_run_status(&app, id, "RUNNING").await;
    }
    eventually("both scripts wrote their pid", || {
        try_read_pid(&archived_tree.join("leader.pid")).is_some()
            && try_read_pid(&kept_tree.join("leader.pid")).is_some()
    })
    .await;
    let archived_pid = read_pid(&archived_tree.join("leader.pid"));
    let kept_pid = read_pid(&kept_tree.join("leader.pid"));

    app.command(&format!("/api/workspaces/{archived}/archive"))
        .await;
    app.wait_for_status(&archived, "ARCHIVED").await;
    assert!(
        !process_alive(archived_pid),
        "archive stopped the run script"
    );
    assert!(repo.has_branch("dev"));

    assert!(process_alive(kept_pid));
    app.shutdown().await;
    assert!(!process_alive(kept_pid), "shutdown stopped the run script");
}

#[tokio::test]
async fn what_a_finished_script_left_running_is_stopped_with_it() {
    let app = TestApp::spawn().await;
    let (id, worktree, _repo) = workspace_with(
        &app,
        json!({"run": "sleep 300 & echo $! > left.pid; exit 0"}),
    )
    .await;
    app.command(&format!("/api/workspaces/{id}/run-script/start"))
        .await;
    wait_for_run_status(&app, &id, "COMPLETED").await;
    let left = read_pid(&worktree.join("left.pid"));
    eventually("the leftover process is gone", || !process_alive(left)).await;
}

/// The watcher of a run whose leader exited while a child ignoring SIGTERM lingers is still
/// busy when the user stops and starts again: it must not settle, deregister or log into the
/// new run.
#[tokio::test]
async fn stopping_and_starting_at_once_never_lets_the_old_run_touch_the_new_one() {
    let app = TestApp::spawn().await;
    let (id, worktree, _repo) = workspace_with(
        &app,
        json!({"run": "echo $$ > leader.pid; if [ -f once ]; then exec sleep 300; fi; touch once; \
                       (trap '' TERM; echo $BASHPID > child.pid; exec sleep 300) & \
                       while [ ! -s child.pid ]; do sleep 0.01; done; exit 0"}),
    )
    .await;
    for round in 0..3 {
        let _ = std::fs::remove_file(worktree.join("once"));
        let _ = std::fs::remove_file(worktree.join("child.pid"));
        let (status, body) = app
            .command(&format!("/api/workspaces/{id}/run-script/start"))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "round {round}: {body}");
        eventually("the first leader exited, leaving its child", || {
            try_read_pid(&worktree.join("child.pid")).is_some()
                && try_read_pid(&worktree.join("leader.pid")).is_some_and(|p| !process_alive(p))
        })
        .await;
        let child = read_pid(&worktree.join("child.pid"));
        assert!(process_alive(child));

        app.command(&format!("/api/workspaces/{id}/run-script/stop"))
            .await;
        let started = loop {
            let (status, body) = app
                .command(&format!("/api/workspaces/{id}/run-script/start"))
                .await;
            if status == StatusCode::ACCEPTED {
                break body;
            }
            assert_eq!(status, StatusCode::CONFLICT, "round {round}: {body}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let leader = started["pid"].as_u64().expect("the new run's pid") as u32;
        eventually("the new leader recorded itself", || {
            try_read_pid(&worktree.join("leader.pid")) == Some(leader)
        })
        .await;
        assert!(
            !process_alive(child),
            "round {round}: the old child was stopped"
        );
        // Long enough for the old run's watcher to have finished whatever it would do.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = run_script(&app, &id).await;
        assert_eq!(now["status"], "RUNNING", "round {round}: {now}");
        assert_eq!(now["pid"], leader, "round {round}: {now}");
        assert!(process_alive(leader), "round {round}");
        let log = logs(&app, &id, "").await;
        assert!(
            !log.contains("Exited"),
            "round {round}: the old run wrote into the new log: {log}"
        );

        app.command(&format!("/api/workspaces/{id}/run-script/stop"))
            .await;
        wait_for_run_status(&app, &id, "IDLE").await;
        eventually("the second run is stopped", || !process_alive(leader)).await;
    }
}
