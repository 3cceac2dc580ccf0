//! Run scripts (domain.md §4): the repository's dev server, one per workspace, in its own
//! process group, with a compare-and-swap state machine and bounded logs.

mod logs;
pub mod store;

use crate::clock;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use crate::locks::KeyedLocks;
use crate::process::{self, group_alive, group_gone, terminate_group, ProcessIdentity};
use crate::worktree_files::{ReadError, Tree};
use ff_core::api::{RunScriptInfo, Workspace};
use ff_core::enums::{RunScriptStatus, WorkspaceStatus};
use ff_core::factory_config::{needs_port, with_port, FactoryConfig, FILE_NAME};
use ff_core::ids::WorkspaceId;
use futures_util::future::BoxFuture;
use logs::LogBuffer;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Process;
use tokio::sync::watch;

const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What a run script needs of its workspace (its status and worktree), without using the
/// workspaces domain: a bridge implemented above it (`flows::neighbours`).
pub trait Workspaces: Send + Sync {
    /// The workspace as its owner records it; `None` when there is none.
    fn workspace<'a>(
        &'a self,
        id: &'a WorkspaceId,
    ) -> BoxFuture<'a, Result<Option<Workspace>, sqlx::Error>>;
}

#[derive(Clone)]
pub struct RunScripts {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: EventBus,
    workspaces: Arc<dyn Workspaces>,
    /// The processes this server started, by workspace: their run, group and an exit signal.
    running: Mutex<HashMap<String, Running>>,
    /// Output by workspace, tagged with the run that wrote it.
    logs: Mutex<HashMap<String, (Run, LogBuffer)>>,
    /// Start, stop and the settling of an exit never interleave for one workspace.
    operations: KeyedLocks,
    runs: AtomicU64,
}

/// One start of a run script. Only the current run of a workspace may change its registry entry,
/// its status or its log: the watcher of an old run must not touch what a newer start owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run(u64);

#[derive(Clone)]
struct Running {
    run: Run,
    pgid: u32,
    exited: watch::Receiver<bool>,
}

impl RunScripts {
    pub fn new(db: Db, bus: EventBus, workspaces: Arc<dyn Workspaces>) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                bus,
                workspaces,
                running: Mutex::default(),
                logs: Mutex::default(),
                operations: KeyedLocks::default(),
                runs: AtomicU64::new(0),
            }),
        }
    }

    pub async fn status(&self, id: &WorkspaceId) -> DomainResult<RunScriptInfo> {
        self.record(id).await.map(|r| r.info)
    }

    /// The last `tail` lines of output (everything buffered when `None`).
    pub async fn logs(&self, id: &WorkspaceId, tail: Option<usize>) -> DomainResult<String> {
        self.record(id).await?;
        Ok(self
            .inner
            .logs
            .lock()
            .expect("run-script log lock")
            .get(id.as_str())
            .map(|(_, log)| log.tail(tail))
            .unwrap_or_default())
    }

    pub async fn start(&self, id: &WorkspaceId) -> DomainResult<RunScriptInfo> {
        let _serialized = self.inner.operations.lock(id.as_str()).await;
        let workspace = self
            .inner
            .workspaces
            .workspace(id)
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        if workspace.status != WorkspaceStatus::Ready {
            return Err(DomainError::Conflict(format!(
                "the workspace is {}; a run script needs a ready workspace",
                workspace.status
            )));
        }
        let worktree = workspace
            .worktree_path
            .ok_or_else(|| DomainError::Conflict("the workspace has no worktree".into()))?;
        let config = read_config(Path::new(&worktree))
            .await
            .map_err(DomainError::Conflict)?;
        let command = config.scripts.run.ok_or_else(|| {
            DomainError::Conflict(format!("no run script: add \"scripts.run\" to {FILE_NAME}"))
        })?;
        let from = self.record(id).await?.info.status;
        if from.is_active() {
            return Err(DomainError::Conflict(format!(
                "the run script is already {from}"
            )));
        }
        if !self
            .transition(id, from, RunScriptStatus::Starting, Process::default())
            .await?
        {
            return Err(DomainError::Conflict(
                "the run script changed state; try again".into(),
            ));
        }
        let now = clock::now();
        store::set_commands(
            &mut *self.inner.db.acquire().await?,
            id.as_str(),
            Some(&command),
            config.scripts.cleanup.as_deref(),
            now,
        )
        .await?;
        match self.spawn(id, &command, Path::new(&worktree)).await {
            Ok(process) => {
                self.transition(
                    id,
                    RunScriptStatus::Starting,
                    RunScriptStatus::Running,
                    process,
                )
                .await?;
                self.status(id).await
            }
            Err(message) => {
                self.new_log(id.as_str(), &format!("[ff] {message}\n"));
                self.transition(
                    id,
                    RunScriptStatus::Starting,
                    RunScriptStatus::Failed,
                    Process::default(),
                )
                .await?;
                Err(DomainError::Internal(message))
            }
        }
    }

    async fn spawn(
        &self,
        id: &WorkspaceId,
        command: &str,
        worktree: &Path,
    ) -> Result<Process, String> {
        let port = if needs_port(command) {
            Some(free_port().map_err(|e| format!("cannot find a free port: {e}"))?)
        } else {
            None
        };
        let command = port.map_or_else(|| command.to_owned(), |p| with_port(command, p));
        let mut child = process::shell(&command, worktree)
            .env("WORKSPACE_PATH", worktree)
            .spawn()
            .map_err(|e| format!("cannot start the run script: {e}"))?;
        let pid = child.id().ok_or("the run script exited at once")?;
        let identity = ProcessIdentity::of(pid);
        let key = id.as_str().to_owned();
        let run = self.new_log(&key, &format!("[ff] Starting: {command}\n"));
        let mut output = process::pump_output(&mut child);
        let this = self.clone();
        let log_key = key.clone();
        tokio::spawn(async move {
            while let Some(chunk) = output.recv().await {
                this.log(&log_key, run, &chunk);
            }
        });
        let (exited_tx, exited) = watch::channel(false);
        self.inner
            .running
            .lock()
            .expect("run-script registry lock")
            .insert(
                key.clone(),
                Running {
                    run,
                    pgid: pid,
                    exited,
                },
            );
        let this = self.clone();
        let workspace = id.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let _ = exited_tx.send(true);
            // What the script left running in its group goes with it: nothing outlives a run.
            if group_alive(pid) {
                terminate_group(pid, STOP_GRACE, group_gone(pid)).await;
            }
            let _serialized = this.inner.operations.lock(&key).await;
            if !this.forget_run(&key, run) {
                // A stop settled this run, and a newer start may own the workspace by now.
                return;
            }
            let code = status.as_ref().ok().and_then(|s| s.code());
            this.log(
                &key,
                run,
                &match code {
                    Some(code) => format!("[ff] Exited with code {code}\n"),
                    None => "[ff] Exited on a signal\n".to_owned(),
                },
            );
            let to = if code == Some(0) {
                RunScriptStatus::Completed
            } else {
                RunScriptStatus::Failed
            };
            if let Err(e) = this.settle_exit(&workspace, to).await {
                tracing::error!(workspace = %workspace, "cannot record the run script's exit: {e}");
            }
        });
        Ok(Process {
            pid: Some(pid),
            port,
            identity,
        })
    }

    /// Removes `run` from the registry if it is still the workspace's current run.
    fn forget_run(&self, key: &str, run: Run) -> bool {
        let mut running = self.inner.running.lock().expect("run-script registry lock");
        if running.get(key).is_some_and(|r| r.run == run) {
            running.remove(key);
            true
        } else {
            false
        }
    }

    /// The current run ended by itself: RUNNING → COMPLETED/FAILED. Called under the
    /// workspace's operation lock, so no stop or start can move the status meanwhile.
    async fn settle_exit(&self, id: &WorkspaceId, to: RunScriptStatus) -> DomainResult<()> {
        let from = self.record(id).await?.info.status;
        if matches!(from, RunScriptStatus::Running | RunScriptStatus::Starting) {
            self.transition(id, from, to, Process::default()).await?;
        }
        Ok(())
    }

    /// Stops the script: cleanup command, then the whole process group. Idempotent.
    pub async fn stop(&self, id: &WorkspaceId) -> DomainResult<()> {
        let _serialized = self.inner.operations.lock(id.as_str()).await;
        let record = loop {
            let record = self.record(id).await?;
            let from = record.info.status;
            match from {
                RunScriptStatus::Idle | RunScriptStatus::Stopping => return Ok(()),
                RunScriptStatus::Completed | RunScriptStatus::Failed => {
                    if self
                        .transition(id, from, RunScriptStatus::Idle, Process::default())
                        .await?
                    {
                        return Ok(());
                    }
                }
                RunScriptStatus::Starting | RunScriptStatus::Running => {
                    if self
                        .transition(id, from, RunScriptStatus::Stopping, Process::default())
                        .await?
                    {
                        break record;
                    }
                }
            }
        };
        if let Some(cleanup) = &record.cleanup_command {
            self.run_cleanup(id, cleanup, record.info.port).await;
        }
        let running = self
            .inner
            .running
            .lock()
            .expect("run-script registry lock")
            .get(id.as_str())
            .cloned();
        let recorded = record
            .process
            .as_ref()
            .and_then(ProcessIdentity::live_group);
        match (running, recorded) {
            (
                Some(Running {
                    run,
                    pgid,
                    mut exited,
                }),
                _,
            ) => {
                terminate_group(pgid, STOP_GRACE, async {
                    let _ = exited.wait_for(|gone| *gone).await;
                })
                .await;
                self.forget_run(id.as_str(), run);
                self.log(id.as_str(), run, "[ff] Stopped\n");
            }
            (None, Some(pgid)) => {
                terminate_group(pgid, STOP_GRACE, group_gone(pgid)).await;
            }
            (None, None) => {}
        }
        self.transition(
            id,
            RunScriptStatus::Stopping,
            RunScriptStatus::Idle,
            Process::default(),
        )
        .await?;
        Ok(())
    }

    async fn run_cleanup(&self, id: &WorkspaceId, cleanup: &str, port: Option<u16>) {
        let Ok(Some(workspace)) = self
            .inner
            .workspaces
            .workspace(id)
            .await
            .map_err(|e| tracing::error!("cannot read workspace {id}: {e}"))
        else {
            return;
        };
        let Some(worktree) = workspace.worktree_path else {
            return;
        };
        let command = port.map_or_else(|| cleanup.to_owned(), |p| with_port(cleanup, p));
        let run = self.current_log_run(id.as_str());
        let log = |text: &str| {
            if let Some(run) = run {
                self.log(id.as_str(), run, text);
            }
        };
        log(&format!("[ff] Cleanup: {command}\n"));
        let Ok(mut child) = process::shell(&command, Path::new(&worktree)).spawn() else {
            log("[ff] The cleanup command could not start\n");
            return;
        };
        let mut output = process::pump_output(&mut child);
        let pgid = child.id();
        let finished = tokio::time::timeout(CLEANUP_TIMEOUT, async {
            while let Some(chunk) = output.recv().await {
                log(&chunk);
            }
            child.wait().await
        })
        .await;
        if finished.is_err() {
            log("[ff] Cleanup timed out after 5 s\n");
            if let Some(pgid) = pgid {
                terminate_group(pgid, Duration::ZERO, async {}).await;
            }
        }
    }

    /// Stops every run script this server started (server shutdown).
    pub async fn stop_all(&self) {
        let ids: Vec<String> = self
            .inner
            .running
            .lock()
            .expect("run-script registry lock")
            .keys()
            .cloned()
            .collect();
        for id in ids {
            if let Err(e) = self.stop(&WorkspaceId::new(id.clone())).await {
                tracing::error!(workspace = %id, "cannot stop the run script: {e}");
            }
        }
    }

    /// After a restart: a script recorded as active has no process of ours. A live orphan group is
    /// stopped (ff can neither follow nor log it); a vanished one counts as failed.
    pub async fn recover(&self) -> DomainResult<()> {
        let active = store::active(&mut *self.inner.db.acquire().await?).await?;
        for record in active {
            let id = WorkspaceId::new(record.workspace_id.clone());
            let status = record.info.status;
            // Only the very process ff started: a pid recorded before a reboot may be anyone's.
            let orphan = record
                .process
                .as_ref()
                .and_then(ProcessIdentity::live_group);
            tracing::warn!(workspace = %id, ?status, alive = orphan.is_some(), "recovering a run script after restart");
            match (status, orphan) {
                (RunScriptStatus::Running | RunScriptStatus::Starting, None) => {
                    self.transition(&id, status, RunScriptStatus::Failed, Process::default())
                        .await?;
                }
                (RunScriptStatus::Running | RunScriptStatus::Starting, Some(_)) => {
                    self.stop(&id).await?
                }
                (RunScriptStatus::Stopping, orphan) => {
                    if let Some(pgid) = orphan {
                        terminate_group(pgid, STOP_GRACE, group_gone(pgid)).await;
                    }
                    self.transition(&id, status, RunScriptStatus::Idle, Process::default())
                        .await?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    async fn record(&self, id: &WorkspaceId) -> DomainResult<store::RunScriptRecord> {
        store::get(&mut *self.inner.db.acquire().await?, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))
    }

    async fn transition(
        &self,
        id: &WorkspaceId,
        from: RunScriptStatus,
        to: RunScriptStatus,
        process: Process,
    ) -> DomainResult<bool> {
        debug_assert!(from.can_become(to), "{from:?} → {to:?}");
        let mut conn = self.inner.db.acquire().await?;
        let won =
            store::transition(&mut conn, id.as_str(), from, to, process, clock::now()).await?;
        if won {
            self.inner.bus.publish(DomainEvent::RunScriptStatusChanged {
                workspace_id: id.clone(),
                from,
                to,
            });
        }
        Ok(won)
    }

    /// Starts a fresh log for a new run of the workspace's script.
    fn new_log(&self, key: &str, first: &str) -> Run {
        let run = Run(self.inner.runs.fetch_add(1, Ordering::Relaxed));
        let mut log = LogBuffer::default();
        log.push(first);
        self.inner
            .logs
            .lock()
            .expect("run-script log lock")
            .insert(key.to_owned(), (run, log));
        run
    }

    /// Appends to the workspace's log if `run` still owns it.
    fn log(&self, key: &str, run: Run, text: &str) {
        if let Some((owner, log)) = self
            .inner
            .logs
            .lock()
            .expect("run-script log lock")
            .get_mut(key)
        {
            if *owner == run {
                log.push(text);
            }
        }
    }

    fn current_log_run(&self, key: &str) -> Option<Run> {
        self.inner
            .logs
            .lock()
            .expect("run-script log lock")
            .get(key)
            .map(|(run, _)| *run)
    }

    /// Drops a workspace's buffered output (after archive).
    pub fn forget(&self, id: &WorkspaceId) {
        self.inner
            .logs
            .lock()
            .expect("run-script log lock")
            .remove(id.as_str());
    }
}

/// `factory-factory.json` of a worktree; absent is an empty configuration. The file is whatever
/// the repository's authors or the agent made it, so it is read beneath the worktree, only as a
/// regular file, and only up to a size no configuration needs.
pub async fn read_config(worktree: &Path) -> Result<FactoryConfig, String> {
    const MAX_BYTES: u64 = 1024 * 1024;
    let worktree = worktree.to_owned();
    let read = tokio::task::spawn_blocking(move || {
        Tree::open(&worktree)?.read(Path::new(FILE_NAME), MAX_BYTES)
    })
    .await
    .map_err(|e| format!("cannot read {FILE_NAME}: {e}"))?;
    match read {
        Ok(bytes) => FactoryConfig::parse(
            std::str::from_utf8(&bytes).map_err(|_| format!("{FILE_NAME} is not UTF-8 text"))?,
        ),
        Err(ReadError::Missing) => Ok(FactoryConfig::default()),
        Err(e) => Err(format!("cannot read {FILE_NAME}: {e}")),
    }
}

/// A port nothing listens on right now (the OS picks it).
fn free_port() -> std::io::Result<u16> {
    std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()
        .map(|a| a.port())
}
