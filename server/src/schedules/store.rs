//! The only module that writes `schedules` and `schedule_executions`.

use crate::db::codec::{enum_text, parse_enum, parse_opt_time, parse_time};
use ff_core::enums::ExecutionStatus;
use ff_core::ids::{ExecutionId, ProjectId, ScheduleId, Timestamp, WorkspaceId};
use ff_core::schedules::{Execution, Schedule, EXECUTIONS_KEPT};
use sqlx::{FromRow, SqliteConnection};

#[derive(FromRow)]
struct ScheduleRow {
    id: String,
    project_id: String,
    name: String,
    prompt: String,
    agent: Option<String>,
    cron: String,
    time_zone: String,
    enabled: bool,
    next_due_at: Option<String>,
    last_run_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl TryFrom<ScheduleRow> for Schedule {
    type Error = sqlx::Error;

    fn try_from(r: ScheduleRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: ScheduleId::new(r.id),
            project_id: ProjectId::new(r.project_id),
            name: r.name,
            prompt: r.prompt,
            agent: r.agent,
            cron: r.cron,
            time_zone: r.time_zone,
            enabled: r.enabled,
            next_due_at: parse_opt_time("next_due_at", r.next_due_at.as_deref())?,
            next_due_on_clock: None,
            last_run_at: parse_opt_time("last_run_at", r.last_run_at.as_deref())?,
            created_at: parse_time("created_at", &r.created_at)?,
            updated_at: parse_time("updated_at", &r.updated_at)?,
            recent_executions: Vec::new(),
        })
    }
}

const SCHEDULE: &str = "SELECT id, project_id, name, prompt, agent, cron, time_zone, enabled, \
     next_due_at, last_run_at, created_at, updated_at FROM schedules";

#[derive(FromRow)]
struct ExecutionRow {
    id: String,
    schedule_id: String,
    started_by: String,
    due_at: Option<String>,
    status: String,
    workspace_id: Option<String>,
    workspace_name: Option<String>,
    pr_url: Option<String>,
    pr_number: Option<i64>,
    error: Option<String>,
    started_at: String,
    completed_at: Option<String>,
}

impl TryFrom<ExecutionRow> for Execution {
    type Error = sqlx::Error;

    fn try_from(r: ExecutionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: ExecutionId::new(r.id),
            schedule_id: ScheduleId::new(r.schedule_id),
            trigger: parse_enum("started_by", &r.started_by)?,
            due_at: parse_opt_time("due_at", r.due_at.as_deref())?,
            status: parse_enum("status", &r.status)?,
            workspace_id: r.workspace_id.map(WorkspaceId::new),
            workspace_name: r.workspace_name,
            pr_url: r.pr_url,
            pr_number: r.pr_number.map(i64::unsigned_abs),
            error: r.error,
            started_at: parse_time("started_at", &r.started_at)?,
            completed_at: parse_opt_time("completed_at", r.completed_at.as_deref())?,
            on_clock: None,
        })
    }
}

const EXECUTION: &str = "SELECT id, schedule_id, started_by, due_at, status, workspace_id, \
     workspace_name, pr_url, pr_number, error, started_at, completed_at FROM schedule_executions";

/// Newest first; ids are time-ordered, so they break ties within a millisecond.
const NEWEST_FIRST: &str = "ORDER BY started_at DESC, id DESC";

pub async fn get(conn: &mut SqliteConnection, id: &str) -> Result<Option<Schedule>, sqlx::Error> {
    sqlx::query_as::<_, ScheduleRow>(&format!("{SCHEDULE} WHERE id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(Schedule::try_from)
        .transpose()
}

/// A project's tasks, oldest first.
pub async fn of_project(
    conn: &mut SqliteConnection,
    project_id: &str,
) -> Result<Vec<Schedule>, sqlx::Error> {
    sqlx::query_as::<_, ScheduleRow>(&format!(
        "{SCHEDULE} WHERE project_id = ? ORDER BY created_at, id"
    ))
    .bind(project_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Schedule::try_from)
    .collect()
}

/// Every task (backups carry them all), oldest first.
pub async fn all(conn: &mut SqliteConnection) -> Result<Vec<Schedule>, sqlx::Error> {
    sqlx::query_as::<_, ScheduleRow>(&format!("{SCHEDULE} ORDER BY created_at, id"))
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(Schedule::try_from)
        .collect()
}

pub async fn count_in_project(
    conn: &mut SqliteConnection,
    project_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM schedules WHERE project_id = ?")
        .bind(project_id)
        .fetch_one(conn)
        .await
}

/// Enabled tasks whose next due time is at or before `now`, the most overdue first.
pub async fn due(
    conn: &mut SqliteConnection,
    now: Timestamp,
) -> Result<Vec<Schedule>, sqlx::Error> {
    sqlx::query_as::<_, ScheduleRow>(&format!(
        "{SCHEDULE} WHERE enabled = 1 AND next_due_at IS NOT NULL AND next_due_at <= ? \
         ORDER BY next_due_at, id"
    ))
    .bind(now.to_string())
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Schedule::try_from)
    .collect()
}

pub async fn earliest_due(conn: &mut SqliteConnection) -> Result<Option<Timestamp>, sqlx::Error> {
    let earliest: Option<String> = sqlx::query_scalar(
        "SELECT MIN(next_due_at) FROM schedules WHERE enabled = 1 AND next_due_at IS NOT NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    parse_opt_time("next_due_at", earliest.as_deref())
}

/// Writes a task whole: a new one, or one whose definition changed.
pub async fn upsert(conn: &mut SqliteConnection, s: &Schedule) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO schedules (id, project_id, name, prompt, agent, cron, time_zone, enabled, \
         next_due_at, last_run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, prompt = excluded.prompt, \
         agent = excluded.agent, cron = excluded.cron, time_zone = excluded.time_zone, \
         enabled = excluded.enabled, next_due_at = excluded.next_due_at, \
         updated_at = excluded.updated_at",
    )
    .bind(s.id.as_str())
    .bind(s.project_id.as_str())
    .bind(&s.name)
    .bind(&s.prompt)
    .bind(&s.agent)
    .bind(&s.cron)
    .bind(&s.time_zone)
    .bind(s.enabled)
    .bind(s.next_due_at.map(|t| t.to_string()))
    .bind(s.last_run_at.map(|t| t.to_string()))
    .bind(s.created_at.to_string())
    .bind(s.updated_at.to_string())
    .execute(conn)
    .await
    .map(drop)
}

/// Deletes a task; its executions go with it, and its runs' workspaces forget it.
pub async fn delete(conn: &mut SqliteConnection, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM schedules WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Moves an enabled task's next due time from `expected` to `next`, if no one moved it first.
pub async fn claim_due(
    conn: &mut SqliteConnection,
    id: &str,
    expected: Timestamp,
    next: Option<Timestamp>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE schedules SET next_due_at = ? WHERE id = ? AND enabled = 1 AND next_due_at = ?",
    )
    .bind(next.map(|t| t.to_string()))
    .bind(id)
    .bind(expected.to_string())
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_last_run(
    conn: &mut SqliteConnection,
    id: &str,
    at: Timestamp,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE schedules SET last_run_at = ? WHERE id = ?")
            .bind(at.to_string())
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

pub async fn execution(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<Execution>, sqlx::Error> {
    sqlx::query_as::<_, ExecutionRow>(&format!("{EXECUTION} WHERE id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(Execution::try_from)
        .transpose()
}

/// A task's executions, newest first.
pub async fn executions(
    conn: &mut SqliteConnection,
    schedule_id: &str,
    limit: u32,
) -> Result<Vec<Execution>, sqlx::Error> {
    sqlx::query_as::<_, ExecutionRow>(&format!(
        "{EXECUTION} WHERE schedule_id = ? {NEWEST_FIRST} LIMIT ?"
    ))
    .bind(schedule_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Execution::try_from)
    .collect()
}

/// Executions still running: of one task, or of all.
pub async fn running(
    conn: &mut SqliteConnection,
    schedule_id: Option<&str>,
) -> Result<Vec<Execution>, sqlx::Error> {
    sqlx::query_as::<_, ExecutionRow>(&format!(
        "{EXECUTION} WHERE status = 'RUNNING' AND schedule_id = COALESCE(?, schedule_id) \
         {NEWEST_FIRST}"
    ))
    .bind(schedule_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Execution::try_from)
    .collect()
}

/// The task's latest execution that has a workspace: its previous run.
pub async fn latest_run(
    conn: &mut SqliteConnection,
    schedule_id: &str,
) -> Result<Option<Execution>, sqlx::Error> {
    sqlx::query_as::<_, ExecutionRow>(&format!(
        "{EXECUTION} WHERE schedule_id = ? AND workspace_id IS NOT NULL {NEWEST_FIRST} LIMIT 1"
    ))
    .bind(schedule_id)
    .fetch_optional(conn)
    .await?
    .map(Execution::try_from)
    .transpose()
}

pub async fn of_workspace(
    conn: &mut SqliteConnection,
    workspace_id: &str,
) -> Result<Option<Execution>, sqlx::Error> {
    sqlx::query_as::<_, ExecutionRow>(&format!("{EXECUTION} WHERE workspace_id = ?"))
        .bind(workspace_id)
        .fetch_optional(conn)
        .await?
        .map(Execution::try_from)
        .transpose()
}

/// Records an execution, and forgets the oldest settled ones beyond [`EXECUTIONS_KEPT`].
pub async fn insert_execution(
    conn: &mut SqliteConnection,
    e: &Execution,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO schedule_executions (id, schedule_id, started_by, due_at, status, \
         workspace_id, workspace_name, pr_url, pr_number, error, started_at, completed_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.id.as_str())
    .bind(e.schedule_id.as_str())
    .bind(enum_text(&e.trigger))
    .bind(e.due_at.map(|t| t.to_string()))
    .bind(enum_text(&e.status))
    .bind(e.workspace_id.as_ref().map(WorkspaceId::as_str))
    .bind(&e.workspace_name)
    .bind(&e.pr_url)
    .bind(e.pr_number.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
    .bind(&e.error)
    .bind(e.started_at.to_string())
    .bind(e.completed_at.map(|t| t.to_string()))
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "DELETE FROM schedule_executions WHERE schedule_id = ? AND status <> 'RUNNING' \
         AND id NOT IN (SELECT id FROM schedule_executions WHERE schedule_id = ? {NEWEST_FIRST} \
         LIMIT {EXECUTIONS_KEPT})"
    ))
    .bind(e.schedule_id.as_str())
    .bind(e.schedule_id.as_str())
    .execute(conn)
    .await
    .map(drop)
}

pub async fn attach_workspace(
    conn: &mut SqliteConnection,
    id: &str,
    workspace_id: &str,
    workspace_name: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE schedule_executions SET workspace_id = ?, workspace_name = ? \
         WHERE id = ? AND workspace_id IS NULL",
    )
    .bind(workspace_id)
    .bind(workspace_name)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Ends a running execution; one that ended already stays as it ended.
pub async fn finish(
    conn: &mut SqliteConnection,
    id: &str,
    status: ExecutionStatus,
    error: Option<&str>,
    at: Timestamp,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE schedule_executions SET status = ?, error = ?, completed_at = ? \
         WHERE id = ? AND status = 'RUNNING'",
    )
    .bind(enum_text(&status))
    .bind(error)
    .bind(at.to_string())
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_pull_request(
    conn: &mut SqliteConnection,
    id: &str,
    url: &str,
    number: Option<u64>,
) -> Result<bool, sqlx::Error> {
    let number = number.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    Ok(sqlx::query(
        "UPDATE schedule_executions SET pr_url = ?, pr_number = ? \
         WHERE id = ? AND (pr_url IS NOT ? OR pr_number IS NOT ?)",
    )
    .bind(url)
    .bind(number)
    .bind(id)
    .bind(url)
    .bind(number)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
