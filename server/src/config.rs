//! The effective configuration, with every default resolved and every value checked once.

use crate::auth::{AuthConfig, Token, TokenError};
use crate::cli::{ServeArgs, StorageArgs};
use crate::git::ssh::SshLookup;
use ff_core::github::Host;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub worktree_dir: PathBuf,
    pub reconcile_interval: Duration,
    pub coalesce_window: Duration,
    pub poll_interval: Duration,
    pub allowed_origins: Vec<Origin>,
    pub auth: AuthConfig,
    pub log: String,
    /// Connection limits; not flags (the defaults suit every local use), tests tune them.
    pub http_limits: HttpLimits,
    pub sessions: SessionsConfig,
    pub github: GithubConfig,
    /// Not flags: the ratchet's pace is the spec's; tests tune it.
    pub ratchet: RatchetConfig,
    /// When scheduled tasks are due: the system clock; tests set their own.
    pub clock: crate::clock::Clock,
    pub terminals: TerminalsConfig,
}

/// The workspaces' terminals.
#[derive(Clone, Debug)]
pub struct TerminalsConfig {
    /// What a terminal runs: `$SHELL`, else `/bin/sh`.
    pub shell: PathBuf,
    /// Terminals open at once in one workspace (`--max-terminals-per-workspace`).
    pub max_per_workspace: usize,
    /// Terminals open at once in all (`--max-terminals`).
    pub max_total: usize,
    /// The last output kept for a page that reattaches; not a flag.
    pub scrollback_bytes: usize,
    /// SIGHUP to SIGKILL when a terminal ends; not a flag.
    pub stop_grace: Duration,
}

impl TerminalsConfig {
    pub fn new(shell: PathBuf) -> Self {
        Self {
            shell,
            max_per_workspace: 8,
            max_total: 64,
            scrollback_bytes: 256 * 1024,
            stop_grace: Duration::from_secs(2),
        }
    }
}

/// How the ratchet paces its checks (ratchet.md §2).
#[derive(Clone, Debug)]
pub struct RatchetConfig {
    /// Every candidate is checked this often, besides the checks events start.
    pub interval: Duration,
    /// Checks running at once.
    pub concurrency: usize,
    /// Longest a check may take to read GitHub before it gives up (it runs again later).
    pub check_timeout: Duration,
}

impl Default for RatchetConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(120),
            concurrency: 3,
            check_timeout: Duration::from_secs(90),
        }
    }
}

/// How agent sessions run.
#[derive(Clone, Debug)]
pub struct SessionsConfig {
    /// Agent turns running at once across all workspaces (`--max-running-agents`).
    pub max_running_agents: usize,
    /// `initialize` plus `session/new` (or `load`), from spawn.
    pub handshake_timeout: Duration,
    /// Longest turn before it is cancelled (`--turn-timeout-ms`).
    pub turn_timeout: Duration,
    /// SIGTERM to SIGKILL when an agent is stopped.
    pub stop_grace: Duration,
    /// Longest ff waits for the agent to answer a request outside a turn (a model or mode
    /// change); the session goes on meanwhile.
    pub request_timeout: Duration,
    /// Longest JSON-RPC line read from an agent; a longer one is a protocol error for that line
    /// (skipped without being held in memory).
    pub max_line_bytes: usize,
    /// The first pause after the model API said it is rate limited (doubling from there).
    pub rate_limit_backoff: Duration,
    /// The `ff` binary agents run as `ff mcp-bridge`; `None`: this executable (tests name the
    /// built `ff`, since theirs is the test harness).
    pub mcp_bridge: Option<PathBuf>,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            max_running_agents: 6,
            handshake_timeout: Duration::from_secs(30),
            turn_timeout: Duration::from_secs(4 * 3600),
            stop_grace: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_line_bytes: 16 * 1024 * 1024,
            rate_limit_backoff: Duration::from_secs(5),
            mcp_bridge: None,
        }
    }
}

/// Reads an environment variable (tests pass their own).
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How ff reaches GitHub (github.md §1).
#[derive(Clone)]
pub struct GithubConfig {
    /// Replaces every host's API root (`--github-api-url`); `None`: each host's own.
    pub api_url: Option<String>,
    /// GitHub Enterprise hosts the user listed (`--github-hosts`).
    pub hosts: Vec<Host>,
    /// How SSH host aliases of `origin` remotes are resolved.
    pub ssh: SshLookup,
    pub poll_interval: Duration,
    /// Where tokens are read from: `FF_GITHUB_TOKEN`, `GH_TOKEN`, … (github.md §1).
    pub env: Env,
    /// The `gh` program asked for a stored token when no variable has one.
    pub gh_program: PathBuf,
    /// Per request; the rest are not flags, tests tune them.
    pub request_timeout: Duration,
    pub gh_timeout: Duration,
    /// A finished agent turn refreshes its repository this long after the last one.
    pub idle_debounce: Duration,
    /// Server errors and timeouts back off from `backoff_first`, doubling to `backoff_max`.
    pub backoff_first: Duration,
    pub backoff_max: Duration,
    /// Share of the hourly limit left for the user's own tools.
    pub reserve_percent: u32,
    pub issues_cache: Duration,
    /// A host without a working token is looked at again at most this often (on a status
    /// request, never in a loop).
    pub credentials_recheck: Duration,
    /// The largest GraphQL answer read; a longer one is refused unread.
    pub max_answer_bytes: usize,
}

impl GithubConfig {
    pub fn new(api_url: Option<String>, poll_interval: Duration, env: Env) -> Self {
        Self {
            api_url,
            hosts: Vec::new(),
            ssh: SshLookup::default(),
            poll_interval,
            env,
            gh_program: PathBuf::from("gh"),
            request_timeout: Duration::from_secs(30),
            gh_timeout: Duration::from_secs(5),
            idle_debounce: Duration::from_secs(5),
            backoff_first: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            reserve_percent: 20,
            issues_cache: Duration::from_secs(60),
            credentials_recheck: Duration::from_secs(5),
            max_answer_bytes: 32 << 20,
        }
    }
}

impl std::fmt::Debug for GithubConfig {
    /// Without `env`: it may hold tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubConfig")
            .field("api_url", &self.api_url)
            .field("hosts", &self.hosts)
            .field("poll_interval", &self.poll_interval)
            .field("gh_program", &self.gh_program)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

/// How the HTTP server protects itself from clients that hold connections.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// Connections served at once; beyond it new ones wait in the listen backlog.
    pub connections: usize,
    /// Longest a client may take to send a request's headers.
    pub header_read_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            connections: 512,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim().trim_end_matches('/');
        let bad = || ConfigError::Origin(text.to_owned());
        let (scheme, rest) = text.split_once("://").ok_or_else(bad)?;
        if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains('/') {
            return Err(bad());
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no data directory: set --data-dir, FF_DATA_DIR, XDG_DATA_HOME or HOME")]
    NoDataDir,
    #[error("allowed origin {0:?} must look like http://host[:port] or https://host[:port]")]
    Origin(String),
    #[error("GitHub API URL {0:?} must look like http(s)://host[:port][/path]")]
    GithubApiUrl(String),
    #[error("GitHub host {0}")]
    GithubHost(String),
    #[error("cannot resolve {0}: the current directory is unreadable ({1})")]
    CurrentDir(String, std::io::Error),
    #[error("--token / FF_TOKEN: {0}")]
    Token(#[from] TokenError),
    #[error(
        "--no-auth is refused with --host {0}: beyond loopback the token is the only thing between \
         the network and a shell on this machine (drop --no-auth, or bind 127.0.0.1)"
    )]
    NoAuthBeyondLoopback(IpAddr),
}

impl Config {
    /// `env` reads an environment variable; tests pass their own.
    pub fn resolve(
        args: ServeArgs,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        let Storage {
            data_dir,
            database_url,
        } = Storage::resolve(args.storage, &env)?;
        let worktree_dir = match args.worktree_dir {
            Some(dir) => absolute("--worktree-dir", &dir)?,
            None => data_dir.join("worktrees"),
        };
        let allowed_origins = args
            .allowed_origins
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| Origin::parse(o))
            .collect::<Result<_, _>>()?;
        let auth = match (args.no_auth, args.token) {
            (true, _) if !args.host.is_loopback() => {
                return Err(ConfigError::NoAuthBeyondLoopback(args.host))
            }
            (true, _) => AuthConfig::Disabled,
            (false, Some(token)) => AuthConfig::Given(Token::parse(&token)?),
            (false, None) => AuthConfig::File,
        };
        let log = args
            .log
            .or_else(|| env("FF_LOG"))
            .or_else(|| env("RUST_LOG"))
            .unwrap_or_else(|| "info".to_owned());
        let mut terminals = TerminalsConfig::new(shell_from(env("SHELL")));
        let api_url = args
            .github_api_url
            .as_deref()
            .map(github_api_url)
            .transpose()?;
        let mut github = GithubConfig::new(
            api_url,
            Duration::from_millis(args.github_poll_interval_ms),
            Arc::new(env),
        );
        terminals.max_per_workspace =
            usize::try_from(args.max_terminals_per_workspace).unwrap_or(usize::MAX);
        terminals.max_total = usize::try_from(args.max_terminals).unwrap_or(usize::MAX);
        github.hosts = args
            .github_hosts
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
            .map(|h| Host::parse(h).map_err(|e| ConfigError::GithubHost(e.to_string())))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            addr: SocketAddr::new(args.host, args.port),
            data_dir,
            database_url,
            worktree_dir,
            reconcile_interval: Duration::from_millis(args.reconcile_interval_ms),
            coalesce_window: Duration::from_millis(args.coalesce_window_ms),
            poll_interval: Duration::from_millis(args.poll_interval_ms),
            allowed_origins,
            auth,
            log,
            http_limits: Default::default(),
            sessions: SessionsConfig {
                max_running_agents: usize::try_from(args.max_running_agents).unwrap_or(usize::MAX),
                turn_timeout: Duration::from_millis(args.turn_timeout_ms),
                max_line_bytes: usize::try_from(args.max_agent_line_bytes).unwrap_or(usize::MAX),
                ..SessionsConfig::default()
            },
            github,
            ratchet: RatchetConfig::default(),
            clock: crate::clock::Clock::system(),
            terminals,
        })
    }

    pub fn is_loopback(&self) -> bool {
        self.addr.ip().is_loopback()
    }
}

/// The shell a terminal runs: `$SHELL` when it names an absolute path, else `/bin/sh`.
fn shell_from(env_shell: Option<String>) -> PathBuf {
    env_shell
        .map(PathBuf::from)
        .filter(|shell| shell.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

/// An API root without its trailing slash.
fn github_api_url(text: &str) -> Result<String, ConfigError> {
    let root = text.trim().trim_end_matches('/');
    let rest = root
        .strip_prefix("https://")
        .or_else(|| root.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.contains(char::is_whitespace) =>
        {
            Ok(root.to_owned())
        }
        _ => Err(ConfigError::GithubApiUrl(text.to_owned())),
    }
}

/// The data directory and the database in it.
#[derive(Debug, Clone)]
pub struct Storage {
    pub data_dir: PathBuf,
    pub database_url: String,
}

impl Storage {
    pub fn resolve(
        args: StorageArgs,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let data_dir = match args.data_dir {
            Some(dir) => dir,
            None => default_data_dir(env)?,
        };
        // Git runs in other directories than ff does: a relative path would name two places.
        let data_dir = absolute("the data directory", &data_dir)?;
        let database_url = match args.database_url {
            Some(url) => absolute_sqlite_url(url)?,
            None => format!("sqlite://{}", data_dir.join("ff.db").display()),
        };
        Ok(Self {
            data_dir,
            database_url,
        })
    }
}

/// `path` made absolute against the current directory, once, at startup.
fn absolute(what: &str, path: &Path) -> Result<PathBuf, ConfigError> {
    std::path::absolute(path).map_err(|e| ConfigError::CurrentDir(what.to_owned(), e))
}

/// A `sqlite://relative/file` URL made absolute; other URLs (`sqlite::memory:`, absolute files)
/// are kept as they are.
fn absolute_sqlite_url(url: String) -> Result<String, ConfigError> {
    match url.strip_prefix("sqlite://") {
        Some(rest) if !rest.starts_with('/') && !rest.starts_with(':') && !rest.is_empty() => {
            let (file, options) = rest
                .split_once('?')
                .map_or((rest, None), |(f, o)| (f, Some(o)));
            let file = absolute("--database-url", Path::new(file))?;
            Ok(match options {
                Some(options) => format!("sqlite://{}?{options}", file.display()),
                None => format!("sqlite://{}", file.display()),
            })
        }
        _ => Ok(url),
    }
}

fn default_data_dir(env: &impl Fn(&str) -> Option<String>) -> Result<PathBuf, ConfigError> {
    if let Some(xdg) = env("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(xdg).join("ff"));
    }
    let home = env("HOME")
        .filter(|h| !h.is_empty())
        .ok_or(ConfigError::NoDataDir)?;
    Ok(PathBuf::from(home).join(".local/share/ff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn resolve(flags: &[&str], env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let argv = ["ff", "serve"].iter().chain(flags);
        let Command::Serve(args) = Cli::try_parse_from(argv).expect("valid flags").command else {
            unreachable!("parsed a serve command")
        };
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(args, move |key| {
            env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_follow_the_spec() {
        let config = resolve(&[], &[("HOME", "/home/u")]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:7700");
        assert_eq!(config.data_dir, PathBuf::from("/home/u/.local/share/ff"));
        assert_eq!(
            config.database_url,
            "sqlite:///home/u/.local/share/ff/ff.db"
        );
        assert_eq!(
            config.worktree_dir,
            PathBuf::from("/home/u/.local/share/ff/worktrees")
        );
        assert_eq!(config.reconcile_interval, Duration::from_secs(60));
        assert_eq!(config.coalesce_window, Duration::from_millis(150));
        assert!(config.allowed_origins.is_empty());
        assert_eq!(config.log, "info");
        assert!(config.is_loopback());
        assert_eq!(config.github.api_url, None);
        assert_eq!(config.github.poll_interval, Duration::from_secs(60));
        assert_eq!(config.github.request_timeout, Duration::from_secs(30));
        assert_eq!(config.terminals.shell, PathBuf::from("/bin/sh"));
        assert_eq!(
            (
                config.terminals.max_per_workspace,
                config.terminals.max_total
            ),
            (8, 64)
        );
        assert_eq!(config.terminals.scrollback_bytes, 256 * 1024);
    }

    #[test]
    fn terminals_run_the_users_shell_within_the_flagged_limits() {
        let env = [("HOME", "/h"), ("SHELL", "/usr/bin/fish")];
        let flags = ["--max-terminals-per-workspace", "2", "--max-terminals", "3"];
        let config = resolve(&flags, &env).unwrap();
        assert_eq!(config.terminals.shell, PathBuf::from("/usr/bin/fish"));
        assert_eq!(
            (
                config.terminals.max_per_workspace,
                config.terminals.max_total
            ),
            (2, 3)
        );
        let relative = resolve(&[], &[("HOME", "/h"), ("SHELL", "fish")]).unwrap();
        assert_eq!(relative.terminals.shell, PathBuf::from("/bin/sh"));
        let argv = ["ff", "serve", "--max-terminals", "0"];
        assert!(Cli::try_parse_from(argv).is_err(), "at least one terminal");
    }

    #[test]
    fn github_settings_are_checked_and_tokens_are_read_through_the_given_environment() {
        let env = [("HOME", "/h"), ("GH_TOKEN", "secret")];
        let flags = [
            "--github-poll-interval-ms",
            "1000",
            "--github-api-url",
            "http://127.0.0.1:9/",
        ];
        let config = resolve(&flags, &env).unwrap();
        assert_eq!(config.github.api_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(config.github.poll_interval, Duration::from_secs(1));
        assert_eq!((config.github.env)("GH_TOKEN").as_deref(), Some("secret"));
        assert!(!format!("{config:?}").contains("secret"));
        let flagged = resolve(&["--github-api-url", "https://ghe.example/api/v3"], &env).unwrap();
        assert_eq!(
            flagged.github.api_url.as_deref(),
            Some("https://ghe.example/api/v3")
        );
        let err = resolve(&["--github-api-url", "ghe.example"], &env).unwrap_err();
        assert!(err.to_string().contains("ghe.example"), "{err}");
        let listed = resolve(&["--github-hosts", "GHE.example.com, ghe2.example"], &env).unwrap();
        let hosts: Vec<&str> = listed.github.hosts.iter().map(Host::as_str).collect();
        assert_eq!(hosts, ["ghe.example.com", "ghe2.example"]);
        let err = resolve(&["--github-hosts", "ghe example"], &env).unwrap_err();
        assert!(err.to_string().contains("ghe example"), "{err}");
        let argv = ["ff", "serve", "--github-poll-interval-ms", "999"];
        assert!(
            Cli::try_parse_from(argv).is_err(),
            "below the 1 000 ms floor"
        );
    }

    #[test]
    fn xdg_data_home_wins_over_home_and_a_flag_wins_over_both() {
        let env = [("HOME", "/home/u"), ("XDG_DATA_HOME", "/xdg")];
        assert_eq!(
            resolve(&[], &env).unwrap().data_dir,
            PathBuf::from("/xdg/ff")
        );
        let flagged = resolve(&["--data-dir", "/d"], &env).unwrap();
        assert_eq!(flagged.data_dir, PathBuf::from("/d"));
        assert_eq!(flagged.database_url, "sqlite:///d/ff.db");
    }

    #[test]
    fn no_home_and_no_flag_is_a_clear_error() {
        let err = resolve(&[], &[("XDG_DATA_HOME", "")]).unwrap_err();
        assert!(err.to_string().contains("--data-dir"), "{err}");
    }

    #[test]
    fn log_filter_comes_from_the_flag_then_ff_log_then_rust_log() {
        let env = [("HOME", "/h"), ("FF_LOG", "debug"), ("RUST_LOG", "trace")];
        assert_eq!(resolve(&["--log", "warn"], &env).unwrap().log, "warn");
        assert_eq!(resolve(&[], &env).unwrap().log, "debug");
        let without_ff_log = [("HOME", "/h"), ("RUST_LOG", "trace")];
        assert_eq!(resolve(&[], &without_ff_log).unwrap().log, "trace");
    }

    #[test]
    fn allowed_origins_are_parsed_and_normalized() {
        let config = resolve(
            &[
                "--allowed-origins",
                "https://Dev.Example:8443/,http://localhost:3000",
            ],
            &[("HOME", "/h")],
        )
        .unwrap();
        let origins: Vec<&str> = config.allowed_origins.iter().map(Origin::as_str).collect();
        assert_eq!(
            origins,
            ["https://dev.example:8443", "http://localhost:3000"]
        );
        for bad in ["example.com", "ftp://x", "http://x/path", "http://"] {
            assert!(Origin::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn relative_paths_become_absolute_against_the_current_directory() {
        let cwd = std::env::current_dir().unwrap();
        let config = resolve(
            &["--data-dir", "data", "--worktree-dir", "trees/../wt"],
            &[("HOME", "/h")],
        )
        .unwrap();
        assert_eq!(config.data_dir, cwd.join("data"));
        assert_eq!(config.worktree_dir, cwd.join("trees/../wt"));
        assert_eq!(
            config.database_url,
            format!("sqlite://{}", cwd.join("data/ff.db").display())
        );
        let url = resolve(
            &["--database-url", "sqlite://x.db?mode=rwc"],
            &[("HOME", "/h")],
        )
        .unwrap()
        .database_url;
        assert_eq!(
            url,
            format!("sqlite://{}?mode=rwc", cwd.join("x.db").display())
        );
        for kept in ["sqlite::memory:", "sqlite:///abs/ff.db"] {
            let url = resolve(&["--database-url", kept], &[("HOME", "/h")])
                .unwrap()
                .database_url;
            assert_eq!(url, kept);
        }
    }

    #[test]
    fn the_token_comes_from_the_flag_or_the_file_and_no_auth_stays_on_loopback() {
        let home = [("HOME", "/h")];
        assert!(matches!(
            resolve(&[], &home).unwrap().auth,
            AuthConfig::File
        ));
        let given = resolve(&["--token", "ff-given-token-0123456789"], &home).unwrap();
        assert!(!format!("{:?}", given.auth).contains("0123"));
        let AuthConfig::Given(token) = given.auth else {
            panic!("a given token")
        };
        assert_eq!(token.expose(), "ff-given-token-0123456789");
        let err = resolve(&["--token", "short"], &home).unwrap_err();
        assert!(err.to_string().contains("16 to 256 characters"), "{err}");
        assert!(matches!(
            resolve(&["--no-auth"], &home).unwrap().auth,
            AuthConfig::Disabled
        ));
        for host in ["0.0.0.0", "::", "192.0.2.2"] {
            let err = resolve(&["--no-auth", "--host", host], &home).unwrap_err();
            assert!(
                err.to_string().contains("--no-auth is refused"),
                "{host}: {err}"
            );
        }
        let both = [
            "ff",
            "serve",
            "--no-auth",
            "--token",
            "ff-given-token-0123456789",
        ];
        assert!(Cli::try_parse_from(both).is_err(), "--no-auth with --token");
    }

    #[test]
    fn a_non_loopback_host_is_noticed() {
        let config = resolve(&["--host", "0.0.0.0", "--port", "0"], &[("HOME", "/h")]).unwrap();
        assert!(!config.is_loopback());
        assert_eq!(config.addr.port(), 0);
    }
}
