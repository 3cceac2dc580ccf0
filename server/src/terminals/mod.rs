//! Terminals: the user's shell on a PTY in a workspace's worktree, watched from the browser.
//! A terminal outlives the pages that watch it (a reload reattaches and gets the scrollback),
//! and ends on `DELETE`, when its workspace is archived, and when ff stops; a restart ends the
//! shells a killed ff left behind. Output is read at a bounded pace into a bounded ring and a
//! bounded broadcast: a watcher that falls behind is dropped, never buffered for.

mod pty;
mod ring;
mod store;

use crate::clock;
use crate::config::TerminalsConfig;
use crate::error::{DomainError, DomainResult};
use crate::process::{self, ProcessIdentity};
use ff_core::ids::{TerminalId, WorkspaceId};
use ff_core::terminals::{checked_size, TerminalInfo, DEFAULT_COLS, DEFAULT_ROWS};
use ring::Ring;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Records;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// One read of the PTY at most.
const READ_CHUNK: usize = 16 * 1024;
/// Output is read at most this fast: a shell printing without end (`yes`) then blocks on its
/// full PTY instead of costing ff a core, while a screenful still arrives within a frame.
const PACE_WINDOW: Duration = Duration::from_millis(16);
const BYTES_PER_WINDOW: usize = 32 * 1024;
/// Chunks of output a watcher may be behind before it is dropped (at most this many reads
/// are held, shared by every watcher).
const LIVE_CHUNKS: usize = 256;
/// Keystrokes and resizes waiting for the PTY; a shell that stops reading its input holds the
/// sockets that type into it.
const INPUT_QUEUE: usize = 64;

#[derive(Clone)]
pub struct Terminals {
    inner: Arc<Inner>,
}

struct Inner {
    config: TerminalsConfig,
    records: Records,
    open: Mutex<HashMap<TerminalId, Arc<Terminal>>>,
    tasks: TaskTracker,
}

/// What the browser sends to a terminal.
pub enum Input {
    Bytes(Vec<u8>),
    Resize { cols: u16, rows: u16 },
}

struct Terminal {
    info: TerminalInfo,
    output: Mutex<Output>,
    input: mpsc::Sender<Input>,
    /// Asks the terminal to end.
    stop: CancellationToken,
    /// Cancelled once its shell and everything of its session is gone.
    ended: CancellationToken,
}

/// The scrollback and the live feed change under one lock, so that an attaching watcher gets
/// every byte exactly once: the ring up to now, then what the feed brings after.
struct Output {
    ring: Ring,
    live: broadcast::Sender<Arc<[u8]>>,
}

/// A watcher of a terminal: its scrollback, then its live output; what it types goes to `input`.
pub struct Attachment {
    pub scrollback: Vec<u8>,
    pub live: broadcast::Receiver<Arc<[u8]>>,
    pub input: mpsc::Sender<Input>,
    /// Cancelled when the terminal ends.
    pub ended: CancellationToken,
}

pub fn not_found(id: &TerminalId) -> DomainError {
    DomainError::NotFound(format!("no terminal with id {id}"))
}

impl Terminals {
    pub fn new(config: TerminalsConfig, data_dir: &Path) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                records: Records::new(data_dir.join("terminals")),
                open: Mutex::default(),
                tasks: TaskTracker::new(),
            }),
        }
    }

    /// Opens a shell in `worktree` for `workspace` (the caller checked the workspace is ready).
    pub fn open(
        &self,
        workspace: &WorkspaceId,
        worktree: &Path,
        cols: Option<u16>,
        rows: Option<u16>,
    ) -> DomainResult<TerminalInfo> {
        let (cols, rows) = checked_size(cols.unwrap_or(DEFAULT_COLS), rows.unwrap_or(DEFAULT_ROWS))
            .map_err(|(field, message)| DomainError::invalid(field, message))?;
        let config = &self.inner.config;
        // Held from the count to the insert, so that concurrent opens cannot pass the limits.
        let mut open = self.inner.open.lock().expect("terminal registry lock");
        if open.len() >= config.max_total {
            return Err(DomainError::Conflict(format!(
                "ff already runs {} terminals, its limit (--max-terminals); close one first",
                open.len()
            )));
        }
        let here = open
            .values()
            .filter(|t| t.info.workspace_id == *workspace)
            .count();
        if here >= config.max_per_workspace {
            return Err(DomainError::Conflict(format!(
                "this workspace already has {here} terminals, its limit \
                 (--max-terminals-per-workspace); close one first"
            )));
        }
        let shell = pty::spawn(&config.shell, worktree, cols, rows).map_err(|e| {
            DomainError::Internal(format!(
                "cannot start {} in {}: {e}",
                config.shell.display(),
                worktree.display()
            ))
        })?;
        let id = TerminalId::new(clock::new_id());
        if let Some(identity) = ProcessIdentity::of(shell.pid) {
            if let Err(e) = self.inner.records.write(id.as_str(), &identity) {
                tracing::warn!(terminal = %id, "cannot record the shell's process: {e}");
            }
        }
        let info = TerminalInfo {
            id: id.clone(),
            workspace_id: workspace.clone(),
            shell: config.shell.display().to_string(),
            created_at: clock::now(),
        };
        let (input, inputs) = mpsc::channel(INPUT_QUEUE);
        let terminal = Arc::new(Terminal {
            info: info.clone(),
            output: Mutex::new(Output {
                ring: Ring::new(config.scrollback_bytes),
                live: broadcast::channel(LIVE_CHUNKS).0,
            }),
            input,
            stop: CancellationToken::new(),
            ended: CancellationToken::new(),
        });
        open.insert(id.clone(), terminal.clone());
        drop(open);
        tracing::info!(terminal = %id, workspace = %workspace, pid = shell.pid, "terminal opened");
        let this = self.clone();
        self.inner
            .tasks
            .spawn(async move { this.run(terminal, shell, inputs).await });
        Ok(info)
    }

    /// The terminals of a workspace, oldest first.
    pub fn list(&self, workspace: &WorkspaceId) -> Vec<TerminalInfo> {
        let mut list: Vec<TerminalInfo> = self
            .inner
            .open
            .lock()
            .expect("terminal registry lock")
            .values()
            .filter(|t| t.info.workspace_id == *workspace)
            .map(|t| t.info.clone())
            .collect();
        list.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        list
    }

    pub fn attach(&self, id: &TerminalId) -> DomainResult<Attachment> {
        let terminal = self.get(id)?;
        let output = terminal.output.lock().expect("terminal output lock");
        Ok(Attachment {
            scrollback: output.ring.contents(),
            live: output.live.subscribe(),
            input: terminal.input.clone(),
            ended: terminal.ended.clone(),
        })
    }

    /// Ends the terminal: its whole session is hung up, then killed after the grace.
    pub async fn end(&self, id: &TerminalId) -> DomainResult<()> {
        let terminal = self.get(id)?;
        terminal.stop.cancel();
        terminal.ended.cancelled().await;
        Ok(())
    }

    /// Ends every terminal of a workspace (before its worktree goes).
    pub async fn end_workspace(&self, workspace: &WorkspaceId) {
        let ending: Vec<Arc<Terminal>> = self
            .inner
            .open
            .lock()
            .expect("terminal registry lock")
            .values()
            .filter(|t| t.info.workspace_id == *workspace)
            .cloned()
            .collect();
        end_all(ending).await;
    }

    /// Ends every terminal (server shutdown).
    pub async fn shutdown(&self) {
        let ending: Vec<Arc<Terminal>> = self
            .inner
            .open
            .lock()
            .expect("terminal registry lock")
            .values()
            .cloned()
            .collect();
        end_all(ending).await;
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    /// After a restart: every shell a previous ff recorded is ended, if it is still the very
    /// process that ff started (a pid recorded before a reboot may be anyone's).
    pub async fn recover(&self) {
        for (path, identity) in self.inner.records.left_over() {
            if let Some(sid) = identity.as_ref().and_then(ProcessIdentity::live_session) {
                tracing::warn!(sid, "ending a terminal left over from before the restart");
                process::terminate_session(sid, self.inner.config.stop_grace, session_gone(sid))
                    .await;
            }
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), "cannot remove a terminal's record: {e}");
            }
        }
    }

    fn get(&self, id: &TerminalId) -> DomainResult<Arc<Terminal>> {
        self.inner
            .open
            .lock()
            .expect("terminal registry lock")
            .get(id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    /// The terminal's life: output pumped into the ring and the feed, input into the PTY, until
    /// the shell exits or the terminal is asked to end; then its session goes and it is
    /// forgotten.
    async fn run(&self, terminal: Arc<Terminal>, shell: pty::Shell, inputs: mpsc::Receiver<Input>) {
        let pty::Shell {
            pty,
            mut child,
            pid,
        } = shell;
        let (reader, writer) = pty.into_split();
        let reading = tokio::spawn(read_output(reader, terminal.clone()));
        let writing = tokio::spawn(write_input(writer, inputs));
        tokio::select! {
            _ = child.wait() => {}
            () = terminal.stop.cancelled() => {}
        }
        // Nothing the shell started outlives the terminal.
        let grace = self.inner.config.stop_grace;
        process::terminate_session(pid, grace, async {
            let _ = child.wait().await;
        })
        .await;
        let _ = tokio::time::timeout(grace, session_gone(pid)).await;
        // A process that left the session may still hold the PTY open: its output is not ours.
        reading.abort();
        writing.abort();
        self.inner
            .open
            .lock()
            .expect("terminal registry lock")
            .remove(&terminal.info.id);
        self.inner.records.remove(terminal.info.id.as_str());
        tracing::info!(terminal = %terminal.info.id, "terminal ended");
        terminal.ended.cancel();
    }
}

async fn end_all(terminals: Vec<Arc<Terminal>>) {
    for terminal in &terminals {
        terminal.stop.cancel();
    }
    for terminal in terminals {
        terminal.ended.cancelled().await;
    }
}

/// Reads the PTY at a bounded pace into the terminal's ring and feed, until it closes.
async fn read_output(mut reader: pty_process::OwnedReadPty, terminal: Arc<Terminal>) {
    let mut buffer = vec![0u8; READ_CHUNK];
    let mut window = tokio::time::Instant::now();
    let mut spent = 0usize;
    loop {
        let n = match reader.read(&mut buffer).await {
            // EIO once no process holds the PTY's other end any more.
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let chunk: Arc<[u8]> = Arc::from(&buffer[..n]);
        {
            let mut output = terminal.output.lock().expect("terminal output lock");
            output.ring.push(&chunk);
            // No watcher is not an error: the ring keeps the output for the next one.
            let _ = output.live.send(chunk);
        }
        spent += n;
        if spent >= BYTES_PER_WINDOW {
            tokio::time::sleep_until(window + PACE_WINDOW).await;
        }
        let now = tokio::time::Instant::now();
        if now >= window + PACE_WINDOW {
            window = now;
            spent = 0;
        }
    }
}

/// Writes what the watchers type into the PTY, and applies their resizes.
async fn write_input(mut writer: pty_process::OwnedWritePty, mut inputs: mpsc::Receiver<Input>) {
    while let Some(input) = inputs.recv().await {
        match input {
            Input::Bytes(bytes) => {
                if writer.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Input::Resize { cols, rows } => {
                if let Err(e) = writer.resize(pty_process::Size::new(rows, cols)) {
                    tracing::debug!("cannot resize a terminal: {e}");
                }
            }
        }
    }
}

/// Resolves once no process of the session is left.
async fn session_gone(sid: u32) {
    while process::session_alive(sid) {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
