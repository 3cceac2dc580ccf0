//! Workspaces (domain.md §3): creation from one of three sources, the lifecycle on real git
//! worktrees, retry, archive, and recovery after a restart.

mod archive;
pub mod family;
pub mod lifecycle;
mod provision;
pub mod store;

use crate::clock;
use crate::db::{self, Db};
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use crate::git::Git;
use crate::process::{group_gone, terminate_group, ProcessIdentity};
use ff_core::api::{
    ChildrenOnArchive, PrInfo, Project, RunScriptInfo, Workspace, WorkspaceDetail, WorkspaceLink,
};
use ff_core::create::{CreateWorkspace, CreateWorkspaceRequest, WorkspaceSource};
use ff_core::entry::ParentLink;
use ff_core::enums::WorkspaceStatus;
use ff_core::factory_config::FactoryConfig;
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use futures_util::future::BoxFuture;
use lifecycle::Lifecycle;
use provision::{Provisioner, RESTART_MESSAGE};
use sqlx::SqliteConnection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{Effect, NewWorkspace};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What `Workspaces::progress` reports.
#[derive(Clone, Debug)]
pub struct Progress {
    pub workspace: Workspace,
    /// Its first session has not taken its initial prompt yet.
    pub first_prompt_pending: bool,
    pub pr: PrInfo,
}

/// What a workspace needs of the rows other domains keep (its project, the rows that live
/// beside it, its PR), read or written in the caller's connection so that a creation stays
/// one transaction, without using those domains: a bridge implemented above them
/// (`flows::neighbours`).
pub trait Neighbours: Send + Sync {
    /// A live project; `None` when there is none.
    fn project<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Project>, sqlx::Error>>;

    /// Writes the rows other domains keep for a workspace just inserted (its ratchet toggle,
    /// its run script), in the creation's transaction.
    fn created<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        id: &'a str,
        ratchet_enabled: bool,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>>;

    fn pr<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<PrInfo, sqlx::Error>>;

    /// The worktree's `factory-factory.json` (its setup, run and cleanup scripts), or why it
    /// cannot be read.
    fn read_scripts<'a>(
        &'a self,
        worktree: &'a Path,
    ) -> BoxFuture<'a, Result<FactoryConfig, String>>;

    /// Records the run and cleanup scripts provisioning found.
    fn record_scripts<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        id: &'a str,
        run: Option<&'a str>,
        cleanup: Option<&'a str>,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>>;
}

/// What runs in a workspace and is not the workspace's own (its agents, terminals and run
/// script): archive stops it before the worktree goes; a bridge implemented by the archive
/// flow (`flows::archive`).
pub trait Occupants: Send + Sync {
    /// Stops everything running in the workspace; the error says what could not be stopped
    /// (the archive is then rolled back).
    fn stop<'a>(&'a self, id: &'a WorkspaceId) -> BoxFuture<'a, Result<(), String>>;

    /// Drops what was kept in memory for an archived workspace.
    fn forget(&self, id: &WorkspaceId);

    /// The workspace's run script, for its detail.
    fn run_script<'a>(&'a self, id: &'a WorkspaceId) -> BoxFuture<'a, DomainResult<RunScriptInfo>>;
}

#[derive(Clone)]
pub struct Workspaces {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: EventBus,
    git: Git,
    lifecycle: Lifecycle,
    provisioner: Provisioner,
    neighbours: Arc<dyn Neighbours>,
    /// Agents, terminals and the run script are stopped before their worktree goes.
    occupants: Arc<dyn Occupants>,
    /// Where archives keep what git does not (ignored files), one directory per workspace.
    archive_dir: PathBuf,
    /// Provisioning and archive work in flight, awaited at shutdown.
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Workspaces {
    pub fn new(
        db: Db,
        bus: EventBus,
        git: Git,
        neighbours: Arc<dyn Neighbours>,
        occupants: Arc<dyn Occupants>,
        archive_dir: PathBuf,
    ) -> Self {
        let lifecycle = Lifecycle::new(db.clone(), bus.clone());
        let shutdown = CancellationToken::new();
        let provisioner = Provisioner::new(
            db.clone(),
            git.clone(),
            lifecycle.clone(),
            neighbours.clone(),
            shutdown.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                db,
                bus,
                git,
                lifecycle,
                provisioner,
                neighbours,
                occupants,
                archive_dir,
                tasks: TaskTracker::new(),
                shutdown,
            }),
        }
    }

    pub async fn create(
        &self,
        project_id: &ProjectId,
        request: CreateWorkspaceRequest,
    ) -> DomainResult<Workspace> {
        self.create_from(project_id, request.parse()?).await
    }

    /// Creates a workspace from a checked command: from a request, or from a flow (a scheduled
    /// task's run, whose source no request can name).
    pub async fn create_from(
        &self,
        project_id: &ProjectId,
        command: CreateWorkspace,
    ) -> DomainResult<Workspace> {
        self.create_in(project_id, command, None).await
    }

    /// Creates a child of a workspace of the same project, for the agent session that asks
    /// (issue 19 §1): refused beyond `family::MAX_DEPTH` or the session's allowance.
    pub async fn create_child(
        &self,
        project_id: &ProjectId,
        command: CreateWorkspace,
        parent: family::ChildOf,
    ) -> DomainResult<Workspace> {
        self.create_in(project_id, command, Some(parent)).await
    }

    /// The workspace that created `id` through ff's MCP server, if one did.
    pub async fn parent_of(&self, id: &WorkspaceId) -> DomainResult<Option<WorkspaceId>> {
        let mut conn = self.inner.db.acquire().await?;
        Ok(family::parent(&mut conn, id).await?)
    }

    /// Records `news` as told to child `id`'s parent: false when it already was, or `id` is
    /// no child (see `family::record_news`).
    pub async fn record_child_news(
        &self,
        id: &WorkspaceId,
        news: family::ChildNews,
    ) -> DomainResult<bool> {
        let mut conn = self.inner.db.acquire().await?;
        Ok(family::record_news(&mut conn, id, news).await?)
    }

    /// Child `id` works again: its next turn's end is news for its parent again.
    pub async fn forget_child_turn_news(&self, id: &WorkspaceId) -> DomainResult<()> {
        let mut conn = self.inner.db.acquire().await?;
        Ok(family::forget_turn_news(&mut conn, id).await?)
    }

    /// The workspaces `id` created, oldest first, archived ones included.
    pub async fn children_of(&self, id: &WorkspaceId) -> DomainResult<Vec<Workspace>> {
        let mut conn = self.inner.db.acquire().await?;
        let mut children = Vec::new();
        for child in family::children(&mut conn, id).await? {
            if let Some(record) = store::get(&mut conn, child.as_str()).await? {
                children.push(record.workspace);
            }
        }
        Ok(children)
    }

    async fn create_in(
        &self,
        project_id: &ProjectId,
        command: CreateWorkspace,
        parent: Option<family::ChildOf>,
    ) -> DomainResult<Workspace> {
        let inner = &self.inner;
        let mut tx = db::begin_write(&inner.db).await?;
        inner
            .neighbours
            .project(&mut tx, project_id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(project_id))?;
        let settings = crate::settings::get(&mut tx).await?;
        let parent_link = match &parent {
            Some(parent) => Some(
                Self::check_child(
                    &mut tx,
                    project_id,
                    parent,
                    settings.max_children_per_session,
                )
                .await?,
            ),
            None => None,
        };
        let (base_branch, branch_name, issue) = match &command.source {
            WorkspaceSource::Manual { base_branch } => {
                (base_branch.as_ref().map(|b| b.as_str()), None, None)
            }
            WorkspaceSource::Scheduled { .. } => (None, None, None),
            WorkspaceSource::ResumeBranch { branch } => {
                if let Some(other) =
                    store::live_user_of_branch(&mut tx, project_id.as_str(), branch.as_str(), None)
                        .await?
                {
                    return Err(DomainError::Conflict(format!(
                        "branch {branch} is already checked out in workspace \"{other}\""
                    )));
                }
                (None, Some(branch.as_str()), None)
            }
            WorkspaceSource::GithubIssue(issue) => (None, None, Some(issue)),
        };
        if let Some(agent) = command
            .agent
            .as_deref()
            .filter(|a| !settings.knows_agent(a))
        {
            return Err(DomainError::invalid(
                "agent",
                format!("agent {agent:?} is not a configured agent"),
            ));
        }
        let ratchet_enabled = command.ratchet_enabled.unwrap_or(settings.ratchet_enabled);
        let id = WorkspaceId::new(clock::new_id());
        let now = clock::now();
        store::insert(
            &mut tx,
            &NewWorkspace {
                id: &id,
                project_id,
                name: command.name.as_str(),
                description: command.description.as_deref(),
                source: command.source.kind(),
                base_branch,
                branch_name,
                github_issue_number: issue.map(|i| i.number),
                github_issue_url: issue.map(|i| i.url.as_str()),
                schedule_id: match &command.source {
                    WorkspaceSource::Scheduled { schedule } => Some(schedule),
                    _ => None,
                },
                agent: command.agent.as_deref(),
                initial_prompt: command.initial_prompt.as_ref().map(|p| p.as_str()),
                now,
            },
        )
        .await?;
        inner
            .neighbours
            .created(&mut tx, id.as_str(), ratchet_enabled, now)
            .await?;
        if let Some(parent) = &parent {
            family::set_parent(&mut tx, &id, parent).await?;
        }
        tx.commit().await?;
        let workspace = self.record(&id).await?.workspace;
        inner.bus.publish(DomainEvent::WorkspaceCreated {
            workspace: Arc::new(workspace.clone()),
            parent: parent_link,
        });
        tracing::info!(workspace = %id, project = %project_id, source = ?command.source.kind(), "workspace created");
        self.provision_in_background(id);
        Ok(workspace)
    }

    /// Checked in the creating transaction, so that two requests at once cannot both take the
    /// last place. The parent as the child's card links to it.
    async fn check_child(
        conn: &mut sqlx::SqliteConnection,
        project_id: &ProjectId,
        parent: &family::ChildOf,
        max_per_session: u32,
    ) -> DomainResult<ParentLink> {
        let record = store::get(conn, parent.workspace.as_str())
            .await?
            .filter(|r| &r.workspace.project_id == project_id)
            .ok_or_else(|| DomainError::not_found(&parent.workspace))?;
        if matches!(
            record.workspace.status,
            WorkspaceStatus::Archiving | WorkspaceStatus::Archived
        ) {
            return Err(DomainError::Conflict(
                "an archived workspace cannot create children".into(),
            ));
        }
        if family::depth(conn, &parent.workspace).await? >= family::MAX_DEPTH {
            return Err(DomainError::Conflict(format!(
                "workspaces nest at most {} deep: this workspace cannot create children",
                family::MAX_DEPTH
            )));
        }
        let created = family::created_by_session(conn, &parent.session).await?;
        if created >= max_per_session {
            return Err(DomainError::Conflict(format!(
                "this session already created {created} child workspaces, the most one session may (the setting maxChildrenPerSession)"
            )));
        }
        Ok(ParentLink {
            id: record.workspace.id,
            name: record.workspace.name,
        })
    }

    /// A workspace as a flow follows it, `None` once it is gone.
    pub async fn progress(&self, id: &WorkspaceId) -> DomainResult<Option<Progress>> {
        let mut conn = self.inner.db.acquire().await?;
        let Some(record) = store::get(&mut conn, id.as_str()).await? else {
            return Ok(None);
        };
        let pr = self.inner.neighbours.pr(&mut conn, id.as_str()).await?;
        Ok(Some(Progress {
            first_prompt_pending: record.initial_prompt.is_some(),
            workspace: record.workspace,
            pr,
        }))
    }

    pub async fn list(
        &self,
        project_id: &ProjectId,
        archived: bool,
    ) -> DomainResult<Vec<Workspace>> {
        let mut conn = self.inner.db.acquire().await?;
        self.inner
            .neighbours
            .project(&mut conn, project_id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(project_id))?;
        let records = store::list(&mut conn, project_id.as_str(), archived).await?;
        Ok(records.into_iter().map(|r| r.workspace).collect())
    }

    pub async fn detail(&self, id: &WorkspaceId) -> DomainResult<WorkspaceDetail> {
        let mut conn = self.inner.db.acquire().await?;
        let record = store::get(&mut conn, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        let pr = self.inner.neighbours.pr(&mut conn, id.as_str()).await?;
        let link = |w: &Workspace| WorkspaceLink {
            id: w.id.clone(),
            name: w.name.clone(),
            status: w.status,
        };
        let parent = match family::parent(&mut conn, id).await? {
            Some(parent) => store::get(&mut conn, parent.as_str())
                .await?
                .map(|r| link(&r.workspace)),
            None => None,
        };
        let mut children = Vec::new();
        for child in family::children(&mut conn, id).await? {
            if let Some(record) = store::get(&mut conn, child.as_str()).await? {
                children.push(link(&record.workspace));
            }
        }
        drop(conn);
        let run_script = self.inner.occupants.run_script(id).await?;
        Ok(WorkspaceDetail {
            workspace: record.workspace,
            pr,
            init_output: record.init_output,
            run_script,
            archive_error: record
                .archive_error
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            archive_note: record.archive_note,
            parent,
            children,
        })
    }

    /// Retries a failed setup (D§2.5): from scratch without a worktree, in the existing worktree
    /// otherwise, or only the setup script of a READY workspace with a warning.
    pub async fn retry(&self, id: &WorkspaceId) -> DomainResult<()> {
        let record = self.record(id).await?;
        let w = &record.workspace;
        let (from, to, effect) = match (w.status, &w.worktree_path, &w.init_error_message) {
            (WorkspaceStatus::Failed, None, _) => (WorkspaceStatus::Failed, WorkspaceStatus::New, Effect::RetryFromScratch),
            (WorkspaceStatus::Failed, Some(_), _) | (WorkspaceStatus::Ready, Some(_), Some(_)) => {
                (w.status, WorkspaceStatus::Provisioning, Effect::RetryProvisioning)
            }
            (status, ..) => {
                return Err(DomainError::Conflict(format!(
                    "only a failed workspace, or a ready one with a setup warning, can be retried; this one is {status}"
                )))
            }
        };
        if w.init_retry_count >= ff_core::lifecycle::MAX_INIT_RETRIES {
            return Err(DomainError::TooManyRetries(format!(
                "Maximum retry attempts ({}) exceeded",
                ff_core::lifecycle::MAX_INIT_RETRIES
            )));
        }
        self.inner
            .lifecycle
            .transition(id, from, to, effect)
            .await?
            .ok_or_else(|| {
                DomainError::Conflict("the workspace changed state; try again".into())
            })?;
        self.provision_in_background(id.clone());
        Ok(())
    }

    /// Starts archiving: the state change happens now (so a second archive is refused), the
    /// cleanup in the background.
    pub async fn archive(&self, id: &WorkspaceId) -> DomainResult<()> {
        let from = self.record(id).await?.workspace.status;
        if !matches!(from, WorkspaceStatus::Ready | WorkspaceStatus::Failed) {
            return Err(DomainError::Conflict(format!(
                "only a ready or failed workspace can be archived; this one is {from}"
            )));
        }
        self.inner
            .lifecycle
            .transition(id, from, WorkspaceStatus::Archiving, Effect::StartArchiving)
            .await?
            .ok_or_else(|| {
                DomainError::Conflict(
                    "the workspace is already being archived or changed state".into(),
                )
            })?;
        let this = self.clone();
        let id = id.clone();
        self.inner
            .tasks
            .spawn(async move { this.finish_archive(&id).await });
        Ok(())
    }

    /// Archives a workspace the person chose to archive, and its live children as `children`
    /// says (issue 19 §1): each archived too (theirs with them), or detached to stay on their
    /// own. A workspace with live children and no choice is refused and nothing changes; so is
    /// the choice to archive them while one of them cannot be archived yet.
    pub async fn archive_with_children(
        &self,
        id: &WorkspaceId,
        children: Option<ChildrenOnArchive>,
    ) -> DomainResult<()> {
        let live = {
            let mut conn = self.inner.db.acquire().await?;
            family::live_children(&mut conn, id).await?
        };
        if live.is_empty() {
            return self.archive(id).await;
        }
        let Some(choice) = children else {
            let n = live.len();
            let plural = if n == 1 { "" } else { "s" };
            return Err(DomainError::Conflict(format!(
                "this workspace has {n} live child workspace{plural}: say whether to archive \
                 them too (\"children\": \"archive\") or keep them without a parent \
                 (\"children\": \"detach\"); nothing was archived"
            )));
        };
        let from = self.record(id).await?.workspace.status;
        if !matches!(from, WorkspaceStatus::Ready | WorkspaceStatus::Failed) {
            return Err(DomainError::Conflict(format!(
                "only a ready or failed workspace can be archived; this one is {from}"
            )));
        }
        if choice == ChildrenOnArchive::Archive {
            for child in self.live_descendants(id).await? {
                if !matches!(
                    child.status,
                    WorkspaceStatus::Ready | WorkspaceStatus::Failed
                ) {
                    return Err(DomainError::Conflict(format!(
                        "child workspace \"{}\" is {} and cannot be archived until it is ready \
                         or failed: keep the children instead, or wait; nothing was archived",
                        child.name, child.status
                    )));
                }
            }
        }
        // The parent first: once it is ARCHIVING its agents can create no more children, so
        // the children read next are all there are.
        self.archive(id).await?;
        match choice {
            ChildrenOnArchive::Archive => {
                for child in self.live_descendants(id).await? {
                    if let Err(e) = self.archive(&child.id).await {
                        tracing::warn!(parent = %id, child = %child.id, "cannot archive a child with its parent: {e}");
                    }
                }
            }
            ChildrenOnArchive::Detach => {
                let mut tx = db::begin_write(&self.inner.db).await?;
                let detached = family::detach_live_children(&mut tx, id).await?;
                tx.commit().await?;
                for child in detached {
                    tracing::info!(parent = %id, child = %child, "child workspace detached from its archived parent");
                    self.inner.bus.publish(DomainEvent::WorkspaceDetached {
                        workspace_id: child,
                    });
                }
            }
        }
        Ok(())
    }

    /// The live children of `id`, their live children, and so on (at most `family::MAX_DEPTH`
    /// deep), parents before their children.
    async fn live_descendants(&self, id: &WorkspaceId) -> DomainResult<Vec<Workspace>> {
        let mut conn = self.inner.db.acquire().await?;
        let mut found = Vec::new();
        let mut level = vec![id.clone()];
        for _ in 0..family::MAX_DEPTH {
            let mut next = Vec::new();
            for parent in &level {
                for child in family::live_children(&mut conn, parent).await? {
                    if let Some(record) = store::get(&mut conn, child.as_str()).await? {
                        next.push(child);
                        found.push(record.workspace);
                    }
                }
            }
            level = next;
        }
        Ok(found)
    }

    async fn finish_archive(&self, id: &WorkspaceId) {
        if let Err(e) = self.try_finish_archive(id).await {
            tracing::error!(workspace = %id, "archive failed: {e}");
            // Whatever broke, the workspace must not stay ARCHIVING: back to where it was.
            let previous = self
                .record(id)
                .await
                .ok()
                .and_then(|r| r.archive_previous_status)
                .unwrap_or(WorkspaceStatus::Failed);
            let detail = ff_core::api::ErrorDetail {
                code: ff_core::api::ErrorCode::Internal,
                message: format!("The archive failed unexpectedly: {e}"),
            };
            let error = serde_json::to_string(&detail).unwrap_or_default();
            let rollback = Effect::ArchiveRolledBack { error };
            if let Err(e) = self
                .inner
                .lifecycle
                .transition(id, WorkspaceStatus::Archiving, previous, rollback)
                .await
            {
                tracing::error!(workspace = %id, "cannot roll the archive back: {e}");
            }
        }
    }

    async fn try_finish_archive(&self, id: &WorkspaceId) -> DomainResult<()> {
        let inner = &self.inner;
        let record = self.record(id).await?;
        let previous = record
            .archive_previous_status
            .unwrap_or(WorkspaceStatus::Failed);
        let project = inner
            .neighbours
            .project(
                &mut *inner.db.acquire().await?,
                record.workspace.project_id.as_str(),
            )
            .await?
            .ok_or_else(|| DomainError::Internal("the workspace's project is gone".into()))?;
        let aside = inner.archive_dir.join(id.as_str());
        let cleaned = match inner.occupants.stop(id).await {
            Ok(()) => archive::remove_worktree(&inner.git, &record, &project, &aside).await,
            Err(message) => Err(ff_core::api::ErrorDetail {
                code: ff_core::api::ErrorCode::Internal,
                message,
            }),
        };
        match cleaned {
            Ok(note) => {
                if let Some(note) = &note {
                    tracing::info!(workspace = %id, "{note}");
                }
                inner
                    .lifecycle
                    .transition(
                        id,
                        WorkspaceStatus::Archiving,
                        WorkspaceStatus::Archived,
                        Effect::Archived { note },
                    )
                    .await?;
                inner.occupants.forget(id);
            }
            Err(detail) => {
                tracing::warn!(workspace = %id, "archive rolled back: {}", detail.message);
                let error = serde_json::to_string(&detail)
                    .map_err(|e| DomainError::Internal(e.to_string()))?;
                inner
                    .lifecycle
                    .transition(
                        id,
                        WorkspaceStatus::Archiving,
                        previous,
                        Effect::ArchiveRolledBack { error },
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Startup recovery (domain.md §3): nothing is provisioning yet, so PROVISIONING rows were
    /// interrupted (their setup process group is killed if it survived); NEW rows are provisioned;
    /// ARCHIVING rows are finished or rolled back.
    pub async fn recover(&self) -> DomainResult<()> {
        let inner = &self.inner;
        let mut conn = inner.db.acquire().await?;
        let interrupted = store::in_states(&mut conn, &[WorkspaceStatus::Provisioning]).await?;
        let archiving = store::in_states(&mut conn, &[WorkspaceStatus::Archiving]).await?;
        let new = store::in_states(&mut conn, &[WorkspaceStatus::New]).await?;
        drop(conn);
        for record in interrupted {
            let id = &record.workspace.id;
            let leftover = record
                .init_script_process
                .as_ref()
                .and_then(ProcessIdentity::live_group);
            if let Some(pgid) = leftover {
                tracing::warn!(workspace = %id, pgid, "stopping a setup script left over from before the restart");
                terminate_group(pgid, Duration::from_secs(5), group_gone(pgid)).await;
            }
            let effect = Effect::ProvisioningFailed {
                message: RESTART_MESSAGE.to_owned(),
            };
            inner
                .lifecycle
                .transition(
                    id,
                    WorkspaceStatus::Provisioning,
                    WorkspaceStatus::Failed,
                    effect,
                )
                .await?;
        }
        for record in archiving {
            let this = self.clone();
            inner
                .tasks
                .spawn(async move { this.finish_archive(&record.workspace.id).await });
        }
        for record in new {
            self.provision_in_background(record.workspace.id);
        }
        Ok(())
    }

    /// Interrupts setup scripts and waits for provisioning and archive work to wind down.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    fn provision_in_background(&self, id: WorkspaceId) {
        let provisioner = self.inner.provisioner.clone();
        self.inner
            .tasks
            .spawn(async move { provisioner.provision(id).await });
    }

    async fn record(&self, id: &WorkspaceId) -> DomainResult<store::WorkspaceRecord> {
        store::get(&mut *self.inner.db.acquire().await?, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))
    }
}
