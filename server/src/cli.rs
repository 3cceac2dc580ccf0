//! The command line (api.md §4–§5): flags win over environment variables, which win over defaults.

use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

pub const DEFAULT_PORT: u16 = 7700;

#[derive(Debug, Parser)]
#[command(
    name = "ff",
    version,
    about = "A local command center for parallel AI coding agents"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once at startup: the size of the serve arguments costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Migrate the database, start everything and print the URL.
    Serve(ServeArgs),
    /// Export or import every project and workspace as one JSON document.
    Backup(BackupArgs),
    /// The ACP agents ff can start, and installing the built-in ones.
    Agents(AgentsArgs),
    /// Print the login URL (and a QR code of it for a phone); `--rotate` replaces the token.
    Token(TokenArgs),
    /// For ff's own agents: carries an agent's MCP over stdio to ff's `/mcp` endpoint (ff
    /// starts it, with the endpoint and the session's credential in its environment).
    McpBridge,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Replace the token: every browser and client logged in with the old one must log in again.
    #[arg(long)]
    pub rotate: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AgentsArgs {
    #[command(subcommand)]
    pub action: AgentsAction,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AgentsAction {
    /// Every configured agent: whether it is installed, where, and which version.
    List,
    /// Install a built-in adapter (claude or codex) with npm at its pinned version into
    /// <data-dir>/agents.
    Install { name: String },
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub action: BackupAction,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum BackupAction {
    /// Write the backup to a file, or to standard output.
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import a backup file: everything in it is checked first, and any error imports nothing.
    Import { file: PathBuf },
}

/// Where ff keeps its data.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the SQLite database and logs [default: $XDG_DATA_HOME/ff or ~/.local/share/ff].
    #[arg(long, env = "FF_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database location [default: sqlite://<data-dir>/ff.db].
    #[arg(long, env = "FF_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Bind address; loopback unless you mean to expose ff.
    #[arg(long, env = "FF_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// HTTP port; 0 picks any free port (the chosen URL is printed).
    #[arg(long, env = "FF_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Where worktrees are created, as <dir>/<project-slug>/… [default: <data-dir>/worktrees].
    #[arg(long, env = "FF_WORKTREE_DIR")]
    pub worktree_dir: Option<PathBuf>,
    /// Reconciliation cadence in milliseconds.
    #[arg(long, env = "FF_RECONCILE_INTERVAL_MS", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub reconcile_interval_ms: u64,
    /// Collector coalescing window in milliseconds.
    #[arg(long, env = "FF_COALESCE_WINDOW_MS", default_value_t = 150,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub coalesce_window_ms: u64,
    /// How often a browser page whose live connection is down polls for changes, in milliseconds.
    #[arg(long, env = "FF_POLL_INTERVAL_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub poll_interval_ms: u64,
    /// The secret every request must carry [default: generated once into <data-dir>/token].
    /// Prefer FF_TOKEN: other users of the machine can read a process's arguments.
    #[arg(
        long,
        env = "FF_TOKEN",
        hide_env_values = true,
        conflicts_with = "no_auth"
    )]
    pub token: Option<String>,
    /// Serve without a token: for scripts on a machine you alone use; refused beyond loopback.
    #[arg(long)]
    pub no_auth: bool,
    /// Extra origins allowed on the API and socket, comma separated.
    #[arg(long, env = "FF_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Agent turns running at once across all workspaces; more wait their turn.
    #[arg(long, env = "FF_MAX_RUNNING_AGENTS", default_value_t = 6,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub max_running_agents: u64,
    /// Terminals open at once in one workspace; more are refused.
    #[arg(long, env = "FF_MAX_TERMINALS_PER_WORKSPACE", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub max_terminals_per_workspace: u64,
    /// Terminals open at once across all workspaces; more are refused.
    #[arg(long, env = "FF_MAX_TERMINALS", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=10000))]
    pub max_terminals: u64,
    /// Longest agent turn, in milliseconds, before it is cancelled [default: 4 hours].
    #[arg(long, env = "FF_TURN_TIMEOUT_MS", default_value_t = 4 * 3600 * 1000,
          value_parser = clap::value_parser!(u64).range(1000..))]
    pub turn_timeout_ms: u64,
    /// Longest line an agent may write (one JSON-RPC message), in bytes; a longer one is a
    /// protocol error for that line, skipped without being held in memory [default: 16 MiB].
    #[arg(long, env = "FF_MAX_AGENT_LINE_BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024 * 1024))]
    pub max_agent_line_bytes: u64,
    /// GitHub API root for every host, e.g. a proxy or a test fake [default: per host,
    /// https://api.github.com or https://HOST/api/v3]; GraphQL is then at <root>/graphql.
    #[arg(long, env = "FF_GITHUB_API_URL")]
    pub github_api_url: Option<String>,
    /// GitHub Enterprise hosts, comma separated: a project whose origin is on another host than
    /// github.com gets GitHub features only when its host is listed here, in GH_HOST or in
    /// Settings (or --github-api-url is given).
    #[arg(long, env = "FF_GITHUB_HOSTS", value_delimiter = ',')]
    pub github_hosts: Vec<String>,
    /// How often each repository's pull requests are read from GitHub, in milliseconds.
    #[arg(long, env = "FF_GITHUB_POLL_INTERVAL_MS", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(1_000..))]
    pub github_poll_interval_ms: u64,
    /// Tracing filter, e.g. `info` or `ff_server=debug` [env: FF_LOG, then RUST_LOG].
    #[arg(long)]
    pub log: Option<String>,
}
