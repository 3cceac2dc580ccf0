//! The real `ff` binary as a child process, serving on a free port, with the few HTTP calls the
//! tests that drive it make and what `/proc` says about its memory and CPU.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RunningFf {
    pub child: Child,
    /// The base URL (`http://127.0.0.1:<port>`), without the token.
    pub url: String,
    /// The token from the login URL ff printed.
    pub token: String,
    /// The other login URLs ff printed (`ff is also at …`).
    pub also: Vec<String>,
    pub client: reqwest::Client,
}

impl RunningFf {
    /// `ff serve --port 0` over `data`; returns once it has printed its URL.
    pub fn start(data: &Path, log: &str) -> Self {
        Self::start_with([OsStr::new("--data-dir"), data.as_os_str()], None, log)
    }

    /// `ff serve --port 0 <args>` started in `cwd` (this directory when `None`).
    pub fn start_with<'a>(
        args: impl IntoIterator<Item = &'a OsStr>,
        cwd: Option<&Path>,
        log: &str,
    ) -> Self {
        Self::start_env(args, cwd, &[], log)
    }

    /// Like [`Self::start_with`], with these environment variables set.
    pub fn start_env<'a>(
        args: impl IntoIterator<Item = &'a OsStr>,
        cwd: Option<&Path>,
        env: &[(&str, &str)],
        log: &str,
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ff"));
        command.env("FF_TOKEN", super::TOKEN);
        Self::spawn(command, args, cwd, env, log)
    }

    /// `ff serve --port 0 --data-dir <data>` with the token it generates into the data directory.
    pub fn start_generated(data: &Path) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ff"));
        command.env_remove("FF_TOKEN");
        Self::spawn(
            command,
            [OsStr::new("--data-dir"), data.as_os_str()],
            None,
            &[],
            "warn",
        )
    }

    fn spawn<'a>(
        mut command: Command,
        args: impl IntoIterator<Item = &'a OsStr>,
        cwd: Option<&Path>,
        env: &[(&str, &str)],
        log: &str,
    ) -> Self {
        command
            .args(["serve", "--port", "0"])
            .args(args)
            .env("FF_LOG", log)
            .envs(env.iter().copied())
            .stdout(Stdio::piped());
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn().expect("ff starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        stdout.read_line(&mut line).expect("ff prints a line");
        // ff prints all its addresses in one write: the rest are already in the buffer.
        let also = String::from_utf8_lossy(stdout.buffer())
            .lines()
            .filter_map(|l| l.strip_prefix("ff is also at "))
            .map(str::to_owned)
            .collect();
        let login = line
            .trim()
            .strip_prefix("ff is running at ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let (url, token) = login
            .split_once("/?token=")
            .unwrap_or_else(|| panic!("no token in the printed URL {login:?}"));
        Self {
            child,
            url: url.to_owned(),
            token: token.to_owned(),
            client: super::client_with(token),
            also,
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// Adds the repository at `repo` as a project; its id.
    pub async fn add_project(&self, repo: &Path) -> String {
        let (status, project) = self
            .post("/api/projects", Some(json!({"repoPath": repo})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{project}");
        project["id"].as_str().unwrap().to_owned()
    }

    /// Creates a manual workspace named `name` in `project` and waits until it is READY; the
    /// workspace as the API shows it then.
    pub async fn ready_workspace(&self, project: &str, name: &str) -> Value {
        let (status, created) = self
            .post(
                &format!("/api/projects/{project}/workspaces"),
                Some(json!({"source": "MANUAL", "name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap();
        self.wait_for(id, "ready", |w| w["status"] == "READY").await
    }

    /// Polls the workspace until `done` holds (at most 30 s).
    pub async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
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

    /// SIGKILL: no shutdown of any kind.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM` for the peak).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// CPU time used so far, user and system together.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // The kernel reports USER_HZ ticks, 100 per second on Linux.
        Duration::from_millis(ticks * 10)
    }
}

/// A test that fails half-way must not leave a server running, nor its agents: ff is asked to
/// shut down (it stops every agent it runs), and killed if it has not within 10 s.
impl Drop for RunningFf {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_)) | Err(_)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
