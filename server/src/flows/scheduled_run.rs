//! A scheduled task's run, from its due time to its outcome, across four domains.
//!
//! - When a task's due time comes (on the injected clock), or on Run now, the schedules domain
//!   records the run, the workspaces domain creates its workspace through the normal create path
//!   (source `SCHEDULED`, linked to the task), and the sessions domain starts that workspace's
//!   first session with the task's prompt once it is READY, as for any `initialPrompt`.
//! - A task whose previous run's workspace is still working (being set up, its agent mid-turn or
//!   about to start) does not start another: the due time is recorded as skipped, with why.
//! - A due time that passed while ff was stopped runs once at startup, however many passed.
//! - The run is followed on the bus until its workspace's first turn ends (completed), its setup
//!   or agent fails (failed), or it is archived (completed); its pull request is recorded once
//!   the GitHub domain knows it. Missed events cost nothing: each run is settled again from the
//!   domains' state before its task's next due time and after every restart.

use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus, Subscription};
use crate::locks::KeyedLocks;
use crate::projects::Projects;
use crate::schedules::{Outcome, Schedules, Start};
use crate::sessions::Sessions;
use crate::workspaces::{Progress, Workspaces};
use ff_core::create::{CreateWorkspace, WorkspaceSource};
use ff_core::enums::{ExecutionStatus, WorkspaceStatus};
use ff_core::ids::{ScheduleId, Timestamp, WorkspaceId};
use ff_core::schedules::{run_name, run_state, Execution, RunFacts, RunState, Schedule, Timing};
use ff_core::sessions::MessageText;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// After a database error the scheduler looks again this much later.
const RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct ScheduledRuns {
    inner: Arc<Inner>,
}

struct Inner {
    schedules: Schedules,
    projects: Projects,
    workspaces: Workspaces,
    sessions: Sessions,
    bus: EventBus,
    clock: Clock,
    /// One decision per task at a time: a due time and Run now never both start a run.
    locks: KeyedLocks,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl ScheduledRuns {
    pub fn new(
        schedules: Schedules,
        projects: Projects,
        workspaces: Workspaces,
        sessions: Sessions,
        bus: EventBus,
        clock: Clock,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                schedules,
                projects,
                workspaces,
                sessions,
                bus,
                clock,
                locks: KeyedLocks::default(),
                tasks: TaskTracker::new(),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    /// Settles the runs a restart cut short, then follows the clock and the bus. Call after the
    /// workspaces and sessions domains recovered, so that what they report is current.
    pub async fn start(&self) -> DomainResult<()> {
        // Subscribed first, so that nothing between the settling and the loop is missed.
        let events = self.inner.bus.subscribe();
        for run in self.inner.schedules.running(None).await? {
            self.settle(&run).await?;
        }
        let this = self.clone();
        self.inner
            .tasks
            .spawn(async move { this.follow(events).await });
        Ok(())
    }

    /// Starts a run now, whether or not the task is enabled; its due times stay. Refused while
    /// the previous run's workspace is still working.
    pub async fn run_now(&self, id: &ScheduleId) -> DomainResult<Execution> {
        let inner = &self.inner;
        let _one = inner.locks.lock(id.as_str()).await;
        let task = inner.schedules.get(id).await?;
        inner.projects.get(&task.project_id).await?;
        if let Some(reason) = self.previous_run_working(&task).await? {
            return Err(DomainError::Conflict(reason));
        }
        let execution = inner
            .schedules
            .begin(id, Start::Manual, None)
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        self.start_workspace(&task, &execution).await;
        inner.schedules.execution(&execution.id).await
    }

    /// Stops following the clock and waits for the runs being settled.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    /// Runs what is due, sleeps until the next due time, and meanwhile settles runs whose
    /// workspaces changed. A changed task wakes it, since its due time may have moved.
    async fn follow(self, mut events: Subscription) {
        let inner = &self.inner;
        loop {
            self.run_due().await;
            let next = match inner.schedules.earliest_due().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!("cannot read when scheduled tasks are due: {e}");
                    Timestamp::from_millis(
                        inner.clock.now().millis() + RETRY_AFTER.as_millis() as i64,
                    )
                }
            };
            let wake = async {
                match next {
                    Some(at) => inner.clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(wake);
            loop {
                let event = tokio::select! {
                    () = inner.shutdown.cancelled() => return,
                    () = &mut wake => break,
                    event = events.next() => event,
                };
                match event {
                    None => return,
                    Some(Err(lagged)) => {
                        tracing::warn!(
                            missed = lagged.0,
                            "the scheduler fell behind the event bus; settling every run"
                        );
                        self.settle_all_in_background();
                        break;
                    }
                    Some(Ok(
                        DomainEvent::ScheduleChanged { .. } | DomainEvent::BackupImported { .. },
                    )) => break,
                    Some(Ok(DomainEvent::WorkspaceStateChanged { workspace, .. })) => {
                        self.follow_workspace(workspace.id.clone());
                    }
                    Some(Ok(
                        DomainEvent::WorkspaceIdle { workspace_id }
                        | DomainEvent::SessionTurnEnded { workspace_id, .. }
                        | DomainEvent::PrSnapshotUpdated { workspace_id, .. },
                    )) => self.follow_workspace(workspace_id),
                    Some(Ok(_)) => {}
                }
            }
        }
    }

    async fn run_due(&self) {
        let due = match self.inner.schedules.due().await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!("cannot read which scheduled tasks are due: {e}");
                return;
            }
        };
        for task in due {
            if let Err(e) = self.run_at_due_time(&task.id).await {
                tracing::error!(schedule = %task.id, "the scheduled run did not start: {e}");
            }
        }
    }

    async fn run_at_due_time(&self, id: &ScheduleId) -> DomainResult<()> {
        let inner = &self.inner;
        let _one = inner.locks.lock(id.as_str()).await;
        // Read again under the lock: the task may have been edited or deleted since.
        let task = match inner.schedules.get(id).await {
            Ok(task) => task,
            Err(DomainError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let Some(expected) = task.next_due_at.filter(|_| task.enabled) else {
            return Ok(());
        };
        match inner.projects.get(&task.project_id).await {
            Ok(_) => {}
            // A removed project's tasks stay (a backup carries them) but never run.
            Err(DomainError::NotFound(_)) => return inner.schedules.pass(id, expected).await,
            Err(e) => return Err(e),
        }
        let skip = self.previous_run_working(&task).await?;
        let Some(execution) = inner
            .schedules
            .begin(id, Start::Due { expected }, skip)
            .await?
        else {
            return Ok(());
        };
        if execution.status == ExecutionStatus::Running {
            self.start_workspace(&task, &execution).await;
        }
        Ok(())
    }

    /// Why the task must not start a run now: its runs not settled yet, and its latest run
    /// (whose agent may be at work again), are asked where they stand.
    async fn previous_run_working(&self, task: &Schedule) -> DomainResult<Option<String>> {
        let schedules = &self.inner.schedules;
        let mut runs = schedules.running(Some(&task.id)).await?;
        if let Some(latest) = schedules.latest_run(&task.id).await? {
            if !runs.iter().any(|r| r.id == latest.id) {
                runs.push(latest);
            }
        }
        for run in &runs {
            if let RunState::Working(why) = self.settle(run).await? {
                let name = run.workspace_name.as_deref().unwrap_or_default();
                return Ok(Some(format!(
                    "The previous run's workspace \"{name}\" is still {why}"
                )));
            }
        }
        Ok(None)
    }

    /// Creates the run's workspace through the workspaces domain's create path, and records it
    /// (or why it could not be created) on the run.
    async fn start_workspace(&self, task: &Schedule, execution: &Execution) {
        let inner = &self.inner;
        let created = async {
            let timing = Timing::parse(&task.cron, &task.time_zone)?;
            let when = execution.due_at.unwrap_or(execution.started_at);
            let command = CreateWorkspace {
                name: run_name(&task.name, &timing.local(when, "%Y-%m-%d %H:%M")),
                description: None,
                ratchet_enabled: None,
                source: WorkspaceSource::Scheduled {
                    schedule: task.id.clone(),
                },
                initial_prompt: Some(MessageText::parse("prompt", &task.prompt)?),
                agent: task.agent.clone(),
            };
            inner
                .workspaces
                .create_from(&task.project_id, command)
                .await
        }
        .await;
        let recorded = match created {
            Ok(workspace) => {
                inner
                    .schedules
                    .attach_workspace(&execution.id, &workspace.id, &workspace.name)
                    .await
            }
            Err(e) => {
                tracing::warn!(schedule = %task.id, execution = %execution.id, "the run's workspace could not be created: {e}");
                let why = format!("The run's workspace could not be created: {e}");
                inner
                    .schedules
                    .finish(&execution.id, Outcome::Failed(why))
                    .await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(execution = %execution.id, "cannot record the run's workspace: {e}");
        }
    }

    /// Settles the run that created `workspace`, if one did, in the background.
    fn follow_workspace(&self, workspace: WorkspaceId) {
        let this = self.clone();
        self.inner.tasks.spawn(async move {
            let settled = async {
                match this.inner.schedules.run_of_workspace(&workspace).await? {
                    Some(run) => this.settle(&run).await.map(drop),
                    None => Ok(()),
                }
            };
            if let Err(e) = settled.await {
                tracing::warn!(workspace = %workspace, "cannot settle the scheduled run: {e}");
            }
        });
    }

    /// After missed events: every run not over, each under its task's lock (a run being started
    /// has no workspace yet, and must not be taken for one that never got it).
    fn settle_all_in_background(&self) {
        let this = self.clone();
        self.inner.tasks.spawn(async move {
            let runs = match this.inner.schedules.running(None).await {
                Ok(runs) => runs,
                Err(e) => {
                    tracing::warn!("cannot read the scheduled runs to settle: {e}");
                    return;
                }
            };
            for run in runs {
                let _one = this.inner.locks.lock(run.schedule_id.as_str()).await;
                if let Err(e) = this.settle(&run).await {
                    tracing::warn!(execution = %run.id, "cannot settle the scheduled run: {e}");
                }
            }
        });
    }

    /// Where a run stands, from its workspace's state; a run that is over is recorded as such,
    /// and the workspace's pull request once it has one.
    async fn settle(&self, run: &Execution) -> DomainResult<RunState> {
        let inner = &self.inner;
        let Some(workspace) = &run.workspace_id else {
            // Runs are linked to their workspace under the task's lock, which every caller holds
            // or (at startup) needs not: a running run without one was cut short by a restart.
            let why = "ff stopped before this run's workspace was created".to_owned();
            if run.status == ExecutionStatus::Running {
                inner
                    .schedules
                    .finish(&run.id, Outcome::Failed(why.clone()))
                    .await?;
            }
            return Ok(RunState::Failed(why));
        };
        let progress = self.progress(workspace).await?;
        let activity = inner.sessions.activity(workspace).await;
        let state = run_state(RunFacts {
            status: progress.as_ref().map(|p| p.workspace.status),
            first_prompt_pending: progress.as_ref().is_some_and(|p| p.first_prompt_pending),
            agent_busy: activity.busy,
            has_had_sessions: progress
                .as_ref()
                .is_some_and(|p| p.workspace.has_had_sessions),
            setup_error: progress
                .as_ref()
                .and_then(|p| p.workspace.init_error_message.as_deref()),
            agent_error: activity.error.as_deref(),
        });
        if let Some(pr) = progress.as_ref().map(|p| &p.pr) {
            if let Some(url) = pr.pr_url.as_deref().filter(|url| !url.is_empty()) {
                inner
                    .schedules
                    .record_pull_request(&run.id, url, pr.pr_number)
                    .await?;
            }
        }
        if run.status == ExecutionStatus::Running {
            match &state {
                RunState::Working(_) => {}
                RunState::Completed => inner.schedules.finish(&run.id, Outcome::Completed).await?,
                RunState::Failed(why) => {
                    inner
                        .schedules
                        .finish(&run.id, Outcome::Failed(why.clone()))
                        .await?
                }
            }
        }
        Ok(state)
    }

    /// The workspace's progress. A READY workspace whose first prompt still waits gets it
    /// delivered: the sessions domain does so when the workspace becomes READY, and a restart
    /// in between would otherwise leave the run waiting for ever.
    async fn progress(&self, workspace: &WorkspaceId) -> DomainResult<Option<Progress>> {
        let inner = &self.inner;
        let progress = inner.workspaces.progress(workspace).await?;
        let waiting = progress.as_ref().is_some_and(|p| {
            p.workspace.status == WorkspaceStatus::Ready && p.first_prompt_pending
        });
        if !waiting {
            return Ok(progress);
        }
        if let Err(e) = inner.sessions.deliver_first_prompt(workspace).await {
            tracing::warn!(workspace = %workspace, "the run's first session did not start: {e}");
        }
        inner.workspaces.progress(workspace).await
    }
}
