//! Worktree file watching: edits refresh that workspace's git statistics within about a second,
//! ahead of the next reconciliation pass (snapshot.md §5).

use super::collector::WorktreeChange;
use super::reconcile::Reconciler;
use super::sleep_until;
use crate::worktree_files::Tree;
use ff_core::ids::WorkspaceId;
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
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

pub async fn monitor(
    reconciler: Arc<Reconciler>,
    mut input: mpsc::UnboundedReceiver<MonitorInput>,
    shutdown: CancellationToken,
) {
    let (edits_tx, mut edits) = mpsc::unbounded_channel::<WorkspaceId>();
    let roots: Roots = Arc::default();
    let callback_roots = roots.clone();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let roots = callback_roots.read().expect("watch roots lock");
        for path in &event.paths {
            if let Some((_, id)) = roots.iter().find(|(root, _)| path.starts_with(root)) {
                let _ = edits_tx.send(id.clone());
            }
        }
    });
    let mut watcher = match watcher {
        Ok(watcher) => Some(watcher),
        Err(e) => {
            tracing::warn!("file watching is unavailable ({e}); git statistics refresh on each reconciliation pass only");
            None
        }
    };
    let mut watched: HashMap<WorkspaceId, PathBuf> = HashMap::new();
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
                    watch(&mut watcher, &mut watched, &roots, &reconciler, id.clone(), path);
                    reconciler.refresh_git(&id).await;
                }
                Some(MonitorInput::Worktree(WorktreeChange::Gone(id))) => {
                    reconciler.forget(&id);
                    unwatch(&mut watcher, &mut watched, &roots, &reconciler, &id);
                    waiting.remove(&id);
                }
                Some(MonitorInput::Sync(live)) => {
                    let gone: Vec<WorkspaceId> = watched.keys().filter(|id| !live.contains_key(*id)).cloned().collect();
                    for id in gone {
                        unwatch(&mut watcher, &mut watched, &roots, &reconciler, &id);
                    }
                    for (id, path) in live {
                        watch(&mut watcher, &mut watched, &roots, &reconciler, id, path);
                    }
                }
                None => break,
            },
            Some(id) = edits.recv() => {
                let now = Instant::now();
                waiting.entry(id).and_modify(|(_, last)| *last = now).or_insert((now, now));
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

fn watch(
    watcher: &mut Option<notify::RecommendedWatcher>,
    watched: &mut HashMap<WorkspaceId, PathBuf>,
    roots: &Roots,
    reconciler: &Reconciler,
    id: WorkspaceId,
    path: PathBuf,
) {
    if watched.get(&id) == Some(&path) {
        return;
    }
    unwatch(watcher, watched, roots, reconciler, &id);
    // Without a working watch, statistics are measured on every pass instead.
    let Some(watcher) = watcher else { return };
    if let Err(e) = watcher.watch(&path, RecursiveMode::Recursive) {
        tracing::warn!(workspace = %id, path = %path.display(), "cannot watch the worktree: {e}");
        return;
    }
    let mut new_roots = vec![(path.clone(), id.clone())];
    // A linked worktree keeps its index and HEAD in the repository's git directory, outside the
    // tree: staging a file or committing changes nothing the tree watch sees.
    if let Some(git_dir) = linked_git_dir(&path) {
        match watcher.watch(&git_dir, RecursiveMode::NonRecursive) {
            Ok(()) => new_roots.push((git_dir, id.clone())),
            Err(e) => {
                tracing::warn!(workspace = %id, path = %git_dir.display(), "cannot watch the worktree's git directory: {e}");
            }
        }
    }
    roots.write().expect("watch roots lock").extend(new_roots);
    reconciler.set_watched(&id, true);
    watched.insert(id, path);
}

fn unwatch(
    watcher: &mut Option<notify::RecommendedWatcher>,
    watched: &mut HashMap<WorkspaceId, PathBuf>,
    roots: &Roots,
    reconciler: &Reconciler,
    id: &WorkspaceId,
) {
    reconciler.set_watched(id, false);
    if watched.remove(id).is_some() {
        // Not under the lock: `unwatch` waits for notify's thread, which may itself be waiting
        // for the lock to route an event, and neither would ever go on.
        let gone: Vec<PathBuf> = {
            let mut roots = roots.write().expect("watch roots lock");
            let (gone, kept) = roots
                .drain(..)
                .partition(|(_, watched_id)| watched_id == id);
            *roots = kept;
            gone.into_iter().map(|(root, _)| root).collect()
        };
        if let Some(watcher) = watcher {
            for root in &gone {
                // The directory may already be gone (archived); the watch went with it.
                let _ = watcher.unwatch(root);
            }
        }
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
