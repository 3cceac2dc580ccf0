//! The ff server as a library, so that tests start exactly what `ff serve` starts, on port 0.

// The app's server-rendered views are deeply nested types.
#![recursion_limit = "256"]

pub mod addresses;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod flows;
pub mod git;
pub mod github;
pub mod http;
mod locks;
pub mod metrics;
pub mod process;
pub mod projects;
pub mod ratchet;
pub mod read_model;
pub mod review;
pub mod run_script;
pub mod runtime_file;
pub mod schedules;
pub mod sessions;
pub mod settings;
pub mod snapshot;
pub mod telemetry;
pub mod terminals;
pub mod workspaces;
pub mod worktree_files;

use anyhow::Context;
use config::Config;
use events::EventBus;
use git::Git;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Enough for bursts of many workspaces changing at once; a slower subscriber is told it lagged.
const EVENT_BUS_CAPACITY: usize = 4096;
/// Fetches may cross a network; everything else git does here is local and quick.
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Server-rendering a page recurses deeply through its views; unoptimised, the board and the
/// workspace page with an open chat take about 2 MiB, the default stack of a worker thread.
const WORKER_STACK: usize = 8 * 1024 * 1024;

/// The runtime `ff` runs on, and the tests that render pages on its worker threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK)
        .build()
}

/// Binds the configured address, prints the URL and serves until `shutdown` resolves.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let app = App::start(config).await?;
    let local = listener.local_addr()?;
    let urls = app.login_urls(local);
    let (first, others) = urls.split_first().context("no address to print")?;
    // One write: a reader that stops after the first line must not make a later print fail.
    let mut printed = format!("ff is running at {first}\n");
    for url in others {
        printed.push_str(&format!("ff is also at {url}\n"));
    }
    print!("{printed}");
    let runtime = runtime_file::RuntimeFile::write(&app.config.data_dir, &app.config.auth, local);
    let result = app.run(listener, shutdown).await;
    runtime.remove();
    result
}

/// Everything a running server owns.
pub struct App {
    config: Config,
    state: http::AppState,
    reply_threads: flows::ReplyThreads,
}

impl App {
    /// Prepares the data directory and database; nothing is served yet.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let snapshot =
            snapshot::SnapshotConfig::new(config.coalesce_window, config.reconcile_interval);
        Self::start_with(config, snapshot).await
    }

    /// Starts with explicit snapshot settings (tests and benchmarks tune them).
    pub async fn start_with(
        config: Config,
        snapshot_config: snapshot::SnapshotConfig,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
        let db = db::connect(&config.database_url).await?;
        tracing::info!(
            addr = %config.addr,
            data_dir = %config.data_dir.display(),
            worktree_dir = %config.worktree_dir.display(),
            reconcile_interval_ms = config.reconcile_interval.as_millis() as u64,
            coalesce_window_ms = config.coalesce_window.as_millis() as u64,
            allowed_origins = ?config.allowed_origins.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            "starting ff {}",
            env!("CARGO_PKG_VERSION"),
        );
        let access = auth::Access::open(&config.auth, &config.data_dir)
            .context("cannot set up the login token")?;
        if access.is_disabled() {
            tracing::warn!("authentication is off (--no-auth): every local user and every page in your browser can drive ff");
        }
        let own_addresses = if config.is_loopback() {
            Vec::new()
        } else {
            tracing::warn!(addr = %config.addr, "ff is listening beyond loopback: anyone on the network who has the token can run commands on this machine; browsers may use the printed addresses and the --allowed-origins");
            addresses::own(config.addr.ip())
        };
        if !http::assets::present() {
            tracing::error!("this binary was built without its browser assets; pages will not become interactive (build with scripts/build.sh)");
        }
        let bus = EventBus::new(EVENT_BUS_CAPACITY);
        let metrics = metrics::Metrics::new();
        let git = Git::new(GIT_TIMEOUT);
        let rows = Arc::new(flows::neighbours::Rows::new(db.clone()));
        let github = github::Github::start(
            db.clone(),
            bus.clone(),
            git.clone(),
            config.github.clone(),
            rows.clone(),
        );
        let git_for_flows = git.clone();
        let bridge = match &config.sessions.mcp_bridge {
            Some(path) => path.clone(),
            None => std::env::current_exe().context("cannot find ff's own executable")?,
        };
        let grants = auth::agents::AgentGrants::new(bridge);
        let sessions = sessions::Sessions::new(
            db.clone(),
            bus.clone(),
            metrics.clone(),
            sessions::Bridges {
                workspaces: rows.clone(),
                issues: Arc::new(flows::first_session::IssuePrompt::new(github.clone())),
            },
            &config.data_dir,
            config.sessions.clone(),
            grants.clone(),
        );
        let ratchet = ratchet::Ratchet::new(
            db.clone(),
            bus.clone(),
            Arc::new(flows::fix::Fix::new(github.clone(), sessions.clone())),
            config.ratchet.clone(),
        );
        // Subscribed before recovery, so that no event of the recovery is missed.
        let snapshot = snapshot::Snapshot::start(
            db.clone(),
            sessions.runtimes(),
            &bus,
            metrics.clone(),
            snapshot_config,
        );
        let run_scripts = run_script::RunScripts::new(db.clone(), bus.clone(), rows.clone());
        // Known before the listener when the port is: agents recovered at startup get ff's tools.
        if config.addr.port() != 0 {
            grants.serve_at(mcp_url(config.addr));
        }
        let terminals = terminals::Terminals::new(config.terminals.clone(), &config.data_dir);
        let workspaces = workspaces::Workspaces::new(
            db.clone(),
            bus.clone(),
            git,
            rows.clone(),
            Arc::new(flows::archive::Archive::new(
                sessions.clone(),
                terminals.clone(),
                run_scripts.clone(),
            )),
            config.data_dir.join("archived"),
        );
        sessions
            .recover()
            .await
            .context("cannot recover agent sessions after a restart")?;
        run_scripts
            .recover()
            .await
            .context("cannot recover run scripts after a restart")?;
        terminals.recover().await;
        workspaces
            .recover()
            .await
            .context("cannot recover workspaces after a restart")?;
        ratchet.start().await.context("cannot start the ratchet")?;
        // After the ratchet settled the fixers a restart cut short.
        let reply_threads = flows::ReplyThreads::new(
            db.clone(),
            bus.clone(),
            git_for_flows,
            github.clone(),
            ratchet.clone(),
            sessions.clone(),
            workspaces.clone(),
        );
        reply_threads.start();
        let review = review::Review::new(db.clone());
        let projects = projects::Projects::new(
            db.clone(),
            config.worktree_dir.clone(),
            config.github.ssh.clone(),
            Arc::new(flows::remove_project::ProjectWorkspaces),
        );
        let schedules = schedules::Schedules::new(db.clone(), bus.clone(), config.clock.clone());
        let scheduled_runs = flows::ScheduledRuns::new(
            schedules.clone(),
            projects.clone(),
            workspaces.clone(),
            sessions.clone(),
            bus.clone(),
            config.clock.clone(),
        );
        // After the domains recovered: the runs are settled from what they report.
        scheduled_runs
            .start()
            .await
            .context("cannot start the scheduled tasks")?;
        let child_workspaces = flows::ChildWorkspaces::new(workspaces.clone(), sessions.clone());
        let state = http::AppState {
            leptos: http::leptos_options(),
            save_schedule: flows::SaveSchedule::new(
                db.clone(),
                projects.clone(),
                schedules.clone(),
            ),
            projects,
            schedules,
            scheduled_runs,
            backup: flows::backup::Backup::new(db.clone(), bus.clone()),
            trust: http::guard::Trust {
                beyond_loopback: !config.is_loopback(),
                own_addresses: Arc::from(own_addresses),
                allowed_origins: Arc::from(config.allowed_origins.clone()),
            },
            gate: http::auth::Gate::new(access, config.addr.port()),
            grants,
            child_notifications: flows::ChildNotifications::new(
                workspaces.clone(),
                child_workspaces.clone(),
                bus.clone(),
            ),
            child_workspaces,
            open_in_editor: flows::OpenInEditor::new(db.clone(), workspaces.clone()),
            db,
            bus,
            open_terminal: flows::OpenTerminal::new(workspaces.clone(), terminals.clone()),
            send_review: flows::SendReview::new(review.clone(), sessions.clone()),
            workspaces,
            run_scripts,
            terminals,
            sessions,
            github,
            ratchet,
            review,
            snapshot,
            metrics,
            poll_interval: config.poll_interval,
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        state.child_notifications.start();
        Ok(Self {
            config,
            state,
            reply_threads,
        })
    }

    /// The URLs a person opens to log in: one per address ff answers on, each with the token.
    pub fn login_urls(&self, local: std::net::SocketAddr) -> Vec<String> {
        let token = self.state.gate.access.token();
        addresses::base_urls(local)
            .into_iter()
            .map(|base| login_url(&base, token.as_ref()))
            .collect()
    }

    /// The snapshot service (tests drive reconciliation passes through it).
    pub fn snapshot(&self) -> snapshot::Snapshot {
        self.state.snapshot.clone()
    }

    /// The GitHub domain (tests ask it for an issue's first prompt, as sessions will).
    pub fn github(&self) -> github::Github {
        self.state.github.clone()
    }

    /// The ratchet (tests run a check and wait for it).
    pub fn ratchet(&self) -> ratchet::Ratchet {
        self.state.ratchet.clone()
    }

    /// The ratchet's replies on review threads (tests settle the fixers' runs and wait).
    pub fn reply_threads(&self) -> flows::ReplyThreads {
        self.reply_threads.clone()
    }

    /// The domain event bus (tests watch it; the snapshot collector subscribes to it).
    pub fn events(&self) -> EventBus {
        self.state.bus.clone()
    }

    /// Serves on `listener` until `shutdown` resolves; then closes the sockets, lets in-flight
    /// requests finish, interrupts setup scripts, stops run scripts, ends terminals and flushes
    /// the snapshot.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut state = self.state.clone();
        state.gate =
            http::auth::Gate::new(state.gate.access.clone(), listener.local_addr()?.port());
        state
            .gate
            .access
            .watch(state.shutdown.clone())
            .context("cannot follow rotations of the token")?;
        state.grants.serve_at(mcp_url(listener.local_addr()?));
        let router = http::router(state);
        let stopping = self.state.shutdown.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopping.cancel();
        });
        http::serve::serve(
            listener,
            router,
            self.config.http_limits.clone(),
            self.state.metrics.connections.clone(),
            self.state.shutdown.clone(),
        )
        .await;
        self.state.scheduled_runs.shutdown().await;
        self.state.child_notifications.shutdown().await;
        self.state.workspaces.shutdown().await;
        self.reply_threads.shutdown().await;
        self.state.ratchet.shutdown().await;
        self.state.sessions.shutdown().await;
        self.state.github.shutdown().await;
        self.state.run_scripts.stop_all().await;
        self.state.terminals.shutdown().await;
        self.state.snapshot.shutdown().await;
        self.state.db.close().await;
        tracing::info!(data_dir = %self.config.data_dir.display(), "ff stopped");
        Ok(())
    }
}

/// Where ff's own agents reach its MCP server: loopback when ff listens on every address.
fn mcp_url(local: std::net::SocketAddr) -> String {
    let ip = match local.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        }
        ip => ip,
    };
    format!("http://{}/mcp", std::net::SocketAddr::new(ip, local.port()))
}

/// `base` with the token to log in with, as ff prints it.
pub fn login_url(base: &str, token: Option<&auth::Token>) -> String {
    match token {
        Some(token) => format!("{base}/?token={}", token.expose()),
        None => format!("{base}/"),
    }
}

/// `ff token [--rotate]`: the login URL of the server using `storage`, and a QR code of it.
pub fn token_command(storage: config::Storage, rotate: bool) -> anyhow::Result<()> {
    let path = storage.data_dir.join(auth::file::FILE_NAME);
    let running = runtime_file::RuntimeFile::read(&storage.data_dir);
    if running.as_ref().is_some_and(|r| !r.token_in_file) {
        anyhow::bail!(
            "the ff using {} was started with --token, FF_TOKEN or --no-auth: its token is the one you gave it{}",
            storage.data_dir.display(),
            if rotate { "; change it there and restart ff to rotate it" } else { "" }
        );
    }
    let token = if rotate {
        auth::file::rotate(&path)?
    } else {
        auth::file::load_or_create(&path)?
    };
    let urls = match &running {
        Some(running) => running.urls.clone(),
        None => vec![format!("http://127.0.0.1:{}", cli::DEFAULT_PORT)],
    };
    if rotate {
        println!("The token is replaced: every browser and client must log in again.");
    }
    if running.is_none() {
        println!(
            "ff is not running on {}; once `ff serve` runs with the defaults, log in at:",
            storage.data_dir.display()
        );
    }
    for base in &urls {
        println!("{}", login_url(base, Some(&token)));
    }
    // The first address another device can reach (else the first), for a phone's camera.
    let scannable = urls
        .iter()
        .find(|u| !u.contains("127.0.0.1") && !u.contains("[::1]"))
        .unwrap_or(&urls[0]);
    let code = qrcode::QrCode::new(login_url(scannable, Some(&token)).as_bytes())
        .context("cannot draw the QR code")?;
    println!(
        "\n{}",
        code.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build()
    );
    Ok(())
}

/// `ff backup export|import` against the database in `storage`.
pub async fn backup_command(
    storage: config::Storage,
    action: cli::BackupAction,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&storage.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            storage.data_dir.display()
        )
    })?;
    let db = db::connect(&storage.database_url).await?;
    let backup = flows::backup::Backup::new(db.clone(), events::EventBus::new(1));
    let result = match action {
        cli::BackupAction::Export { out } => {
            let document = backup.export().await?;
            let json = serde_json::to_string_pretty(&document)?;
            match out {
                Some(path) => std::fs::write(&path, json + "\n")
                    .with_context(|| format!("cannot write {}", path.display())),
                None => {
                    println!("{json}");
                    Ok(())
                }
            }
        }
        cli::BackupAction::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let counts = backup.import(&bytes).await?;
            println!(
                "imported {} project(s), {} workspace(s) and {} scheduled task(s)",
                counts.projects, counts.workspaces, counts.schedules
            );
            Ok(())
        }
    };
    db.close().await;
    result
}

/// `ff agents list|install`.
pub async fn agents_command(
    storage: config::Storage,
    action: cli::AgentsAction,
) -> anyhow::Result<()> {
    let agents = sessions::agents::Agents::new(&storage.data_dir);
    match action {
        cli::AgentsAction::Install { name } => {
            let installed = agents.install(&name).await.map_err(anyhow::Error::msg)?;
            println!("{name} is installed: {}", installed.display());
            Ok(())
        }
        cli::AgentsAction::List => {
            std::fs::create_dir_all(&storage.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {}",
                    storage.data_dir.display()
                )
            })?;
            let db = db::connect(&storage.database_url).await?;
            let settings = settings::get(&mut *db.acquire().await?).await;
            db.close().await;
            for spec in agents.all(&settings?) {
                let info = agents.info(&spec);
                let state = match (&info.path, &info.version) {
                    (Some(path), Some(version)) => format!("installed {version} at {path}"),
                    (Some(path), None) => format!("installed at {path}"),
                    (None, _) => format!("not installed: {}", spec.missing()),
                };
                println!("{:<12} {:<28} {state}", info.name, info.command);
            }
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
