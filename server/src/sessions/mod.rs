//! Agent sessions over ACP (sessions.md): agents configured like any ACP client configures them,
//! one actor per session owning its queue, runtime and transcript, at most N turns at once
//! across workspaces, the first session of a workspace from its initial prompt, and the one path
//! other domains use to start or prompt a session (`acquire_and_dispatch`). The only writer of
//! `agent_sessions` and `session_items`.

mod acp;
mod actor;
pub mod agents;
mod board;
mod fs;
mod lines;
mod slots;
pub mod store;
mod stream;
mod transcript;

use crate::clock;
pub use crate::config::SessionsConfig;
use crate::db::{self, Db};
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use crate::locks::KeyedLocks;
use crate::process::{group_gone, terminate_group, ProcessIdentity};
use crate::read_model::SessionRuntimes;
use crate::settings;
pub use actor::Attachment;
use actor::{Actor, ActorHandle, Command, Shared};
use agents::Agents;
use board::Board;
use ff_core::api::Workspace;
use ff_core::chat::ChatFrame;
use ff_core::enums::{SessionStatus, WorkspaceStatus};
use ff_core::ids::{MessageId, ProjectId, SessionId, WorkspaceId};
pub use ff_core::sessions::Dispatched;
use ff_core::sessions::{
    AgentInfo, CreateSession, MessageAccepted, MessageText, PermissionAnswer, Session,
    SessionConfig, SessionRow, MAX_SESSIONS_PER_WORKSPACE, RATCHET_WORKFLOW, USER_WORKFLOW,
};
use ff_core::transcript::Item;
use ff_core::wire::{Cursor, Epoch};
use futures_util::future::BoxFuture;
use sqlx::SqliteConnection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
pub use stream::Sent;
use stream::{Farewell, Hub};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest `GET /api/sessions/{id}/items` page.
pub const MAX_ITEMS_PAGE: u32 = 1000;

/// What a workspace's agents are doing (`Sessions::activity`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkspaceActivity {
    pub busy: bool,
    /// Why the last failed turn of its own sessions failed.
    pub error: Option<String>,
}

/// What a running session does with a new fixer prompt (D§4.9 `runningIdleAction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenIdle {
    /// Queue the prompt in the session.
    SendMessage,
    /// Stop the session's agent first, so the prompt starts from a fresh agent process.
    Restart,
}

/// A workspace as sessions need it: its row and the agent it chose (`None`: its project's or
/// the user's default).
pub struct WorkspaceRow {
    pub workspace: Workspace,
    pub agent: Option<String>,
}

/// What sessions need of the workspaces and projects, read or written in the caller's
/// transaction, without using those domains: a bridge implemented above them
/// (`flows::neighbours`).
pub trait Workspaces: Send + Sync {
    fn get<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkspaceRow>, sqlx::Error>>;

    /// The first session's prompt, handed out once (cleared in the same transaction).
    fn take_initial_prompt<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, sqlx::Error>>;

    /// The workspace has had a session (it shows "ready for next prompt" from now on).
    fn mark_has_had_sessions<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>>;

    /// The default agent of a live project, if it names one.
    fn project_agent<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        project: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, sqlx::Error>>;
}

/// The GitHub issue a workspace was made from, as its first prompt: a bridge implemented above
/// the github domain (`flows::first_session`).
pub trait Issues: Send + Sync {
    fn issue_prompt<'a>(
        &'a self,
        project: &'a ProjectId,
        number: u64,
    ) -> BoxFuture<'a, DomainResult<String>>;
}

/// What sessions need of the domains beside them, implemented above them (`flows`).
pub struct Bridges {
    pub workspaces: Arc<dyn Workspaces>,
    pub issues: Arc<dyn Issues>,
}

#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    epoch: Epoch,
    frames: Arc<AtomicU64>,
    actors: tokio::sync::Mutex<HashMap<SessionId, ActorHandle>>,
    /// Creating sessions (limits, the first session) is one step per workspace.
    workspace_locks: KeyedLocks,
    workspaces: Arc<dyn Workspaces>,
    /// Builds the first prompt of a workspace made from a GitHub issue.
    issues: Arc<dyn Issues>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Sessions {
    pub fn new(
        db: Db,
        bus: EventBus,
        metrics: crate::metrics::Metrics,
        bridges: Bridges,
        data_dir: &Path,
        config: SessionsConfig,
        grants: crate::auth::agents::AgentGrants,
    ) -> Self {
        let shared = Arc::new(Shared {
            grants,
            metrics,
            slots: slots::Slots::new(config.max_running_agents),
            board: Board::new(bus.clone()),
            agents: Agents::new(data_dir),
            db,
            bus,
            config,
        });
        Self {
            inner: Arc::new(Inner {
                shared,
                epoch: Epoch::parse(&clock::new_id().replace('-', "")).expect("a uuid is an epoch"),
                frames: Arc::default(),
                actors: tokio::sync::Mutex::default(),
                workspace_locks: KeyedLocks::default(),
                workspaces: bridges.workspaces,
                issues: bridges.issues,
                tasks: TaskTracker::new(),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    /// The runtimes reconciliation reads (a read model: the snapshot service never calls in).
    pub fn runtimes(&self) -> Arc<dyn SessionRuntimes> {
        self.inner.shared.board.clone()
    }

    pub fn agents(&self) -> &Agents {
        &self.inner.shared.agents
    }

    /// Every configured agent with its install state.
    pub async fn agent_list(&self) -> DomainResult<Vec<AgentInfo>> {
        let settings = settings::load(&self.inner.shared.db).await?;
        let agents = &self.inner.shared.agents;
        Ok(agents
            .all(&settings)
            .iter()
            .map(|spec| agents.info(spec))
            .collect())
    }

    /// After a restart: nothing runs, so RUNNING rows become IDLE; an agent group left over
    /// (ff was killed) is stopped, if it is still the very process ff started; tool calls left
    /// open in transcripts are closed as cancelled.
    pub async fn recover(&self) -> DomainResult<()> {
        let db = &self.inner.shared.db;
        let leftovers = store::with_process(&mut *db.acquire().await?).await?;
        for record in &leftovers {
            if let Some(pgid) = record
                .process
                .as_ref()
                .and_then(ProcessIdentity::live_group)
            {
                tracing::warn!(session = %record.row.session_id, pgid, "stopping an agent left over from before the restart");
                terminate_group(pgid, self.inner.shared.config.stop_grace, group_gone(pgid)).await;
            }
        }
        let now = clock::now();
        let mut tx = db::begin_write(db).await?;
        let folded = store::fold_chunks(&mut tx).await?;
        if folded > 0 {
            tracing::info!(
                items = folded,
                "streamed messages cut short by a stop of ff were written whole"
            );
        }
        let reset = store::reset_after_restart(&mut tx, now).await?;
        for record in &leftovers {
            let id = record.row.session_id.as_str();
            let mut open = store::open_tool_items(&mut tx, id).await?;
            for item in &mut open {
                if let ff_core::transcript::ItemBody::Tool(tool) = &mut item.body {
                    tool.status = "cancelled".to_owned();
                }
            }
            let refs: Vec<&Item> = open.iter().collect();
            store::upsert_items(&mut tx, id, &refs).await?;
        }
        tx.commit().await?;
        if reset > 0 {
            tracing::info!(sessions = reset, "sessions recovered after a restart");
        }
        self.listen();
        Ok(())
    }

    /// Follows workspaces: the first session starts once one is READY; sessions stop when it is
    /// archived.
    fn listen(&self) {
        let this = self.clone();
        let mut events = self.inner.shared.bus.subscribe();
        let shutdown = self.inner.shutdown.clone();
        self.inner.tasks.spawn(async move {
            loop {
                let event = tokio::select! {
                    () = shutdown.cancelled() => return,
                    event = events.next() => event,
                };
                match event {
                    Some(Ok(DomainEvent::WorkspaceStateChanged { to, workspace, .. })) => {
                        let id = workspace.id.clone();
                        match to {
                            WorkspaceStatus::Ready => {
                                if let Some(path) = &workspace.worktree_path {
                                    this.worktree_ready(&id, PathBuf::from(path)).await;
                                }
                                let this = this.clone();
                                this.inner.tasks.clone().spawn(async move {
                                    if let Err(e) = this.start_first(&id).await {
                                        tracing::error!(workspace = %id, "the first session did not start: {e}");
                                    }
                                });
                            }
                            WorkspaceStatus::Archived => this.close_workspace(&id).await,
                            _ => {}
                        }
                    }
                    Some(Ok(_)) => {}
                    // Missed events cost at most a first session that waits for a message.
                    Some(Err(lagged)) => tracing::warn!(missed = lagged.0, "the sessions domain fell behind the event bus"),
                    None => return,
                }
            }
        });
    }

    /// Tells the workspace's live sessions where its worktree is now.
    async fn worktree_ready(&self, workspace: &WorkspaceId, path: PathBuf) {
        let handles: Vec<ActorHandle> = self
            .inner
            .actors
            .lock()
            .await
            .values()
            .filter(|h| &h.workspace_id == workspace)
            .cloned()
            .collect();
        for handle in handles {
            let _ = handle.commands.send(Command::Worktree(path.clone())).await;
        }
    }

    /// Whether the workspace's agents are at work, and the error of the last failed turn of its
    /// own (not the ratchet's) sessions. Waits while its first session is being started, so
    /// that a prompt just taken is never mistaken for no work. Sessions not running in this
    /// process are at rest.
    pub async fn activity(&self, workspace: &WorkspaceId) -> WorkspaceActivity {
        let _one = self.inner.workspace_locks.lock(workspace.as_str()).await;
        let views: Vec<Arc<Session>> = self
            .inner
            .actors
            .lock()
            .await
            .values()
            .filter(|h| &h.workspace_id == workspace)
            .map(|h| h.view.borrow().clone())
            .collect();
        WorkspaceActivity {
            busy: views.iter().any(|s| s.is_busy()),
            error: views
                .iter()
                .filter(|s| s.workflow == USER_WORKFLOW)
                .find_map(|s| s.runtime.error.clone()),
        }
    }

    /// Starts the workspace's first session with its initial prompt if that prompt still waits:
    /// a READY workspace whose start was cut short by a restart gets it now. Does nothing when
    /// the prompt was taken already.
    pub async fn deliver_first_prompt(&self, workspace: &WorkspaceId) -> DomainResult<()> {
        self.start_first(workspace).await
    }

    /// Starts the workspace's first session with its initial prompt, once (sessions.md §4).
    async fn start_first(&self, workspace: &WorkspaceId) -> DomainResult<()> {
        let _one = self.inner.workspace_locks.lock(workspace.as_str()).await;
        let (prompt, record) = {
            let mut tx = db::begin_write(&self.inner.shared.db).await?;
            let workspaces = &self.inner.workspaces;
            let prompt = workspaces
                .take_initial_prompt(&mut tx, workspace.as_str())
                .await?;
            let record = workspaces.get(&mut tx, workspace.as_str()).await?;
            tx.commit().await?;
            (prompt, record)
        };
        let Some(record) = record else { return Ok(()) };
        let prompt = match prompt {
            Some(prompt) => prompt,
            // Once only: a workspace that is READY again (an archive rolled back) had its turn.
            None if record.workspace.has_had_sessions => return Ok(()),
            None => match self.issue_prompt(&record.workspace).await {
                Some(prompt) => prompt,
                None => return Ok(()),
            },
        };
        let session = self
            .create_locked(workspace, CreateSession::default(), USER_WORKFLOW)
            .await?;
        let text = MessageText::parse("initialPrompt", &prompt)?;
        self.call(&session.id, |reply| Command::Enqueue { text, reply })
            .await?;
        Ok(())
    }

    /// The issue a GITHUB_ISSUE workspace was made from, as its first prompt (sessions.md §4).
    /// When GitHub cannot be read the agent still gets the issue's address to work from.
    async fn issue_prompt(&self, workspace: &Workspace) -> Option<String> {
        let number = workspace.github_issue_number?;
        match self
            .inner
            .issues
            .issue_prompt(&workspace.project_id, number)
            .await
        {
            Ok(prompt) => Some(prompt),
            Err(e) => {
                tracing::warn!(workspace = %workspace.id, issue = number, "cannot read the issue: {e}");
                let url = workspace.github_issue_url.as_deref().unwrap_or_default();
                Some(format!(
                    "Resolve GitHub issue #{number} {url}. ff could not read the issue ({e}); \
                     read it yourself before you start."
                ))
            }
        }
    }

    /// The session a person is talking to: the most recently active of the workspace's own
    /// (not a fixer's) sessions that has not ended.
    pub async fn current_user_session(
        &self,
        workspace: &WorkspaceId,
    ) -> DomainResult<Option<SessionId>> {
        Ok(self
            .list(workspace)
            .await?
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

    pub async fn list(&self, workspace: &WorkspaceId) -> DomainResult<Vec<Session>> {
        let records = {
            let mut conn = self.inner.shared.db.acquire().await?;
            self.inner
                .workspaces
                .get(&mut conn, workspace.as_str())
                .await?
                .ok_or_else(|| DomainError::not_found(workspace))?;
            store::of_workspace(&mut conn, workspace.as_str()).await?
        };
        let mut sessions = Vec::with_capacity(records.len());
        for record in records {
            sessions.push(self.get(&record.row.session_id).await?);
        }
        Ok(sessions)
    }

    pub async fn get(&self, id: &SessionId) -> DomainResult<Session> {
        let handle = self.actor(id).await?;
        let session = (**handle.view.borrow()).clone();
        Ok(session)
    }

    pub async fn create(
        &self,
        workspace: &WorkspaceId,
        request: CreateSession,
    ) -> DomainResult<Session> {
        let prompt = request
            .prompt
            .as_deref()
            .map(|p| MessageText::parse("prompt", p))
            .transpose()?;
        let _one = self.inner.workspace_locks.lock(workspace.as_str()).await;
        let session = self
            .create_locked(workspace, request, USER_WORKFLOW)
            .await?;
        if let Some(text) = prompt {
            self.call(&session.id, |reply| Command::Enqueue { text, reply })
                .await?;
        }
        self.get(&session.id).await
    }

    /// Creates a session; the caller holds the workspace's lock.
    async fn create_locked(
        &self,
        workspace: &WorkspaceId,
        request: CreateSession,
        workflow: &str,
    ) -> DomainResult<Session> {
        let shared = &self.inner.shared;
        let mut tx = db::begin_write(&shared.db).await?;
        let record = self
            .inner
            .workspaces
            .get(&mut tx, workspace.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(workspace))?;
        if record.workspace.status.is_hidden() {
            return Err(DomainError::Conflict(format!(
                "the workspace is {}; it takes no new sessions",
                record.workspace.status
            )));
        }
        let settings = settings::get(&mut tx).await?;
        let project = self
            .inner
            .workspaces
            .project_agent(&mut tx, record.workspace.project_id.as_str())
            .await?;
        // The most specific choice wins: the request, the workspace, the project, the user.
        let agent = request
            .agent
            .or(record.agent)
            .or(project)
            .unwrap_or_else(|| settings.default_agent.clone());
        if !settings.knows_agent(&agent) {
            return Err(DomainError::invalid(
                "agent",
                format!("agent {agent:?} is not a configured agent"),
            ));
        }
        let active = store::count_active(&mut tx, workspace.as_str()).await?;
        if active >= MAX_SESSIONS_PER_WORKSPACE as i64 {
            return Err(DomainError::Conflict(format!(
                "the workspace already has {active} active sessions, the most it can have; stop or delete one first"
            )));
        }
        let existing = store::of_workspace(&mut tx, workspace.as_str())
            .await?
            .len();
        let name = match request.name {
            Some(name) => ff_core::create::DisplayName::parse("name", &name)?
                .as_str()
                .to_owned(),
            None if workflow == RATCHET_WORKFLOW => "Ratchet".to_owned(),
            None => format!("Chat {}", existing + 1),
        };
        let id = SessionId::new(clock::new_id());
        store::insert(
            &mut tx,
            &store::NewSession {
                id: &id,
                workspace_id: workspace,
                agent: &agent,
                name: &name,
                workflow,
                now: clock::now(),
            },
        )
        .await?;
        self.inner
            .workspaces
            .mark_has_had_sessions(&mut tx, workspace.as_str())
            .await?;
        tx.commit().await?;
        tracing::info!(session = %id, workspace = %workspace, agent, workflow, "session created");
        self.get(&id).await
    }

    pub async fn send(&self, id: &SessionId, text: &str) -> DomainResult<MessageAccepted> {
        let text = MessageText::parse("text", text)?;
        self.refuse_when_going(id).await?;
        self.call(id, |reply| Command::Enqueue { text, reply })
            .await
    }

    /// From the moment archive begins (the row says ARCHIVING) a session takes nothing new,
    /// even before its actor heard of it.
    async fn refuse_when_going(&self, id: &SessionId) -> DomainResult<()> {
        let handle = self.actor(id).await?;
        let mut conn = self.inner.shared.db.acquire().await?;
        let workspace = self
            .inner
            .workspaces
            .get(&mut conn, handle.workspace_id.as_str())
            .await?;
        match workspace {
            Some(record) if record.workspace.status.is_hidden() => {
                Err(DomainError::Conflict(refusal(record.workspace.status)))
            }
            _ => Ok(()),
        }
    }

    pub async fn cancel_message(&self, id: &SessionId, message: MessageId) -> DomainResult<()> {
        self.call(id, |reply| Command::CancelMessage { message, reply })
            .await
    }

    pub async fn start(&self, id: &SessionId) -> DomainResult<()> {
        self.refuse_when_going(id).await?;
        self.call(id, |reply| Command::Start { reply }).await
    }

    pub async fn stop(&self, id: &SessionId) -> DomainResult<()> {
        self.call(id, |reply| Command::Stop { reply }).await
    }

    pub async fn cancel(&self, id: &SessionId) -> DomainResult<()> {
        self.call(id, |reply| Command::Cancel { reply }).await
    }

    pub async fn answer(&self, id: &SessionId, answer: PermissionAnswer) -> DomainResult<()> {
        self.call(id, |reply| Command::Answer {
            request_id: answer.request_id,
            option_id: answer.option_id,
            reply,
        })
        .await
    }

    pub async fn configure(&self, id: &SessionId, config: SessionConfig) -> DomainResult<()> {
        if config.model.is_none() && config.mode.is_none() {
            return Err(DomainError::invalid(
                "model",
                "give a model, a mode, or both",
            ));
        }
        self.call(id, |reply| Command::Configure { config, reply })
            .await
    }

    /// A page of the transcript: the oldest `limit` items after `after`, or, with `before`, the
    /// newest `limit` items below it (and above `after`).
    pub async fn items(
        &self,
        id: &SessionId,
        after: u64,
        before: Option<u64>,
        limit: u32,
    ) -> DomainResult<Vec<Item>> {
        let limit = limit.clamp(1, MAX_ITEMS_PAGE);
        self.call(id, |reply| Command::Items {
            after,
            before,
            limit,
            reply,
        })
        .await
    }

    pub async fn attach(&self, id: &SessionId, since: Option<Cursor>) -> DomainResult<Attachment> {
        let handle = self.actor(id).await?;
        let (reply, answer) = oneshot::channel();
        handle
            .commands
            .send(Command::Attach { since, reply })
            .await
            .map_err(|_| gone(id))?;
        answer.await.map_err(|_| gone(id))?
    }

    /// The session's chat as a page shows it first: `GET /ws/sessions/{id}?since=` with this
    /// frame's cursor continues exactly after it.
    pub async fn baseline(&self, id: &SessionId) -> DomainResult<ChatFrame> {
        self.call(id, |reply| Command::Baseline { reply }).await
    }

    /// Stops the session's agent and removes it from its workspace; its transcript stays. The
    /// row is marked first: from then on no request can start the session's actor again.
    pub async fn delete(&self, id: &SessionId) -> DomainResult<()> {
        let handle = self.actor(id).await?;
        let mut conn = self.inner.shared.db.acquire().await?;
        store::mark_deleted(&mut conn, id.as_str(), clock::now()).await?;
        drop(conn);
        close(&handle, Some(Farewell::DELETED)).await;
        self.inner.actors.lock().await.remove(id);
        Ok(())
    }

    /// `acquire_and_dispatch` (sessions.md §5, D§4.9): the only way other domains start or
    /// prompt a session. Calls for one workspace run one at a time, so two concurrent ones for
    /// the same workflow share the outcome of the first.
    pub async fn acquire_and_dispatch(
        &self,
        workspace: &WorkspaceId,
        workflow: &str,
        prompt: &str,
        when_idle: WhenIdle,
    ) -> DomainResult<Dispatched> {
        let text = MessageText::parse("prompt", prompt)?;
        let _one = self.inner.workspace_locks.lock(workspace.as_str()).await;
        let records = {
            let mut conn = self.inner.shared.db.acquire().await?;
            let found = self
                .inner
                .workspaces
                .get(&mut conn, workspace.as_str())
                .await?;
            let Some(record) = found else {
                return Err(DomainError::not_found(workspace));
            };
            if record.workspace.worktree_path.is_none()
                || record.workspace.status != WorkspaceStatus::Ready
            {
                return Ok(Dispatched::Skipped {
                    reason: "Workspace not ready (no worktree)".into(),
                });
            }
            store::of_workspace(&mut conn, workspace.as_str()).await?
        };
        // A session whose agent died is reused too: its next message starts the agent again
        // (a fixer retried after a crash keeps one transcript, and the workspace's limit).
        let reusable = records.iter().rev().find(|r| {
            r.row.workflow == workflow
                && matches!(
                    r.row.status,
                    SessionStatus::Idle | SessionStatus::Running | SessionStatus::Failed
                )
        });
        let session = match reusable {
            Some(record) => {
                let id = record.row.session_id.clone();
                let current = self.get(&id).await?;
                if current.runtime.working || !current.queue.is_empty() {
                    return Ok(Dispatched::AlreadyActive { session: id });
                }
                if when_idle == WhenIdle::Restart {
                    self.stop(&id).await?;
                }
                id
            }
            None => {
                let created = self
                    .create_locked(workspace, CreateSession::default(), workflow)
                    .await;
                match created {
                    Ok(session) => session.id,
                    Err(DomainError::Conflict(reason)) => {
                        return Ok(Dispatched::Skipped { reason })
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        self.call(&session, |reply| Command::Enqueue { text, reply })
            .await?;
        Ok(Dispatched::Started { session })
    }

    /// The workspace was archived: its sessions stop for good.
    async fn close_workspace(&self, workspace: &WorkspaceId) {
        let handles: Vec<(SessionId, ActorHandle)> = self
            .inner
            .actors
            .lock()
            .await
            .iter()
            .filter(|(_, h)| &h.workspace_id == workspace)
            .map(|(id, h)| (id.clone(), h.clone()))
            .collect();
        for (id, handle) in handles {
            close(&handle, Some(Farewell::ARCHIVED)).await;
            self.inner.actors.lock().await.remove(&id);
        }
    }

    /// Stops the agents of a workspace before its worktree is removed (archive): from now on its
    /// sessions refuse messages and starts, until the workspace is ready again (a rolled-back
    /// archive).
    pub async fn stop_workspace(&self, workspace: &WorkspaceId) {
        let handles: Vec<(SessionId, ActorHandle)> = self
            .inner
            .actors
            .lock()
            .await
            .iter()
            .filter(|(_, h)| &h.workspace_id == workspace)
            .map(|(id, h)| (id.clone(), h.clone()))
            .collect();
        for (id, handle) in handles {
            let (reply, answer) = oneshot::channel();
            let why = refusal(WorkspaceStatus::Archiving);
            let sent = handle.commands.send(Command::Retire { why, reply }).await;
            if sent.is_err() || answer.await.is_err() {
                tracing::warn!(session = %id, "the session ended before it was stopped");
            }
        }
    }

    /// Stops every agent and writes every transcript (server shutdown).
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        let handles: Vec<ActorHandle> = self
            .inner
            .actors
            .lock()
            .await
            .drain()
            .map(|(_, h)| h)
            .collect();
        for handle in handles {
            close(&handle, None).await;
        }
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    async fn call<T>(
        &self,
        id: &SessionId,
        command: impl FnOnce(oneshot::Sender<DomainResult<T>>) -> Command,
    ) -> DomainResult<T> {
        let handle = self.actor(id).await?;
        let (reply, answer) = oneshot::channel();
        handle
            .commands
            .send(command(reply))
            .await
            .map_err(|_| gone(id))?;
        answer.await.map_err(|_| gone(id))?
    }

    /// The session's actor, started on first use.
    async fn actor(&self, id: &SessionId) -> DomainResult<ActorHandle> {
        let mut actors = self.inner.actors.lock().await;
        if let Some(handle) = actors.get(id) {
            return Ok(handle.clone());
        }
        // Shutdown closes the actors it finds under this lock, after cancelling: one started
        // later (a first session racing the shutdown) would never be closed, and shutdown would
        // wait for it for ever.
        if self.inner.shutdown.is_cancelled() {
            return Err(DomainError::Conflict("ff is shutting down".into()));
        }
        let shared = &self.inner.shared;
        let mut conn = shared.db.acquire().await?;
        let record = store::get(&mut conn, id.as_str())
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("no session with id {id}")))?;
        let workspace = self
            .inner
            .workspaces
            .get(&mut conn, record.workspace_id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(&record.workspace_id))?;
        if !shared.board.knows(&record.workspace_id) {
            let rows: Vec<SessionRow> =
                store::of_workspace(&mut conn, record.workspace_id.as_str())
                    .await?
                    .into_iter()
                    .map(|r| r.row)
                    .collect();
            shared.board.seed(&record.workspace_id, rows);
        }
        let last_seq = store::last_seq(&mut conn, id.as_str()).await?;
        drop(conn);
        let status = workspace.workspace.status;
        let worktree = workspace
            .workspace
            .worktree_path
            .filter(|_| !status.is_hidden())
            .map(PathBuf::from);
        let refusing = status.is_hidden().then(|| refusal(status));
        let hub = Arc::new(Hub::new(
            self.inner.epoch.clone(),
            self.inner.frames.clone(),
        ));
        let handle = Actor::spawn(
            shared.clone(),
            record,
            worktree,
            refusing,
            last_seq,
            hub,
            &self.inner.tasks,
        );
        actors.insert(id.clone(), handle.clone());
        Ok(handle)
    }
}

/// Closes an actor and waits until it is gone.
async fn close(handle: &ActorHandle, farewell: Option<Farewell>) {
    let (reply, answer) = oneshot::channel();
    if handle
        .commands
        .send(Command::Close { farewell, reply })
        .await
        .is_ok()
    {
        let _ = answer.await;
    }
}

/// Why a session of a workspace in `status` takes no message and no start.
fn refusal(status: WorkspaceStatus) -> String {
    format!("the workspace is {status}; its sessions take no messages and do not start")
}

fn gone(id: &SessionId) -> DomainError {
    DomainError::Conflict(format!("session {id} was closed"))
}
