//! The real `ff` binary killed with SIGKILL and started again on the same data.

mod common;

use common::binary::RunningFf;
use common::eventually;
use common::repo::TestRepo;
use ff_server::process::process_alive;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The real binary, with the few HTTP calls these tests make.
struct Server(RunningFf);

impl Server {
    fn start(data: &Path) -> Self {
        Self(RunningFf::start(data, "warn"))
    }

    async fn get(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.0.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new().post(format!("{}{path}", self.0.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let workspace = self.get(&format!("/api/workspaces/{id}")).await;
            if done(&workspace) {
                return workspace;
            }
            assert!(Instant::now() < deadline, "never {what}: {workspace:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(mut self) {
        self.0.child.kill().unwrap();
        self.0.child.wait().unwrap();
    }
}

#[tokio::test]
async fn a_setup_interrupted_by_sigkill_fails_on_restart_without_orphans_and_retries_to_ready() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    // The first run hangs; the retry (same worktree) finds the marker and finishes.
    repo.configure(json!({"scripts": {
        "setup": "if [ -f .second ]; then echo resumed; else touch .second; echo $$ > setup.pid; exec sleep 300; fi",
        "run": "echo $$ > run.pid; exec sleep 300",
    }}));

    let server = Server::start(data.path());
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

    let server = Server::start(data.path());
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
    eventually("the run script wrote its pid", || {
        worktree.join("run.pid").exists()
    })
    .await;
    let run: u32 = std::fs::read_to_string(worktree.join("run.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    server.kill();
    assert!(process_alive(run));
    let server = Server::start(data.path());
    let status = server
        .get(&format!("/api/workspaces/{id}/run-script"))
        .await;
    assert_eq!(status["status"], "IDLE", "{status}");
    assert!(!process_alive(run), "the orphaned run script was stopped");
}
