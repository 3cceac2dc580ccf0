//! Provisioning (D§2.3): the worktree, its branch, `factory-factory.json` and the setup script.
//! Runs in the background, one provisioning at a time per workspace; a git failure ends FAILED
//! with git's reason, a setup failure ends READY with a warning.

use super::lifecycle::Lifecycle;
use super::store::{self, Effect, WorkspaceRecord, INIT_OUTPUT_MAX_BYTES};
use super::Neighbours;
use crate::clock;
use crate::db::Db;
use crate::git::{Git, GitError};
use crate::locks::KeyedLocks;
use crate::process::{self, group_alive, group_gone, terminate_group, ProcessIdentity};
use ff_core::api::Project;
use ff_core::enums::{WorkspaceCreationSource, WorkspaceStatus};
use ff_core::ids::WorkspaceId;
use ff_core::naming::{branch_from_name, numbered};
use ff_core::text::append_capped;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const SETUP_KILL_GRACE: Duration = Duration::from_secs(5);
const OUTPUT_FLUSH_INTERVAL: Duration = Duration::from_millis(500);
const MAX_BRANCH_CANDIDATES: usize = 1000;
pub const RESTART_MESSAGE: &str = "Setup was interrupted by a server restart; retry to continue";
const SHUTDOWN_MESSAGE: &str = "Setup was interrupted by a server shutdown; retry to continue";

#[derive(Clone)]
pub struct Provisioner {
    db: Db,
    git: Git,
    lifecycle: Lifecycle,
    neighbours: Arc<dyn Neighbours>,
    shutdown: CancellationToken,
    workspace_locks: KeyedLocks,
    /// Choosing a free branch name and creating it is one step per project.
    project_locks: KeyedLocks,
}

/// Why provisioning stopped short of a worktree; the message is what the user sees.
struct Failure(String);

impl From<GitError> for Failure {
    fn from(e: GitError) -> Self {
        Self(e.to_string())
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Self(format!("database error: {e}"))
    }
}

impl Provisioner {
    pub fn new(
        db: Db,
        git: Git,
        lifecycle: Lifecycle,
        neighbours: Arc<dyn Neighbours>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            db,
            git,
            lifecycle,
            neighbours,
            shutdown,
            workspace_locks: KeyedLocks::default(),
            project_locks: KeyedLocks::default(),
        }
    }

    /// Provisions a NEW workspace, or continues one a retry already moved to PROVISIONING.
    pub async fn provision(&self, id: WorkspaceId) {
        let _only_one = self.workspace_locks.lock(id.as_str()).await;
        if let Err(e) = self.run(&id).await {
            tracing::error!(workspace = %id, "provisioning failed: {e}");
            // Whatever broke, the workspace must not stay PROVISIONING: FAILED can be retried.
            let effect = Effect::ProvisioningFailed {
                message: format!("Setup failed unexpectedly: {e}"),
            };
            let to = WorkspaceStatus::Failed;
            if let Err(e) = self
                .lifecycle
                .transition(&id, WorkspaceStatus::Provisioning, to, effect)
                .await
            {
                tracing::error!(workspace = %id, "cannot mark the workspace failed: {e}");
            }
        }
    }

    async fn run(&self, id: &WorkspaceId) -> Result<(), crate::error::DomainError> {
        let Some(record) = self.record(id).await? else {
            return Ok(());
        };
        match record.workspace.status {
            WorkspaceStatus::New => {
                let started = self
                    .lifecycle
                    .transition(
                        id,
                        WorkspaceStatus::New,
                        WorkspaceStatus::Provisioning,
                        Effect::StartProvisioning,
                    )
                    .await?;
                if started.is_none() {
                    return Ok(());
                }
            }
            WorkspaceStatus::Provisioning => {}
            _ => return Ok(()),
        }
        let project = self
            .neighbours
            .project(
                &mut *self.db.acquire().await?,
                record.workspace.project_id.as_str(),
            )
            .await?
            .ok_or_else(|| {
                crate::error::DomainError::Internal("the workspace's project is gone".into())
            })?;
        let worktree = match self.worktree(&record, &project).await {
            Ok(worktree) => worktree,
            Err(Failure(message)) => {
                self.output(id, &format!("{message}\n")).await;
                self.finish(
                    id,
                    Effect::ProvisioningFailed { message },
                    WorkspaceStatus::Failed,
                )
                .await?;
                return Ok(());
            }
        };
        let config = match self.neighbours.read_scripts(&worktree).await {
            Ok(config) => config,
            Err(problem) => {
                self.output(id, &format!("{problem}; continuing without it\n"))
                    .await;
                Default::default()
            }
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        self.neighbours
            .record_scripts(
                &mut tx,
                id.as_str(),
                config.scripts.run.as_deref(),
                config.scripts.cleanup.as_deref(),
                clock::now(),
            )
            .await?;
        tx.commit().await?;
        let warning = match &config.scripts.setup {
            Some(script) => self
                .setup(id, &worktree, script, project.setup_timeout_seconds)
                .await
                .err(),
            None => None,
        };
        self.finish(id, Effect::Provisioned { warning }, WorkspaceStatus::Ready)
            .await
    }

    async fn finish(
        &self,
        id: &WorkspaceId,
        effect: Effect,
        to: WorkspaceStatus,
    ) -> Result<(), crate::error::DomainError> {
        self.lifecycle
            .transition(id, WorkspaceStatus::Provisioning, to, effect)
            .await?;
        Ok(())
    }

    async fn record(&self, id: &WorkspaceId) -> Result<Option<WorkspaceRecord>, sqlx::Error> {
        store::get(&mut *self.db.acquire().await?, id.as_str()).await
    }

    /// The workspace's worktree: the recorded one on a retry, otherwise a new one.
    async fn worktree(
        &self,
        record: &WorkspaceRecord,
        project: &Project,
    ) -> Result<PathBuf, Failure> {
        let w = &record.workspace;
        if let Some(existing) = w.worktree_path.as_deref().map(PathBuf::from) {
            if existing.is_dir() {
                return Ok(existing);
            }
            return Err(Failure(format!(
                "The worktree {} is gone; archive this workspace and create a new one",
                existing.display()
            )));
        }
        let repo = Path::new(&project.repo_path);
        let path = Path::new(&project.worktree_base_path).join(format!("workspace-{}", w.id));
        tokio::fs::create_dir_all(&project.worktree_base_path)
            .await
            .map_err(|e| Failure(format!("Cannot create {}: {e}", project.worktree_base_path)))?;
        let (branch, auto_generated) = match w.creation_source {
            WorkspaceCreationSource::ResumeBranch => {
                let branch = w
                    .branch_name
                    .clone()
                    .ok_or_else(|| Failure("The workspace has no branch to resume".into()))?;
                self.resume_branch(record, repo, &path, &branch).await?;
                (branch, false)
            }
            WorkspaceCreationSource::Manual
            | WorkspaceCreationSource::GithubIssue
            | WorkspaceCreationSource::Scheduled => {
                let base = record
                    .base_branch
                    .as_deref()
                    .unwrap_or(&project.default_branch);
                let branch = self.new_branch(record, repo, &path, base).await?;
                (branch, true)
            }
        };
        let path_text = path.to_string_lossy().into_owned();
        let mut conn = self.db.acquire().await?;
        store::register_worktree(
            &mut conn,
            w.id.as_str(),
            &path_text,
            &branch,
            auto_generated,
            clock::now(),
        )
        .await?;
        Ok(path)
    }

    async fn new_branch(
        &self,
        record: &WorkspaceRecord,
        repo: &Path,
        path: &Path,
        base: &str,
    ) -> Result<String, Failure> {
        let id = &record.workspace.id;
        let blank = !self
            .git
            .succeeds(repo, ["rev-parse", "--verify", "--quiet", "HEAD"])
            .await?;
        let base_ref = if blank {
            None
        } else {
            self.fetch(id, repo, base).await;
            let remote = format!("origin/{base}");
            if self
                .ref_exists(repo, &format!("refs/remotes/{remote}"))
                .await?
            {
                Some(remote)
            } else if self.ref_exists(repo, &format!("refs/heads/{base}")).await? {
                Some(base.to_owned())
            } else {
                return Err(Failure(format!(
                    "Base branch '{base}' does not exist locally or on origin"
                )));
            }
        };
        let _one_branch_choice = self
            .project_locks
            .lock(record.workspace.project_id.as_str())
            .await;
        let stem = branch_from_name(&record.workspace.name).unwrap_or_else(random_stem);
        let mut branch = None;
        for candidate in numbered(&stem).take(MAX_BRANCH_CANDIDATES) {
            let in_git = self
                .ref_exists(repo, &format!("refs/heads/{candidate}"))
                .await?;
            let in_db = store::live_user_of_branch(
                &mut *self.db.acquire().await?,
                record.workspace.project_id.as_str(),
                &candidate,
                Some(id.as_str()),
            )
            .await?;
            if !in_git && in_db.is_none() {
                branch = Some(candidate);
                break;
            }
        }
        let branch = branch.unwrap_or_else(|| format!("{stem}-{}", random_stem()));
        let path_arg = path.as_os_str();
        let branch_arg = OsStr::new(&branch);
        match &base_ref {
            Some(base_ref) => {
                self.output(
                    id,
                    &format!(
                        "Creating branch {branch} from {base_ref} in {}\n",
                        path.display()
                    ),
                )
                .await;
                let args = [OsStr::new("-b"), branch_arg, path_arg, OsStr::new(base_ref)];
                self.worktree_add(repo, path, &args).await?;
            }
            None => {
                self.output(
                    id,
                    &format!(
                        "The repository has no commits yet: creating the empty branch {branch} in {}\n",
                        path.display()
                    ),
                )
                .await;
                let args = [
                    OsStr::new("--orphan"),
                    OsStr::new("-b"),
                    branch_arg,
                    path_arg,
                ];
                self.worktree_add(repo, path, &args).await?;
            }
        }
        Ok(branch)
    }

    async fn resume_branch(
        &self,
        record: &WorkspaceRecord,
        repo: &Path,
        path: &Path,
        branch: &str,
    ) -> Result<(), Failure> {
        let id = &record.workspace.id;
        self.fetch(id, repo, branch).await;
        let local = self
            .ref_exists(repo, &format!("refs/heads/{branch}"))
            .await?;
        let remote_ref = format!("refs/remotes/origin/{branch}");
        let remote = self.ref_exists(repo, &remote_ref).await?;
        let origin_branch = format!("origin/{branch}");
        let path_arg = path.as_os_str();
        let behind = local
            && remote
            && self
                .git
                .succeeds(
                    repo,
                    [
                        "merge-base",
                        "--is-ancestor",
                        &format!("refs/heads/{branch}"),
                        &remote_ref,
                    ],
                )
                .await?
            && !self
                .git
                .succeeds(
                    repo,
                    [
                        "merge-base",
                        "--is-ancestor",
                        &remote_ref,
                        &format!("refs/heads/{branch}"),
                    ],
                )
                .await?;
        self.output(
            id,
            &format!("Checking out {branch} in {}\n", path.display()),
        )
        .await;
        let branch_arg = OsStr::new(branch);
        let origin_arg = OsStr::new(&origin_branch);
        let args: &[&OsStr] = if behind {
            &[OsStr::new("-B"), branch_arg, path_arg, origin_arg]
        } else if local {
            &[path_arg, branch_arg]
        } else if remote {
            &[OsStr::new("-b"), branch_arg, path_arg, origin_arg]
        } else {
            return Err(Failure(format!(
                "Branch '{branch}' does not exist locally or on origin"
            )));
        };
        self.worktree_add(repo, path, args).await
    }

    /// `git worktree add <args>`; a half-made directory is removed when git fails.
    async fn worktree_add(&self, repo: &Path, path: &Path, args: &[&OsStr]) -> Result<(), Failure> {
        let command = [OsStr::new("worktree"), OsStr::new("add")]
            .into_iter()
            .chain(args.iter().copied());
        match self.git.run(repo, command).await {
            Ok(_) => Ok(()),
            Err(e) => {
                if path.exists() {
                    let _ = tokio::fs::remove_dir_all(path).await;
                    let _ = self.git.run(repo, ["worktree", "prune"]).await;
                }
                Err(Failure(match &e {
                    GitError::Failed { stderr, .. }
                        if stderr.contains("already checked out")
                            || stderr.contains("already used by worktree") =>
                    {
                        format!("The branch is already checked out in another worktree: {stderr}")
                    }
                    _ => e.to_string(),
                }))
            }
        }
    }

    /// Updates `origin/<branch>` when there is an origin; a failed fetch only costs freshness.
    async fn fetch(&self, id: &WorkspaceId, repo: &Path, branch: &str) {
        if !self
            .git
            .succeeds(repo, ["remote", "get-url", "origin"])
            .await
            .unwrap_or(false)
        {
            return;
        }
        let refspec = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
        if let Err(e) = self
            .git
            .run(repo, ["fetch", "--quiet", "origin", &refspec])
            .await
        {
            tracing::info!(workspace = %id, "fetch of {branch} failed, using what is local: {e}");
        }
    }

    async fn ref_exists(&self, repo: &Path, reference: &str) -> Result<bool, GitError> {
        self.git
            .succeeds(
                repo,
                [
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{reference}^{{commit}}"),
                ],
            )
            .await
    }

    /// Runs the setup script with the project's timeout, streaming its output into the
    /// workspace. `Err` is the warning the workspace becomes READY with.
    async fn setup(
        &self,
        id: &WorkspaceId,
        worktree: &Path,
        script: &str,
        timeout_seconds: u32,
    ) -> Result<(), String> {
        self.output(id, &format!("Running setup script: {script}\n"))
            .await;
        let mut child = process::shell(script, worktree)
            .env("WORKSPACE_PATH", worktree)
            .spawn()
            .map_err(|e| format!("The setup script could not start: {e}"))?;
        let pgid = child.id();
        let identity = pgid.and_then(ProcessIdentity::of);
        self.set_process(id, identity.as_ref()).await;
        let mut output = process::pump_output(&mut child);
        let writer = {
            let this = self.clone();
            let id = id.clone();
            tokio::spawn(async move {
                // Written on a cadence, never per chunk: a chatty script costs two writes a second.
                let mut pending = String::new();
                let mut tick = tokio::time::interval(OUTPUT_FLUSH_INTERVAL);
                loop {
                    tokio::select! {
                        chunk = output.recv() => match chunk {
                            Some(chunk) => pending = append_capped(&pending, &chunk, INIT_OUTPUT_MAX_BYTES),
                            None => break,
                        },
                        _ = tick.tick() => if !pending.is_empty() {
                            this.output(&id, &std::mem::take(&mut pending)).await;
                        },
                    }
                }
                if !pending.is_empty() {
                    this.output(&id, &pending).await;
                }
            })
        };
        let limit = Duration::from_secs(u64::from(timeout_seconds));
        let outcome = tokio::select! {
            status = child.wait() => match status {
                Ok(status) if status.success() => Ok(()),
                Ok(status) => Err(match status.code() {
                    Some(code) => format!("Setup script failed with exit code {code}; see the setup output"),
                    None => "Setup script was killed by a signal; see the setup output".to_owned(),
                }),
                Err(e) => Err(format!("Cannot wait for the setup script: {e}")),
            },
            () = tokio::time::sleep(limit) => Err(format!("Setup script timed out after {timeout_seconds} seconds")),
            () = self.shutdown.cancelled() => Err(SHUTDOWN_MESSAGE.to_owned()),
        };
        // Whatever the outcome, nothing the setup started outlives it: background processes it
        // left would keep running (and writing into the setup output) after READY, after archive
        // and into a retry.
        if let Some(pgid) = pgid.filter(|&p| group_alive(p)) {
            if outcome.is_ok() {
                tracing::info!(workspace = %id, "stopping processes the setup script left running");
            }
            terminate_group(pgid, SETUP_KILL_GRACE, group_gone(pgid)).await;
        }
        let _ = child.wait().await;
        // A process that left the group (setsid) may still hold the pipes: its output is dropped.
        let abort = writer.abort_handle();
        if tokio::time::timeout(Duration::from_secs(1), writer)
            .await
            .is_err()
        {
            tracing::warn!(workspace = %id, "setup output still open after the setup ended; closing it");
            abort.abort();
        }
        self.set_process(id, None).await;
        if let Err(message) = &outcome {
            self.output(id, &format!("{message}\n")).await;
        }
        outcome
    }

    async fn set_process(&self, id: &WorkspaceId, process: Option<&ProcessIdentity>) {
        let result = async {
            store::set_init_script_process(&mut *self.db.acquire().await?, id.as_str(), process)
                .await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(workspace = %id, "cannot record the setup process: {e}");
        }
    }

    async fn output(&self, id: &WorkspaceId, text: &str) {
        let result = async {
            store::append_init_output(&mut *self.db.acquire().await?, id.as_str(), text).await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(workspace = %id, "cannot record setup output: {e}");
        }
    }
}

/// Six random hex digits, for names that sanitize to nothing.
fn random_stem() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    id[id.len() - 6..].to_owned()
}
