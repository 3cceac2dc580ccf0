//! The review threads each fixer run was given (`ratchet_review_threads`), for the replies on
//! the ones it addressed (flows::reply_threads): recorded with the dispatch, and settled thread
//! by thread as each change is made on GitHub, so that a restart never replies twice.

use super::Ratchet;
use crate::error::DomainResult;
use crate::{clock, db};
use ff_core::ids::{SessionId, Timestamp, WorkspaceId};
use ff_core::ratchet::replies::GivenThread;
use ff_core::ratchet::Feedback;
use sqlx::SqliteConnection;

/// One fixer run whose threads still wait to be settled.
#[derive(Clone, Debug)]
pub struct FixerRun {
    pub workspace: WorkspaceId,
    pub session: SessionId,
    /// When it was dispatched: with the workspace, the run's identity.
    pub dispatched_at: String,
    /// The PR's head commit when it was dispatched.
    pub head_oid: String,
    /// Its threads not settled yet, with what was done on each already.
    pub threads: Vec<PendingThread>,
}

impl FixerRun {
    /// ff's own name of the run, for the marker in its replies.
    pub fn id(&self) -> String {
        format!("{}:{}", self.workspace, self.dispatched_at)
    }
}

#[derive(Clone, Debug)]
pub struct PendingThread {
    pub thread: GivenThread,
    pub replied: bool,
    pub resolved: bool,
}

/// How a run's thread was settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadOutcome {
    Addressed,
    NotAddressed,
    /// A later fixer run of the workspace came first.
    Superseded,
    /// Both reply settings were off when the run ended.
    SettingsOff,
}

impl ThreadOutcome {
    fn text(self) -> &'static str {
        match self {
            Self::Addressed => "ADDRESSED",
            Self::NotAddressed => "NOT_ADDRESSED",
            Self::Superseded => "SUPERSEDED",
            Self::SettingsOff => "SETTINGS_OFF",
        }
    }
}

/// The distinct review threads quoted to a fixer, in the order it was given them.
pub(super) fn given_threads(feedback: &[Feedback]) -> Vec<GivenThread> {
    let mut threads: Vec<GivenThread> = Vec::new();
    for item in feedback {
        if let Some(id) = &item.thread {
            if !threads.iter().any(|t| &t.id == id) {
                threads.push(GivenThread {
                    id: id.clone(),
                    path: item.path.clone(),
                });
            }
        }
    }
    threads
}

/// Records the threads a dispatched fixer was given (in the dispatch's transaction).
pub(super) async fn record_given(
    conn: &mut SqliteConnection,
    workspace: &WorkspaceId,
    session: &SessionId,
    dispatched_at: Timestamp,
    head_oid: &str,
    threads: &[GivenThread],
) -> Result<(), sqlx::Error> {
    for thread in threads {
        sqlx::query(
            "INSERT OR IGNORE INTO ratchet_review_threads (workspace_id, dispatched_at, session_id, \
             head_oid, thread_id, path, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(workspace.as_str())
        .bind(dispatched_at.to_string())
        .bind(session.as_str())
        .bind(head_oid)
        .bind(&thread.id)
        .bind(&thread.path)
        .bind(dispatched_at.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    workspace_id: String,
    dispatched_at: String,
    session_id: String,
    head_oid: String,
    thread_id: String,
    path: String,
    replied_at: Option<String>,
    resolved_at: Option<String>,
}

impl Ratchet {
    /// Fixer runs with threads not settled yet, oldest first: of one workspace, or of all.
    pub async fn runs_awaiting_replies(
        &self,
        workspace: Option<&WorkspaceId>,
    ) -> DomainResult<Vec<FixerRun>> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT workspace_id, dispatched_at, session_id, head_oid, thread_id, path, \
             replied_at, resolved_at FROM ratchet_review_threads \
             WHERE outcome IS NULL AND (?1 IS NULL OR workspace_id = ?1) \
             ORDER BY workspace_id, dispatched_at, rowid",
        )
        .bind(workspace.map(WorkspaceId::as_str))
        .fetch_all(&mut *self.inner.db.acquire().await?)
        .await?;
        let mut runs: Vec<FixerRun> = Vec::new();
        for row in rows {
            let thread = PendingThread {
                thread: GivenThread {
                    id: row.thread_id,
                    path: row.path,
                },
                replied: row.replied_at.is_some(),
                resolved: row.resolved_at.is_some(),
            };
            match runs.last_mut() {
                Some(run)
                    if run.workspace.as_str() == row.workspace_id
                        && run.dispatched_at == row.dispatched_at =>
                {
                    run.threads.push(thread)
                }
                _ => runs.push(FixerRun {
                    workspace: WorkspaceId::new(row.workspace_id),
                    session: SessionId::new(row.session_id),
                    dispatched_at: row.dispatched_at,
                    head_oid: row.head_oid,
                    threads: vec![thread],
                }),
            }
        }
        Ok(runs)
    }

    /// The reply on `thread` is on GitHub, naming `commit`.
    pub async fn record_reply(
        &self,
        run: &FixerRun,
        thread: &str,
        commit: &str,
    ) -> DomainResult<()> {
        self.mark(
            run,
            thread,
            "replied_at = ?1, commit_oid = ?2",
            Some(commit),
        )
        .await
    }

    /// `thread` is resolved on GitHub.
    pub async fn record_resolved(&self, run: &FixerRun, thread: &str) -> DomainResult<()> {
        self.mark(
            run,
            thread,
            "resolved_at = ?1, commit_oid = COALESCE(?2, commit_oid)",
            None,
        )
        .await
    }

    /// Settles the run's threads not settled yet: those in `addressed` as addressed, the rest
    /// with `rest`.
    pub async fn settle_threads(
        &self,
        run: &FixerRun,
        addressed: &[String],
        rest: ThreadOutcome,
    ) -> DomainResult<()> {
        let now = clock::now().to_string();
        let mut tx = db::begin_write(&self.inner.db).await?;
        for pending in &run.threads {
            let outcome = if addressed.contains(&pending.thread.id) {
                ThreadOutcome::Addressed
            } else {
                rest
            };
            sqlx::query(
                "UPDATE ratchet_review_threads SET outcome = ?, updated_at = ? \
                 WHERE workspace_id = ? AND dispatched_at = ? AND thread_id = ? AND outcome IS NULL",
            )
            .bind(outcome.text())
            .bind(&now)
            .bind(run.workspace.as_str())
            .bind(&run.dispatched_at)
            .bind(&pending.thread.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn mark(
        &self,
        run: &FixerRun,
        thread: &str,
        set: &str,
        commit: Option<&str>,
    ) -> DomainResult<()> {
        let mut tx = db::begin_write(&self.inner.db).await?;
        sqlx::query(&format!(
            "UPDATE ratchet_review_threads SET {set}, updated_at = ?1 \
             WHERE workspace_id = ?3 AND dispatched_at = ?4 AND thread_id = ?5"
        ))
        .bind(clock::now().to_string())
        .bind(commit)
        .bind(run.workspace.as_str())
        .bind(&run.dispatched_at)
        .bind(thread)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
