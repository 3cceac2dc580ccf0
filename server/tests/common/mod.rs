//! Starts the real application on port 0 with its own data directory, as `ff serve` would, and
//! builds real git repositories (with a bare `origin`) to point it at.
#![allow(dead_code)] // each test binary uses its own part of these helpers

pub mod agent;
pub mod binary;
pub mod documents;
pub mod fake_github;
pub mod fake_models;
pub mod mcp;
pub mod repo;
pub mod socket;

use clap::Parser;
use ff_server::cli::{Cli, Command};
use ff_server::config::Config;
use ff_server::events::EventBus;
use ff_server::snapshot::{Snapshot, SnapshotConfig};
use ff_server::App;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The token every test server requires and every test client sends (api.md §1).
pub const TOKEN: &str = "ff-test-token-0123456789abcdef";

/// A client that authenticates as the user, as every test client must.
pub fn client() -> reqwest::Client {
    client_with(TOKEN)
}

/// A client that sends `token` as its bearer.
pub fn client_with(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a header value"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a client")
}

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    pub events: EventBus,
    pub snapshot: Snapshot,
    pub github: ff_server::github::Github,
    pub reply_threads: ff_server::flows::ReplyThreads,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_in(tempfile::tempdir().expect("temp dir")).await
    }

    /// Starts with snapshot settings adjusted by `tune`.
    pub async fn spawn_with(tune: impl FnOnce(&mut SnapshotConfig)) -> Self {
        Self::start(tempfile::tempdir().expect("temp dir"), tune).await
    }

    /// Starts on an existing data directory (a restart).
    pub async fn spawn_in(data_dir: tempfile::TempDir) -> Self {
        Self::start(data_dir, |_| {}).await
    }

    /// Starts with extra `ff serve` flags and configuration adjusted by `tune`.
    pub async fn spawn_with_flags(flags: &[&str], tune: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Self::config(&data_dir, flags);
        tune(&mut config);
        Self::start_config(data_dir, config, |_| {}).await
    }

    /// Starts on an existing data directory (a restart) with its configuration adjusted by
    /// `tune`.
    pub async fn spawn_in_with(
        data_dir: tempfile::TempDir,
        tune: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Self::config(&data_dir, &[]);
        tune(&mut config);
        Self::start_config(data_dir, config, |_| {}).await
    }

    async fn start(data_dir: tempfile::TempDir, tune: impl FnOnce(&mut SnapshotConfig)) -> Self {
        let config = Self::config(&data_dir, &[]);
        Self::start_config(data_dir, config, tune).await
    }

    fn config(data_dir: &tempfile::TempDir, flags: &[&str]) -> Config {
        let path = data_dir.path().to_str().expect("utf-8 temp path");
        let mut argv = vec!["ff", "serve", "--port", "0", "--data-dir", path];
        // Only a test of exactly that serves without the token.
        if !flags.contains(&"--no-auth") {
            argv.extend(["--token", TOKEN]);
        }
        let cli = Cli::try_parse_from(argv.iter().chain(flags)).expect("valid flags");
        let Command::Serve(args) = cli.command else {
            unreachable!("parsed a serve command")
        };
        let mut config = Config::resolve(args, |_| None).expect("config");
        // Never a real `gh` (and so never a real token) in tests.
        config.github.gh_program = "/nonexistent/gh".into();
        // The test harness is not `ff`: agents offered MCP over stdio run the built binary.
        config.sessions.mcp_bridge = Some(env!("CARGO_BIN_EXE_ff").into());
        config
    }

    /// Starts against a fake GitHub: its URL, its token, a 1 s poll, short timeouts; `tune`
    /// adjusts the rest.
    pub async fn spawn_with_github(fake_url: &str, tune: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_with_flags(&[], |config| {
            let github = &mut config.github;
            github.api_url = Some(fake_url.to_owned());
            github.poll_interval = Duration::from_secs(1);
            github.request_timeout = Duration::from_secs(2);
            github.env = std::sync::Arc::new(|key: &str| {
                (key == "FF_GITHUB_TOKEN").then(|| fake_github::TOKEN.to_owned())
            });
            tune(config);
        })
        .await
    }

    async fn start_config(
        data_dir: tempfile::TempDir,
        config: Config,
        tune: impl FnOnce(&mut SnapshotConfig),
    ) -> Self {
        let listener = TcpListener::bind(config.addr).await.expect("bind port 0");
        let port = listener.local_addr().expect("local addr").port();
        // Beyond loopback the app listens on every address; tests reach it on loopback.
        let url = format!("http://127.0.0.1:{port}");
        let mut snapshot_config =
            SnapshotConfig::new(config.coalesce_window, config.reconcile_interval);
        tune(&mut snapshot_config);
        let app = App::start_with(config, snapshot_config)
            .await
            .expect("app starts");
        let events = app.events();
        let snapshot = app.snapshot();
        let github = app.github();
        let reply_threads = app.reply_threads();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(app.run(listener, async {
            let _ = stopped.await;
        }));
        Self {
            url,
            client: client(),
            data_dir,
            events,
            snapshot,
            github,
            reply_threads,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn ws_url(&self, query: &str) -> String {
        format!(
            "{}/ws/snapshots?{query}",
            self.url.replacen("http", "ws", 1)
        )
    }

    /// A metric's value from `/metrics` (0 when the series does not exist yet).
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self
            .client
            .get(self.at("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| {
                line.strip_prefix(series)
                    .and_then(|rest| rest.strip_prefix(' '))
            })
            .map_or(0.0, |value| value.trim().parse().expect("a number"))
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(self.at(path)).send().await.expect("GET");
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.at(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// POST without a body (commands such as archive or retry).
    pub async fn command(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, None).await
    }

    pub async fn add_project(&self, repo: &Path) -> String {
        let (status, body) = self
            .post("/api/projects", serde_json::json!({ "repoPath": repo }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("project id").to_owned()
    }

    pub async fn create_workspace(&self, project: &str, body: Value) -> String {
        let (status, created) = self
            .post(&format!("/api/projects/{project}/workspaces"), body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["status"], "NEW");
        created["id"].as_str().expect("workspace id").to_owned()
    }

    pub async fn workspace(&self, id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/workspaces/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Polls the workspace until `done` holds (at most 30 s), and returns it.
    pub async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let workspace = self.workspace(id).await;
            if done(&workspace) {
                return workspace;
            }
            assert!(
                Instant::now() < deadline,
                "workspace never became {what}: {workspace:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        self.wait_for(id, status, |w| w["status"] == status).await
    }

    /// The workspace's snapshot entry (`Null` while it has none).
    pub async fn entry(&self, project: &str, id: &str) -> Value {
        let (status, full) = self.get(&format!("/api/projects/{project}/snapshot")).await;
        assert_eq!(status, StatusCode::OK, "{full}");
        full["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["workspaceId"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Waits (at most 20 s) until the workspace's snapshot entry satisfies `done`.
    pub async fn wait_entry(
        &self,
        project: &str,
        id: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let entry = self.entry(project, id).await;
            if done(&entry) {
                return entry;
            }
            assert!(Instant::now() < deadline, "never {what}: {entry:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks for a graceful shutdown, waits for it, and hands back the data directory.
    pub async fn shutdown(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task
            .take()
            .expect("running")
            .await
            .expect("join")
            .expect("clean shutdown");
        self.data_dir
    }
}

/// Waits (at most 10 s) until `check` holds.
pub async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
