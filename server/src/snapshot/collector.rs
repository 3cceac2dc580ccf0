//! The collector (snapshot.md §4): domain events in, coalesced store writes out.

use super::clock::WriteClock;
use super::coalesce::{Coalescer, Flush};
use super::mapping::{self, Action};
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
use tokio::sync::{mpsc, Notify};
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
    pub async fn run(self, mut events: Subscription, shutdown: CancellationToken) {
        let mut coalescer = Coalescer::new(self.window);
        loop {
            let due = coalescer.next_due();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
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
        let mapped = mapping::map(event);
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
