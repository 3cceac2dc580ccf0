//! The only module that writes `workspace_ratchet`: the toggle and the dispatch bookkeeping.
//! Every write after the toggle is a compare-and-swap on what the ratchet read.

use crate::db::codec::{enum_text, parse_opt_enum, parse_opt_time, to_u32};
use ff_core::enums::RatchetDispatchOutcome;
use ff_core::ids::{SessionId, Timestamp, WorkspaceId};
use ff_core::ratchet::{RatchetCheck, RatchetDispatch};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{FromRow, Sqlite, SqliteConnection};

/// Dispatches kept per workspace for its page.
pub const HISTORY_KEPT: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bookkeeping {
    pub enabled: bool,
    pub dispatch_outcome: Option<RatchetDispatchOutcome>,
    pub dispatch_retry_count: u32,
    pub dispatch_stalled: bool,
    /// The PR state the last fixer was dispatched for.
    pub snapshot_key: Option<String>,
    pub active_session: Option<SessionId>,
    pub review_last_checked_at: Option<Timestamp>,
    pub last_check: Option<RatchetCheck>,
    pub history: Vec<RatchetDispatch>,
}

impl Bookkeeping {
    /// What the decision reads of it (the caller compares and swaps on all of it).
    pub fn decision_input(&self) -> ff_core::ratchet::Bookkeeping {
        ff_core::ratchet::Bookkeeping {
            snapshot_key: self.snapshot_key.clone(),
            outcome: self.dispatch_outcome,
            retry_count: self.dispatch_retry_count,
            stalled: self.dispatch_stalled,
            review_last_checked_ms: self.review_last_checked_at.map(Timestamp::millis),
            active_session: self.active_session.as_ref().map(|s| s.as_str().to_owned()),
        }
    }

    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            dispatch_outcome: None,
            dispatch_retry_count: 0,
            dispatch_stalled: false,
            snapshot_key: None,
            active_session: None,
            review_last_checked_at: None,
            last_check: None,
            history: Vec::new(),
        }
    }
}

#[derive(FromRow)]
struct Row {
    enabled: bool,
    dispatch_outcome: Option<String>,
    dispatch_retry_count: i64,
    dispatch_stalled: bool,
    snapshot_key: Option<String>,
    active_session_id: Option<String>,
    review_last_checked_at: Option<String>,
    last_check: Option<String>,
    history: String,
}

pub async fn get(
    conn: &mut SqliteConnection,
    workspace_id: &str,
) -> Result<Bookkeeping, sqlx::Error> {
    let row = sqlx::query_as::<_, Row>(
        "SELECT enabled, dispatch_outcome, dispatch_retry_count, dispatch_stalled, snapshot_key, \
         active_session_id, review_last_checked_at, last_check, history \
         FROM workspace_ratchet WHERE workspace_id = ?",
    )
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(Bookkeeping::new(false));
    };
    Ok(Bookkeeping {
        enabled: row.enabled,
        dispatch_outcome: parse_opt_enum("dispatch_outcome", row.dispatch_outcome.as_deref())?,
        dispatch_retry_count: to_u32("dispatch_retry_count", row.dispatch_retry_count)?,
        dispatch_stalled: row.dispatch_stalled,
        snapshot_key: row.snapshot_key,
        active_session: row.active_session_id.map(SessionId::new),
        review_last_checked_at: parse_opt_time(
            "review_last_checked_at",
            row.review_last_checked_at.as_deref(),
        )?,
        // Both are for people to read: an unreadable one is just not shown.
        last_check: row
            .last_check
            .and_then(|text| serde_json::from_str(&text).ok()),
        history: serde_json::from_str(&row.history).unwrap_or_default(),
    })
}

pub async fn insert(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    ratchet: &Bookkeeping,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO workspace_ratchet (workspace_id, enabled, dispatch_outcome, \
         dispatch_retry_count, dispatch_stalled, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
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

/// Sets the toggle; turning it off also clears the bookkeeping (D§6.6). False when it already
/// had that value (nothing written).
pub async fn set_enabled(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    enabled: bool,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let clear = if enabled {
        ""
    } else {
        ", dispatch_outcome = NULL, dispatch_retry_count = 0, dispatch_stalled = 0, \
         snapshot_key = NULL, active_session_id = NULL, review_last_checked_at = NULL"
    };
    sqlx::query(&format!(
        "UPDATE workspace_ratchet SET enabled = ?1{clear}, updated_at = ?2 \
         WHERE workspace_id = ?3 AND enabled <> ?1"
    ))
    .bind(enabled)
    .bind(now.to_string())
    .bind(workspace_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The compare-and-swap guard of the bookkeeping a check read: the last condition of a query,
/// whose values [`BindGuard::bind_guard`] binds last.
fn guard() -> &'static str {
    "enabled = 1 AND COALESCE(dispatch_outcome, '') = COALESCE(?, '') \
     AND COALESCE(snapshot_key, '') = COALESCE(?, '') \
     AND COALESCE(active_session_id, '') = COALESCE(?, '')"
}

trait BindGuard<'q> {
    fn bind_guard(self, read: &'q Bookkeeping) -> Self;
}

impl<'q> BindGuard<'q> for Query<'q, Sqlite, SqliteArguments<'q>> {
    fn bind_guard(self, read: &'q Bookkeeping) -> Self {
        self.bind(read.dispatch_outcome.as_ref().map(enum_text))
            .bind(&read.snapshot_key)
            .bind(read.active_session.as_ref().map(SessionId::as_str))
    }
}

/// The history as its column holds it. A list of plain records always serializes.
fn history_json(history: &[RatchetDispatch]) -> String {
    serde_json::to_string(history).unwrap_or_else(|_| "[]".into())
}

/// A fixer was dispatched for `key`: RUNNING, not stalled, its session active.
pub async fn record_dispatch(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    read: &Bookkeeping,
    dispatch: &RatchetDispatch,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let mut history = read.history.clone();
    history.push(dispatch.clone());
    let overflow = history.len().saturating_sub(HISTORY_KEPT);
    history.drain(..overflow);
    sqlx::query(&format!(
        "UPDATE workspace_ratchet SET dispatch_outcome = 'RUNNING', dispatch_retry_count = ?, \
         dispatch_stalled = 0, snapshot_key = ?, active_session_id = ?, history = ?, \
         review_last_checked_at = ?, updated_at = ? WHERE workspace_id = ? AND {}",
        guard()
    ))
    .bind(i64::from(dispatch.retry))
    .bind(&dispatch.key)
    .bind(dispatch.session_id.as_str())
    .bind(history_json(&history))
    .bind(now.to_string())
    .bind(now.to_string())
    .bind(workspace_id)
    .bind_guard(read)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The active fixer ended; only the first path that sees it wins (D§6.5).
pub async fn settle(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    session: &SessionId,
    outcome: RatchetDispatchOutcome,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let read = get(&mut *conn, workspace_id).await?;
    let mut history = read.history;
    if let Some(last) = history
        .iter_mut()
        .rev()
        .find(|d| &d.session_id == session && d.outcome.is_none())
    {
        last.outcome = Some(outcome);
    }
    sqlx::query(
        "UPDATE workspace_ratchet SET dispatch_outcome = ?, active_session_id = NULL, history = ?, \
         updated_at = ? WHERE workspace_id = ? AND active_session_id = ?",
    )
    .bind(enum_text(&outcome))
    .bind(history_json(&history))
    .bind(now.to_string())
    .bind(workspace_id)
    .bind(session.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The workspace waits on a person: pinned to the key it was decided for; false when it was
/// stalled already or the bookkeeping moved on.
pub async fn mark_stalled(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    read: &Bookkeeping,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE workspace_ratchet SET dispatch_stalled = 1, updated_at = ? \
         WHERE workspace_id = ? AND dispatch_stalled = 0 AND {}",
        guard()
    ))
    .bind(now.to_string())
    .bind(workspace_id)
    .bind_guard(read)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// What the check decided, for the workspace page (no event: nothing on the board moves).
pub async fn record_check(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    check: &RatchetCheck,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE workspace_ratchet SET last_check = ? WHERE workspace_id = ? AND enabled = 1",
    )
    .bind(serde_json::to_string(check).unwrap_or_default())
    .bind(workspace_id)
    .execute(conn)
    .await
    .map(drop)
}

/// The PR changed: a settled dispatch (completed or died) no longer stalls or counts retries
/// (D§5.5); a running one is left alone. False when there was nothing to reset.
pub async fn reset_settled(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE workspace_ratchet SET dispatch_outcome = NULL, dispatch_retry_count = 0, \
         dispatch_stalled = 0, updated_at = ? WHERE workspace_id = ? \
         AND dispatch_outcome IN ('COMPLETED', 'DIED')",
    )
    .bind(now.to_string())
    .bind(workspace_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// A fixer of this workspace was at work already when the ratchet meant to dispatch one: it
/// becomes the active fixer; the key and retry count it was dispatched for stay.
pub async fn adopt(
    conn: &mut SqliteConnection,
    workspace_id: &str,
    read: &Bookkeeping,
    session: &SessionId,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE workspace_ratchet SET dispatch_outcome = 'RUNNING', dispatch_stalled = 0, \
         active_session_id = ?, updated_at = ? WHERE workspace_id = ? AND {}",
        guard()
    ))
    .bind(session.as_str())
    .bind(now.to_string())
    .bind(workspace_id)
    .bind_guard(read)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Live READY workspaces with the ratchet on and a PR that is neither closed nor merged
/// (ratchet.md §2), the longest unchecked first.
pub async fn candidates(conn: &mut SqliteConnection) -> Result<Vec<WorkspaceId>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT r.workspace_id FROM workspace_ratchet r \
         JOIN workspaces w ON w.id = r.workspace_id \
         JOIN workspace_pr p ON p.workspace_id = r.workspace_id \
         WHERE r.enabled = 1 AND w.status = 'READY' AND p.number IS NOT NULL \
         AND p.state NOT IN ('CLOSED', 'MERGED') \
         ORDER BY json_extract(r.last_check, '$.at') IS NOT NULL, json_extract(r.last_check, '$.at')",
    )
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(WorkspaceId::new).collect())
}

/// Every workspace whose bookkeeping names a fixer at work, with that fixer.
pub async fn active_fixers(
    conn: &mut SqliteConnection,
) -> Result<Vec<(WorkspaceId, SessionId)>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT workspace_id, active_session_id FROM workspace_ratchet \
         WHERE active_session_id IS NOT NULL",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(w, s)| (WorkspaceId::new(w), SessionId::new(s)))
        .collect())
}
