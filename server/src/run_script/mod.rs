//! Run scripts (domain.md §4): the repository's dev server, one per workspace, in its own
//! process group, with a compare-and-swap state machine and bounded logs.

mod logs;
pub mod store;

use crate::clock;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use crate::process::{self, group_alive, group_gone, terminate_group};
use crate::workspaces;
use ff_core::api::RunScriptInfo;
use ff_core::enums::{RunScriptStatus, WorkspaceStatus};
use ff_core::factory_config::{needs_port, with_port, FactoryConfig, FILE_NAME};
use ff_core::ids::WorkspaceId;
use logs::LogBuffer;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Process;
use tokio::sync::watch;

const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct RunScripts {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: EventBus,
    /// The processes this server started, by workspace: their group and an exit signal.
    running: Mutex<HashMap<String, Running>>,
    logs: Mutex<HashMap<String, LogBuffer>>,
    /// Start and stop of one workspace never interleave.
    operations: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Clone)]
struct Running {
    pgid: u32,
    exited: watch::Receiver<bool>,
}

impl RunScripts {
    pub fn new(db: Db, bus: EventBus) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                bus,
                running: Mutex::default(),
                logs: Mutex::default(),
                operations: Mutex::default(),
            }),
        }
    }

    pub async fn status(&self, id: &WorkspaceId) -> DomainResult<RunScriptInfo> {
        self.record(id).await.map(|r| r.info)
    }

    /// The last `tail` lines of output (everything buffered when `None`).
    pub async fn logs(&self, id: &WorkspaceId, tail: Option<usize>) -> DomainResult<String> {
        self.record(id).await?;
        Ok(self.log(id.as_str(), |log| log.tail(tail)))
    }

    pub async fn start(&self, id: &WorkspaceId) -> DomainResult<RunScriptInfo> {
        let _serialized = self.serialize(id).await;
        let workspace = workspaces::store::get(&mut *self.inner.db.acquire().await?, id.as_str())
            .await?
            .ok_or_else(|| workspaces::not_found(id))?
            .workspace;
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
                self.log(id.as_str(), |log| log.push(&format!("[ff] {message}\n")));
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
        let key = id.as_str().to_owned();
        self.log(&key, |log| {
            *log = LogBuffer::default();
            log.push(&format!("[ff] Starting: {command}\n"));
        });
        let mut output = process::pump_output(&mut child);
        let this = self.clone();
        let log_key = key.clone();
        tokio::spawn(async move {
            while let Some(chunk) = output.recv().await {
                this.log(&log_key, |log| log.push(&chunk));
            }
        });
        let (exited_tx, exited) = watch::channel(false);
        self.inner
            .running
            .lock()
            .expect("run-script registry lock")
            .insert(key.clone(), Running { pgid: pid, exited });
        let this = self.clone();
        let workspace = id.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let _ = exited_tx.send(true);
            // What the script left running in its group goes with it: nothing outlives a run.
            if group_alive(pid) {
                terminate_group(pid, STOP_GRACE, group_gone(pid)).await;
            }
            this.inner
                .running
                .lock()
                .expect("run-script registry lock")
                .remove(&key);
            let code = status.as_ref().ok().and_then(|s| s.code());
            this.log(&key, |log| match code {
                Some(code) => log.push(&format!("[ff] Exited with code {code}\n")),
                None => log.push("[ff] Exited on a signal\n"),
            });
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
        })
    }

    /// A process that ended by itself: RUNNING/STARTING → COMPLETED/FAILED. During a stop the
    /// stopper owns the state and nothing is written here.
    async fn settle_exit(&self, id: &WorkspaceId, to: RunScriptStatus) -> DomainResult<()> {
        for _ in 0..3 {
            let from = self.record(id).await?.info.status;
            if !matches!(from, RunScriptStatus::Running | RunScriptStatus::Starting) {
                return Ok(());
            }
            if self.transition(id, from, to, Process::default()).await? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Stops the script: cleanup command, then the whole process group. Idempotent.
    pub async fn stop(&self, id: &WorkspaceId) -> DomainResult<()> {
        let _serialized = self.serialize(id).await;
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
        match (running, record.info.pid) {
            (Some(Running { pgid, mut exited }), _) => {
                terminate_group(pgid, STOP_GRACE, async {
                    let _ = exited.wait_for(|gone| *gone).await;
                })
                .await;
            }
            (None, Some(pgid)) if group_alive(pgid) => {
                terminate_group(pgid, STOP_GRACE, group_gone(pgid)).await;
            }
            _ => {}
        }
        self.log(id.as_str(), |log| log.push("[ff] Stopped\n"));
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
        let Ok(Some(workspace)) = async {
            workspaces::store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await
        }
        .await
        .map_err(|e: sqlx::Error| tracing::error!("cannot read workspace {id}: {e}")) else {
            return;
        };
        let Some(worktree) = workspace.workspace.worktree_path else {
            return;
        };
        let command = port.map_or_else(|| cleanup.to_owned(), |p| with_port(cleanup, p));
        self.log(id.as_str(), |log| {
            log.push(&format!("[ff] Cleanup: {command}\n"))
        });
        let Ok(mut child) = process::shell(&command, Path::new(&worktree)).spawn() else {
            self.log(id.as_str(), |log| {
                log.push("[ff] The cleanup command could not start\n")
            });
            return;
        };
        let mut output = process::pump_output(&mut child);
        let pgid = child.id();
        let finished = tokio::time::timeout(CLEANUP_TIMEOUT, async {
            while let Some(chunk) = output.recv().await {
                self.log(id.as_str(), |log| log.push(&chunk));
            }
            child.wait().await
        })
        .await;
        if finished.is_err() {
            self.log(id.as_str(), |log| {
                log.push("[ff] Cleanup timed out after 5 s\n")
            });
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
            let orphan = record.info.pid.filter(|&pgid| group_alive(pgid));
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

    async fn serialize(&self, id: &WorkspaceId) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .inner
            .operations
            .lock()
            .expect("run-script operations lock")
            .entry(id.as_str().to_owned())
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    async fn record(&self, id: &WorkspaceId) -> DomainResult<store::RunScriptRecord> {
        store::get(&mut *self.inner.db.acquire().await?, id.as_str())
            .await?
            .ok_or_else(|| workspaces::not_found(id))
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

    fn log<T>(&self, id: &str, f: impl FnOnce(&mut LogBuffer) -> T) -> T {
        f(self
            .inner
            .logs
            .lock()
            .expect("run-script log lock")
            .entry(id.to_owned())
            .or_default())
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

/// `factory-factory.json` of a worktree; absent is an empty configuration.
pub async fn read_config(worktree: &Path) -> Result<FactoryConfig, String> {
    match tokio::fs::read_to_string(worktree.join(FILE_NAME)).await {
        Ok(text) => FactoryConfig::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FactoryConfig::default()),
        Err(e) => Err(format!("cannot read {FILE_NAME}: {e}")),
    }
}

/// A port nothing listens on right now (the OS picks it).
fn free_port() -> std::io::Result<u16> {
    std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()
        .map(|a| a.port())
}
