//! The effective configuration, with every default resolved and every value checked once.

use crate::cli::ServeArgs;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub worktree_dir: PathBuf,
    pub reconcile_interval: Duration,
    pub coalesce_window: Duration,
    pub allowed_origins: Vec<Origin>,
    pub log: String,
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
}

impl Config {
    /// `env` reads an environment variable; tests pass their own.
    pub fn resolve(
        args: ServeArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let data_dir = match args.data_dir {
            Some(dir) => dir,
            None => default_data_dir(&env)?,
        };
        let database_url = args
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("ff.db").display()));
        let worktree_dir = args
            .worktree_dir
            .unwrap_or_else(|| data_dir.join("worktrees"));
        let allowed_origins = args
            .allowed_origins
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| Origin::parse(o))
            .collect::<Result<_, _>>()?;
        let log = args
            .log
            .or_else(|| env("FF_LOG"))
            .or_else(|| env("RUST_LOG"))
            .unwrap_or_else(|| "info".to_owned());
        Ok(Self {
            addr: SocketAddr::new(args.host, args.port),
            data_dir,
            database_url,
            worktree_dir,
            reconcile_interval: Duration::from_millis(args.reconcile_interval_ms),
            coalesce_window: Duration::from_millis(args.coalesce_window_ms),
            allowed_origins,
            log,
        })
    }

    pub fn is_loopback(&self) -> bool {
        match self.addr.ip() {
            IpAddr::V4(ip) => ip.is_loopback(),
            IpAddr::V6(ip) => ip.is_loopback(),
        }
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
