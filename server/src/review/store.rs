//! The only module that writes `review_comments`.

use crate::db::codec::{enum_text, parse_enum, parse_opt_time, parse_time, to_u32};
use ff_core::ids::{CommentId, SessionId, Timestamp, WorkspaceId};
use ff_core::review::comments::{CommentState, ReviewComment, Side};
use sqlx::{FromRow, SqliteConnection};

#[derive(FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    path: String,
    side: String,
    start_line: i64,
    end_line: i64,
    quoted: String,
    body: String,
    state: String,
    session_id: Option<String>,
    created_at: String,
    sent_at: Option<String>,
    resolved_at: Option<String>,
}

impl TryFrom<Row> for ReviewComment {
    type Error = sqlx::Error;

    fn try_from(r: Row) -> Result<Self, Self::Error> {
        let start_line = to_u32("start_line", r.start_line)?;
        Ok(Self {
            id: CommentId::new(r.id),
            workspace_id: WorkspaceId::new(r.workspace_id),
            path: r.path,
            side: parse_enum("side", &r.side)?,
            start_line,
            end_line: to_u32("end_line", r.end_line)?,
            quoted: serde_json::from_str(&r.quoted).map_err(|e| sqlx::Error::ColumnDecode {
                index: "quoted".into(),
                source: e.into(),
            })?,
            body: r.body,
            state: parse_enum("state", &r.state)?,
            session_id: r.session_id.map(SessionId::new),
            created_at: parse_time("created_at", &r.created_at)?,
            sent_at: parse_opt_time("sent_at", r.sent_at.as_deref())?,
            resolved_at: parse_opt_time("resolved_at", r.resolved_at.as_deref())?,
            // Where the lines are now is worked out against the current diff by the caller.
            current_start_line: Some(start_line),
        })
    }
}

const SELECT: &str = "SELECT id, workspace_id, path, side, start_line, end_line, quoted, body, \
     state, session_id, created_at, sent_at, resolved_at FROM review_comments";

/// A workspace's comments by file, then line, then age.
pub async fn of_workspace(
    conn: &mut SqliteConnection,
    workspace: &WorkspaceId,
) -> Result<Vec<ReviewComment>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "{SELECT} WHERE workspace_id = ? ORDER BY path, start_line, created_at, id"
    ))
    .bind(workspace.as_str())
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(ReviewComment::try_from)
    .collect()
}

pub async fn get(
    conn: &mut SqliteConnection,
    workspace: &WorkspaceId,
    id: &CommentId,
) -> Result<Option<ReviewComment>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!("{SELECT} WHERE workspace_id = ? AND id = ?"))
        .bind(workspace.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .map(ReviewComment::try_from)
        .transpose()
}

pub struct NewRow<'a> {
    pub id: &'a CommentId,
    pub workspace: &'a WorkspaceId,
    pub path: &'a str,
    pub side: Side,
    pub start_line: u32,
    pub end_line: u32,
    pub quoted: &'a [String],
    pub body: &'a str,
    pub now: Timestamp,
}

pub async fn insert(conn: &mut SqliteConnection, new: &NewRow<'_>) -> Result<(), sqlx::Error> {
    let quoted = serde_json::to_string(new.quoted).expect("strings serialize");
    sqlx::query(
        "INSERT INTO review_comments (id, workspace_id, path, side, start_line, end_line, quoted, \
         body, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.id.as_str())
    .bind(new.workspace.as_str())
    .bind(new.path)
    .bind(enum_text(&new.side))
    .bind(new.start_line)
    .bind(new.end_line)
    .bind(quoted)
    .bind(new.body)
    .bind(enum_text(&CommentState::Draft))
    .bind(new.now.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Resolves a comment (`at`) or opens it again (`None`).
pub async fn set_resolved(
    conn: &mut SqliteConnection,
    workspace: &WorkspaceId,
    id: &CommentId,
    at: Option<Timestamp>,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE review_comments SET resolved_at = ? WHERE workspace_id = ? AND id = ?")
            .bind(at.map(|t| t.to_string()))
            .bind(workspace.as_str())
            .bind(id.as_str())
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(
    conn: &mut SqliteConnection,
    workspace: &WorkspaceId,
    id: &CommentId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM review_comments WHERE workspace_id = ? AND id = ?")
        .bind(workspace.as_str())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks drafts as sent to `session`; returns how many were still drafts.
pub async fn mark_sent(
    conn: &mut SqliteConnection,
    ids: &[CommentId],
    session: &SessionId,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let mut sent = 0;
    for id in ids {
        sent += sqlx::query(
            "UPDATE review_comments SET state = ?, session_id = ?, sent_at = ? \
             WHERE id = ? AND state = ?",
        )
        .bind(enum_text(&CommentState::Sent))
        .bind(session.as_str())
        .bind(now.to_string())
        .bind(id.as_str())
        .bind(enum_text(&CommentState::Draft))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(sent)
}
