//! Starts the real application on port 0 with its own data directory, as `ff serve` would.

use clap::Parser;
use ff_server::cli::{Cli, Command};
use ff_server::App;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let cli = Cli::try_parse_from([
            "ff",
            "serve",
            "--port",
            "0",
            "--data-dir",
            data_dir.path().to_str().expect("utf-8 temp path"),
        ])
        .expect("valid flags");
        let Command::Serve(args) = cli.command else {
            unreachable!("parsed a serve command")
        };
        let config = ff_server::config::Config::resolve(args, |_| None).expect("config");
        let listener = TcpListener::bind(config.addr).await.expect("bind port 0");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let app = App::start(config).await.expect("app starts");
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(app.run(listener, async {
            let _ = stopped.await;
        }));
        Self {
            url,
            client: reqwest::Client::new(),
            data_dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Asks for a graceful shutdown and waits for it to finish.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().expect("running").await?
    }
}
