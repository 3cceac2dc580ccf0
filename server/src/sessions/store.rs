//! The only module that writes `agent_sessions` and `session_items`.

use crate::db::codec::{enum_text, parse_enum, parse_time};
use crate::process::ProcessIdentity;
use ff_core::enums::SessionStatus;
use ff_core::ids::{SessionId, Timestamp, WorkspaceId};
use ff_core::sessions::{Choice, SessionRow};
use ff_core::transcript::Item;
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqliteConnection};

/// A session row with what only the server needs.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub row: SessionRow,
    pub workspace_id: WorkspaceId,
    pub mode: Option<String>,
    pub provider_session_id: Option<String>,
    pub process: Option<ProcessIdentity>,
    pub offered: Offered,
    pub created_at: Timestamp,
}

/// The models and modes an agent offered, and how to change them (ACP config option ids).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Offered {
    pub models: Vec<Choice>,
    pub modes: Vec<Choice>,
    /// The config option that selects the model (`None`: the agent has no model option).
    pub model_option: Option<String>,
    /// The config option that selects the mode; `None` with modes: use `session/set_mode`.
    pub mode_option: Option<String>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    agent: String,
    name: String,
    workflow: String,
    model: Option<String>,
    mode: Option<String>,
    status: String,
    provider_session_id: Option<String>,
    process: Option<String>,
    offered: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<Row> for SessionRecord {
    type Error = sqlx::Error;

    fn try_from(r: Row) -> Result<Self, Self::Error> {
        Ok(Self {
            row: SessionRow {
                session_id: SessionId::new(r.id),
                agent: r.agent,
                name: r.name,
                workflow: r.workflow,
                model: r.model,
                status: parse_enum("status", &r.status)?,
                updated_at: parse_time("updated_at", &r.updated_at)?,
            },
            workspace_id: WorkspaceId::new(r.workspace_id),
            mode: r.mode,
            provider_session_id: r.provider_session_id,
            process: r.process.and_then(|p| p.parse().ok()),
            // What an agent offered is a cache: an unreadable one is offered again at next start.
            offered: serde_json::from_str(&r.offered).unwrap_or_default(),
            created_at: parse_time("created_at", &r.created_at)?,
        })
    }
}

const SELECT: &str = "SELECT id, workspace_id, agent, name, workflow, model, mode, status, \
     provider_session_id, process, offered, created_at, updated_at FROM agent_sessions";

pub async fn get(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!("{SELECT} WHERE id = ? AND deleted_at IS NULL"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(SessionRecord::try_from)
        .transpose()
}

/// A workspace's sessions, oldest first.
pub async fn of_workspace(
    conn: &mut SqliteConnection,
    workspace_id: &str,
) -> Result<Vec<SessionRecord>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "{SELECT} WHERE workspace_id = ? AND deleted_at IS NULL ORDER BY created_at, id"
    ))
    .bind(workspace_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(SessionRecord::try_from)
    .collect()
}

/// Sessions that may have a process from before a restart.
pub async fn with_process(conn: &mut SqliteConnection) -> Result<Vec<SessionRecord>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "{SELECT} WHERE (process IS NOT NULL OR status = 'RUNNING') AND deleted_at IS NULL"
    ))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(SessionRecord::try_from)
    .collect()
}

pub struct NewSession<'a> {
    pub id: &'a SessionId,
    pub workspace_id: &'a WorkspaceId,
    pub agent: &'a str,
    pub name: &'a str,
    pub workflow: &'a str,
    pub now: Timestamp,
}

pub async fn insert(conn: &mut SqliteConnection, new: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agent_sessions (id, workspace_id, agent, name, workflow, status, created_at, \
         updated_at) VALUES (?, ?, ?, ?, ?, 'IDLE', ?, ?)",
    )
    .bind(new.id.as_str())
    .bind(new.workspace_id.as_str())
    .bind(new.agent)
    .bind(new.name)
    .bind(new.workflow)
    .bind(new.now.to_string())
    .bind(new.now.to_string())
    .execute(conn)
    .await
    .map(drop)
}

/// Active sessions of a workspace (idle or running), which count against the limit.
pub async fn count_active(
    conn: &mut SqliteConnection,
    workspace_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM agent_sessions WHERE workspace_id = ? AND deleted_at IS NULL \
         AND status IN ('IDLE', 'RUNNING')",
    )
    .bind(workspace_id)
    .fetch_one(conn)
    .await
}

/// Compare-and-swap of the status; false when it was no longer `from`.
pub async fn set_status(
    conn: &mut SqliteConnection,
    id: &str,
    from: SessionStatus,
    to: SessionStatus,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    sqlx::query("UPDATE agent_sessions SET status = ?, updated_at = ? WHERE id = ? AND status = ?")
        .bind(enum_text(&to))
        .bind(now.to_string())
        .bind(id)
        .bind(enum_text(&from))
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// The agent process started (or ended: `None`), with what it said about itself.
pub async fn set_process(
    conn: &mut SqliteConnection,
    id: &str,
    process: Option<&ProcessIdentity>,
    provider_session_id: Option<&str>,
    offered: Option<&Offered>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE agent_sessions SET process = ?, \
         provider_session_id = COALESCE(?, provider_session_id), \
         offered = COALESCE(?, offered), updated_at = ? WHERE id = ?",
    )
    .bind(process.map(ToString::to_string))
    .bind(provider_session_id)
    .bind(offered.and_then(|o| serde_json::to_string(o).ok()))
    .bind(now.to_string())
    .bind(id)
    .execute(conn)
    .await
    .map(drop)
}

/// The model or mode now in use.
pub async fn set_config(
    conn: &mut SqliteConnection,
    id: &str,
    model: Option<&str>,
    mode: Option<&str>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE agent_sessions SET model = COALESCE(?, model), mode = COALESCE(?, mode), \
         updated_at = ? WHERE id = ?",
    )
    .bind(model)
    .bind(mode)
    .bind(now.to_string())
    .bind(id)
    .execute(conn)
    .await
    .map(drop)
}

/// A deleted session leaves the workspace's session list; its transcript stays with it.
pub async fn mark_deleted(
    conn: &mut SqliteConnection,
    id: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE agent_sessions SET deleted_at = ?, process = NULL, status = 'IDLE', updated_at = ? \
         WHERE id = ? AND deleted_at IS NULL",
    )
    .bind(now.to_string())
    .bind(now.to_string())
    .bind(id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// After a restart nothing runs: RUNNING sessions are IDLE (D§4.2), and no process is theirs.
pub async fn reset_after_restart(
    conn: &mut SqliteConnection,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE agent_sessions SET status = CASE status WHEN 'RUNNING' THEN 'IDLE' ELSE status END, \
         process = NULL, updated_at = ? WHERE status = 'RUNNING' OR process IS NOT NULL",
    )
    .bind(now.to_string())
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// One write of a transcript batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// The item whole (new, changed, or a streamed one that closed: its chunks go).
    Item(Item),
    /// Text a streaming item gained since its last write, as its chunk `n`.
    Append { seq: u64, n: u32, text: String },
}

/// Writes a batch of one session, one statement per write, inside the caller's transaction
/// (never one transaction per chunk); returns the bytes written.
pub async fn write(
    conn: &mut SqliteConnection,
    session_id: &str,
    writes: &[Write],
) -> Result<u64, sqlx::Error> {
    let mut bytes = 0;
    for write in writes {
        match write {
            Write::Item(item) => {
                bytes += upsert_item(&mut *conn, session_id, item).await?;
                sqlx::query("DELETE FROM session_item_chunks WHERE session_id = ? AND seq = ?")
                    .bind(session_id)
                    .bind(seq_value(item.seq))
                    .execute(&mut *conn)
                    .await?;
            }
            Write::Append { seq, n, text } => {
                sqlx::query(
                    "INSERT INTO session_item_chunks (session_id, seq, n, text) VALUES (?, ?, ?, ?)",
                )
                .bind(session_id)
                .bind(seq_value(*seq))
                .bind(i64::from(*n))
                .bind(text)
                .execute(&mut *conn)
                .await?;
                bytes += text.len() as u64;
            }
        }
    }
    Ok(bytes)
}

/// Writes new and changed items of one session whole, inside the caller's transaction.
pub async fn upsert_items(
    conn: &mut SqliteConnection,
    session_id: &str,
    items: &[&Item],
) -> Result<(), sqlx::Error> {
    for item in items {
        upsert_item(&mut *conn, session_id, item).await?;
    }
    Ok(())
}

async fn upsert_item(
    conn: &mut SqliteConnection,
    session_id: &str,
    item: &Item,
) -> Result<u64, sqlx::Error> {
    let payload = serde_json::to_value(&item.body).unwrap_or_default();
    let kind = payload["kind"].as_str().unwrap_or("unknown").to_owned();
    let payload = payload.to_string();
    sqlx::query(
        "INSERT INTO session_items (session_id, seq, kind, payload, at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (session_id, seq) DO UPDATE SET kind = excluded.kind, \
         payload = excluded.payload",
    )
    .bind(session_id)
    .bind(seq_value(item.seq))
    .bind(kind)
    .bind(&payload)
    .bind(item.at.to_string())
    .execute(conn)
    .await?;
    Ok(payload.len() as u64)
}

fn seq_value(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Streamed items with their chunks laid on (their text as streamed so far).
async fn with_chunks(
    conn: &mut SqliteConnection,
    session_id: &str,
    mut items: Vec<Item>,
) -> Result<Vec<Item>, sqlx::Error> {
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Ok(items);
    };
    let chunks: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, text FROM session_item_chunks WHERE session_id = ? AND seq >= ? AND seq <= ? \
         ORDER BY seq, n",
    )
    .bind(session_id)
    .bind(seq_value(first.seq))
    .bind(seq_value(last.seq))
    .fetch_all(conn)
    .await?;
    for (seq, text) in chunks {
        if let Ok(position) = items.binary_search_by_key(&seq.unsigned_abs(), |i| i.seq) {
            if let Some(body) = items[position].body.text_mut() {
                body.push_str(&text);
            }
        }
    }
    Ok(items)
}

/// Folds chunks a crash left into their items (at start, before any session runs).
pub async fn fold_chunks(conn: &mut SqliteConnection) -> Result<u64, sqlx::Error> {
    let left: Vec<(String, i64)> =
        sqlx::query_as("SELECT DISTINCT session_id, seq FROM session_item_chunks")
            .fetch_all(&mut *conn)
            .await?;
    for (session, seq) in &left {
        let seq = seq.unsigned_abs();
        let items = items_after(&mut *conn, session, seq - 1, 1).await?;
        let writes: Vec<Write> = items.into_iter().map(Write::Item).collect();
        write(&mut *conn, session, &writes).await?;
    }
    Ok(left.len() as u64)
}

#[derive(FromRow)]
struct ItemRow {
    seq: i64,
    payload: String,
    at: String,
}

fn item(row: ItemRow) -> Result<Item, sqlx::Error> {
    Ok(Item {
        seq: row.seq.unsigned_abs(),
        at: parse_time("at", &row.at)?,
        body: serde_json::from_str(&row.payload).map_err(|e| sqlx::Error::ColumnDecode {
            index: "payload".into(),
            source: e.into(),
        })?,
    })
}

/// Items after `after`, oldest first, at most `limit`.
pub async fn items_after(
    conn: &mut SqliteConnection,
    session_id: &str,
    after: u64,
    limit: u32,
) -> Result<Vec<Item>, sqlx::Error> {
    let items = sqlx::query_as::<_, ItemRow>(
        "SELECT seq, payload, at FROM session_items WHERE session_id = ? AND seq > ? \
         ORDER BY seq LIMIT ?",
    )
    .bind(session_id)
    .bind(i64::try_from(after).unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(item)
    .collect::<Result<Vec<_>, _>>()?;
    with_chunks(conn, session_id, items).await
}

/// The newest `limit` items numbered between `after` and `before` (both excluded), oldest first:
/// the page before what a reader already holds.
pub async fn items_before(
    conn: &mut SqliteConnection,
    session_id: &str,
    after: u64,
    before: u64,
    limit: u32,
) -> Result<Vec<Item>, sqlx::Error> {
    let mut items = sqlx::query_as::<_, ItemRow>(
        "SELECT seq, payload, at FROM session_items WHERE session_id = ? AND seq > ? AND seq < ? \
         ORDER BY seq DESC LIMIT ?",
    )
    .bind(session_id)
    .bind(i64::try_from(after).unwrap_or(i64::MAX))
    .bind(i64::try_from(before).unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(item)
    .collect::<Result<Vec<_>, _>>()?;
    items.reverse();
    with_chunks(conn, session_id, items).await
}

/// The newest `limit` items, oldest first.
pub async fn last_items(
    conn: &mut SqliteConnection,
    session_id: &str,
    limit: u32,
) -> Result<Vec<Item>, sqlx::Error> {
    let mut items = sqlx::query_as::<_, ItemRow>(
        "SELECT seq, payload, at FROM session_items WHERE session_id = ? ORDER BY seq DESC LIMIT ?",
    )
    .bind(session_id)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(item)
    .collect::<Result<Vec<_>, _>>()?;
    items.reverse();
    with_chunks(conn, session_id, items).await
}

/// The highest item number of a session (0 when it has none).
pub async fn last_seq(conn: &mut SqliteConnection, session_id: &str) -> Result<u64, sqlx::Error> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM session_items WHERE session_id = ?")
            .bind(session_id)
            .fetch_one(conn)
            .await?;
    Ok(seq.unwrap_or(0).unsigned_abs())
}

/// Open tool calls of a transcript: after a crash nobody will close them but ff.
pub async fn open_tool_items(
    conn: &mut SqliteConnection,
    session_id: &str,
) -> Result<Vec<Item>, sqlx::Error> {
    sqlx::query_as::<_, ItemRow>(
        "SELECT seq, payload, at FROM session_items WHERE session_id = ? AND kind = 'tool' \
         AND json_extract(payload, '$.status') IN ('pending', 'in_progress')",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(item)
    .collect()
}
