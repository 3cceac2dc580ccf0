//! The collector (snapshot.md §4): domain events in, coalesced store writes out.

use super::clock::WriteClock;
use super::coalesce::{Coalescer, Flush};
use super::mapping::{self, Action, Effect};
use super::sleep_until;
use super::store::Store;
use super::watch::MonitorInput;
use crate::events::{DomainEvent, Subscription};
use crate::metrics::Metrics;
use ff_core::enums::WorkspaceStatus;
use ff_core::ids::WorkspaceId;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

pub struct Collector {
    pub store: Arc<Store>,
    pub clock: Arc<WriteClock>,
    pub metrics: Metrics,
    pub window: Duration,
    /// Asks reconciliation for a pass now (after the collector lost events).
    pub reconcile_now: Arc<Notify>,
    /// Worktrees that became ready (to watch and measure) or left (to forget).
    pub worktrees: mpsc::UnboundedSender<MonitorInput>,
}

#[derive(Debug)]
pub enum WorktreeChange {
    Ready(WorkspaceId, PathBuf),
    Gone(WorkspaceId),
}

impl Collector {
    /// Applies events until shutdown. `settle` asks it to apply everything published so far at
    /// once (pending coalesced patches included) and to answer when done.
    pub async fn run(
        self,
        mut events: Subscription,
        mut settle: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
        shutdown: CancellationToken,
    ) {
        let mut coalescer = Coalescer::new(self.window);
        loop {
            let due = coalescer.next_due();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(done) = settle.recv() => {
                    while let Some(published) = events.try_next() {
                        self.handle(&mut coalescer, &published.event, published.at);
                    }
                    for flush in coalescer.drain() {
                        self.apply(flush);
                    }
                    let _ = done.send(());
                }
                event = events.next_published() => match event {
                    Some(Ok(published)) => self.handle(&mut coalescer, &published.event, published.at),
                    Some(Err(lagged)) => {
                        tracing::warn!(missed = lagged.0, "the snapshot collector fell behind; reconciling now");
                        self.metrics.collector_lag.inc();
                        self.reconcile_now.notify_one();
                    }
                    None => break,
                },
                () = sleep_until(due), if due.is_some() => {
                    for flush in coalescer.due(Instant::now()) {
                        self.apply(flush);
                    }
                }
            }
        }
        // Shutdown: what was published before it still counts.
        while let Some(published) = events.try_next() {
            self.handle(&mut coalescer, &published.event, published.at);
        }
        for flush in coalescer.drain() {
            self.apply(flush);
        }
    }

    fn handle(&self, coalescer: &mut Coalescer, event: &DomainEvent, at: Instant) {
        self.track_worktree(event);
        let mapped = match mapping::map(event) {
            Effect::Workspace(mapped) => mapped,
            Effect::Reconcile => return self.reconcile_now.notify_one(),
            Effect::None => return,
        };
        match mapped.action {
            Action::Remove => {
                coalescer.cancel(&mapped.workspace_id);
                self.store.remove(&mapped.workspace_id, self.clock.next());
            }
            Action::Patch { patch, immediate } => {
                let now = Instant::now();
                if let Some(flush) = coalescer.offer(
                    &mapped.workspace_id,
                    *patch,
                    mapped.source,
                    immediate,
                    at,
                    now,
                ) {
                    self.apply(flush);
                }
            }
        }
    }

    fn track_worktree(&self, event: &DomainEvent) {
        let DomainEvent::WorkspaceStateChanged { to, workspace, .. } = event else {
            return;
        };
        let change = match (to, &workspace.worktree_path) {
            (WorkspaceStatus::Ready, Some(path)) => {
                WorktreeChange::Ready(workspace.id.clone(), PathBuf::from(path))
            }
            (WorkspaceStatus::Archiving | WorkspaceStatus::Archived, _) => {
                WorktreeChange::Gone(workspace.id.clone())
            }
            _ => return,
        };
        let _ = self.worktrees.send(MonitorInput::Worktree(change));
    }

    fn apply(&self, flush: Flush) {
        let ts = self.clock.next();
        if let Err(e) = self.store.upsert(
            &flush.workspace_id,
            &flush.patch,
            &flush.source,
            ts,
            flush.origin,
        ) {
            // Only a state event (which carries the row) or reconciliation can introduce a workspace.
            tracing::debug!("{e}; waiting for reconciliation");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventBus;
    use crate::snapshot::store::StoreLimits;
    use ff_core::api::Workspace;
    use ff_core::enums::{RunScriptStatus, WorkspaceCreationSource};
    use ff_core::ids::ProjectId;
    use ff_core::patch::Patch;

    struct Harness {
        bus: EventBus,
        store: Arc<Store>,
        reconcile_now: Arc<Notify>,
        shutdown: CancellationToken,
        task: tokio::task::JoinHandle<()>,
    }

    fn start(capacity: usize, window: Duration, publish_first: impl FnOnce(&EventBus)) -> Harness {
        let bus = EventBus::new(capacity);
        let store = Arc::new(Store::new(StoreLimits::default(), Metrics::new()));
        let seed = Patch {
            project_id: Some(ProjectId::new("p")),
            ..Patch::default()
        };
        store
            .upsert(&WorkspaceId::new("w"), &seed, "seed", 1, None)
            .unwrap();
        let reconcile_now = Arc::new(Notify::new());
        let collector = Collector {
            store: store.clone(),
            clock: Arc::default(),
            metrics: Metrics::new(),
            window,
            reconcile_now: reconcile_now.clone(),
            worktrees: mpsc::unbounded_channel().0,
        };
        let events = bus.subscribe();
        publish_first(&bus);
        let shutdown = CancellationToken::new();
        let (_settle, settle_requests) = mpsc::unbounded_channel();
        let task = tokio::spawn(collector.run(events, settle_requests, shutdown.clone()));
        Harness {
            bus,
            store,
            reconcile_now,
            shutdown,
            task,
        }
    }

    fn run_script(id: &str, to: RunScriptStatus) -> DomainEvent {
        DomainEvent::RunScriptStatusChanged {
            workspace_id: WorkspaceId::new(id),
            from: RunScriptStatus::Idle,
            to,
        }
    }

    fn status(store: &Store) -> Option<RunScriptStatus> {
        store
            .get(&WorkspaceId::new("w"))
            .map(|e| e.raw.run_script_status)
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    #[tokio::test]
    async fn shutdown_applies_everything_pending() {
        let h = start(16, Duration::from_secs(60), |_| {});
        h.bus.publish(run_script("w", RunScriptStatus::Starting));
        h.bus.publish(run_script("w", RunScriptStatus::Running));
        settle().await;
        assert_eq!(
            status(&h.store),
            Some(RunScriptStatus::Starting),
            "the second change waits for its window"
        );
        h.shutdown.cancel();
        h.task.await.unwrap();
        assert_eq!(status(&h.store), Some(RunScriptStatus::Running));
    }

    #[tokio::test]
    async fn falling_behind_the_bus_asks_for_a_reconciliation_at_once() {
        let h = start(1, Duration::from_millis(10), |bus| {
            for _ in 0..3 {
                bus.publish(run_script("w", RunScriptStatus::Starting));
            }
        });
        tokio::time::timeout(Duration::from_secs(5), h.reconcile_now.notified())
            .await
            .expect("a reconciliation was requested");
        h.shutdown.cancel();
    }

    #[tokio::test]
    async fn archived_removes_at_once_and_drops_what_was_pending() {
        let h = start(16, Duration::from_millis(100), |_| {});
        h.bus.publish(run_script("w", RunScriptStatus::Starting));
        h.bus.publish(run_script("w", RunScriptStatus::Running));
        let now = crate::clock::now();
        let row = Workspace {
            id: WorkspaceId::new("w"),
            project_id: ProjectId::new("p"),
            name: "W".into(),
            description: None,
            status: WorkspaceStatus::Archived,
            creation_source: WorkspaceCreationSource::Manual,
            branch_name: None,
            worktree_path: None,
            init_error_message: None,
            init_started_at: None,
            init_completed_at: None,
            init_retry_count: 0,
            github_issue_number: None,
            github_issue_url: None,
            schedule_id: None,
            ratchet_enabled: false,
            has_had_sessions: false,
            created_at: now,
            updated_at: now,
        };
        h.bus.publish(DomainEvent::WorkspaceStateChanged {
            from: WorkspaceStatus::Archiving,
            to: WorkspaceStatus::Archived,
            workspace: Arc::new(row),
        });
        settle().await;
        assert!(h.store.get(&WorkspaceId::new("w")).is_none());
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            h.store.get(&WorkspaceId::new("w")).is_none(),
            "the pending change did not bring it back"
        );
        h.shutdown.cancel();
    }

    #[tokio::test]
    async fn a_change_for_an_unknown_workspace_waits_for_reconciliation() {
        let h = start(16, Duration::from_millis(10), |_| {});
        h.bus
            .publish(run_script("unknown", RunScriptStatus::Starting));
        h.bus.publish(run_script("w", RunScriptStatus::Starting));
        settle().await;
        assert!(h.store.get(&WorkspaceId::new("unknown")).is_none());
        assert_eq!(
            status(&h.store),
            Some(RunScriptStatus::Starting),
            "known workspaces are updated without a project id"
        );
        h.shutdown.cancel();
    }
}
