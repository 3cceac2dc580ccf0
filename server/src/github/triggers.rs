//! When ff reads GitHub (github.md §2): every poll interval for each repository; a few seconds
//! after an agent's turn ended in one of its workspaces (debounced per repository); and at once
//! for a PR that an agent's tool call says it opened. The bus is read here, not by the snapshot.

use super::Github;
use crate::events::{DomainEvent, Subscription};
use ff_core::ids::{ProjectId, WorkspaceId};
use std::collections::HashMap;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// PRs claimed by tool calls, waiting to be checked on GitHub; beyond this many, new claims
/// are dropped (a flood of them is no agent opening PRs).
const CLAIMS_QUEUED: usize = 32;

impl Github {
    pub(super) async fn run_triggers(self, mut events: Subscription) {
        let shutdown = self.inner.shutdown.clone();
        let interval = self.inner.config.poll_interval;
        let mut next_poll = Instant::now();
        let mut idle: HashMap<ProjectId, Instant> = HashMap::new();
        // Claims are checked one at a time, in the order the agents made them.
        let (claims, mut claimed) = mpsc::channel::<(WorkspaceId, String)>(CLAIMS_QUEUED);
        let this = self.clone();
        let stop = shutdown.clone();
        self.inner.tasks.spawn(async move {
            loop {
                let (workspace_id, url) = tokio::select! {
                    () = stop.cancelled() => break,
                    claim = claimed.recv() => match claim {
                        Some(claim) => claim,
                        None => break,
                    },
                };
                if let Err(e) = this.seen(&workspace_id, &url).await {
                    tracing::warn!(workspace = %workspace_id, "cannot check the PR the agent says it opened: {e}");
                }
            }
        });
        loop {
            let idle_due = idle.values().min().copied();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep_until(next_poll) => {
                    self.poll_all().await;
                    next_poll = Instant::now() + interval;
                }
                () = sleep_until(idle_due), if idle_due.is_some() => {
                    let now = Instant::now();
                    let due: Vec<ProjectId> = idle.iter().filter(|(_, at)| **at <= now).map(|(p, _)| p.clone()).collect();
                    for project in due {
                        idle.remove(&project);
                        self.spawn_poll(project);
                    }
                }
                event = events.next() => match event {
                    Some(Ok(DomainEvent::WorkspaceIdle { workspace_id })) => {
                        if let Some(project) = self.project_of(&workspace_id).await {
                            idle.insert(project, Instant::now() + self.inner.config.idle_debounce);
                        }
                    }
                    Some(Ok(DomainEvent::PullRequestSeen { workspace_id, url })) => {
                        if claims.try_send((workspace_id.clone(), url)).is_err() {
                            tracing::warn!(workspace = %workspace_id, "too many PRs claimed at once; this one is not checked");
                        }
                    }
                    Some(_) => {}
                    None => break,
                },
            }
        }
    }

    fn spawn_poll(&self, project: ProjectId) {
        let this = self.clone();
        self.inner.tasks.spawn(async move {
            if let Err(e) = this.poll(&project, None).await {
                tracing::debug!(%project, "refresh after an agent's turn skipped or failed: {e}");
            }
        });
    }

    async fn project_of(&self, id: &WorkspaceId) -> Option<ProjectId> {
        match self.workspace(id).await {
            Ok(workspace) => Some(workspace.project_id),
            Err(e) => {
                tracing::debug!(workspace = %id, "{e}");
                None
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    if let Some(due) = due {
        tokio::time::sleep_until(due).await;
    }
}
