//! Scheduled tasks: per project, a prompt that starts a workspace at each due time of a cron
//! expression in a time zone, and the record of every run. The only writer of `schedules` and
//! `schedule_executions`; it calls no other domain. Starting a run's workspace and following it
//! cross domains, so they are a flow (`flows::scheduled_run`), which calls in here to decide and
//! record.

pub mod store;

use crate::clock::{self, Clock};
use crate::db::{self, Db};
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use ff_core::enums::{ExecutionStatus, RunTrigger};
use ff_core::ids::{ExecutionId, ProjectId, ScheduleId, Timestamp, WorkspaceId};
use ff_core::schedules::{
    Execution, Schedule, ScheduleDefinition, SchedulePatch, Timing, CLOCK_FORMAT, EXECUTIONS_KEPT,
    MAX_SCHEDULES_PER_PROJECT, RECENT_EXECUTIONS,
};
use sqlx::SqliteConnection;

/// A due time that comes this much later than it was due was missed (ff was stopped or the
/// machine asleep): its run is a catch-up, one for however many due times passed.
const LATE_AFTER_MILLIS: i64 = 2 * 60 * 1000;

/// How a run begins.
#[derive(Clone, Copy, Debug)]
pub enum Start {
    /// The task's due time `expected` came: the next one moves past now, once, however many
    /// due times passed since.
    Due { expected: Timestamp },
    /// Run now: the due times stay as they are.
    Manual,
}

/// How a run ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    Completed,
    Failed(String),
}

#[derive(Clone)]
pub struct Schedules {
    db: Db,
    bus: EventBus,
    clock: Clock,
}

impl Schedules {
    pub fn new(db: Db, bus: EventBus, clock: Clock) -> Self {
        Self { db, bus, clock }
    }

    /// A project's tasks with their latest runs, oldest task first.
    pub async fn list(&self, project: &ProjectId) -> DomainResult<Vec<Schedule>> {
        let mut conn = self.db.acquire().await?;
        let mut schedules = store::of_project(&mut conn, project.as_str()).await?;
        for schedule in &mut schedules {
            with_recent(&mut conn, schedule).await?;
        }
        Ok(schedules)
    }

    pub async fn get(&self, id: &ScheduleId) -> DomainResult<Schedule> {
        let mut conn = self.db.acquire().await?;
        let mut schedule = store::get(&mut conn, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        with_recent(&mut conn, &mut schedule).await?;
        Ok(schedule)
    }

    /// A task's runs and skipped due times, newest first, at most `limit`.
    pub async fn executions(&self, id: &ScheduleId, limit: u32) -> DomainResult<Vec<Execution>> {
        let mut conn = self.db.acquire().await?;
        store::get(&mut conn, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        Ok(store::executions(&mut conn, id.as_str(), limit).await?)
    }

    pub async fn execution(&self, id: &ExecutionId) -> DomainResult<Execution> {
        store::execution(&mut *self.db.acquire().await?, id.as_str())
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("no execution with id {id}")))
    }

    /// Adds a task to a project the caller found live, with an agent it found configured.
    pub async fn create(
        &self,
        project: &ProjectId,
        definition: ScheduleDefinition,
    ) -> DomainResult<Schedule> {
        let now = self.clock.now();
        let next_due_at = first_due(&definition, now)?;
        let mut tx = db::begin_write(&self.db).await?;
        let count = store::count_in_project(&mut tx, project.as_str()).await?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_SCHEDULES_PER_PROJECT {
            return Err(DomainError::Conflict(format!(
                "this project has {count} scheduled tasks already; the limit is {MAX_SCHEDULES_PER_PROJECT}"
            )));
        }
        let mut schedule = Schedule {
            id: ScheduleId::new(clock::new_id()),
            project_id: project.clone(),
            name: definition.name.to_string(),
            prompt: definition.prompt.as_str().to_owned(),
            agent: definition.agent,
            cron: definition.cron,
            time_zone: definition.time_zone,
            enabled: definition.enabled,
            next_due_at,
            next_due_on_clock: None,
            last_run_at: None,
            created_at: now,
            updated_at: now,
            recent_executions: Vec::new(),
        };
        store::upsert(&mut tx, &schedule).await?;
        tx.commit().await?;
        self.changed(&schedule.id);
        tracing::info!(schedule = %schedule.id, project = %project, cron = %schedule.cron, zone = %schedule.time_zone, "scheduled task created");
        on_clock(&definition.timing, &mut schedule);
        Ok(schedule)
    }

    /// Applies a patch checked whole against the task as it is. The next due time is computed
    /// anew when the expression, the zone or `enabled` changed (a task enabled again starts
    /// from now, without catching up on the time it was off).
    pub async fn update(&self, id: &ScheduleId, patch: SchedulePatch) -> DomainResult<Schedule> {
        let now = self.clock.now();
        let mut tx = db::begin_write(&self.db).await?;
        let current = store::get(&mut tx, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        let moves = patch.moves_due_time(&current);
        let definition = patch.apply(&current)?;
        let next_due_at = if moves || (definition.enabled && current.next_due_at.is_none()) {
            first_due(&definition, now)?
        } else {
            current.next_due_at
        };
        let updated = Schedule {
            name: definition.name.to_string(),
            prompt: definition.prompt.as_str().to_owned(),
            agent: definition.agent,
            cron: definition.cron,
            time_zone: definition.time_zone,
            enabled: definition.enabled,
            next_due_at,
            updated_at: now,
            ..current
        };
        store::upsert(&mut tx, &updated).await?;
        tx.commit().await?;
        self.changed(id);
        self.get(id).await
    }

    /// Deletes a task and its history; the workspaces of its runs stay.
    pub async fn delete(&self, id: &ScheduleId) -> DomainResult<()> {
        let mut tx = db::begin_write(&self.db).await?;
        if !store::delete(&mut tx, id.as_str()).await? {
            return Err(DomainError::not_found(id));
        }
        tx.commit().await?;
        self.changed(id);
        tracing::info!(schedule = %id, "scheduled task deleted");
        Ok(())
    }

    /// Enabled tasks whose due time has come, the most overdue first.
    pub async fn due(&self) -> DomainResult<Vec<Schedule>> {
        let now = self.clock.now();
        Ok(store::due(&mut *self.db.acquire().await?, now).await?)
    }

    /// The earliest due time of any enabled task.
    pub async fn earliest_due(&self) -> DomainResult<Option<Timestamp>> {
        Ok(store::earliest_due(&mut *self.db.acquire().await?).await?)
    }

    /// Records the start of a run, or with `skip` the reason a due time is skipped, and for a
    /// due time moves the task's next one. `None` when the task changed since the caller read it
    /// (edited, disabled or deleted, or its due time taken already): nothing is recorded.
    pub async fn begin(
        &self,
        id: &ScheduleId,
        start: Start,
        skip: Option<String>,
    ) -> DomainResult<Option<Execution>> {
        let now = self.clock.now();
        let mut tx = db::begin_write(&self.db).await?;
        let Some(task) = store::get(&mut tx, id.as_str()).await? else {
            return match start {
                Start::Due { .. } => Ok(None),
                Start::Manual => Err(DomainError::not_found(id)),
            };
        };
        let (trigger, due_at) = match start {
            Start::Due { expected } => {
                let timing = timing(&task)?;
                let next = timing.next_after(now.max(expected));
                if !store::claim_due(&mut tx, id.as_str(), expected, next).await? {
                    return Ok(None);
                }
                if now.millis() - expected.millis() > LATE_AFTER_MILLIS {
                    // The latest due time that passed is the one this run stands for.
                    let slot = timing.latest_at_or_before(now).unwrap_or(expected);
                    (RunTrigger::CatchUp, slot)
                } else {
                    (RunTrigger::Scheduled, expected)
                }
            }
            Start::Manual => (RunTrigger::Manual, now),
        };
        let execution = Execution {
            id: ExecutionId::new(clock::new_id()),
            schedule_id: id.clone(),
            trigger,
            due_at: (trigger != RunTrigger::Manual).then_some(due_at),
            status: if skip.is_some() {
                ExecutionStatus::Skipped
            } else {
                ExecutionStatus::Running
            },
            workspace_id: None,
            workspace_name: None,
            pr_url: None,
            pr_number: None,
            completed_at: skip.is_some().then_some(now),
            error: skip,
            started_at: now,
            on_clock: None,
        };
        store::insert_execution(&mut tx, &execution).await?;
        if execution.status == ExecutionStatus::Running {
            store::set_last_run(&mut tx, id.as_str(), now).await?;
        }
        tx.commit().await?;
        tracing::info!(schedule = %id, execution = %execution.id, trigger = %trigger, status = %execution.status, "scheduled task {}", if execution.error.is_some() { "skipped a due time" } else { "started a run" });
        Ok(Some(execution))
    }

    /// Lets a due time pass without a run (the task's project was removed).
    pub async fn pass(&self, id: &ScheduleId, expected: Timestamp) -> DomainResult<()> {
        let now = self.clock.now();
        let mut tx = db::begin_write(&self.db).await?;
        let Some(task) = store::get(&mut tx, id.as_str()).await? else {
            return Ok(());
        };
        let next = timing(&task)?.next_after(now.max(expected));
        store::claim_due(&mut tx, id.as_str(), expected, next).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links a run to the workspace it created.
    pub async fn attach_workspace(
        &self,
        execution: &ExecutionId,
        workspace: &WorkspaceId,
        name: &str,
    ) -> DomainResult<()> {
        let mut tx = db::begin_write(&self.db).await?;
        store::attach_workspace(&mut tx, execution.as_str(), workspace.as_str(), name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a running execution; one that ended already keeps its end.
    pub async fn finish(&self, execution: &ExecutionId, outcome: Outcome) -> DomainResult<()> {
        let (status, error) = match &outcome {
            Outcome::Completed => (ExecutionStatus::Completed, None),
            Outcome::Failed(error) => (ExecutionStatus::Failed, Some(error.as_str())),
        };
        let mut tx = db::begin_write(&self.db).await?;
        let finished =
            store::finish(&mut tx, execution.as_str(), status, error, self.clock.now()).await?;
        tx.commit().await?;
        if finished {
            tracing::info!(execution = %execution, status = %status, "scheduled run ended");
        }
        Ok(())
    }

    /// The pull request a run's workspace opened, once it is known (or when it changed).
    pub async fn record_pull_request(
        &self,
        execution: &ExecutionId,
        url: &str,
        number: Option<u64>,
    ) -> DomainResult<()> {
        let mut tx = db::begin_write(&self.db).await?;
        store::set_pull_request(&mut tx, execution.as_str(), url, number).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs not over yet: of one task, or of every task.
    pub async fn running(&self, schedule: Option<&ScheduleId>) -> DomainResult<Vec<Execution>> {
        Ok(store::running(
            &mut *self.db.acquire().await?,
            schedule.map(ScheduleId::as_str),
        )
        .await?)
    }

    /// The task's latest run that created a workspace.
    pub async fn latest_run(&self, schedule: &ScheduleId) -> DomainResult<Option<Execution>> {
        Ok(store::latest_run(&mut *self.db.acquire().await?, schedule.as_str()).await?)
    }

    /// The run that created `workspace`, if a run did.
    pub async fn run_of_workspace(
        &self,
        workspace: &WorkspaceId,
    ) -> DomainResult<Option<Execution>> {
        Ok(store::of_workspace(&mut *self.db.acquire().await?, workspace.as_str()).await?)
    }

    fn changed(&self, id: &ScheduleId) {
        self.bus.publish(DomainEvent::ScheduleChanged {
            schedule_id: id.clone(),
        });
    }
}

/// The first due time of a definition saved now (`None` while disabled).
fn first_due(definition: &ScheduleDefinition, now: Timestamp) -> DomainResult<Option<Timestamp>> {
    if !definition.enabled {
        return Ok(None);
    }
    Ok(Some(definition.timing.first_due_after(now)?))
}

/// A stored task's timing; its expression and zone were checked when it was saved.
fn timing(task: &Schedule) -> DomainResult<Timing> {
    Timing::parse(&task.cron, &task.time_zone).map_err(|e| {
        DomainError::Internal(format!(
            "scheduled task {} has a schedule that no longer reads: {e}",
            task.id
        ))
    })
}

async fn with_recent(conn: &mut SqliteConnection, schedule: &mut Schedule) -> DomainResult<()> {
    const RECENT: u32 = RECENT_EXECUTIONS as u32;
    const _: () = assert!(RECENT_EXECUTIONS <= EXECUTIONS_KEPT);
    schedule.recent_executions = store::executions(conn, schedule.id.as_str(), RECENT).await?;
    on_clock(&timing(schedule)?, schedule);
    Ok(())
}

/// Writes a task's times on its own clock, for the browser, which cannot: it carries no
/// time-zone database.
fn on_clock(timing: &Timing, schedule: &mut Schedule) {
    schedule.next_due_on_clock = schedule
        .next_due_at
        .map(|at| timing.local(at, CLOCK_FORMAT));
    for run in &mut schedule.recent_executions {
        run.on_clock = Some(timing.local(run.due_at.unwrap_or(run.started_at), CLOCK_FORMAT));
    }
}
