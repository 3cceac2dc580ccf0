//! Reviewing an agent's work (review.md): the diff of a workspace's worktree against its merge
//! base, and line comments on it (sending them to the agent is a flow: `flows::send_review`).
//! The only writer of `review_comments`.

pub mod diff;
mod highlight;
mod store;

use crate::clock;
use crate::db::codec::parse_enum;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::git::scans::{bounded, Kind, Pool};
use ff_core::enums::WorkspaceStatus;
use ff_core::ids::{CommentId, SessionId, WorkspaceId};
use ff_core::review::comments::{CommentState, CommentUpdate, NewComment, ReviewComment};
use ff_core::review::diff::{DiffList, FileDiff};
use ff_core::review::path::ReviewPath;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Diffs computed at once (each is a walk of a working tree, on a blocking thread).
const CONCURRENT_SCANS: usize = 2;
/// Longest a diff may take before the request fails (a stuck filesystem, a huge worktree).
const SCAN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Review {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    scans: Arc<Pool>,
    timeout: Duration,
}

/// Where a workspace's diff is read from.
struct Worktree {
    path: PathBuf,
    default_branch: String,
}

impl Review {
    pub fn new(db: Db) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                scans: Pool::new(CONCURRENT_SCANS),
                timeout: SCAN_TIMEOUT,
            }),
        }
    }

    /// The workspace's worktree; `Ok(None)` when it has none (not provisioned yet, archived).
    async fn worktree(&self, workspace: &WorkspaceId) -> DomainResult<Option<Worktree>> {
        let row: Option<(Option<String>, String, String)> = sqlx::query_as(
            "SELECT w.worktree_path, w.status, p.default_branch FROM workspaces w \
             JOIN projects p ON p.id = w.project_id WHERE w.id = ?",
        )
        .bind(workspace.as_str())
        .fetch_optional(&self.inner.db)
        .await?;
        let (path, status, default_branch) =
            row.ok_or_else(|| DomainError::not_found(workspace))?;
        let status: WorkspaceStatus = parse_enum("status", &status)?;
        Ok(path.filter(|_| !status.is_hidden()).map(|path| Worktree {
            path: PathBuf::from(path),
            default_branch,
        }))
    }

    async fn required_worktree(&self, workspace: &WorkspaceId) -> DomainResult<Worktree> {
        self.worktree(workspace).await?.ok_or_else(|| {
            DomainError::Conflict(format!(
                "workspace {workspace} has no worktree (not set up yet, or archived)"
            ))
        })
    }

    async fn scan<T: Send + 'static>(
        &self,
        tree: Worktree,
        work: impl FnOnce(&Worktree) -> Result<T, git2::Error> + Send + 'static,
    ) -> DomainResult<T> {
        let path = tree.path.clone();
        bounded(
            &self.inner.scans,
            self.inner.timeout,
            &path,
            Kind::Worktree,
            "the diff",
            move || work(&tree),
        )
        .await
        .map_err(|e| DomainError::Internal(format!("cannot read the diff: {e}")))
    }

    /// `GET /api/workspaces/{id}/diff`.
    pub async fn diff(&self, workspace: &WorkspaceId) -> DomainResult<DiffList> {
        let tree = self.required_worktree(workspace).await?;
        self.scan(tree, |tree| diff::list(&tree.path, &tree.default_branch))
            .await
    }

    /// `GET /api/workspaces/{id}/diff/file?path=P`: only a listed file can be asked for.
    pub async fn diff_file(&self, workspace: &WorkspaceId, path: &str) -> DomainResult<FileDiff> {
        let parsed = ReviewPath::parse(path).map_err(|e| {
            DomainError::NotFound(format!(
                "{e}; only the changed files of the workspace are shown"
            ))
        })?;
        let tree = self.required_worktree(workspace).await?;
        let wanted = parsed.clone();
        let mut found = self
            .scan(tree, move |tree| {
                diff::files(&tree.path, &tree.default_branch, &[wanted], true)
            })
            .await?;
        found.remove(parsed.as_str()).ok_or_else(|| {
            DomainError::NotFound(format!(
                "{path:?} is not a changed file of workspace {workspace}"
            ))
        })
    }

    /// Every comment of the workspace, each placed where its lines are in the diff now.
    pub async fn comments(&self, workspace: &WorkspaceId) -> DomainResult<Vec<ReviewComment>> {
        let tree = self.worktree(workspace).await?;
        let comments = {
            let mut conn = self.inner.db.acquire().await?;
            store::of_workspace(&mut conn, workspace).await?
        };
        match tree {
            Some(tree) => self.locate(tree, comments).await,
            // Without a worktree there is no diff to place them in: they stay where they were.
            None => Ok(comments),
        }
    }

    async fn locate(
        &self,
        tree: Worktree,
        mut comments: Vec<ReviewComment>,
    ) -> DomainResult<Vec<ReviewComment>> {
        let paths: BTreeSet<ReviewPath> = comments
            .iter()
            .filter(|c| c.is_open())
            .filter_map(|c| ReviewPath::parse(&c.path).ok())
            .collect();
        let diffs: HashMap<String, FileDiff> = if paths.is_empty() {
            HashMap::new()
        } else {
            let paths: Vec<ReviewPath> = paths.into_iter().collect();
            self.scan(tree, move |tree| {
                diff::files(&tree.path, &tree.default_branch, &paths, false)
            })
            .await?
        };
        for comment in comments.iter_mut().filter(|c| c.is_open()) {
            comment.current_start_line = diffs
                .get(&comment.path)
                .and_then(|d| d.locate(comment.side, &comment.quoted, comment.start_line));
        }
        Ok(comments)
    }

    /// `POST /api/workspaces/{id}/review/comments`: the lines must be shown together in one hunk
    /// of the file's diff now; they are quoted from it.
    pub async fn add_comment(
        &self,
        workspace: &WorkspaceId,
        request: NewComment,
    ) -> DomainResult<ReviewComment> {
        let request = request.parse()?;
        let tree = self.required_worktree(workspace).await?;
        let path = request.path.clone();
        let found = self
            .scan(tree, move |tree| {
                diff::files(&tree.path, &tree.default_branch, &[path], false)
            })
            .await?;
        let not_changed = || {
            DomainError::invalid(
                "path",
                format!(
                    "{:?} is not a changed file of workspace {workspace}",
                    request.path.as_str()
                ),
            )
        };
        let diff = found.get(request.path.as_str()).ok_or_else(not_changed)?;
        if let Some(reason) = diff.file.hidden_reason() {
            return Err(DomainError::invalid(
                "path",
                format!(
                    "{:?} cannot be commented on: {}",
                    request.path.as_str(),
                    reason.to_lowercase()
                ),
            ));
        }
        let quoted = diff
            .quote(request.side, request.start_line, request.end_line)
            .ok_or_else(|| {
                DomainError::invalid(
                    "startLine",
                    format!(
                        "lines {}–{} ({}) of {:?} are not shown together in one hunk of the diff",
                        request.start_line,
                        request.end_line,
                        request.side.label(),
                        request.path.as_str()
                    ),
                )
            })?;
        let id = CommentId::new(clock::new_id());
        let mut conn = self.inner.db.acquire().await?;
        store::insert(
            &mut conn,
            &store::NewRow {
                id: &id,
                workspace,
                path: request.path.as_str(),
                side: request.side,
                start_line: request.start_line,
                end_line: request.end_line,
                quoted: &quoted,
                body: &request.body,
                now: clock::now(),
            },
        )
        .await?;
        tracing::info!(workspace = %workspace, comment = %id, path = request.path.as_str(), "review comment added");
        store::get(&mut conn, workspace, &id)
            .await?
            .ok_or_else(|| DomainError::Internal(format!("comment {id} vanished after insert")))
    }

    /// `PATCH …/review/comments/{commentId}`: resolves it, or opens it again.
    pub async fn update_comment(
        &self,
        workspace: &WorkspaceId,
        id: &CommentId,
        update: CommentUpdate,
    ) -> DomainResult<ReviewComment> {
        let mut conn = self.inner.db.acquire().await?;
        let at = update.resolved.then(clock::now);
        if !store::set_resolved(&mut conn, workspace, id, at).await? {
            return Err(comment_not_found(workspace, id));
        }
        store::get(&mut conn, workspace, id)
            .await?
            .ok_or_else(|| comment_not_found(workspace, id))
    }

    pub async fn delete_comment(
        &self,
        workspace: &WorkspaceId,
        id: &CommentId,
    ) -> DomainResult<()> {
        let mut conn = self.inner.db.acquire().await?;
        if store::delete(&mut conn, workspace, id).await? {
            Ok(())
        } else {
            Err(comment_not_found(workspace, id))
        }
    }

    /// The drafts "Send to agent" would send now (open ones, oldest first); refused when there
    /// are none, naming the workspace, and not found when it does not exist.
    pub async fn drafts_to_send(
        &self,
        workspace: &WorkspaceId,
    ) -> DomainResult<Vec<ReviewComment>> {
        let drafts: Vec<ReviewComment> = {
            let mut conn = self.inner.db.acquire().await?;
            store::of_workspace(&mut conn, workspace).await?
        }
        .into_iter()
        .filter(|c| c.state == CommentState::Draft && c.is_open())
        .collect();
        if drafts.is_empty() {
            self.worktree(workspace).await?;
            return Err(DomainError::Conflict(format!(
                "workspace {workspace} has no draft comments to send"
            )));
        }
        Ok(drafts)
    }

    /// Marks `ids` SENT to `session` (they were queued there).
    pub async fn mark_sent(&self, ids: &[CommentId], session: &SessionId) -> DomainResult<()> {
        let mut conn = self.inner.db.acquire().await?;
        store::mark_sent(&mut conn, ids, session, clock::now()).await?;
        Ok(())
    }
}

fn comment_not_found(workspace: &WorkspaceId, id: &CommentId) -> DomainError {
    DomainError::NotFound(format!("no review comment {id} in workspace {workspace}"))
}
