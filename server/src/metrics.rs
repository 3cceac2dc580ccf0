//! Prometheus metrics (`/metrics`): every series is named `ff_…`. One registry per app, so
//! tests running several apps in one process do not share counts.

use prometheus::{
    exponential_buckets, Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge,
    Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Domain commit → frame handed to the socket.
    pub push_latency: Histogram,
    pub drift: IntCounterVec,
    pub reconcile_duration: Histogram,
    pub reconcile_passes: IntCounter,
    pub reconcile_scanned: IntGauge,
    pub reconcile_changed: IntCounter,
    pub reconcile_removed: IntCounter,
    pub git_stats_computed: IntCounter,
    pub git_stats_failed: IntCounter,
    /// Statistics reused because nothing they depend on changed.
    pub git_stats_reused: IntCounter,
    /// Worktrees the file watcher covers: fewer than the live ones means edits there wait for
    /// the next pass (a full inotify watch table, a worktree that vanished).
    pub worktrees_watched: IntGauge,
    pub sockets: IntGauge,
    /// Connected session (chat) sockets.
    pub session_sockets: IntGauge,
    /// Connected terminal sockets, and those closed because their client fell behind.
    pub terminal_sockets: IntGauge,
    pub terminal_slow_closes: IntCounter,
    /// Transcript items written, and the transactions that wrote them (batches).
    pub transcript_items: IntCounter,
    pub transcript_writes: IntCounter,
    /// Bytes of transcript written (whole items and appended text), against the text streamed.
    pub transcript_bytes: IntCounter,
    /// Agent turns in flight across all workspaces.
    pub turns_running: IntGauge,
    /// Open HTTP connections (sockets included until they upgrade).
    pub connections: IntGauge,
    /// `full` frames sent to a client that asked to resume, by reason.
    pub resyncs: IntCounterVec,
    pub replay_hits: IntCounter,
    pub overflow_closes: IntCounter,
    pub entries: IntGauge,
    pub frames_emitted: IntCounter,
    pub collector_lag: IntCounter,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: T) -> T {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

impl Metrics {
    pub fn new() -> Self {
        let r = Registry::new();
        let seconds = |name: &str, help: &str, start: f64| {
            let buckets = exponential_buckets(start, 2.0, 16).expect("valid buckets");
            register(
                &r,
                Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                    .expect("valid histogram"),
            )
        };
        let counter = |name: &str, help: &str| {
            register(&r, IntCounter::new(name, help).expect("valid counter"))
        };
        let gauge =
            |name: &str, help: &str| register(&r, IntGauge::new(name, help).expect("valid gauge"));
        let by = |name: &str, help: &str, label: &str| {
            register(
                &r,
                IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid counter"),
            )
        };
        Self {
            push_latency: seconds(
                "ff_snapshot_push_latency_seconds",
                "Time from a domain commit to its snapshot frame being handed to a socket",
                0.000_05,
            ),
            drift: by(
                "ff_snapshot_drift_total",
                "Fields reconciliation found out of date, by field group",
                "group",
            ),
            reconcile_duration: seconds(
                "ff_reconcile_duration_seconds",
                "Duration of reconciliation passes",
                0.001,
            ),
            reconcile_passes: counter(
                "ff_reconcile_passes_total",
                "Reconciliation passes completed",
            ),
            reconcile_scanned: gauge(
                "ff_reconcile_workspaces",
                "Workspaces scanned by the last reconciliation pass",
            ),
            reconcile_changed: counter(
                "ff_reconcile_changed_total",
                "Entries a reconciliation pass changed",
            ),
            reconcile_removed: counter(
                "ff_reconcile_removed_total",
                "Stale entries reconciliation removed",
            ),
            git_stats_computed: counter(
                "ff_git_stats_computed_total",
                "Git statistics computed in-process",
            ),
            git_stats_failed: counter(
                "ff_git_stats_failed_total",
                "Git statistics that failed or timed out",
            ),
            git_stats_reused: counter(
                "ff_git_stats_reused_total",
                "Git statistics reused because the worktree, HEAD and the base did not change",
            ),
            worktrees_watched: gauge("ff_worktrees_watched", "Worktrees the file watcher covers"),
            sockets: gauge("ff_snapshot_sockets", "Connected snapshot sockets"),
            connections: gauge("ff_http_connections", "Open HTTP connections"),
            session_sockets: gauge("ff_session_sockets", "Connected session sockets"),
            terminal_sockets: gauge("ff_terminal_sockets", "Connected terminal sockets"),
            terminal_slow_closes: counter(
                "ff_terminal_slow_closes_total",
                "Terminal sockets closed with 1013 because their client fell behind",
            ),
            transcript_items: counter(
                "ff_transcript_items_written_total",
                "Transcript items written (new or updated)",
            ),
            transcript_writes: counter(
                "ff_transcript_writes_total",
                "Transactions that wrote transcript items (one batch each)",
            ),
            transcript_bytes: counter(
                "ff_transcript_bytes_written_total",
                "Bytes of transcript written: whole items' payloads and appended text",
            ),
            turns_running: gauge("ff_agent_turns_running", "Agent turns in flight"),
            resyncs: by(
                "ff_snapshot_resyncs_total",
                "Full snapshots sent to clients that asked to resume",
                "reason",
            ),
            replay_hits: counter(
                "ff_snapshot_replay_hits_total",
                "Reconnects served from the replay buffer",
            ),
            overflow_closes: counter(
                "ff_snapshot_overflow_closes_total",
                "Sockets closed with 1013 because they fell behind",
            ),
            entries: gauge("ff_snapshot_entries", "Entries in the snapshot store"),
            frames_emitted: counter(
                "ff_snapshot_frames_total",
                "Changed and removed frames the store emitted",
            ),
            collector_lag: counter(
                "ff_collector_lag_total",
                "Times the collector fell behind the event bus",
            ),
            registry: r,
        }
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
