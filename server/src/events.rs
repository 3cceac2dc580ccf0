//! The in-process domain event bus (domain.md §5). Events are published only after the write
//! they describe has committed; a subscriber that falls behind is told how much it missed.

use ff_core::api::{PrInfo, Workspace};
use ff_core::entry::ParentLink;
use ff_core::enums::{RatchetDispatchOutcome, RunScriptStatus, WorkspaceStatus};
use ff_core::ids::{ScheduleId, SessionId, WorkspaceId};
use ff_core::sessions::SessionGroup;
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Clone, Debug)]
pub enum DomainEvent {
    /// A workspace row was inserted (status NEW); `parent` when an agent created it as a child.
    WorkspaceCreated {
        workspace: Arc<Workspace>,
        parent: Option<ParentLink>,
    },
    /// A workspace's parent was archived and it stays on its own: its parent link was cleared.
    WorkspaceDetached { workspace_id: WorkspaceId },
    /// A lifecycle transition; `workspace` is the row re-read after the commit.
    WorkspaceStateChanged {
        from: WorkspaceStatus,
        to: WorkspaceStatus,
        workspace: Arc<Workspace>,
    },
    RunScriptStatusChanged {
        workspace_id: WorkspaceId,
        from: RunScriptStatus,
        to: RunScriptStatus,
    },
    /// The ratchet was turned on or off; off also cleared its dispatch bookkeeping.
    RatchetToggled {
        workspace_id: WorkspaceId,
        enabled: bool,
    },
    /// A fixer was dispatched, adopted or settled, or the workspace stalled: the ratchet group
    /// as committed.
    RatchetDispatchChanged {
        workspace_id: WorkspaceId,
        outcome: Option<RatchetDispatchOutcome>,
        retry_count: u32,
        stalled: bool,
    },
    /// The workspace's PR row changed (github.md §2); `pr` is what was committed.
    PrSnapshotUpdated {
        workspace_id: WorkspaceId,
        pr: PrInfo,
    },
    /// A poll read the workspace's PR and it differs from the last read, also where the stored
    /// row does not (a check that failed again in a new run). The ratchet decides on it.
    PullRequestRead { workspace_id: WorkspaceId },
    /// A backup was imported: many rows changed at once, with no event of their own.
    BackupImported { projects: u64, workspaces: u64 },
    /// The sessions of a workspace changed: their runtime, pending requests, usage or rows.
    /// `group` is the whole session group after the change; `moves_card` when the workspace
    /// started or stopped working or its most pressing request changed.
    SessionActivityChanged {
        workspace_id: WorkspaceId,
        group: Arc<SessionGroup>,
        moves_card: bool,
    },
    /// The first turn of an idle workspace started.
    WorkspaceActive { workspace_id: WorkspaceId },
    /// The last running turn of a workspace ended (an agent finished, or was stopped): its
    /// repository's PRs are read again soon.
    WorkspaceIdle { workspace_id: WorkspaceId },
    /// A turn of an agent session ended: it completed, or it failed (an error, a crash, a
    /// timeout, an agent that would not start). Fixers are settled on it.
    SessionTurnEnded {
        workspace_id: WorkspaceId,
        session_id: SessionId,
        workflow: String,
        completed: bool,
    },
    /// A tool call that opens pull requests (`gh pr create`) named this one in its output: a
    /// claim the GitHub domain checks before it attaches anything.
    PullRequestSeen {
        workspace_id: WorkspaceId,
        url: String,
    },
    /// A scheduled task was created, changed or deleted: when it is due may have moved.
    ScheduleChanged { schedule_id: ScheduleId },
}

/// An event with the moment it was published, right after its commit (push latency starts here).
#[derive(Clone, Debug)]
pub struct Published {
    pub event: DomainEvent,
    pub at: std::time::Instant,
}

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Published>,
}

/// The subscriber missed this many events and must resynchronize from the source of truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lagged(pub u64);

pub struct Subscription {
    receiver: broadcast::Receiver<Published>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            sender: broadcast::channel(capacity).0,
        }
    }

    pub fn publish(&self, event: DomainEvent) {
        // No subscriber is not an error: the snapshot is rebuilt from the database anyway.
        let _ = self.sender.send(Published {
            event,
            at: std::time::Instant::now(),
        });
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
        }
    }
}

impl Subscription {
    /// The next event, `Err(Lagged)` after an overflow, `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Result<DomainEvent, Lagged>> {
        self.next_published().await.map(|r| r.map(|p| p.event))
    }

    /// An event already waiting, without waiting for one (draining at shutdown).
    pub fn try_next(&mut self) -> Option<Published> {
        loop {
            match self.receiver.try_recv() {
                Ok(published) => return Some(published),
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Like [`Self::next`], with the publication time.
    pub async fn next_published(&mut self) -> Option<Result<Published, Lagged>> {
        match self.receiver.recv().await {
            Ok(published) => Some(Ok(published)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Err(Lagged(n))),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toggled(n: u8) -> DomainEvent {
        DomainEvent::RatchetToggled {
            workspace_id: WorkspaceId::new(n.to_string()),
            enabled: true,
        }
    }

    #[tokio::test]
    async fn subscribers_see_events_in_order_and_are_told_when_they_lag() {
        let bus = EventBus::new(2);
        let mut fast = bus.subscribe();
        let mut slow = bus.subscribe();
        for n in 0..2 {
            bus.publish(toggled(n));
        }
        for n in 0..2 {
            let Some(Ok(DomainEvent::RatchetToggled { workspace_id, .. })) = fast.next().await
            else {
                panic!("expected event {n}");
            };
            assert_eq!(workspace_id.as_str(), n.to_string());
        }
        bus.publish(toggled(2));
        assert_eq!(slow.next().await.unwrap().unwrap_err(), Lagged(1));
        drop(bus);
        assert!(matches!(slow.next().await, Some(Ok(_))));
        assert!(matches!(slow.next().await, Some(Ok(_))));
        assert!(slow.next().await.is_none());
    }
}
