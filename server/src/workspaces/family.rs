//! Child workspaces (issue 19 §1): the workspace and session that created a workspace through
//! ff's MCP server. Only this domain writes the two columns.

use ff_core::ids::{SessionId, WorkspaceId};
use sqlx::SqliteConnection;

/// A top-level workspace is at depth 0; its children at 1, theirs at 2, and no deeper.
pub const MAX_DEPTH: u32 = 2;

/// Who creates a child workspace (how many one session may create is a setting).
#[derive(Clone, Debug)]
pub struct ChildOf {
    pub workspace: WorkspaceId,
    pub session: SessionId,
}

pub async fn set_parent(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
    parent: &ChildOf,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET parent_workspace_id = ?, parent_session_id = ? WHERE id = ?")
        .bind(parent.workspace.as_str())
        .bind(parent.session.as_str())
        .bind(id.as_str())
        .execute(conn)
        .await
        .map(drop)
}

/// The workspace and session that created a workspace, as recorded (both `None` for a
/// workspace no agent created). Backups carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lineage {
    pub workspace: Option<WorkspaceId>,
    pub session: Option<SessionId>,
}

pub async fn lineage(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
) -> Result<Lineage, sqlx::Error> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT parent_workspace_id, parent_session_id FROM workspaces WHERE id = ?",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    let (workspace, session) = row.unwrap_or_default();
    Ok(Lineage {
        workspace: workspace.map(WorkspaceId::new),
        session: session.map(SessionId::new),
    })
}

/// Restores a lineage exactly as a backup describes it (after both rows exist).
pub async fn restore_lineage(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
    lineage: &Lineage,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET parent_workspace_id = ?, parent_session_id = ? WHERE id = ?")
        .bind(lineage.workspace.as_ref().map(WorkspaceId::as_str))
        .bind(lineage.session.as_ref().map(SessionId::as_str))
        .bind(id.as_str())
        .execute(conn)
        .await
        .map(drop)
}

pub async fn parent(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
) -> Result<Option<WorkspaceId>, sqlx::Error> {
    let parent: Option<Option<String>> =
        sqlx::query_scalar("SELECT parent_workspace_id FROM workspaces WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(parent.flatten().map(WorkspaceId::new))
}

/// A workspace's children, oldest first, archived ones included.
pub async fn children(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
) -> Result<Vec<WorkspaceId>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM workspaces WHERE parent_workspace_id = ? ORDER BY created_at, id",
    )
    .bind(id.as_str())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(WorkspaceId::new).collect())
}

/// A workspace's children that are neither archived nor being archived, oldest first.
pub async fn live_children(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
) -> Result<Vec<WorkspaceId>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM workspaces WHERE parent_workspace_id = ? \
         AND status NOT IN ('ARCHIVING', 'ARCHIVED') ORDER BY created_at, id",
    )
    .bind(id.as_str())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(WorkspaceId::new).collect())
}

/// Clears the parent of `id`'s live children (archived ones keep it, as history) and names
/// them. The session that created them still counts them against its allowance.
pub async fn detach_live_children(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
) -> Result<Vec<WorkspaceId>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE workspaces SET parent_workspace_id = NULL WHERE parent_workspace_id = ? \
         AND status NOT IN ('ARCHIVING', 'ARCHIVED') RETURNING id",
    )
    .bind(id.as_str())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(WorkspaceId::new).collect())
}

pub async fn created_by_session(
    conn: &mut SqliteConnection,
    session: &SessionId,
) -> Result<u32, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workspaces WHERE parent_session_id = ?")
        .bind(session.as_str())
        .fetch_one(conn)
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// What a child workspace's parent is told of it (issue 19 §1), once per state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildNews {
    TurnEnded,
    TurnFailed,
    SetupFailed,
    Merged,
}

impl ChildNews {
    fn as_str(self) -> &'static str {
        match self {
            Self::TurnEnded => "TURN_ENDED",
            Self::TurnFailed => "TURN_FAILED",
            Self::SetupFailed => "SETUP_FAILED",
            Self::Merged => "MERGED",
        }
    }
}

/// Records `news` as the last news of child `id` its parent was told. False when it already
/// was (the parent is not told twice, across restarts too) or `id` has no parent.
pub async fn record_news(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
    news: ChildNews,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE workspaces SET parent_news_told = ? WHERE id = ? \
         AND parent_workspace_id IS NOT NULL AND parent_news_told IS NOT ?",
    )
    .bind(news.as_str())
    .bind(id.as_str())
    .bind(news.as_str())
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// The child works again: the end of its next turn (completed or failed) is news again.
pub async fn forget_turn_news(
    conn: &mut SqliteConnection,
    id: &WorkspaceId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE workspaces SET parent_news_told = NULL WHERE id = ? \
         AND parent_news_told IN (?, ?)",
    )
    .bind(id.as_str())
    .bind(ChildNews::TurnEnded.as_str())
    .bind(ChildNews::TurnFailed.as_str())
    .execute(conn)
    .await
    .map(drop)
}

/// How many ancestors `id` has (bounded: a longer chain than ff allows is reported as such).
pub async fn depth(conn: &mut SqliteConnection, id: &WorkspaceId) -> Result<u32, sqlx::Error> {
    let mut depth = 0;
    let mut at = id.clone();
    while depth <= MAX_DEPTH {
        match parent(conn, &at).await? {
            Some(parent) => {
                depth += 1;
                at = parent;
            }
            None => break,
        }
    }
    Ok(depth)
}
