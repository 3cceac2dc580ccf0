//! Scans of worktrees, and other in-process reads of repositories, run off the async runtime,
//! bounded in number and in time, with the ones that never end kept track of, so that one
//! worktree cannot stall the others.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Scans that outlived their timeout and have not ended yet. A scan can hang for good where ff
/// cannot reach: libgit2 opens `.gitignore`, `.gitattributes`, the index, the configuration and
/// objects with a plain blocking `open`, so a FIFO an agent puts there holds it until someone
/// writes to it.
static STUCK: LazyLock<Mutex<Stuck>> = LazyLock::new(Default::default);

/// At most this many stuck scans of a pool run without a turn; past it a stuck scan keeps its
/// turn, so the threads hung scans hold stay bounded whatever the agents do.
const MAX_RELEASED: usize = 8;

/// What a scan reads, which decides what a stuck one refuses: scans of the same kind and path,
/// which read the same files. (A file every kind reads, such as the repository's
/// configuration, can still hold one scan of each kind.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The status and diff of a worktree (its statistics, its review): the index, every
    /// `.gitignore` and `.gitattributes`, and the repository's configuration and objects.
    Worktree,
    /// Another read, named for what it does.
    Read(&'static str),
}

type Key = (PathBuf, Kind);

#[derive(Default)]
struct Stuck {
    by_key: HashMap<Key, usize>,
}

/// Turns for scans: at most `size` run at once. A scan that times out holds its turn no longer:
/// it comes back at once while at most [`MAX_RELEASED`] of the pool's scans are stuck, and past
/// that when one of them ends. Once stuck scans keep every turn, none would come back, and a
/// scan waiting for one is refused at once instead of waiting for ever.
#[derive(Debug)]
pub struct Pool {
    turns: Arc<Semaphore>,
    size: usize,
    /// Its scans that timed out and have not ended.
    stuck: Mutex<usize>,
    all_kept: Notify,
}

impl Pool {
    pub fn new(size: usize) -> Arc<Self> {
        let size = size.max(1);
        Arc::new(Self {
            turns: Arc::new(Semaphore::new(size)),
            size,
            stuck: Mutex::new(0),
            all_kept: Notify::new(),
        })
    }

    /// Turns no scan holds now.
    pub fn free(&self) -> usize {
        self.turns.available_permits()
    }

    /// A turn, or `None` once stuck scans keep every one.
    async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        loop {
            let notified = self.all_kept.notified();
            tokio::pin!(notified);
            // Registered before the check, so that keeping the last turn after it still wakes us.
            notified.as_mut().enable();
            if self.all_kept() {
                return None;
            }
            tokio::select! {
                // A turn that came back just as the last one was kept is taken, not refused.
                biased;
                turn = self.turns.clone().acquire_owned() => return turn.ok(),
                () = notified => {}
            }
        }
    }

    fn stuck(&self) -> std::sync::MutexGuard<'_, usize> {
        self.stuck.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn all_kept(&self) -> bool {
        self.stuck().saturating_sub(MAX_RELEASED) >= self.size
    }

    /// One of its scans timed out holding `turn`.
    fn got_stuck(&self, turn: OwnedSemaphorePermit) {
        let mut stuck = self.stuck();
        *stuck += 1;
        turn.forget();
        if *stuck <= MAX_RELEASED {
            self.turns.add_permits(1);
        } else if *stuck - MAX_RELEASED >= self.size {
            self.all_kept.notify_waiters();
        }
    }

    /// One of its stuck scans ended: a turn kept by one comes back.
    fn unstuck(&self) {
        let mut stuck = self.stuck();
        if *stuck > MAX_RELEASED {
            self.turns.add_permits(1);
        }
        *stuck -= 1;
    }
}

/// Runs `work` (a scan of `path`, a worktree or a repository) off the async runtime, with a turn
/// of `pool`, giving up after `timeout` from when it got the turn: a stuck filesystem must stall
/// neither a reconciliation pass nor a request. `what` names the work in the errors.
///
/// A scan that times out gives its turn back (up to [`MAX_RELEASED`] of them at once), so one
/// stuck worktree cannot hold every other one up; the same kind of scan of the path is refused
/// at once until that scan ends, so it cannot gather hung threads either.
pub async fn bounded<T: Send + 'static>(
    pool: &Arc<Pool>,
    timeout: Duration,
    path: &Path,
    kind: Kind,
    what: &'static str,
    work: impl FnOnce() -> Result<T, git2::Error> + Send + 'static,
) -> Result<T, String> {
    // In a task of its own: a caller that goes away (a closed request) must not leave a hung
    // scan holding its turn without it being recorded as stuck.
    let run = run_bounded(pool.clone(), timeout, (path.to_owned(), kind), what, work);
    tokio::spawn(run)
        .await
        .map_err(|e| format!("{what} failed: {e}"))?
}

async fn run_bounded<T: Send + 'static>(
    pool: Arc<Pool>,
    timeout: Duration,
    key: Key,
    what: &'static str,
    work: impl FnOnce() -> Result<T, git2::Error> + Send + 'static,
) -> Result<T, String> {
    let refused = || {
        format!(
            "{what}: an earlier scan of {} has not ended (a file there blocks reading, such as a \
             FIFO); it is scanned again once that scan ends",
            key.0.display()
        )
    };
    let is_stuck = || {
        STUCK
            .lock()
            .expect("stuck scans lock")
            .by_key
            .contains_key(&key)
    };
    if is_stuck() {
        return Err(refused());
    }
    let Some(turn) = pool.turn().await else {
        return Err(format!(
            "{what}: every turn is kept by scans that have not ended (files that block reading, \
             such as FIFOs); nothing is scanned until one of them ends"
        ));
    };
    // Another scan of it may have got stuck while this one waited.
    if is_stuck() {
        return Err(refused());
    }
    let running = Arc::new(Mutex::new(Running {
        turn: Some(turn),
        ended: false,
        stuck: false,
    }));
    let ended = Ended {
        running: running.clone(),
        key: key.clone(),
        pool: pool.clone(),
    };
    let mut job = tokio::task::spawn_blocking(move || {
        let _ended = ended;
        work()
    });
    let joined = match tokio::time::timeout(timeout, &mut job).await {
        Ok(joined) => joined,
        Err(_) => {
            {
                let mut running = running.lock().expect("scan lock");
                if !running.ended {
                    let mut stuck = STUCK.lock().expect("stuck scans lock");
                    *stuck.by_key.entry(key).or_default() += 1;
                    running.stuck = true;
                    if let Some(turn) = running.turn.take() {
                        pool.got_stuck(turn);
                    }
                    return Err(format!(
                        "{what} took longer than {} ms",
                        timeout.as_millis()
                    ));
                }
            }
            // It ended just as its time ran out: its result is there.
            job.await
        }
    };
    match joined {
        Err(e) => Err(format!("{what} failed: {e}")),
        Ok(result) => result.map_err(|e| e.message().to_owned()),
    }
}

/// A scan as the waiting side and the scan's thread both see it.
struct Running {
    turn: Option<OwnedSemaphorePermit>,
    ended: bool,
    /// Timed out before it ended, and so counted in [`STUCK`] and its pool; its turn is the
    /// pool's to give back.
    stuck: bool,
}

/// Ends a scan's bookkeeping when its work returns or panics.
struct Ended {
    running: Arc<Mutex<Running>>,
    key: Key,
    pool: Arc<Pool>,
}

impl Drop for Ended {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.ended = true;
        running.turn = None;
        if !running.stuck {
            return;
        }
        self.pool.unstuck();
        let mut stuck = STUCK.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = stuck.by_key.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                stuck.by_key.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::eventually_ok;

    const SCAN: Kind = Kind::Worktree;

    #[tokio::test]
    async fn a_timed_out_scan_frees_its_permit_and_its_worktree_once_it_ends() {
        let pool = Pool::new(1);
        let (stuck, other) = (Path::new("/w/stuck-scan"), Path::new("/w/other-scan"));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let quick = Duration::from_millis(50);
        let err = bounded(&pool, quick, stuck, SCAN, "scan", move || {
            wait.recv().ok();
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(err.contains("took longer than 50 ms"), "{err}");
        assert_eq!(pool.free(), 1, "the permit came back");
        let long = Duration::from_secs(5);
        assert_eq!(
            bounded(&pool, long, other, SCAN, "scan", || Ok(7)).await,
            Ok(7)
        );
        let err = bounded(&pool, long, stuck, SCAN, "scan", || Ok(1)).await;
        assert!(err.unwrap_err().contains("has not ended"));
        let other_kind = bounded(
            &pool,
            long,
            stuck,
            Kind::Read("another read"),
            "another read",
            || Ok(2),
        )
        .await;
        assert_eq!(
            other_kind,
            Ok(2),
            "another kind of read of the path goes on"
        );
        release.send(()).unwrap();
        let again = eventually_ok("the worktree stayed refused after its scan ended", || {
            bounded(&pool, long, stuck, SCAN, "scan", || Ok(1))
        });
        assert_eq!(again.await, 1);
    }

    /// Past [`MAX_RELEASED`] stuck scans keep their turns: once they keep every one, a scan
    /// waiting for a turn, and any that asks later, is refused at once. Any stuck scan that
    /// ends, not only the one keeping it, brings a kept turn back.
    #[tokio::test]
    async fn once_stuck_scans_keep_every_turn_a_scan_is_refused_instead_of_waiting() {
        let pool = Pool::new(1);
        let mut gates = Vec::new();
        let mut stuck = |name: &str, timeout: Duration| {
            let (gate, wait) = std::sync::mpsc::channel::<()>();
            gates.push(gate);
            let (pool, path) = (pool.clone(), PathBuf::from(name));
            async move {
                bounded(&pool, timeout, &path, SCAN, "scan", move || {
                    wait.recv().ok();
                    Ok(())
                })
                .await
            }
        };
        let quick = Duration::from_millis(20);
        for i in 0..MAX_RELEASED {
            let err = stuck(&format!("/w/released-{i}"), quick).await.unwrap_err();
            assert!(err.contains("took longer"), "{err}");
        }
        assert_eq!(pool.free(), 1, "those gave their turn back");
        // Long enough for the next scan to be waiting when this one gets stuck and keeps it.
        let keeping = tokio::spawn(stuck("/w/keeping", Duration::from_millis(300)));
        while pool.free() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let (long, at_once) = (Duration::from_secs(5), Duration::from_secs(10));
        let scan =
            |name: &'static str| bounded(&pool, long, Path::new(name), SCAN, "scan", || Ok(()));
        let waiting = tokio::time::timeout(at_once, scan("/w/waiting")).await;
        let err = waiting.expect("refused, not left waiting").unwrap_err();
        assert!(err.contains("every turn is kept"), "{err}");
        assert!(keeping.await.unwrap().unwrap_err().contains("took longer"));
        let later = tokio::time::timeout(at_once, scan("/w/later")).await;
        let err = later.expect("refused at once").unwrap_err();
        assert!(err.contains("every turn is kept"), "{err}");

        // One of the first stuck scans ends; the one keeping the turn is still stuck.
        drop(gates.remove(0));
        let what = "the kept turn never came back once a stuck scan ended";
        eventually_ok(what, || scan("/w/after")).await;
    }

    #[tokio::test]
    async fn a_scan_whose_caller_left_or_that_panicked_is_still_accounted_for() {
        let pool = Pool::new(1);
        let worktree = Path::new("/w/left-behind");
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let scan = bounded(
            &pool,
            Duration::from_millis(50),
            worktree,
            SCAN,
            "scan",
            move || -> Result<(), git2::Error> {
                wait.recv().ok();
                panic!("the scan fails once it is let go");
            },
        );
        // The caller goes away before the scan's timeout (a closed request).
        assert!(tokio::time::timeout(Duration::from_millis(10), scan)
            .await
            .is_err());
        let long = Duration::from_secs(5);
        let mut refused = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Err(e) = bounded(&pool, long, worktree, SCAN, "scan", || Ok(())).await {
                refused = e.contains("has not ended");
                break;
            }
        }
        assert!(refused, "the hung scan was recorded as stuck");
        assert_eq!(pool.free(), 1, "and gave its permit back");
        release.send(()).unwrap();
        let what = "a stuck scan that panicked kept its worktree refused";
        eventually_ok(what, || {
            bounded(&pool, long, worktree, SCAN, "scan", || Ok(()))
        })
        .await;
    }
}
