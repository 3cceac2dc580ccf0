//! The real `ff` binary killed with SIGKILL and started again on the same data.

mod common;

use common::binary::RunningFf;
use common::eventually;
use common::repo::TestRepo;
use ff_server::process::process_alive;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

#[tokio::test]
async fn a_setup_interrupted_by_sigkill_fails_on_restart_without_orphans_and_retries_to_ready() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    // The first run hangs; the retry (same worktree) finds the marker and finishes.
    repo.configure(json!({"scripts": {
        "setup": "if [ -f .second ]; then echo resumed; else touch .second; echo $$ > setup.pid; exec sleep 300; fi",
        "run": "echo $$ > run.pid; exec sleep 300",
    }}));

    let server = RunningFf::start(data.path(), "warn");
    let (status, project) = server
        .post("/api/projects", Some(json!({"repoPath": repo.path})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let (_, workspace) = server
        .post(
            &format!(
                "/api/projects/{}/workspaces",
                project["id"].as_str().unwrap()
            ),
            Some(json!({"source": "MANUAL", "name": "Slow setup"})),
        )
        .await;
    let id = workspace["id"].as_str().unwrap().to_owned();
    let provisioning = server
        .wait_for(&id, "running its setup", |w| {
            w["status"] == "PROVISIONING"
                && w["worktreePath"]
                    .as_str()
                    .is_some_and(|p| Path::new(p).join("setup.pid").exists())
        })
        .await;
    let worktree = PathBuf::from(provisioning["worktreePath"].as_str().unwrap());
    let setup: u32 = std::fs::read_to_string(worktree.join("setup.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    server.kill();
    assert!(
        process_alive(setup),
        "SIGKILL leaves the setup's own process group behind"
    );

    let server = RunningFf::start(data.path(), "warn");
    let failed = server
        .wait_for(&id, "failed", |w| w["status"] == "FAILED")
        .await;
    assert_eq!(
        failed["initErrorMessage"],
        "Setup was interrupted by a server restart; retry to continue"
    );
    eventually("the orphaned setup process is gone", || {
        !process_alive(setup)
    })
    .await;

    let (status, body) = server
        .post(&format!("/api/workspaces/{id}/retry"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let ready = server
        .wait_for(&id, "ready", |w| w["status"] == "READY")
        .await;
    assert_eq!(ready["initErrorMessage"], Value::Null);
    assert!(ready["initOutput"].as_str().unwrap().contains("resumed"));

    // A run script orphaned by another SIGKILL is stopped at the next start.
    let (status, body) = server
        .post(&format!("/api/workspaces/{id}/run-script/start"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let pid = || -> Option<u32> {
        std::fs::read_to_string(worktree.join("run.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    eventually("the run script wrote its pid", || pid().is_some()).await;
    let run = pid().unwrap();
    server.kill();
    assert!(process_alive(run));
    let server = RunningFf::start(data.path(), "warn");
    let status = server
        .get(&format!("/api/workspaces/{id}/run-script"))
        .await;
    assert_eq!(status["status"], "IDLE", "{status}");
    assert!(!process_alive(run), "the orphaned run script was stopped");
}

/// `/proc/<pid>/stat` field 22: when the process started, in ticks since boot.
fn start_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap()
}

/// After a reboot (or once a pid is reused) a recorded pid can belong to anyone: recovery must
/// leave such a process alone, and still settle the row that named it.
#[tokio::test]
async fn recovery_never_signals_a_process_that_only_reuses_a_recorded_pid() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    // Only the first workspace's setup hangs; the second one's finishes.
    repo.configure(json!({"scripts": {
        "setup": "if [ \"$(git branch --show-current)\" = running ]; then exit 0; fi; echo $$ > setup.pid; exec sleep 300",
    }}));
    let server = RunningFf::start(data.path(), "warn");
    let (_, project) = server
        .post("/api/projects", Some(json!({"repoPath": repo.path})))
        .await;
    let create = |name: &str| json!({"source": "MANUAL", "name": name});
    let workspaces = format!(
        "/api/projects/{}/workspaces",
        project["id"].as_str().unwrap()
    );
    let (_, setting_up) = server.post(&workspaces, Some(create("Setting up"))).await;
    let setting_up = setting_up["id"].as_str().unwrap().to_owned();
    let provisioning = server
        .wait_for(&setting_up, "running its setup", |w| {
            w["worktreePath"]
                .as_str()
                .is_some_and(|p| Path::new(p).join("setup.pid").exists())
        })
        .await;
    let setup_tree = PathBuf::from(provisioning["worktreePath"].as_str().unwrap());
    let setup: u32 = std::fs::read_to_string(setup_tree.join("setup.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    server.kill();
    // The real setup group ends; its recorded pid is then "reused" by a stranger below.
    ff_server::process::signal_group(setup, nix::sys::signal::Signal::SIGKILL);
    eventually("the setup is gone", || !process_alive(setup)).await;

    let mut stranger = std::process::Command::new("sleep")
        .arg("300")
        .process_group(0)
        .spawn()
        .unwrap();
    let stranger_pid = stranger.id();
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}/ff.db", data.path().display()))
        .await
        .unwrap();
    let (recorded,): (String,) =
        sqlx::query_as("SELECT init_script_process FROM workspaces WHERE id = ?")
            .bind(&setting_up)
            .fetch_one(&db)
            .await
            .unwrap();
    let boot = recorded.splitn(3, ':').nth(2).unwrap().to_owned();
    // Same boot, but the process now holding the pid started at another time.
    sqlx::query("UPDATE workspaces SET init_script_process = ? WHERE id = ?")
        .bind(format!(
            "{stranger_pid}:{}:{boot}",
            start_ticks(stranger_pid) + 7
        ))
        .bind(&setting_up)
        .execute(&db)
        .await
        .unwrap();
    // A run script recorded during an earlier boot, naming the stranger exactly.
    let server = RunningFf::start(data.path(), "warn");
    let (_, ran) = server.post(&workspaces, Some(create("Running"))).await;
    let ran = ran["id"].as_str().unwrap().to_owned();
    server
        .wait_for(&ran, "ready", |w| w["status"] == "READY")
        .await;
    server.kill();
    sqlx::query(
        "UPDATE workspace_run_script SET status = 'RUNNING', pid = ?, process = ? WHERE workspace_id = ?",
    )
    .bind(i64::from(stranger_pid))
    .bind(format!("{stranger_pid}:{}:another-boot", start_ticks(stranger_pid)))
    .bind(&ran)
    .execute(&db)
    .await
    .unwrap();
    db.close().await;

    let server = RunningFf::start(data.path(), "warn");
    let failed = server
        .wait_for(&setting_up, "failed", |w| w["status"] == "FAILED")
        .await;
    assert_eq!(
        failed["initErrorMessage"],
        "Setup was interrupted by a server restart; retry to continue"
    );
    let run = server
        .get(&format!("/api/workspaces/{ran}/run-script"))
        .await;
    assert_eq!(run["status"], "FAILED", "the row settled: {run}");
    assert_eq!(run["pid"], serde_json::Value::Null);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(process_alive(stranger_pid), "the stranger was left alone");
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

/// `kill -9` of ff in the middle of an agent's turn: after a restart the session is idle, no
/// agent process is left, the transcript holds what was said before the crash, and a new
/// message continues the agent's session.
#[tokio::test]
async fn a_session_survives_ff_being_killed_mid_turn() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let agent = common::agent::ScriptedAgent::new(json!({"outlivesClient": true, "turns": [
        {"steps": [{"text": "part one"},
                   {"toolCall": {"toolCallId": "t1", "title": "Long build", "kind": "execute", "status": "in_progress"}},
                   {"hang": {}}]},
        {"steps": [{"text": "continued"}]},
    ]}));
    let server = RunningFf::start(data.path(), "warn");
    let patch = server
        .client
        .patch(format!("{}/api/settings", server.url))
        .json(&json!({"agentServers": {"scripted": agent.server()}, "defaultAgent": "scripted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), StatusCode::OK);
    let (_, project) = server
        .post("/api/projects", Some(json!({"repoPath": repo.path})))
        .await;
    let (_, workspace) = server
        .post(
            &format!(
                "/api/projects/{}/workspaces",
                project["id"].as_str().unwrap()
            ),
            Some(json!({"source": "MANUAL", "name": "Crash", "initialPrompt": "start"})),
        )
        .await;
    let workspace = workspace["id"].as_str().unwrap().to_owned();
    let prompt = agent.wait_for("session/prompt", 1).await;
    let agent_pid = prompt[0]["pid"].as_u64().unwrap() as u32;
    let sessions = server
        .get(&format!("/api/workspaces/{workspace}/sessions"))
        .await;
    let session = sessions[0]["id"].as_str().unwrap().to_owned();
    let items = |server: &RunningFf| {
        let url = format!("{}/api/sessions/{session}/items", server.url);
        async move {
            common::client()
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !items(&server).await.to_string().contains("part one") {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent never spoke"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Past the transcript's write interval: what was said is on disk.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    server.kill();
    assert!(
        process_alive(agent_pid),
        "SIGKILL leaves the agent's own group behind"
    );

    let server = RunningFf::start(data.path(), "warn");
    eventually("the leftover agent is gone", || !process_alive(agent_pid)).await;
    let recovered = server.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(recovered["status"], "IDLE", "{recovered}");
    assert_eq!(recovered["runtime"]["working"], false);
    let before = items(&server).await;
    let kinds: Vec<&str> = before
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["user", "agent", "tool"], "{before:#}");
    assert_eq!(before[1]["text"], "part one");
    assert_eq!(
        before[2]["status"], "cancelled",
        "the open tool call was closed"
    );

    let (status, body) = server
        .post(
            &format!("/api/sessions/{session}/messages"),
            Some(json!({"text": "go on"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !items(&server).await.to_string().contains("continued") {
        assert!(
            std::time::Instant::now() < deadline,
            "the session did not continue"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let loads = agent.events_named("session/load");
    assert_eq!(
        loads.len(),
        1,
        "the agent's session was resumed: {:#?}",
        agent.events()
    );
}
