//! Reviewing an agent's work (review.md): the diff of a workspace's worktree against its merge
//! base, line comments on it, and sending the drafts to the agent through the session queue.
//! The only writer of `review_comments`.

pub mod diff;
mod highlight;
mod store;

use crate::clock;
use crate::db::codec::parse_enum;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::git::changes::bounded;
use crate::locks::KeyedLocks;
use crate::sessions::Sessions;
use ff_core::enums::{SessionStatus, WorkspaceStatus};
use ff_core::ids::{CommentId, SessionId, WorkspaceId};
use ff_core::review::comments::{
    CommentState, CommentUpdate, NewComment, ReviewComment, SentReview,
};
use ff_core::review::diff::{DiffList, FileDiff};
use ff_core::review::message::review_messages;
use ff_core::review::path::ReviewPath;
use ff_core::sessions::{CreateSession, MessageText, MAX_MESSAGE_CHARS};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

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
    sessions: Sessions,
    scans: Arc<Semaphore>,
    timeout: Duration,
    /// Sending is one step per workspace, so that no draft is sent twice.
    sending: KeyedLocks,
}

/// Where a workspace's diff is read from.
struct Worktree {
    path: PathBuf,
    default_branch: String,
}

impl Review {
    pub fn new(db: Db, sessions: Sessions) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                sessions,
                scans: Arc::new(Semaphore::new(CONCURRENT_SCANS)),
                timeout: SCAN_TIMEOUT,
                sending: KeyedLocks::default(),
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
        work: impl FnOnce() -> Result<T, git2::Error> + Send + 'static,
    ) -> DomainResult<T> {
        bounded(&self.inner.scans, self.inner.timeout, "the diff", work)
            .await
            .map_err(|e| DomainError::Internal(format!("cannot read the diff: {e}")))
    }

    /// `GET /api/workspaces/{id}/diff`.
    pub async fn diff(&self, workspace: &WorkspaceId) -> DomainResult<DiffList> {
        let tree = self.required_worktree(workspace).await?;
        self.scan(move || diff::list(&tree.path, &tree.default_branch))
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
            .scan(move || diff::files(&tree.path, &tree.default_branch, &[wanted], true))
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
            self.scan(move || diff::files(&tree.path, &tree.default_branch, &paths, false))
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
            .scan(move || diff::files(&tree.path, &tree.default_branch, &[path], false))
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

    /// `POST /api/workspaces/{id}/review/send`: every open draft, queued in the workspace's
    /// current session (a new session of the default agent when it has none) as one message, or
    /// as several when together they exceed one message's cap; each message's comments are
    /// marked SENT once it is queued, so a failure part-way leaves the rest as drafts to send
    /// again.
    pub async fn send(&self, workspace: &WorkspaceId) -> DomainResult<SentReview> {
        let _one = self.inner.sending.lock(workspace.as_str()).await;
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
        let mut session = self.current_session(workspace).await?;
        let mut sent_ids: Vec<CommentId> = Vec::with_capacity(drafts.len());
        for part in review_messages(&drafts, MAX_MESSAGE_CHARS) {
            let message = MessageText::parse("comments", &part.text)?;
            let to = match &session {
                Some(session) => {
                    self.inner.sessions.send(session, message.as_str()).await?;
                    session.clone()
                }
                None => {
                    let request = CreateSession {
                        prompt: Some(message.into_string()),
                        ..CreateSession::default()
                    };
                    self.inner.sessions.create(workspace, request).await?.id
                }
            };
            let ids: Vec<CommentId> = drafts[part.comments].iter().map(|c| c.id.clone()).collect();
            let mut conn = self.inner.db.acquire().await?;
            store::mark_sent(&mut conn, &ids, &to, clock::now()).await?;
            sent_ids.extend(ids);
            session = Some(to);
        }
        let session = session.expect("at least one draft, so at least one message");
        tracing::info!(workspace = %workspace, session = %session, comments = sent_ids.len(), "review comments sent to the agent");
        let sent = self
            .comments(workspace)
            .await?
            .into_iter()
            .filter(|c| sent_ids.contains(&c.id))
            .collect();
        Ok(SentReview {
            session_id: session,
            comments: sent,
        })
    }

    /// The session a person is talking to: the most recently active of the workspace's own
    /// (not a fixer's) sessions that has not ended.
    async fn current_session(&self, workspace: &WorkspaceId) -> DomainResult<Option<SessionId>> {
        let sessions = self.inner.sessions.list(workspace).await?;
        Ok(sessions
            .into_iter()
            .filter(|s| s.workflow == "user")
            .filter(|s| {
                matches!(
                    s.status,
                    SessionStatus::Idle | SessionStatus::Running | SessionStatus::Paused
                )
            })
            .max_by_key(|s| s.updated_at)
            .map(|s| s.id))
    }
}

fn comment_not_found(workspace: &WorkspaceId, id: &CommentId) -> DomainError {
    DomainError::NotFound(format!("no review comment {id} in workspace {workspace}"))
}
