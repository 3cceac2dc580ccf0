//! The only module that writes `workspace_run_script`.

use crate::db::codec::{enum_text, parse_enum, parse_opt_time, to_u32};
use crate::process::ProcessIdentity;
use ff_core::api::RunScriptInfo;
use ff_core::enums::RunScriptStatus;
use ff_core::ids::Timestamp;
use sqlx::{FromRow, SqliteConnection};

#[derive(FromRow)]
struct Row {
    workspace_id: String,
    command: Option<String>,
    cleanup_command: Option<String>,
    status: String,
    pid: Option<i64>,
    port: Option<i64>,
    process: Option<String>,
    started_at: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RunScriptRecord {
    pub workspace_id: String,
    pub info: RunScriptInfo,
    pub cleanup_command: Option<String>,
    /// The process group ff started, as it was when it started.
    pub process: Option<ProcessIdentity>,
}

impl TryFrom<Row> for RunScriptRecord {
    type Error = sqlx::Error;

    fn try_from(r: Row) -> Result<Self, Self::Error> {
        Ok(Self {
            workspace_id: r.workspace_id,
            info: RunScriptInfo {
                status: parse_enum("status", &r.status)?,
                pid: r.pid.map(|p| to_u32("pid", p)).transpose()?,
                port: r
                    .port
                    .map(|p| to_u32("port", p).map(|p| u16::try_from(p).unwrap_or(0)))
                    .transpose()?,
                started_at: parse_opt_time("started_at", r.started_at.as_deref())?,
                command: r.command,
            },
            cleanup_command: r.cleanup_command,
            process: r.process.and_then(|p| p.parse().ok()),
        })
    }
}

const SELECT: &str =
    "SELECT workspace_id, command, cleanup_command, status, pid, port, process, started_at \
     FROM workspace_run_script";

pub async fn get(
    conn: &mut SqliteConnection,
    workspace_id: &str,
) -> Result<Option<RunScriptRecord>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!("{SELECT} WHERE workspace_id = ?"))
        .bind(workspace_id)
        .fetch_optional(conn)
        .await?
        .map(RunScriptRecord::try_from)
        .transpose()
}

/// Every run script that may still have a process.
pub async fn active(conn: &mut SqliteConnection) -> Result<Vec<RunScriptRecord>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "{SELECT} WHERE status IN ('STARTING', 'RUNNING', 'STOPPING')"
    ))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(RunScriptRecord::try_from)
    .collect()
}

pub async fn insert(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO workspace_run_script (workspace_id, updated_at) VALUES (?, ?)")
        .bind(workspace_id)
        .bind(now.to_string())
        .execute(conn)
        .await
        .map(drop)
}

/// Caches the commands found in `factory-factory.json`.
pub async fn set_commands(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    command: Option<&str>,
    cleanup_command: Option<&str>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspace_run_script SET command = ?, cleanup_command = ?, updated_at = ? WHERE workspace_id = ?")
        .bind(command)
        .bind(cleanup_command)
        .bind(now.to_string())
        .bind(workspace_id)
        .execute(conn)
        .await
        .map(drop)
}

/// The process a transition records: set on RUNNING, kept on STOPPING, cleared otherwise (D§7.2).
#[derive(Clone, Debug, Default)]
pub struct Process {
    pub pid: Option<u32>,
    pub port: Option<u16>,
    pub identity: Option<ProcessIdentity>,
}

/// Compare-and-swap `from → to`; false when the status was no longer `from`.
pub async fn transition(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    from: RunScriptStatus,
    to: RunScriptStatus,
    process: Process,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let set = match to {
        RunScriptStatus::Running => "pid = ?4, port = ?5, process = ?7, started_at = ?3",
        RunScriptStatus::Stopping => "pid = pid",
        _ => "pid = NULL, port = NULL, process = NULL, started_at = NULL",
    };
    sqlx::query(&format!(
        "UPDATE workspace_run_script SET status = ?1, {set}, updated_at = ?3 \
         WHERE workspace_id = ?2 AND status = ?6"
    ))
    .bind(enum_text(&to))
    .bind(workspace_id)
    .bind(now.to_string())
    .bind(process.pid.map(i64::from))
    .bind(process.port.map(i64::from))
    .bind(enum_text(&from))
    .bind(process.identity.map(|p| p.to_string()))
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
