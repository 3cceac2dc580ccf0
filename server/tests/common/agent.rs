//! The scripted ACP agent (`ff-scripted-agent`) configured as an agent server of a test app: its
//! script, the log it writes of everything it received, and helpers to wait on sessions.

use super::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct ScriptedAgent {
    dir: tempfile::TempDir,
}

impl ScriptedAgent {
    /// An agent that plays `turns` (see the step list in the agent's `script.rs`).
    pub fn new(script: Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("script.json"), script.to_string()).unwrap();
        std::fs::create_dir(dir.path().join("state")).unwrap();
        Self { dir }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log.jsonl")
    }

    /// The `agentServers` entry that runs this agent.
    pub fn server(&self) -> Value {
        json!({
            "command": env!("CARGO_BIN_EXE_ff-scripted-agent"),
            "env": {
                "FF_SCRIPTED_AGENT_SCRIPT": self.dir.path().join("script.json"),
                "FF_SCRIPTED_AGENT_LOG": self.log_path(),
                "FF_SCRIPTED_AGENT_STATE": self.dir.path().join("state"),
            }
        })
    }

    /// Makes it the app's default agent, under the name `scripted`.
    pub async fn install(&self, app: &TestApp) {
        let (status, body) = app
            .send(
                reqwest::Method::PATCH,
                "/api/settings",
                Some(json!({"agentServers": {"scripted": self.server()}, "defaultAgent": "scripted"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Everything the agent logged so far.
    pub fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    pub fn events_named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == name)
            .collect()
    }

    /// Waits (at most 20 s) for the agent to log `count` events named `name`.
    pub async fn wait_for(&self, name: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let events = self.events_named(name);
            if events.len() >= count {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "the agent logged {} of {count} {name:?} events: {:#?}",
                events.len(),
                self.events()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A test that ends, passing or failing, leaves none of its agents behind: every process started
/// with this agent's environment (its log path is unique to it) is killed, with its group, even
/// when ff itself was killed and could not stop them.
impl Drop for ScriptedAgent {
    fn drop(&mut self) {
        let marker = format!("FF_SCRIPTED_AGENT_LOG={}", self.log_path().display());
        for pid in processes_with_env(&marker) {
            let pid = nix::unistd::Pid::from_raw(pid);
            // Its own group first (ff starts each agent as a group leader), then itself.
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// Processes whose environment holds exactly the entry `entry` (`NAME=value`).
pub fn processes_with_env(entry: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|b| *b == 0)
                    .any(|variable| variable == entry.as_bytes())
            })
        })
        .collect()
}

impl TestApp {
    /// A READY workspace of a fresh repository.
    pub async fn ready_workspace(
        &self,
        repo: &super::repo::TestRepo,
        body: Value,
    ) -> (String, String) {
        let project = self.add_project(&repo.path).await;
        let id = self.create_workspace(&project, body).await;
        self.wait_for_status(&id, "READY").await;
        (project, id)
    }

    pub async fn session(&self, id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/sessions/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Polls the session until `done` holds (at most 30 s).
    pub async fn wait_session(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let session = self.session(id).await;
            if done(&session) {
                return session;
            }
            assert!(
                Instant::now() < deadline,
                "session never {what}: {session:#}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The whole transcript.
    pub async fn items(&self, id: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/sessions/{id}/items?limit=1000"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().unwrap().clone()
    }

    /// Waits until the transcript has an item of `kind` matching `done`.
    pub async fn wait_item(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(item) = self.items(id).await.into_iter().find(|i| done(i)) {
                return item;
            }
            assert!(
                Instant::now() < deadline,
                "no item {what}: {:#?}",
                self.items(id).await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the end of the `n`th turn (its stop item) and returns the transcript.
    pub async fn wait_turns(&self, id: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let items = self.items(id).await;
            if items.iter().filter(|i| i["kind"] == "stop").count() >= n {
                return items;
            }
            assert!(
                Instant::now() < deadline,
                "turn {n} never ended: {items:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
