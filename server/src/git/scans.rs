//! Scans of worktrees, and other in-process reads of repositories, run off the async runtime,
//! bounded in number and in time, with the ones that never end kept track of, so that one
//! worktree cannot stall the others.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Scans that outlived their timeout and have not ended yet. A scan can hang for good where ff
/// cannot reach: libgit2 opens `.gitignore`, `.gitattributes`, the index, the configuration and
/// objects with a plain blocking `open`, so a FIFO an agent puts there holds it until someone
/// writes to it.
static STUCK: LazyLock<Mutex<Stuck>> = LazyLock::new(Default::default);

/// At most this many stuck scans run without a permit; past it a stuck scan keeps its permit, so
/// the threads hung scans hold stay bounded whatever the agents do.
const MAX_RELEASED: usize = 8;

/// Longest a scan waits for a permit. Only permits kept by stuck scans make a wait this long, and
/// then waiting longer would wait for ever.
const MAX_QUEUE_WAIT: Duration = Duration::from_secs(60);

/// A path and the kind of scan of it: each kind reads other files (the statistics read
/// `.gitignore`, the archive check does not), so one stuck kind must not refuse the others.
type Key = (PathBuf, &'static str);

#[derive(Default)]
struct Stuck {
    by_key: HashMap<Key, usize>,
    /// How many of them gave their permit back.
    released: usize,
}

/// Runs `work` (a scan of `path`, a worktree or a repository) off the async runtime, at most
/// `limit.available_permits()` at a time, giving up after `timeout` from when it got a permit:
/// a stuck filesystem must stall neither a reconciliation pass nor a request. `what` names the
/// work in the error, and its kind.
///
/// A scan that times out gives its permit back (up to [`MAX_RELEASED`] of them at once), so one
/// stuck worktree cannot hold every other one up; the same kind of scan of the path is refused
/// at once until that scan ends, so it cannot gather hung threads either.
pub async fn bounded<T: Send + 'static>(
    limit: &Arc<Semaphore>,
    timeout: Duration,
    path: &Path,
    what: &'static str,
    work: impl FnOnce() -> Result<T, git2::Error> + Send + 'static,
) -> Result<T, String> {
    // In a task of its own: a caller that goes away (a closed request) must not leave a hung
    // scan holding its permit without it being recorded as stuck.
    let run = run_bounded(limit.clone(), timeout, (path.to_owned(), what), work);
    tokio::spawn(run)
        .await
        .map_err(|e| format!("{what} failed: {e}"))?
}

async fn run_bounded<T: Send + 'static>(
    limit: Arc<Semaphore>,
    timeout: Duration,
    key: Key,
    work: impl FnOnce() -> Result<T, git2::Error> + Send + 'static,
) -> Result<T, String> {
    let what = key.1;
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
    let permit = tokio::time::timeout(MAX_QUEUE_WAIT, limit.acquire_owned())
        .await
        .map_err(|_| {
            format!(
                "{what}: no turn within {} s; every one is taken by scans that have not ended",
                MAX_QUEUE_WAIT.as_secs()
            )
        })?
        .map_err(|e| e.to_string())?;
    // Another scan of it may have got stuck while this one waited.
    if is_stuck() {
        return Err(refused());
    }
    let running = Arc::new(Mutex::new(Running {
        permit: Some(permit),
        ended: false,
        stuck: false,
        released: false,
    }));
    let ended = Ended {
        running: running.clone(),
        key: key.clone(),
    };
    let job = tokio::task::spawn_blocking(move || {
        let _ended = ended;
        work()
    });
    match tokio::time::timeout(timeout, job).await {
        Err(_) => {
            let mut running = running.lock().expect("scan lock");
            if !running.ended {
                let mut stuck = STUCK.lock().expect("stuck scans lock");
                *stuck.by_key.entry(key.clone()).or_default() += 1;
                running.stuck = true;
                if stuck.released < MAX_RELEASED {
                    stuck.released += 1;
                    running.released = true;
                    running.permit = None;
                }
            }
            Err(format!(
                "{what} took longer than {} ms",
                timeout.as_millis()
            ))
        }
        Ok(Err(e)) => Err(format!("{what} failed: {e}")),
        Ok(Ok(result)) => result.map_err(|e| e.message().to_owned()),
    }
}

/// A scan as the waiting side and the scan's thread both see it.
struct Running {
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ended: bool,
    /// Timed out before it ended, and so counted in [`STUCK`].
    stuck: bool,
    released: bool,
}

/// Ends a scan's bookkeeping when its work returns or panics.
struct Ended {
    running: Arc<Mutex<Running>>,
    key: Key,
}

impl Drop for Ended {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.ended = true;
        running.permit = None;
        if !running.stuck {
            return;
        }
        let mut stuck = STUCK.lock().unwrap_or_else(PoisonError::into_inner);
        if running.released {
            stuck.released -= 1;
        }
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

    #[tokio::test]
    async fn a_timed_out_scan_frees_its_permit_and_its_worktree_once_it_ends() {
        let limit = Arc::new(Semaphore::new(1));
        let (stuck, other) = (Path::new("/w/stuck-scan"), Path::new("/w/other-scan"));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let quick = Duration::from_millis(50);
        let err = bounded(&limit, quick, stuck, "scan", move || {
            wait.recv().ok();
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(err.contains("took longer than 50 ms"), "{err}");
        assert_eq!(limit.available_permits(), 1, "the permit came back");
        let long = Duration::from_secs(5);
        assert_eq!(bounded(&limit, long, other, "scan", || Ok(7)).await, Ok(7));
        let err = bounded(&limit, long, stuck, "scan", || Ok(1)).await;
        assert!(err.unwrap_err().contains("has not ended"));
        let other_kind = bounded(&limit, long, stuck, "another read", || Ok(2)).await;
        assert_eq!(
            other_kind,
            Ok(2),
            "another kind of read of the path goes on"
        );
        release.send(()).unwrap();
        for _ in 0..100 {
            if let Ok(n) = bounded(&limit, long, stuck, "scan", || Ok(1)).await {
                assert_eq!(n, 1);
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the worktree stayed refused after its scan ended");
    }

    /// Past [`MAX_RELEASED`] stuck scans keep their permits: a scan waiting for one gives up.
    #[tokio::test(start_paused = true)]
    async fn a_scan_waits_for_a_turn_only_so_long() {
        let limit = Arc::new(Semaphore::new(1));
        let _kept_by_a_stuck_scan = limit.clone().acquire_owned().await.unwrap();
        let path = Path::new("/w/waiting");
        let err = bounded(&limit, Duration::from_secs(5), path, "scan", || Ok(()))
            .await
            .unwrap_err();
        assert!(err.contains("no turn within 60 s"), "{err}");
    }

    #[tokio::test]
    async fn a_scan_whose_caller_left_or_that_panicked_is_still_accounted_for() {
        let limit = Arc::new(Semaphore::new(1));
        let worktree = Path::new("/w/left-behind");
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let scan = bounded(
            &limit,
            Duration::from_millis(50),
            worktree,
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
            if let Err(e) = bounded(&limit, long, worktree, "scan", || Ok(())).await {
                refused = e.contains("has not ended");
                break;
            }
        }
        assert!(refused, "the hung scan was recorded as stuck");
        assert_eq!(limit.available_permits(), 1, "and gave its permit back");
        release.send(()).unwrap();
        for _ in 0..100 {
            if bounded(&limit, long, worktree, "scan", || Ok(()))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("a stuck scan that panicked kept its worktree refused");
    }
}
