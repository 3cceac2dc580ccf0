//! A child workspace's news for its parent (issue 19 §1): when a child's agent ends a turn, its
//! PR merges, or it fails (setup or a turn), the parent's session gets one message saying so,
//! queued like any message. Followed on the bus; debounced per child and state: the same state
//! is told once, and a turn's end again only after the child worked in between. The last news
//! told is kept by the workspaces domain, so a restart does not tell it again.

use crate::events::{DomainEvent, EventBus, Subscription};
use crate::flows::ChildWorkspaces;
use crate::workspaces::family::ChildNews as News;
use crate::workspaces::Workspaces;
use ff_core::enums::{PrState, WorkspaceStatus};
use ff_core::ids::WorkspaceId;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The news in the words of the parent's message.
fn says(news: News) -> &'static str {
    match news {
        News::TurnEnded => "its agent finished a turn",
        News::TurnFailed => "its agent's turn failed",
        News::SetupFailed => "its setup failed",
        News::Merged => "its pull request was merged",
    }
}

#[derive(Clone)]
pub struct ChildNotifications {
    inner: Arc<Inner>,
}

struct Inner {
    workspaces: Workspaces,
    children: ChildWorkspaces,
    bus: EventBus,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl ChildNotifications {
    pub fn new(workspaces: Workspaces, children: ChildWorkspaces, bus: EventBus) -> Self {
        Self {
            inner: Arc::new(Inner {
                workspaces,
                children,
                bus,
                tasks: TaskTracker::new(),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    pub fn start(&self) {
        let events = self.inner.bus.subscribe();
        let this = self.clone();
        self.inner
            .tasks
            .spawn(async move { this.follow(events).await });
    }

    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    async fn follow(self, mut events: Subscription) {
        loop {
            let event = tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                event = events.next() => event,
            };
            let (child, news) = match event {
                None => return,
                Some(Err(lagged)) => {
                    tracing::warn!(
                        missed = lagged.0,
                        "child notifications fell behind the event bus; some news is not told"
                    );
                    continue;
                }
                Some(Ok(event)) => match news_of(&event) {
                    Some(Ok(found)) => found,
                    Some(Err(active)) => {
                        if let Err(e) = self.inner.workspaces.forget_child_turn_news(&active).await
                        {
                            tracing::warn!(workspace = %active, "cannot record that a workspace works again: {e}");
                        }
                        continue;
                    }
                    None => continue,
                },
            };
            // Recorded before it is told: a parent is never told twice, even if telling fails.
            match self.inner.workspaces.record_child_news(&child, news).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(child = %child, "cannot record a child's news; it is not told: {e}");
                    continue;
                }
            }
            let this = self.clone();
            self.inner
                .tasks
                .spawn(async move { this.tell_parent(child, news).await });
        }
    }

    async fn tell_parent(&self, child: WorkspaceId, news: News) {
        let told = async {
            let Some(parent) = self.inner.workspaces.parent_of(&child).await? else {
                return Ok(());
            };
            let workspace = self.inner.workspaces.detail(&child).await?.workspace;
            let parent_row = self.inner.workspaces.detail(&parent).await?.workspace;
            if matches!(
                parent_row.status,
                WorkspaceStatus::Archiving | WorkspaceStatus::Archived
            ) {
                return Ok(());
            }
            let text = format!(
                "ff: your child workspace \"{}\" (id {}): {}. Use get_workspace with its id for its last message, or send_message to reply.",
                workspace.name.replace('"', "'"),
                child,
                says(news)
            );
            self.inner.children.deliver(&parent, &text).await.map(drop)
        };
        if let Err(e) = told.await {
            tracing::warn!(child = %child, "cannot tell the parent workspace its child's news: {e}");
        }
    }
}

/// The news an event brings about a workspace, or (`Err`) that it works again.
fn news_of(event: &DomainEvent) -> Option<Result<(WorkspaceId, News), WorkspaceId>> {
    match event {
        DomainEvent::SessionTurnEnded {
            workspace_id,
            workflow,
            completed,
            ..
        } if workflow == ff_core::sessions::USER_WORKFLOW => {
            let news = if *completed {
                News::TurnEnded
            } else {
                News::TurnFailed
            };
            Some(Ok((workspace_id.clone(), news)))
        }
        DomainEvent::PrSnapshotUpdated { workspace_id, pr } if pr.pr_state == PrState::Merged => {
            Some(Ok((workspace_id.clone(), News::Merged)))
        }
        DomainEvent::WorkspaceStateChanged {
            to: WorkspaceStatus::Failed,
            workspace,
            ..
        } => Some(Ok((workspace.id.clone(), News::SetupFailed))),
        DomainEvent::WorkspaceActive { workspace_id } => Some(Err(workspace_id.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::api::PrInfo;

    #[test]
    fn turns_merges_and_failures_are_news_and_work_resets_a_turn() {
        let w = WorkspaceId::new("w");
        let turn = |completed| DomainEvent::SessionTurnEnded {
            workspace_id: w.clone(),
            session_id: ff_core::ids::SessionId::new("s"),
            workflow: "user".into(),
            completed,
        };
        assert_eq!(news_of(&turn(true)), Some(Ok((w.clone(), News::TurnEnded))));
        assert_eq!(
            news_of(&turn(false)),
            Some(Ok((w.clone(), News::TurnFailed)))
        );
        let fixer = DomainEvent::SessionTurnEnded {
            workspace_id: w.clone(),
            session_id: ff_core::ids::SessionId::new("s"),
            workflow: "ratchet".into(),
            completed: true,
        };
        assert_eq!(
            news_of(&fixer),
            None,
            "a fixer's turn is the ratchet's business"
        );
        let merged = PrInfo {
            pr_url: Some("https://github.com/o/r/pull/1".into()),
            pr_number: Some(1),
            pr_state: PrState::Merged,
            pr_ci_status: ff_core::enums::CiStatus::Success,
            pr_review_state: None,
            pr_has_merge_conflict: false,
            pr_updated_at: None,
        };
        let update = DomainEvent::PrSnapshotUpdated {
            workspace_id: w.clone(),
            pr: merged,
        };
        assert_eq!(news_of(&update), Some(Ok((w.clone(), News::Merged))));
        let active = DomainEvent::WorkspaceActive {
            workspace_id: w.clone(),
        };
        assert_eq!(news_of(&active), Some(Err(w)));
    }
}
