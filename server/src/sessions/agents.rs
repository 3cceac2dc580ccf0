//! Agent servers (sessions.md §1): the built-in Claude and Codex adapters and the user's own
//! entries, how a command is found (an absolute path, `PATH`, then ff's own agents directory),
//! and `ff agents install`, which puts a built-in adapter into that directory with npm at its
//! pinned version.

use crate::settings::Settings;
use ff_core::sessions::{built_in_agent, AgentInfo, AgentServer, BuiltInAgent, BUILT_IN_AGENTS};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// npm may download tens of megabytes (Codex's binary).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// One agent as a session starts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSpec {
    pub name: String,
    pub server: AgentServer,
    pub built_in: Option<&'static BuiltInAgent>,
}

impl AgentSpec {
    /// The sentence a user reads when the command cannot be found.
    pub fn missing(&self) -> String {
        match self.built_in {
            Some(agent) => format!(
                "{} is not installed: run `ff agents install {}` or `npm i -g {}`",
                agent.display_name, agent.name, agent.package
            ),
            None => format!(
                "The agent {:?} cannot be started: its command {:?} is not an executable file and \
                 is not on PATH",
                self.name, self.server.command
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Agents {
    /// `<data-dir>/agents`, where `ff agents install` puts adapters.
    dir: PathBuf,
    /// The `PATH` commands are looked up in (ff's own, unless a test says otherwise).
    path: Option<OsString>,
}

impl Agents {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("agents"),
            path: std::env::var_os("PATH"),
        }
    }

    /// Looks commands up in `path` instead of ff's own `PATH`.
    pub fn with_path(mut self, path: Option<OsString>) -> Self {
        self.path = path;
        self
    }

    /// Every configured agent: the built-ins (unless the user overrides one) and the user's.
    pub fn all(&self, settings: &Settings) -> Vec<AgentSpec> {
        let mut specs: BTreeMap<String, AgentSpec> = BUILT_IN_AGENTS
            .iter()
            .map(|agent| {
                let server = AgentServer {
                    command: agent.command.to_owned(),
                    args: Vec::new(),
                    env: BTreeMap::new(),
                };
                let spec = AgentSpec {
                    name: agent.name.to_owned(),
                    server,
                    built_in: Some(agent),
                };
                (agent.name.to_owned(), spec)
            })
            .collect();
        for (name, server) in &settings.agent_servers {
            specs.insert(
                name.clone(),
                AgentSpec {
                    name: name.clone(),
                    server: server.clone(),
                    built_in: built_in_agent(name),
                },
            );
        }
        specs.into_values().collect()
    }

    pub fn spec(&self, settings: &Settings, name: &str) -> Option<AgentSpec> {
        self.all(settings)
            .into_iter()
            .find(|spec| spec.name == name)
    }

    /// The executable a spec's command names, if it exists.
    pub fn resolve(&self, spec: &AgentSpec) -> Option<PathBuf> {
        let command = &spec.server.command;
        if Path::new(command).is_absolute() {
            return is_executable(Path::new(command)).then(|| PathBuf::from(command));
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        which::which_in(command, self.path.as_ref(), cwd)
            .ok()
            .or_else(|| {
                let installed = self.dir.join("node_modules/.bin").join(command);
                is_executable(&installed).then_some(installed)
            })
    }

    pub fn info(&self, spec: &AgentSpec) -> AgentInfo {
        let path = self.resolve(spec);
        AgentInfo {
            name: spec.name.clone(),
            command: spec.server.command.clone(),
            args: spec.server.args.clone(),
            installed: path.is_some(),
            version: path
                .as_deref()
                .and_then(|p| package_version(p, spec.built_in)),
            path: path.map(|p| p.display().to_string()),
            built_in: spec.built_in.is_some(),
            install_hint: spec
                .built_in
                .map(|agent| format!("ff agents install {}", agent.name)),
        }
    }

    /// `npm install` of a built-in adapter at its pinned version into `<data-dir>/agents`.
    /// `npm` writes its own progress to the terminal; `Err` is the reason it failed.
    pub async fn install(&self, name: &str) -> Result<PathBuf, String> {
        let agent = built_in_agent(name).ok_or_else(|| {
            let known: Vec<&str> = BUILT_IN_AGENTS.iter().map(|a| a.name).collect();
            format!(
                "ff can install {}; {name:?} is not one of them (configure other agents in settings)",
                known.join(" and ")
            )
        })?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let npm = which::which("npm").map_err(|_| {
            "npm is not installed: install Node.js 20 or newer, which brings npm".to_owned()
        })?;
        let status = tokio::process::Command::new(npm)
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--prefer-offline",
                "--prefix",
            ])
            .arg(&self.dir)
            .arg(format!("{}@{}", agent.package, agent.version))
            .kill_on_drop(true)
            .status();
        let status = tokio::time::timeout(INSTALL_TIMEOUT, status)
            .await
            .map_err(|_| format!("npm did not finish within {} s", INSTALL_TIMEOUT.as_secs()))?
            .map_err(|e| format!("cannot run npm: {e}"))?;
        if !status.success() {
            return Err(format!(
                "npm install failed ({status}); see its output above"
            ));
        }
        let installed = self.dir.join("node_modules/.bin").join(agent.command);
        is_executable(&installed)
            .then_some(installed)
            .ok_or_else(|| format!("npm finished but {} is missing", agent.command))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The version of the npm package an executable belongs to (npm links `.bin/x` into the
/// package's directory), when it is the built-in's package.
fn package_version(executable: &Path, built_in: Option<&BuiltInAgent>) -> Option<String> {
    let package = built_in?.package;
    let real = executable.canonicalize().ok()?;
    real.ancestors().skip(1).take(6).find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
        let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
        (manifest["name"] == package)
            .then(|| manifest["version"].as_str().map(str::to_owned))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn executable(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn commands_are_found_by_path_then_on_path_then_in_the_agents_directory() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        let data = root.path().join("data");
        let agents = Agents::new(&data).with_path(Some(bin.clone().into_os_string()));
        let mut settings = Settings::default();
        let claude = agents.spec(&settings, "claude").unwrap();
        assert_eq!(agents.resolve(&claude), None);
        assert!(
            claude.missing().contains("ff agents install claude"),
            "{}",
            claude.missing()
        );
        assert!(!agents.info(&claude).installed);

        // In ff's agents directory, as `ff agents install` leaves it.
        let package = data.join("agents/node_modules/@zed-industries/claude-agent-acp");
        executable(&package.join("dist/index.js"));
        std::fs::write(
            package.join("package.json"),
            r#"{"name": "@zed-industries/claude-agent-acp", "version": "0.23.1"}"#,
        )
        .unwrap();
        std::fs::create_dir_all(data.join("agents/node_modules/.bin")).unwrap();
        std::os::unix::fs::symlink(
            package.join("dist/index.js"),
            data.join("agents/node_modules/.bin/claude-agent-acp"),
        )
        .unwrap();
        let info = agents.info(&claude);
        assert!(info.installed);
        assert_eq!(info.version.as_deref(), Some("0.23.1"));
        assert!(info.path.unwrap().ends_with(".bin/claude-agent-acp"));

        // PATH wins over ff's own directory.
        executable(&bin.join("claude-agent-acp"));
        assert_eq!(agents.resolve(&claude), Some(bin.join("claude-agent-acp")));

        // A user entry with an absolute path, and one that does not exist.
        executable(&root.path().join("opt/gemini"));
        settings.agent_servers.insert(
            "gemini".into(),
            AgentServer {
                command: root.path().join("opt/gemini").display().to_string(),
                args: vec!["--experimental-acp".into()],
                env: BTreeMap::new(),
            },
        );
        settings.agent_servers.insert(
            "ghost".into(),
            AgentServer {
                command: "/nonexistent/agent".into(),
                args: vec![],
                env: BTreeMap::new(),
            },
        );
        let names: Vec<String> = agents.all(&settings).into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["claude", "codex", "gemini", "ghost"]);
        assert!(
            agents
                .info(&agents.spec(&settings, "gemini").unwrap())
                .installed
        );
        let ghost = agents.spec(&settings, "ghost").unwrap();
        assert!(!agents.info(&ghost).installed);
        assert!(ghost.missing().contains("/nonexistent/agent"));
    }
}
