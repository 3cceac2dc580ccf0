//! The ratchet (ratchet.md, D§6): a fixer agent for each distinct failing state of a workspace's
//! PR (failing CI, review feedback, a conflict), and a workspace left waiting on its person when
//! a fixer cannot help. The only writer of `workspace_ratchet`: every write is a compare-and-swap
//! on the bookkeeping a check read, and its event follows the commit.
//!
//! A check runs after each poll that read a candidate's PR anew, when a fixer ends, when the
//! ratchet is turned on, and every two minutes; one at a time per workspace, three at once.

mod check;
mod dispatch;
pub mod prompt;
pub mod replies;
mod schedule;
pub mod store;

use crate::clock;
use crate::config::RatchetConfig;
use crate::db::{self, Db};
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use ff_core::api::Workspace;
use ff_core::enums::{RatchetDispatchOutcome, WorkspaceStatus};
use ff_core::github::{GithubRepo, Observation};
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::ratchet::RatchetView;
use ff_core::sessions::{Dispatched, Session, RATCHET_WORKFLOW};
use futures_util::future::BoxFuture;
use schedule::Schedule;
use sqlx::SqliteConnection;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What the ratchet needs of the workspaces, GitHub and the sessions, without using those
/// domains: a bridge implemented by the fix flow (`flows::fix`).
pub trait Fixing: Send + Sync {
    /// A workspace as its owner records it, read in the caller's connection.
    fn workspace<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Workspace>, sqlx::Error>>;

    /// The workspace's PR as the latest poll read it; `None` when it has none.
    fn observation<'a>(
        &'a self,
        id: &'a WorkspaceId,
    ) -> BoxFuture<'a, DomainResult<Option<Observation>>>;

    /// A failing GitHub Actions job's log, or why it cannot be read.
    fn job_log<'a>(
        &'a self,
        repo: &'a GithubRepo,
        job: u64,
    ) -> BoxFuture<'a, Result<String, String>>;

    /// Sends a fixer's prompt through the one path for fixers (a fixer at rest starts from a
    /// fresh agent).
    fn dispatch<'a>(
        &'a self,
        id: &'a WorkspaceId,
        prompt: &'a str,
    ) -> BoxFuture<'a, DomainResult<Dispatched>>;

    /// The workspace's sessions.
    fn sessions<'a>(&'a self, id: &'a WorkspaceId) -> BoxFuture<'a, DomainResult<Vec<Session>>>;

    fn session<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, DomainResult<Session>>;

    fn stop<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, DomainResult<()>>;
}

#[derive(Clone)]
pub struct Ratchet {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: EventBus,
    fixing: Arc<dyn Fixing>,
    config: RatchetConfig,
    schedule: Schedule,
    /// Taken when the loop starts; subscribed at construction so that no event is missed.
    events: std::sync::Mutex<Option<crate::events::Subscription>>,
    running: Semaphore,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Ratchet {
    pub fn new(db: Db, bus: EventBus, fixing: Arc<dyn Fixing>, config: RatchetConfig) -> Self {
        let events = std::sync::Mutex::new(Some(bus.subscribe()));
        Self {
            inner: Arc::new(Inner {
                db,
                events,
                bus,
                fixing,
                running: Semaphore::new(config.concurrency.max(1)),
                config,
                schedule: Schedule::default(),
                tasks: TaskTracker::new(),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    /// Startup: a fixer the bookkeeping believes at work died with the previous ff (its agent
    /// is gone), so it is settled as died; the next check decides afresh. Then the loop starts.
    pub async fn start(&self) -> DomainResult<()> {
        let Some(events) = self.inner.events.lock().expect("ratchet events").take() else {
            return Ok(());
        };
        let fixers = store::active_fixers(&mut *self.inner.db.acquire().await?).await?;
        for (workspace, session) in fixers {
            tracing::info!(%workspace, %session, "the fixer did not survive the restart");
            self.settle(&workspace, &session, RatchetDispatchOutcome::Died)
                .await?;
        }
        self.inner.tasks.spawn(self.clone().listen(events));
        self.inner.tasks.spawn(self.clone().every_interval());
        Ok(())
    }

    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    /// The toggle (D§6.6). Off stops the fixer at work and clears the bookkeeping; on checks at
    /// once. Returns the new value.
    pub async fn set_enabled(&self, id: &WorkspaceId, enabled: bool) -> DomainResult<bool> {
        let mut tx = db::begin_write(&self.inner.db).await?;
        let workspace = self
            .inner
            .fixing
            .workspace(&mut tx, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        if workspace.status == WorkspaceStatus::Archived {
            return Err(DomainError::Conflict("the workspace is archived".into()));
        }
        let before = store::get(&mut tx, id.as_str()).await?;
        let changed = store::set_enabled(&mut tx, id.as_str(), enabled, clock::now()).await?;
        tx.commit().await?;
        if changed {
            self.inner.bus.publish(DomainEvent::RatchetToggled {
                workspace_id: id.clone(),
                enabled,
            });
            tracing::info!(workspace = %id, enabled, "ratchet toggled");
            if enabled {
                self.request(id);
            } else if let Some(fixer) = before.active_session {
                self.stop_fixer(&fixer).await;
            }
        }
        Ok(enabled)
    }

    /// `GET /api/workspaces/{id}/ratchet`.
    pub async fn view(&self, id: &WorkspaceId) -> DomainResult<RatchetView> {
        let mut conn = self.inner.db.acquire().await?;
        self.inner
            .fixing
            .workspace(&mut conn, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        let book = store::get(&mut conn, id.as_str()).await?;
        Ok(RatchetView {
            enabled: book.enabled,
            dispatch_outcome: book.dispatch_outcome,
            retry_count: book.dispatch_retry_count,
            stalled: book.dispatch_stalled,
            active_session: book.active_session,
            last_check: book.last_check,
            history: book.history.into_iter().rev().collect(),
        })
    }

    /// Checks the workspace now (or right after the check that runs) and waits for it.
    pub async fn check_now(&self, id: &WorkspaceId) {
        self.begin(id).done().await;
    }

    fn request(&self, id: &WorkspaceId) {
        drop(self.begin(id));
    }

    /// One check at a time per workspace: a request while one runs is folded into one more.
    fn begin(&self, id: &WorkspaceId) -> schedule::Ticket {
        let ticket = self.inner.schedule.request(id);
        if ticket.start {
            let this = self.clone();
            let id = id.clone();
            self.inner.tasks.spawn(async move {
                loop {
                    this.run_check(&id).await;
                    if !this.inner.schedule.finished(&id) {
                        break;
                    }
                }
            });
        }
        ticket
    }

    async fn run_check(&self, id: &WorkspaceId) {
        let Ok(_slot) = self.inner.running.acquire().await else {
            return;
        };
        if self.inner.shutdown.is_cancelled() {
            return;
        }
        if let Err(e) = self.check(id).await {
            tracing::warn!(workspace = %id, "ratchet check failed: {e}");
        }
    }

    async fn listen(self, mut events: crate::events::Subscription) {
        loop {
            let event = tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                event = events.next() => event,
            };
            match event {
                Some(Ok(DomainEvent::PullRequestRead { workspace_id })) => {
                    self.request(&workspace_id)
                }
                Some(Ok(DomainEvent::SessionTurnEnded {
                    workspace_id,
                    session_id,
                    workflow,
                    completed,
                })) if workflow == RATCHET_WORKFLOW => {
                    self.fixer_ended(&workspace_id, &session_id, completed)
                        .await
                }
                Some(Ok(_)) => {}
                // Missed events cost at most one interval: every candidate is checked anyway.
                Some(Err(lagged)) => {
                    tracing::warn!(missed = lagged.0, "the ratchet fell behind the event bus")
                }
                None => return,
            }
        }
    }

    async fn every_interval(self) {
        let mut ticks = tokio::time::interval(self.inner.config.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first poll after a start reads every PR anew, which checks them all.
        ticks.tick().await;
        loop {
            tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let candidates = match self.inner.db.acquire().await {
                Ok(mut conn) => store::candidates(&mut conn).await,
                Err(e) => Err(e),
            };
            match candidates {
                Ok(ids) => ids.iter().for_each(|id| self.request(id)),
                Err(e) => tracing::error!("cannot list the ratchet's candidates: {e}"),
            }
        }
    }

    /// A fixer's turn ended (D§6.5): it is settled, whichever path sees it first; a fixer that
    /// finished is stopped (its agent is not needed until the next dispatch); then the PR is
    /// looked at again.
    async fn fixer_ended(&self, workspace: &WorkspaceId, session: &SessionId, completed: bool) {
        let outcome = if completed {
            RatchetDispatchOutcome::Completed
        } else {
            RatchetDispatchOutcome::Died
        };
        match self.settle(workspace, session, outcome).await {
            Ok(true) => {
                if completed {
                    self.stop_fixer(session).await;
                }
                self.request(workspace);
            }
            Ok(false) => {}
            Err(e) => tracing::error!(%workspace, %session, "cannot settle the fixer: {e}"),
        }
    }

    /// Records how the active fixer ended; false when it was not the active one (any more).
    async fn settle(
        &self,
        workspace: &WorkspaceId,
        session: &SessionId,
        outcome: RatchetDispatchOutcome,
    ) -> DomainResult<bool> {
        let mut tx = db::begin_write(&self.inner.db).await?;
        let settled =
            store::settle(&mut tx, workspace.as_str(), session, outcome, clock::now()).await?;
        let book = store::get(&mut tx, workspace.as_str()).await?;
        tx.commit().await?;
        if settled {
            tracing::info!(%workspace, %session, ?outcome, "fixer settled");
            self.dispatch_changed(workspace, &book);
        }
        Ok(settled)
    }

    fn dispatch_changed(&self, workspace: &WorkspaceId, book: &store::Bookkeeping) {
        self.inner.bus.publish(DomainEvent::RatchetDispatchChanged {
            workspace_id: workspace.clone(),
            outcome: book.dispatch_outcome,
            retry_count: book.dispatch_retry_count,
            stalled: book.dispatch_stalled,
        });
    }

    async fn stop_fixer(&self, session: &SessionId) {
        if let Err(e) = self.inner.fixing.stop(session).await {
            tracing::warn!(%session, "cannot stop the fixer: {e}");
        }
    }
}
