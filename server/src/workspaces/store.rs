//! The only module that writes `workspaces`. Status changes are compare-and-swap updates on the
//! status that was read; the caller learns whether it won.

use crate::db::codec::{enum_text, parse_enum, parse_opt_time, parse_time, to_u32};
use crate::process::ProcessIdentity;
use ff_core::api::Workspace;
use ff_core::enums::{WorkspaceCreationSource, WorkspaceStatus};
use ff_core::ids::{ProjectId, ScheduleId, Timestamp, WorkspaceId};
use ff_core::lifecycle::MAX_INIT_RETRIES;
use ff_core::text::append_capped;
use sqlx::{FromRow, SqliteConnection};

/// Setup output kept per workspace (the newest part).
pub const INIT_OUTPUT_MAX_BYTES: usize = 50 * 1024;

/// A workspace row with what only the server needs besides the API fields.
#[derive(Clone, Debug)]
pub struct WorkspaceRecord {
    pub workspace: Workspace,
    pub base_branch: Option<String>,
    pub is_auto_generated_branch: bool,
    /// The setup script's process while provisioning, for restart recovery.
    pub init_script_process: Option<ProcessIdentity>,
    pub init_output: String,
    pub archive_previous_status: Option<WorkspaceStatus>,
    pub archive_error: Option<String>,
    /// What the archive kept outside git, and where.
    pub archive_note: Option<String>,
    /// The agent of this workspace's sessions (`None`: the user's default).
    pub agent: Option<String>,
    /// The prompt its first session starts with once it is READY (`None` once used).
    pub initial_prompt: Option<String>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    project_id: String,
    name: String,
    description: Option<String>,
    status: String,
    creation_source: String,
    base_branch: Option<String>,
    worktree_path: Option<String>,
    branch_name: Option<String>,
    is_auto_generated_branch: bool,
    init_error_message: Option<String>,
    init_output: String,
    init_started_at: Option<String>,
    init_completed_at: Option<String>,
    init_script_process: Option<String>,
    init_retry_count: i64,
    archive_previous_status: Option<String>,
    archive_error: Option<String>,
    archive_note: Option<String>,
    agent: Option<String>,
    initial_prompt: Option<String>,
    github_issue_number: Option<i64>,
    github_issue_url: Option<String>,
    schedule_id: Option<String>,
    has_had_sessions: bool,
    ratchet_enabled: bool,
    created_at: String,
    updated_at: String,
}

impl TryFrom<Row> for WorkspaceRecord {
    type Error = sqlx::Error;

    fn try_from(r: Row) -> Result<Self, Self::Error> {
        Ok(Self {
            workspace: Workspace {
                id: WorkspaceId::new(r.id),
                project_id: ProjectId::new(r.project_id),
                name: r.name,
                description: r.description,
                status: parse_enum("status", &r.status)?,
                creation_source: parse_enum("creation_source", &r.creation_source)?,
                branch_name: r.branch_name,
                worktree_path: r.worktree_path,
                init_error_message: r.init_error_message,
                init_started_at: parse_opt_time("init_started_at", r.init_started_at.as_deref())?,
                init_completed_at: parse_opt_time(
                    "init_completed_at",
                    r.init_completed_at.as_deref(),
                )?,
                init_retry_count: to_u32("init_retry_count", r.init_retry_count)?,
                github_issue_number: r.github_issue_number.map(|n| n.unsigned_abs()),
                github_issue_url: r.github_issue_url,
                schedule_id: r.schedule_id.map(ScheduleId::new),
                ratchet_enabled: r.ratchet_enabled,
                has_had_sessions: r.has_had_sessions,
                created_at: parse_time("created_at", &r.created_at)?,
                updated_at: parse_time("updated_at", &r.updated_at)?,
            },
            base_branch: r.base_branch,
            is_auto_generated_branch: r.is_auto_generated_branch,
            init_script_process: r.init_script_process.and_then(|p| p.parse().ok()),
            init_output: r.init_output,
            archive_previous_status: r
                .archive_previous_status
                .as_deref()
                .map(|s| parse_enum("archive_previous_status", s))
                .transpose()?,
            archive_error: r.archive_error,
            archive_note: r.archive_note,
            agent: r.agent,
            initial_prompt: r.initial_prompt,
        })
    }
}

const SELECT: &str = "SELECT w.id, w.project_id, w.name, w.description, w.status, w.creation_source, \
     w.base_branch, w.worktree_path, w.branch_name, w.is_auto_generated_branch, w.init_error_message, w.init_output, \
     w.init_started_at, w.init_completed_at, w.init_script_process, w.init_retry_count, \
     w.archive_previous_status, w.archive_error, w.archive_note, w.agent, w.initial_prompt, w.github_issue_number, w.github_issue_url, \
     w.schedule_id, w.has_had_sessions, COALESCE(r.enabled, 0) AS ratchet_enabled, w.created_at, w.updated_at \
     FROM workspaces w LEFT JOIN workspace_ratchet r ON r.workspace_id = w.id";

pub async fn get(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<WorkspaceRecord>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!("{SELECT} WHERE w.id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(WorkspaceRecord::try_from)
        .transpose()
}

/// A project's workspaces, newest first: live ones, or archived ones.
pub async fn list(
    conn: &mut SqliteConnection,
    project_id: &str,
    archived: bool,
) -> Result<Vec<WorkspaceRecord>, sqlx::Error> {
    let op = if archived { "=" } else { "<>" };
    sqlx::query_as::<_, Row>(&format!(
        "{SELECT} WHERE w.project_id = ? AND w.status {op} 'ARCHIVED' ORDER BY w.created_at DESC, w.id"
    ))
    .bind(project_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(WorkspaceRecord::try_from)
    .collect()
}

/// Every workspace in the given states, oldest first.
pub async fn in_states(
    conn: &mut SqliteConnection,
    states: &[WorkspaceStatus],
) -> Result<Vec<WorkspaceRecord>, sqlx::Error> {
    let list = states
        .iter()
        .map(|s| format!("'{}'", enum_text(s)))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query_as::<_, Row>(&format!(
        "{SELECT} WHERE w.status IN ({list}) ORDER BY w.created_at, w.id"
    ))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(WorkspaceRecord::try_from)
    .collect()
}

/// Every workspace, archived ones included (backups carry them all).
pub async fn all(conn: &mut SqliteConnection) -> Result<Vec<WorkspaceRecord>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!("{SELECT} ORDER BY w.created_at, w.id"))
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(WorkspaceRecord::try_from)
        .collect()
}

pub async fn count_live_in_project(
    conn: &mut SqliteConnection,
    project_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM workspaces WHERE project_id = ? AND status <> 'ARCHIVED'",
    )
    .bind(project_id)
    .fetch_one(conn)
    .await
}

/// The name of a live workspace of the project that uses `branch`, if any.
pub async fn live_user_of_branch(
    conn: &mut SqliteConnection,
    project_id: &str,
    branch: &str,
    except: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT name FROM workspaces WHERE project_id = ? AND branch_name = ? \
         AND status <> 'ARCHIVED' AND id <> COALESCE(?, '') LIMIT 1",
    )
    .bind(project_id)
    .bind(branch)
    .bind(except)
    .fetch_optional(conn)
    .await
}

pub struct NewWorkspace<'a> {
    pub id: &'a WorkspaceId,
    pub project_id: &'a ProjectId,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub source: WorkspaceCreationSource,
    pub base_branch: Option<&'a str>,
    pub branch_name: Option<&'a str>,
    pub github_issue_number: Option<u64>,
    pub github_issue_url: Option<&'a str>,
    pub schedule_id: Option<&'a ScheduleId>,
    pub agent: Option<&'a str>,
    pub initial_prompt: Option<&'a str>,
    pub now: Timestamp,
}

pub async fn insert(
    conn: &mut SqliteConnection,
    new: &NewWorkspace<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO workspaces (id, project_id, name, description, status, creation_source, \
         base_branch, branch_name, github_issue_number, github_issue_url, schedule_id, agent, \
         initial_prompt, created_at, updated_at) VALUES (?, ?, ?, ?, 'NEW', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.id.as_str())
    .bind(new.project_id.as_str())
    .bind(new.name)
    .bind(new.description)
    .bind(enum_text(&new.source))
    .bind(new.base_branch)
    .bind(new.branch_name)
    .bind(
        new.github_issue_number
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
    )
    .bind(new.github_issue_url)
    .bind(new.schedule_id.map(ScheduleId::as_str))
    .bind(new.agent)
    .bind(new.initial_prompt)
    .bind(new.now.to_string())
    .bind(new.now.to_string())
    .execute(conn)
    .await
    .map(drop)
}

/// Restores a row exactly as a backup describes it.
pub async fn restore(
    conn: &mut SqliteConnection,
    record: &WorkspaceRecord,
) -> Result<(), sqlx::Error> {
    let w = &record.workspace;
    sqlx::query(
        "INSERT INTO workspaces (id, project_id, name, description, status, creation_source, \
         base_branch, worktree_path, branch_name, is_auto_generated_branch, init_error_message, \
         init_output, init_started_at, init_completed_at, init_retry_count, github_issue_number, \
         github_issue_url, schedule_id, has_had_sessions, archive_note, agent, initial_prompt, \
         created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(w.id.as_str())
    .bind(w.project_id.as_str())
    .bind(&w.name)
    .bind(&w.description)
    .bind(enum_text(&w.status))
    .bind(enum_text(&w.creation_source))
    .bind(&record.base_branch)
    .bind(&w.worktree_path)
    .bind(&w.branch_name)
    .bind(record.is_auto_generated_branch)
    .bind(&w.init_error_message)
    .bind(&record.init_output)
    .bind(w.init_started_at.map(|t| t.to_string()))
    .bind(w.init_completed_at.map(|t| t.to_string()))
    .bind(i64::from(w.init_retry_count))
    .bind(
        w.github_issue_number
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
    )
    .bind(&w.github_issue_url)
    .bind(w.schedule_id.as_ref().map(ScheduleId::as_str))
    .bind(w.has_had_sessions)
    .bind(&record.archive_note)
    .bind(&record.agent)
    .bind(&record.initial_prompt)
    .bind(w.created_at.to_string())
    .bind(w.updated_at.to_string())
    .execute(conn)
    .await
    .map(drop)
}

/// What a transition writes besides the status (D§2.2).
#[derive(Clone, Debug)]
pub enum Effect {
    /// NEW → PROVISIONING: a fresh attempt with fresh output.
    StartProvisioning,
    /// FAILED/READY → PROVISIONING as a retry: counts against the retry limit.
    RetryProvisioning,
    /// FAILED → NEW: a retry from scratch.
    RetryFromScratch,
    /// PROVISIONING → READY, with the setup warning if there was one.
    Provisioned { warning: Option<String> },
    /// PROVISIONING → FAILED.
    ProvisioningFailed { message: String },
    /// READY/FAILED → ARCHIVING, remembering where to roll back to.
    StartArchiving,
    /// ARCHIVING → the previous status, with the reason.
    ArchiveRolledBack { error: String },
    /// ARCHIVING → ARCHIVED, with what the archive kept outside git.
    Archived { note: Option<String> },
}

/// Compare-and-swap `from → to`; false when the row is no longer in `from` (or has no retries
/// left, for retries).
pub async fn transition(
    conn: &mut SqliteConnection,
    id: &str,
    from: WorkspaceStatus,
    to: WorkspaceStatus,
    effect: &Effect,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let (set, guard) = match effect {
        Effect::StartProvisioning => (
            "init_started_at = ?3, init_completed_at = NULL, init_error_message = NULL, \
             init_script_process = NULL, init_output = ''",
            "",
        ),
        Effect::RetryProvisioning => (
            "init_started_at = ?3, init_completed_at = NULL, init_error_message = NULL, \
             init_script_process = NULL, init_output = '', init_retry_count = init_retry_count + 1",
            "AND init_retry_count < ?4",
        ),
        Effect::RetryFromScratch => (
            "init_started_at = NULL, init_completed_at = NULL, init_error_message = NULL, \
             init_script_process = NULL, init_output = '', init_retry_count = init_retry_count + 1",
            "AND init_retry_count < ?4",
        ),
        Effect::Provisioned { .. } | Effect::ProvisioningFailed { .. } => (
            "init_completed_at = ?3, init_script_process = NULL, init_error_message = ?5",
            "",
        ),
        Effect::StartArchiving => ("archive_previous_status = ?6, archive_error = NULL", ""),
        Effect::ArchiveRolledBack { .. } => {
            ("archive_previous_status = NULL, archive_error = ?5", "")
        }
        Effect::Archived { .. } => (
            "archive_previous_status = NULL, archive_error = NULL, archive_note = ?5",
            "",
        ),
    };
    let message = match effect {
        Effect::Provisioned { warning } => warning.clone(),
        Effect::ProvisioningFailed { message } => Some(message.clone()),
        Effect::ArchiveRolledBack { error } => Some(error.clone()),
        Effect::Archived { note } => note.clone(),
        _ => None,
    };
    let sql = format!(
        "UPDATE workspaces SET status = ?1, {set}, updated_at = ?3 \
         WHERE id = ?2 AND status = ?7 {guard}"
    );
    sqlx::query(&sql)
        .bind(enum_text(&to))
        .bind(id)
        .bind(now.to_string())
        .bind(i64::from(MAX_INIT_RETRIES))
        .bind(message)
        .bind(enum_text(&from))
        .bind(enum_text(&from))
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Records the worktree a provisioning created (part of one transaction with the run-script
/// commands it found there).
pub async fn register_worktree(
    conn: &mut SqliteConnection,
    id: &str,
    worktree_path: &str,
    branch_name: &str,
    auto_generated: bool,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE workspaces SET worktree_path = ?, branch_name = ?, is_auto_generated_branch = ?, \
         updated_at = ? WHERE id = ?",
    )
    .bind(worktree_path)
    .bind(branch_name)
    .bind(auto_generated)
    .bind(now.to_string())
    .bind(id)
    .execute(conn)
    .await
    .map(drop)
}

/// Remembers the setup process (its group) while provisioning, for restart recovery.
pub async fn set_init_script_process(
    conn: &mut SqliteConnection,
    id: &str,
    process: Option<&ProcessIdentity>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE workspaces SET init_script_process = ? WHERE id = ? AND status = 'PROVISIONING'",
    )
    .bind(process.map(ToString::to_string))
    .bind(id)
    .execute(conn)
    .await
    .map(drop)
}

/// Appends to the setup output, keeping its newest [`INIT_OUTPUT_MAX_BYTES`].
pub async fn append_init_output(
    conn: &mut SqliteConnection,
    id: &str,
    chunk: &str,
) -> Result<(), sqlx::Error> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT init_output FROM workspaces WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(existing) = existing else {
        return Ok(());
    };
    sqlx::query("UPDATE workspaces SET init_output = ? WHERE id = ?")
        .bind(append_capped(&existing, chunk, INIT_OUTPUT_MAX_BYTES))
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

/// The first session's prompt, handed out once: it is cleared in the same transaction.
pub async fn take_initial_prompt(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let prompt: Option<Option<String>> =
        sqlx::query_scalar("SELECT initial_prompt FROM workspaces WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let prompt = prompt.flatten();
    if prompt.is_some() {
        sqlx::query("UPDATE workspaces SET initial_prompt = NULL WHERE id = ?")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(prompt)
}

/// The workspace has had an agent session (it shows "ready for next prompt" from now on).
pub async fn mark_has_had_sessions(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET has_had_sessions = 1 WHERE id = ? AND has_had_sessions = 0")
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}
