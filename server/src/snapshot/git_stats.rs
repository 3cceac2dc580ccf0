//! Diff statistics of a worktree (R§7.6 meaning), computed in-process with libgit2: changed
//! files, added and deleted lines of the working tree against the merge base with
//! `origin/<default>` (or `<default>`), and whether anything is uncommitted or untracked.
//! Untracked files make `hasUncommitted` true but add no lines. The scan itself is
//! [`crate::git::changes`], which the review diff reads too.

use crate::git::changes::{open_worktree, Changes};
use crate::git::scans::{bounded, Kind, Pool};
use crate::git::Git;
use ff_core::entry::GitStats;
use git2::Repository;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What one scan of a worktree tells: its statistics, and the paths it changes (untracked files
/// and both ends of a rename included), from which overlaps between workspaces are derived.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Measurement {
    pub stats: GitStats,
    pub paths: BTreeSet<String>,
}

pub fn compute(worktree: &Path, default_branch: &str) -> Result<Measurement, git2::Error> {
    measure(&open_worktree(worktree)?, default_branch)
}

fn measure(repo: &Repository, default_branch: &str) -> Result<Measurement, git2::Error> {
    let changes = Changes::scan(repo, default_branch)?;
    let files = changes.files(false)?;
    Ok(Measurement {
        stats: changes.stats(&files),
        paths: files
            .iter()
            .flat_map(|f| f.paths())
            .map(str::to_owned)
            .collect(),
    })
}

/// What the statistics of a worktree depend on besides its files: the commits HEAD and the
/// default branch point at, and the index (staging a new file makes it count). Reading it costs
/// a fraction of a working-tree scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefsKey {
    refs: Vec<Option<git2::Oid>>,
    index: Option<(std::time::SystemTime, u64)>,
}

pub fn refs_key(worktree: &Path, default_branch: &str) -> Result<RefsKey, git2::Error> {
    Ok(key_of(&open_worktree(worktree)?, default_branch))
}

fn key_of(repo: &Repository, default_branch: &str) -> RefsKey {
    let oid = |name: &str| repo.refname_to_id(name).ok();
    let index = std::fs::metadata(repo.path().join("index"))
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())));
    RefsKey {
        refs: vec![
            repo.head().ok().and_then(|h| h.target()),
            oid(&format!("refs/remotes/origin/{default_branch}")),
            oid(&format!("refs/heads/{default_branch}")),
        ],
        index,
    }
}

/// [`compute`] off the async runtime, with a turn of `pool`, giving up after `timeout` (a stuck
/// filesystem must not stall a reconciliation pass).
pub async fn compute_bounded(
    worktree: &Path,
    default_branch: &str,
    pool: &Arc<Pool>,
    timeout: Duration,
) -> Result<(Measurement, RefsKey), String> {
    let path = worktree.to_owned();
    let branch = default_branch.to_owned();
    bounded_stats(worktree, pool, timeout, move || {
        // One repository handle for both. The key is read first: a commit landing during the
        // scan then misses the cache next time.
        let repo = open_worktree(&path)?;
        let key = key_of(&repo, &branch);
        Ok((measure(&repo, &branch)?, key))
    })
    .await
}

/// [`refs_key`] off the async runtime, under the same bounds.
pub async fn refs_key_bounded(
    worktree: &Path,
    default_branch: &str,
    pool: &Arc<Pool>,
    timeout: Duration,
) -> Result<RefsKey, String> {
    let path = worktree.to_owned();
    let branch = default_branch.to_owned();
    bounded_stats(worktree, pool, timeout, move || refs_key(&path, &branch)).await
}

/// Work on a worktree's statistics under the pool's bounds: one kind of scan for both, so that a
/// stuck one refuses the other.
async fn bounded_stats<T: Send + 'static>(
    worktree: &Path,
    pool: &Arc<Pool>,
    timeout: Duration,
    work: impl FnOnce() -> Result<T, git2::Error> + Send + 'static,
) -> Result<T, String> {
    bounded(
        pool,
        timeout,
        worktree,
        Kind::Worktree,
        "git statistics",
        work,
    )
    .await
}

/// The same statistics from the `git` command sequence of R§7.6 (status, merge-base, diff
/// --numstat, diff --name-only): 4–5 processes per worktree. Kept as the reference that the
/// in-process version is checked and measured against.
pub async fn with_git_commands(
    git: &Git,
    worktree: &Path,
    default_branch: &str,
) -> Result<GitStats, String> {
    let status = git
        .run(worktree, ["status", "--porcelain"])
        .await
        .map_err(|e| e.to_string())?;
    let mut base = None;
    for candidate in [
        format!("origin/{default_branch}"),
        default_branch.to_owned(),
    ] {
        if let Ok(found) = git.run(worktree, ["merge-base", "HEAD", &candidate]).await {
            if !found.is_empty() {
                base = Some(found);
                break;
            }
        }
    }
    let base = base.unwrap_or_else(|| "HEAD".to_owned());
    let numstat = git
        .run(worktree, ["diff", "--numstat", &base])
        .await
        .unwrap_or_default();
    let names = git
        .run(worktree, ["diff", "--name-only", &base])
        .await
        .unwrap_or_default();
    let (mut additions, mut deletions) = (0u32, 0u32);
    for line in numstat.lines() {
        let mut columns = line.split('\t');
        additions += columns
            .next()
            .and_then(|c| c.parse::<u32>().ok())
            .unwrap_or(0);
        deletions += columns
            .next()
            .and_then(|c| c.parse::<u32>().ok())
            .unwrap_or(0);
    }
    Ok(GitStats {
        total: u32::try_from(names.lines().filter(|l| !l.is_empty()).count()).unwrap_or(u32::MAX),
        additions,
        deletions,
        has_uncommitted: !status.trim().is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::git;

    /// A repository on `main` with a feature branch checked out in a worktree.
    fn worktree() -> (tempfile::TempDir, std::path::PathBuf) {
        crate::git::testing::worktree(&[("a.txt", b"1\n2\n3\n"), ("b.txt", b"b\n")])
    }

    async fn both(tree: &Path) -> (GitStats, GitStats) {
        let cli = with_git_commands(&Git::new(Duration::from_secs(10)), tree, "main")
            .await
            .unwrap();
        (compute(tree, "main").unwrap().stats, cli)
    }

    #[tokio::test]
    async fn a_clean_worktree_has_no_changes() {
        let (_dir, tree) = worktree();
        let (in_process, cli) = both(&tree).await;
        assert_eq!(in_process, GitStats::default());
        assert_eq!(in_process, cli);
    }

    #[tokio::test]
    async fn committed_and_uncommitted_changes_count_and_untracked_files_only_mark_dirty() {
        let (_dir, tree) = worktree();
        std::fs::write(tree.join("a.txt"), "1\n2 changed\n3\n4\n").unwrap();
        git(&tree, &["commit", "-q", "-am", "committed change"]);
        std::fs::write(tree.join("b.txt"), "").unwrap();
        std::fs::write(tree.join("new.txt"), "untracked\nlines\n").unwrap();
        let (in_process, cli) = both(&tree).await;
        assert_eq!(
            in_process,
            GitStats {
                total: 2,
                additions: 2,
                deletions: 2,
                has_uncommitted: true
            }
        );
        assert_eq!(in_process, cli, "same meaning as the git command sequence");
    }

    /// A FIFO where libgit2 reads `.gitignore` holds its scan for good: the scan times out,
    /// the other worktrees are still scanned, and the stuck one is refused at once meanwhile.
    #[tokio::test]
    async fn a_worktree_whose_scan_hangs_holds_up_only_itself() {
        let (_a, stuck) = worktree();
        let (_b, other) = worktree();
        let _fifo = crate::git::testing::Fifo::at(&stuck.join(".gitignore"));
        let pool = Pool::new(1);
        let timeout = Duration::from_millis(500);
        let err = compute_bounded(&stuck, "main", &pool, timeout)
            .await
            .unwrap_err();
        assert!(err.contains("took longer"), "{err}");
        let scanned = tokio::time::timeout(
            Duration::from_secs(10),
            compute_bounded(&other, "main", &pool, timeout),
        )
        .await
        .expect("the other worktree waited for the stuck scan's permit");
        assert!(scanned.is_ok(), "{scanned:?}");
        let err = compute_bounded(&stuck, "main", &pool, timeout)
            .await
            .unwrap_err();
        assert!(err.contains("has not ended"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_worktree_is_an_error_and_a_stuck_one_times_out() {
        let err = compute(Path::new("/nonexistent/worktree"), "main").unwrap_err();
        assert!(!err.message().is_empty());
        let pool = Pool::new(1);
        let stuck = || {
            std::thread::sleep(Duration::from_millis(300));
            Ok(())
        };
        let slow = Path::new("/slow/worktree");
        let err = bounded(
            &pool,
            Duration::from_millis(20),
            slow,
            Kind::Worktree,
            "git statistics",
            stuck,
        )
        .await
        .unwrap_err();
        assert!(err.contains("took longer than 20 ms"), "{err}");
        let (_dir, tree) = worktree();
        let (measured, key) = compute_bounded(&tree, "main", &pool, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(measured, Measurement::default());
        assert_eq!(refs_key(&tree, "main").unwrap(), key);
        git(
            &tree,
            &["commit", "-q", "--allow-empty", "-m", "moves HEAD"],
        );
        let committed = refs_key(&tree, "main").unwrap();
        assert_ne!(committed, key, "a commit changes the key");
        std::fs::write(tree.join("staged.txt"), "new\n").unwrap();
        git(&tree, &["add", "staged.txt"]);
        assert_ne!(
            refs_key(&tree, "main").unwrap(),
            committed,
            "staging changes the key"
        );
    }
}
