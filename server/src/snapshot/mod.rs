//! The project snapshot service (snapshot.md): an in-memory, versioned view of every live
//! workspace, fed by domain events, corrected by reconciliation, served to sockets.

mod clock;
mod coalesce;
mod collector;
pub mod git_stats;
mod mapping;
pub mod reconcile;
mod replay;
pub mod store;
mod watch;

use crate::db::Db;
use crate::events::EventBus;
use crate::metrics::Metrics;
use crate::read_model::SessionRuntimes;
use clock::WriteClock;
use collector::Collector;
use reconcile::{ReconcileConfig, Reconciler};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{Store, StoreLimits};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone, Debug)]
pub struct SnapshotConfig {
    pub coalesce_window: Duration,
    pub reconcile: ReconcileConfig,
    pub limits: StoreLimits,
    /// Frames queued for one socket before it is closed with 1013.
    pub socket_queue: usize,
    pub ping_interval: Duration,
    /// Longest a socket may take to accept one frame before it is closed with 1013.
    pub send_timeout: Duration,
}

impl SnapshotConfig {
    pub fn new(coalesce_window: Duration, reconcile_interval: Duration) -> Self {
        Self {
            coalesce_window,
            reconcile: ReconcileConfig {
                interval: reconcile_interval,
                git_concurrency: 4,
                git_timeout: Duration::from_secs(5),
            },
            limits: StoreLimits::default(),
            socket_queue: 1024,
            ping_interval: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
        }
    }
}

/// The running service: its store for readers, and the tasks that feed it.
#[derive(Clone)]
pub struct Snapshot {
    pub store: Arc<Store>,
    pub reconciler: Arc<Reconciler>,
    pub config: SnapshotConfig,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Snapshot {
    /// Starts the collector (subscribed before anything can happen), the reconciliation loop
    /// (its first pass seeds the store) and the worktree monitor.
    pub fn start(
        db: Db,
        runtimes: Arc<dyn SessionRuntimes>,
        bus: &EventBus,
        metrics: Metrics,
        config: SnapshotConfig,
    ) -> Self {
        let store = Arc::new(Store::new(config.limits.clone(), metrics.clone()));
        let clock = Arc::new(WriteClock::default());
        let (monitor_tx, monitor_rx) = tokio::sync::mpsc::unbounded_channel();
        let reconciler = Arc::new(Reconciler::new(
            db,
            runtimes,
            store.clone(),
            clock.clone(),
            metrics.clone(),
            config.reconcile.clone(),
            monitor_tx.clone(),
        ));
        let collector = Collector {
            store: store.clone(),
            clock,
            metrics,
            window: config.coalesce_window,
            reconcile_now: reconciler.now.clone(),
            worktrees: monitor_tx,
        };
        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let settle = reconciler
            .settle_requests()
            .expect("a new reconciler's settle requests are untaken");
        tasks.spawn(collector.run(bus.subscribe(), settle, shutdown.clone()));
        tasks.spawn(reconciler.clone().run(shutdown.clone()));
        tasks.spawn(watch::monitor(
            reconciler.clone(),
            monitor_rx,
            shutdown.clone(),
        ));
        Self {
            store,
            reconciler,
            config,
            tasks,
            shutdown,
        }
    }

    /// Flushes the collector and waits for the running pass and the monitor to stop.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Sleeps until `due`, or forever when there is nothing due (a disabled `select!` branch).
async fn sleep_until(due: Option<Instant>) {
    if let Some(due) = due {
        tokio::time::sleep_until(due.into()).await;
    }
}
