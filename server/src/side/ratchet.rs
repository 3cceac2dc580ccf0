//! The only module that writes `workspace_ratchet`.

use crate::db::codec::{enum_text, parse_opt_enum, to_u32};
use ff_core::enums::RatchetDispatchOutcome;
use ff_core::ids::Timestamp;
use sqlx::{FromRow, SqliteConnection};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ratchet {
    pub enabled: bool,
    pub dispatch_outcome: Option<RatchetDispatchOutcome>,
    pub dispatch_retry_count: u32,
    pub dispatch_stalled: bool,
}

impl Ratchet {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            dispatch_outcome: None,
            dispatch_retry_count: 0,
            dispatch_stalled: false,
        }
    }
}

#[derive(FromRow)]
struct Row {
    enabled: bool,
    dispatch_outcome: Option<String>,
    dispatch_retry_count: i64,
    dispatch_stalled: bool,
}

pub async fn get(conn: &mut SqliteConnection, workspace_id: &str) -> Result<Ratchet, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(
        "SELECT enabled, dispatch_outcome, dispatch_retry_count, dispatch_stalled          FROM workspace_ratchet WHERE workspace_id = ?",
    )
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(Ratchet::new(false));
    };
    Ok(Ratchet {
        enabled: row.enabled,
        dispatch_outcome: parse_opt_enum("dispatch_outcome", row.dispatch_outcome.as_deref())?,
        dispatch_retry_count: to_u32("dispatch_retry_count", row.dispatch_retry_count)?,
        dispatch_stalled: row.dispatch_stalled,
    })
}

pub async fn insert(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    ratchet: &Ratchet,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO workspace_ratchet (workspace_id, enabled, dispatch_outcome, dispatch_retry_count,          dispatch_stalled, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(workspace_id)
    .bind(ratchet.enabled)
    .bind(ratchet.dispatch_outcome.as_ref().map(enum_text))
    .bind(i64::from(ratchet.dispatch_retry_count))
    .bind(ratchet.dispatch_stalled)
    .bind(now.to_string())
    .execute(conn)
    .await
    .map(drop)
}

/// Sets the toggle; false when it already had that value (nothing written).
pub async fn set_enabled(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    enabled: bool,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    sqlx::query("UPDATE workspace_ratchet SET enabled = ?, updated_at = ? WHERE workspace_id = ? AND enabled <> ?")
        .bind(enabled)
        .bind(now.to_string())
        .bind(workspace_id)
        .bind(enabled)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}
