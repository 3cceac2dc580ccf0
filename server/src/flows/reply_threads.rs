//! The ratchet replies on the review threads its fixer addressed (issue 19 §3), across four
//! domains and git.
//!
//! - The ratchet records the unresolved review threads each fixer is given with its dispatch,
//!   and the PR's head commit then. When a fixer's turn ends, its run's threads are settled: the
//!   PR is read anew (`github`), the files its push changed are listed (git, in the workspace's
//!   worktree from `workspaces`), and its report is read from its final message (`sessions`).
//! - A thread counts as addressed when the report says so with a summary and a pushed commit
//!   changed the thread's file (ff_core::ratchet::replies). Each gets a reply with the fixer's
//!   summary (fenced, as its words) and the commit (`ratchetReplyToReviewThreads`), and is
//!   resolved (`ratchetResolveThreads`); then the reviewers who requested changes are asked to
//!   review again (with the reply setting). Any other thread gets nothing and stays open.
//! - Each change is recorded by the ratchet as soon as GitHub made it, and a reply of the run
//!   already on GitHub (its hidden marker) is not made again: one reply per thread per fixer
//!   run, across restarts. A run that could not be settled (GitHub failing) is tried again at
//!   the next turn end in its workspace and at startup; a run a later dispatch overtook is
//!   settled without replies, since its fixer's final message is gone.

use crate::db::Db;
use crate::error::DomainResult;
use crate::events::{DomainEvent, EventBus, Subscription};
use crate::git::Git;
use crate::github::Github;
use crate::locks::KeyedLocks;
use crate::ratchet::replies::{FixerRun, ThreadOutcome};
use crate::ratchet::Ratchet;
use crate::sessions::Sessions;
use crate::settings;
use crate::workspaces::Workspaces;
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::ratchet::replies::{self, GivenThread};
use ff_core::sessions::RATCHET_WORKFLOW;
use ff_core::transcript::ItemBody;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Transcript items read back for the fixer's final message.
const LAST_ITEMS: u32 = 50;
/// Bytes of the fixer's final message searched for its report.
const MESSAGE_MAX_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct ReplyThreads {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: EventBus,
    git: Git,
    github: Github,
    ratchet: Ratchet,
    sessions: Sessions,
    workspaces: Workspaces,
    /// One settling per workspace at a time: a turn end and the startup pass never both reply.
    locks: KeyedLocks,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl ReplyThreads {
    pub fn new(
        db: Db,
        bus: EventBus,
        git: Git,
        github: Github,
        ratchet: Ratchet,
        sessions: Sessions,
        workspaces: Workspaces,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                bus,
                git,
                github,
                ratchet,
                sessions,
                workspaces,
                locks: KeyedLocks::default(),
                tasks: TaskTracker::new(),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    /// Follows fixers' turn ends, and settles in the background the runs a restart left.
    pub fn start(&self) {
        let events = self.inner.bus.subscribe();
        let this = self.clone();
        self.inner.tasks.spawn(async move {
            this.settle_all().await;
            this.follow(events).await;
        });
    }

    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    /// Settles every run whose fixer is done (and waits for one being settled).
    pub async fn settle_all(&self) {
        let runs = match self.inner.ratchet.runs_awaiting_replies(None).await {
            Ok(runs) => runs,
            Err(e) => return tracing::error!("cannot read the fixers' review threads: {e}"),
        };
        let mut workspaces: Vec<WorkspaceId> = runs.into_iter().map(|r| r.workspace).collect();
        workspaces.dedup();
        for workspace in workspaces {
            self.settle_logged(&workspace).await;
        }
    }

    async fn follow(self, mut events: Subscription) {
        loop {
            let event = tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                event = events.next() => event,
            };
            match event {
                Some(Ok(DomainEvent::SessionTurnEnded {
                    workspace_id,
                    workflow,
                    ..
                })) if workflow == RATCHET_WORKFLOW => {
                    let this = self.clone();
                    self.inner
                        .tasks
                        .spawn(async move { this.settle_logged(&workspace_id).await });
                }
                Some(Ok(_)) => {}
                Some(Err(lagged)) => {
                    tracing::warn!(missed = lagged.0, "replies fell behind the event bus");
                    self.settle_all().await;
                }
                None => return,
            }
        }
    }

    async fn settle_logged(&self, workspace: &WorkspaceId) {
        if let Err(e) = self.settle(workspace).await {
            tracing::warn!(%workspace, "cannot reply on the fixer's review threads yet: {e}");
        }
    }

    /// Settles the workspace's runs: the latest dispatch's once its fixer is done, older ones
    /// without replies.
    async fn settle(&self, workspace: &WorkspaceId) -> DomainResult<()> {
        let inner = &self.inner;
        let _one = inner.locks.lock(workspace.as_str()).await;
        let runs = inner.ratchet.runs_awaiting_replies(Some(workspace)).await?;
        if runs.is_empty() {
            return Ok(());
        }
        let latest = inner
            .ratchet
            .view(workspace)
            .await?
            .history
            .first()
            .map(|d| d.at.to_string());
        for run in &runs {
            if latest.as_deref() != Some(run.dispatched_at.as_str()) {
                inner
                    .ratchet
                    .settle_threads(run, &[], ThreadOutcome::Superseded)
                    .await?;
            } else if !self.at_work(&run.session).await {
                self.settle_run(run).await?;
            }
        }
        Ok(())
    }

    async fn at_work(&self, session: &SessionId) -> bool {
        self.inner
            .sessions
            .get(session)
            .await
            .is_ok_and(|s| s.is_busy())
    }

    async fn settle_run(&self, run: &FixerRun) -> DomainResult<()> {
        let inner = &self.inner;
        let settings = settings::load(&inner.db).await?;
        let (reply, resolve) = (
            settings.ratchet_reply_to_review_threads,
            settings.ratchet_resolve_threads,
        );
        if !reply && !resolve {
            return inner
                .ratchet
                .settle_threads(run, &[], ThreadOutcome::SettingsOff)
                .await;
        }
        let Some(pr) = inner.github.threads_to_reply(&run.workspace).await? else {
            return inner
                .ratchet
                .settle_threads(run, &[], ThreadOutcome::NotAddressed)
                .await;
        };
        let changed = self.changed_files(run, &pr.head_oid).await;
        let report = self
            .final_message(&run.session)
            .await
            .as_deref()
            .and_then(replies::parse_report)
            .unwrap_or_default();
        let given: Vec<GivenThread> = run.threads.iter().map(|t| t.thread.clone()).collect();
        let addressed = replies::addressed(&given, &report, &changed);
        let marker = replies::run_marker(&run.id());
        for thread in &addressed {
            let (Some(pending), Some(state)) = (
                run.threads.iter().find(|t| t.thread.id == thread.thread),
                pr.threads.iter().find(|t| t.id == thread.thread),
            ) else {
                continue;
            };
            if reply && !pending.replied {
                if !state.own_comments.iter().any(|c| c.contains(&marker)) {
                    let body = replies::reply_body(&thread.summary, &pr.head_oid, &run.id());
                    inner
                        .github
                        .reply_to_thread(&run.workspace, &thread.thread, &body)
                        .await?;
                }
                inner
                    .ratchet
                    .record_reply(run, &thread.thread, &pr.head_oid)
                    .await?;
            }
            if resolve && !pending.resolved {
                if !state.resolved {
                    inner
                        .github
                        .resolve_thread(&run.workspace, &thread.thread)
                        .await?;
                }
                inner.ratchet.record_resolved(run, &thread.thread).await?;
            }
        }
        if reply && !addressed.is_empty() && !pr.changes_requested_by.is_empty() {
            inner
                .github
                .request_reviews(&run.workspace, &pr.pr_id, &pr.changes_requested_by)
                .await?;
        }
        let ids: Vec<String> = addressed.into_iter().map(|a| a.thread).collect();
        tracing::info!(workspace = %run.workspace, session = %run.session, addressed = ids.len(),
            given = run.threads.len(), "the fixer's review threads are settled");
        inner
            .ratchet
            .settle_threads(run, &ids, ThreadOutcome::NotAddressed)
            .await
    }

    /// The files the fixer's push changed: between the head it was dispatched on and the
    /// head now, in the workspace's worktree. Nothing when there was no push or git cannot
    /// tell (then no thread counts as addressed).
    async fn changed_files(&self, run: &FixerRun, head: &str) -> Vec<String> {
        let object_id =
            |oid: &str| matches!(oid.len(), 40 | 64) && oid.bytes().all(|b| b.is_ascii_hexdigit());
        if head == run.head_oid || !object_id(head) || !object_id(&run.head_oid) {
            return Vec::new();
        }
        let worktree = match self.inner.workspaces.detail(&run.workspace).await {
            Ok(detail) => detail.workspace.worktree_path,
            Err(e) => {
                tracing::warn!(workspace = %run.workspace, "cannot read the workspace: {e}");
                None
            }
        };
        let Some(worktree) = worktree else {
            return Vec::new();
        };
        let range = format!("{}..{head}", run.head_oid);
        let args = ["diff", "--name-only", "--no-renames", "-z", range.as_str()];
        match self.inner.git.run(Path::new(&worktree), args).await {
            Ok(out) => out
                .split('\0')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            Err(e) => {
                tracing::warn!(workspace = %run.workspace, "cannot list what the fixer's push changed: {e}");
                Vec::new()
            }
        }
    }

    /// What the fixer said after its prompt: its agent messages since the last message sent
    /// to it, bounded.
    async fn final_message(&self, session: &SessionId) -> Option<String> {
        let items = match self
            .inner
            .sessions
            .items(session, 0, Some(i64::MAX as u64), LAST_ITEMS)
            .await
        {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(%session, "cannot read the fixer's final message: {e}");
                return None;
            }
        };
        let start = items
            .iter()
            .rposition(|i| matches!(i.body, ItemBody::User { .. }))
            .map_or(0, |i| i + 1);
        let mut text = String::new();
        for item in &items[start..] {
            if let ItemBody::Agent { text: said } = &item.body {
                text.push_str(said);
                text.push('\n');
            }
        }
        if text.len() > MESSAGE_MAX_BYTES {
            let mut cut = text.len() - MESSAGE_MAX_BYTES;
            while !text.is_char_boundary(cut) {
                cut += 1;
            }
            text.drain(..cut);
        }
        (!text.is_empty()).then_some(text)
    }
}
