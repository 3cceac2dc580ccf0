//! The ff server as a library, so that tests start exactly what `ff serve` starts, on port 0.

pub mod cli;
pub mod config;
pub mod db;
pub mod http;
pub mod telemetry;

use anyhow::Context;
use config::Config;
use std::future::Future;
use tokio::net::TcpListener;

/// Binds the configured address, prints the URL and serves until `shutdown` resolves.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let app = App::start(config).await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("ff is running at {url}");
    app.run(listener, shutdown).await
}

/// Everything a running server owns.
pub struct App {
    config: Config,
    state: http::AppState,
}

impl App {
    /// Prepares the data directory and database; nothing is served yet.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
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
        if !config.is_loopback() {
            tracing::warn!(addr = %config.addr, "ff is listening beyond loopback: anyone who can reach it can drive your repositories");
        }
        if !http::assets::present() {
            tracing::error!("this binary was built without its browser assets; pages will not become interactive (build with scripts/build.sh)");
        }
        let state = http::AppState::new(db);
        Ok(Self { config, state })
    }

    /// Serves on `listener` until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = http::router(self.state.clone());
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server failed")?;
        self.state.db.close().await;
        tracing::info!(data_dir = %self.config.data_dir.display(), "ff stopped");
        Ok(())
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
