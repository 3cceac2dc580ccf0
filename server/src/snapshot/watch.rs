//! Worktree file watching: edits refresh that workspace's git statistics within about a second,
//! ahead of the next reconciliation pass (snapshot.md §5).

use super::collector::WorktreeChange;
use super::reconcile::Reconciler;
use super::sleep_until;
use crate::worktree_files::Tree;
use ff_core::ids::WorkspaceId;
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

/// Quiet time after the last edit before measuring.
const SETTLE: Duration = Duration::from_millis(300);
/// Longest a stream of edits can postpone a measurement.
const MAX_WAIT: Duration = Duration::from_secs(1);

/// Input of the monitor besides file events.
pub enum MonitorInput {
    Worktree(WorktreeChange),
    /// Every live worktree, as the last reconciliation pass found them.
    Sync(HashMap<WorkspaceId, PathBuf>),
}

type Roots = Arc<RwLock<Vec<(PathBuf, WorkspaceId)>>>;

/// Workspaces whose files changed since the monitor last looked: a set, so a flood of file events
/// takes no more room than one per workspace while the monitor is busy.
#[derive(Default)]
struct Edited {
    ids: Mutex<HashSet<WorkspaceId>>,
    wake: Notify,
}

/// What the monitor asks of the thread that owns the watcher.
enum Request {
    Watch(WorkspaceId, PathBuf),
    Unwatch(Vec<PathBuf>),
}

/// A watch the thread set up: the roots it covers, or why it could not.
struct Registered {
    id: WorkspaceId,
    path: PathBuf,
    roots: Result<Vec<PathBuf>, String>,
}

pub async fn monitor(
    reconciler: Arc<Reconciler>,
    mut input: mpsc::UnboundedReceiver<MonitorInput>,
    shutdown: CancellationToken,
) {
    let edited = Arc::new(Edited::default());
    let roots: Roots = Arc::default();
    let (callback_roots, callback_edited) = (roots.clone(), edited.clone());
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let roots = callback_roots.read().expect("watch roots lock");
        let mut ids = callback_edited.ids.lock().expect("edited lock");
        for path in &event.paths {
            if let Some((_, id)) = roots.iter().find(|(root, _)| path.starts_with(root)) {
                ids.insert(id.clone());
            }
        }
        drop(ids);
        callback_edited.wake.notify_one();
    });
    let (requests, registered) = match watcher {
        Ok(watcher) => {
            let (requests, registered) = watcher_thread(watcher);
            (Some(requests), registered)
        }
        Err(e) => {
            tracing::warn!("file watching is unavailable ({e}); git statistics refresh on each reconciliation pass only");
            (None, mpsc::unbounded_channel().1)
        }
    };
    let mut watches = Watches {
        requests,
        roots,
        reconciler: reconciler.clone(),
        watched: HashMap::new(),
        pending: HashMap::new(),
    };
    let mut registered = registered;
    let mut waiting: HashMap<WorkspaceId, (Instant, Instant)> = HashMap::new();
    loop {
        let due = waiting
            .values()
            .map(|(first, last)| (*last + SETTLE).min(*first + MAX_WAIT))
            .min();
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            message = input.recv() => match message {
                Some(MonitorInput::Worktree(WorktreeChange::Ready(id, path))) => {
                    // Measured now, for the board; a watch being set up measures it again once
                    // it is on, for what changed meanwhile.
                    watches.want(id.clone(), path);
                    reconciler.refresh_git(&id).await;
                }
                Some(MonitorInput::Worktree(WorktreeChange::Gone(id))) => {
                    reconciler.forget(&id);
                    watches.drop_watch(&id);
                    waiting.remove(&id);
                }
                Some(MonitorInput::Sync(live)) => {
                    let gone: Vec<WorkspaceId> = watches.known().filter(|id| !live.contains_key(*id)).cloned().collect();
                    for id in gone {
                        watches.drop_watch(&id);
                    }
                    for (id, path) in live {
                        watches.want(id, path);
                    }
                }
                None => break,
            },
            Some(done) = registered.recv() => {
                let id = done.id.clone();
                if watches.registered(done) {
                    // Measured once the watch is on: an edit made while it was set up is seen.
                    reconciler.refresh_git(&id).await;
                }
            }
            () = edited.wake.notified() => {
                let now = Instant::now();
                let ids = std::mem::take(&mut *edited.ids.lock().expect("edited lock"));
                for id in ids {
                    waiting.entry(id).and_modify(|(_, last)| *last = now).or_insert((now, now));
                }
            }
            () = sleep_until(due), if due.is_some() => {
                let now = Instant::now();
                let ready: Vec<WorkspaceId> = waiting
                    .iter()
                    .filter(|(_, (first, last))| (*last + SETTLE).min(*first + MAX_WAIT) <= now)
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in ready {
                    waiting.remove(&id);
                    reconciler.refresh_git(&id).await;
                }
            }
        }
    }
}

/// The watcher on a thread of its own: watching a worktree walks all of it (notify adds a watch
/// per directory), which for a large tree takes long enough to hold an async worker and the
/// monitor's other work. Requests are handled in order; the thread ends with the monitor.
fn watcher_thread(
    mut watcher: notify::RecommendedWatcher,
) -> (
    std::sync::mpsc::Sender<Request>,
    mpsc::UnboundedReceiver<Registered>,
) {
    let (requests, incoming) = std::sync::mpsc::channel::<Request>();
    let (done, registered) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("ff-watcher".into())
        .spawn(move || {
            for request in incoming {
                match request {
                    Request::Watch(id, path) => {
                        let roots = watch_tree(&mut watcher, &path);
                        if done.send(Registered { id, path, roots }).is_err() {
                            return;
                        }
                    }
                    Request::Unwatch(roots) => {
                        for root in &roots {
                            // The directory may already be gone (archived); the watch went with it.
                            let _ = watcher.unwatch(root);
                        }
                    }
                }
            }
        })
        .expect("the watcher thread starts");
    (requests, registered)
}

/// Watches a worktree and, for a linked one, its private git directory; the roots watched.
fn watch_tree(
    watcher: &mut notify::RecommendedWatcher,
    path: &Path,
) -> Result<Vec<PathBuf>, String> {
    watcher
        .watch(path, RecursiveMode::Recursive)
        .map_err(|e| e.to_string())?;
    let mut roots = vec![path.to_owned()];
    // A linked worktree keeps its index and HEAD in the repository's git directory, outside the
    // tree: staging a file or committing changes nothing the tree watch sees.
    if let Some(git_dir) = linked_git_dir(path) {
        match watcher.watch(&git_dir, RecursiveMode::NonRecursive) {
            Ok(()) => roots.push(git_dir),
            Err(e) => {
                tracing::warn!(path = %git_dir.display(), "cannot watch the worktree's git directory: {e}");
            }
        }
    }
    Ok(roots)
}

/// Which worktrees are watched, or asked to be, as the monitor sees it.
struct Watches {
    /// `None` without a working watcher: statistics are then measured on every pass instead.
    requests: Option<std::sync::mpsc::Sender<Request>>,
    roots: Roots,
    reconciler: Arc<Reconciler>,
    watched: HashMap<WorkspaceId, PathBuf>,
    pending: HashMap<WorkspaceId, PathBuf>,
}

impl Watches {
    fn known(&self) -> impl Iterator<Item = &WorkspaceId> {
        self.watched.keys().chain(self.pending.keys())
    }

    /// Has `path` watched for `id`; true while that watch is being set up (its worktree is
    /// measured once it is on), false when it already was or cannot be.
    fn want(&mut self, id: WorkspaceId, path: PathBuf) -> bool {
        let Some(requests) = self.requests.clone() else {
            return false;
        };
        if self.watched.get(&id) == Some(&path) {
            return false;
        }
        if self.pending.get(&id) == Some(&path) {
            return true;
        }
        self.drop_watch(&id);
        if requests
            .send(Request::Watch(id.clone(), path.clone()))
            .is_err()
        {
            return false;
        }
        self.pending.insert(id, path);
        true
    }

    fn drop_watch(&mut self, id: &WorkspaceId) {
        self.reconciler.set_watched(id, false);
        self.pending.remove(id);
        if self.watched.remove(id).is_some() {
            let gone: Vec<PathBuf> = {
                let mut roots = self.roots.write().expect("watch roots lock");
                let (gone, kept) = roots
                    .drain(..)
                    .partition(|(_, watched_id)| watched_id == id);
                *roots = kept;
                gone.into_iter().map(|(root, _)| root).collect()
            };
            self.unwatch(gone);
        }
    }

    fn unwatch(&self, roots: Vec<PathBuf>) {
        if let Some(requests) = &self.requests {
            let _ = requests.send(Request::Unwatch(roots));
        }
    }

    /// Takes a watch the thread set up; true when it is the one still wanted (and it worked
    /// or not, the worktree is to be measured now).
    fn registered(&mut self, done: Registered) -> bool {
        if self.pending.get(&done.id) != Some(&done.path) {
            // Gone, or another path wanted meanwhile: this watch is not needed.
            if let Ok(roots) = done.roots {
                self.unwatch(roots);
            }
            return false;
        }
        self.pending.remove(&done.id);
        match done.roots {
            Ok(roots) => {
                let mut all = self.roots.write().expect("watch roots lock");
                all.extend(roots.into_iter().map(|root| (root, done.id.clone())));
                drop(all);
                self.reconciler.set_watched(&done.id, true);
                self.watched.insert(done.id, done.path);
            }
            Err(e) => {
                tracing::warn!(workspace = %done.id, path = %done.path.display(), "cannot watch the worktree: {e}");
            }
        }
        true
    }
}

/// The private git directory of a linked worktree (`.git` is then a file naming it). Read
/// without blocking: the agent can put a FIFO there.
fn linked_git_dir(worktree: &Path) -> Option<PathBuf> {
    let text = Tree::open(worktree)
        .ok()?
        .read(Path::new(".git"), 4096)
        .ok()?;
    let text = std::str::from_utf8(&text).ok()?;
    let dir = Path::new(text.strip_prefix("gitdir:")?.trim());
    Some(worktree.join(dir))
}
