//! Diff statistics of a worktree (R§7.6 meaning), computed in-process with libgit2: changed
//! files, added and deleted lines of the working tree against the merge base with
//! `origin/<default>` (or `<default>`), and whether anything is uncommitted or untracked.
//! Untracked files make `hasUncommitted` true but add no lines.

use crate::git::Git;
use ff_core::entry::GitStats;
use git2::{Delta, DiffOptions, Patch, Repository};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

pub fn compute(worktree: &Path, default_branch: &str) -> Result<GitStats, git2::Error> {
    let repo = Repository::open(worktree)?;
    let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let merge_base = head.as_ref().and_then(|head| {
        [
            format!("refs/remotes/origin/{default_branch}"),
            format!("refs/heads/{default_branch}"),
        ]
        .iter()
        .find_map(|name| {
            let other = repo.find_reference(name).ok()?.peel_to_commit().ok()?;
            repo.merge_base(head.id(), other.id()).ok()
        })
    });
    let head_tree = head.as_ref().map(|h| h.tree()).transpose()?;
    // Without a merge base (no default branch, or unrelated histories) the diff is against HEAD;
    // in a repository without commits, against nothing.
    let base_tree = match merge_base {
        Some(base) => Some(repo.find_commit(base)?.tree()?),
        None => head_tree.clone(),
    };
    let index = repo.index()?;
    // The one scan of the working tree: unstaged changes and untracked files.
    let mut options = DiffOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(false);
    let unstaged = repo.diff_index_to_workdir(Some(&index), Some(&mut options))?;
    let staged = repo.diff_tree_to_index(head_tree.as_ref(), Some(&index), None)?;
    let has_uncommitted = unstaged.deltas().len() > 0 || staged.deltas().len() > 0;
    // Base → index, then index → working tree: the working tree against the merge base.
    let mut changes = repo.diff_tree_to_index(base_tree.as_ref(), Some(&index), None)?;
    changes.merge(&unstaged)?;
    let (mut total, mut additions, mut deletions) = (0u32, 0u32, 0u32);
    for (position, delta) in changes.deltas().enumerate() {
        if delta.status() == Delta::Untracked {
            continue;
        }
        total += 1;
        if let Some(patch) = Patch::from_diff(&changes, position)? {
            let (_, added, deleted) = patch.line_stats()?;
            additions = additions.saturating_add(u32::try_from(added).unwrap_or(u32::MAX));
            deletions = deletions.saturating_add(u32::try_from(deleted).unwrap_or(u32::MAX));
        }
    }
    Ok(GitStats {
        total,
        additions,
        deletions,
        has_uncommitted,
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
    let repo = Repository::open(worktree)?;
    let oid = |name: &str| repo.refname_to_id(name).ok();
    let index = std::fs::metadata(repo.path().join("index"))
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())));
    Ok(RefsKey {
        refs: vec![
            repo.head().ok().and_then(|h| h.target()),
            oid(&format!("refs/remotes/origin/{default_branch}")),
            oid(&format!("refs/heads/{default_branch}")),
        ],
        index,
    })
}

/// [`compute`] off the async runtime, at most `limit.available_permits()` at a time, giving up
/// after `timeout` (a stuck filesystem must not stall a reconciliation pass).
pub async fn compute_bounded(
    worktree: &Path,
    default_branch: &str,
    limit: &Arc<Semaphore>,
    timeout: Duration,
) -> Result<(GitStats, RefsKey), String> {
    let worktree = worktree.to_owned();
    let branch = default_branch.to_owned();
    bounded(limit, timeout, move || {
        // The key is read first: a commit landing during the scan then misses the cache next time.
        let key = refs_key(&worktree, &branch)?;
        Ok((compute(&worktree, &branch)?, key))
    })
    .await
}

/// [`refs_key`] off the async runtime, under the same bounds.
pub async fn refs_key_bounded(
    worktree: &Path,
    default_branch: &str,
    limit: &Arc<Semaphore>,
    timeout: Duration,
) -> Result<RefsKey, String> {
    let worktree = worktree.to_owned();
    let branch = default_branch.to_owned();
    bounded(limit, timeout, move || refs_key(&worktree, &branch)).await
}

async fn bounded<T: Send + 'static>(
    limit: &Arc<Semaphore>,
    timeout: Duration,
    work: impl FnOnce() -> Result<T, git2::Error> + Send + 'static,
) -> Result<T, String> {
    // The permit goes with the work: a timed-out scan still holds it until it really ends, so
    // stuck filesystems cannot pile up blocking threads beyond the limit.
    let permit = limit
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| e.to_string())?;
    let work = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    });
    match tokio::time::timeout(timeout, work).await {
        Err(_) => Err(format!(
            "git statistics took longer than {} ms",
            timeout.as_millis()
        )),
        Ok(Err(e)) => Err(format!("git statistics failed: {e}")),
        Ok(Ok(result)) => result.map_err(|e| e.message().to_owned()),
    }
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
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args([
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    /// A repository on `main` with a feature branch checked out in a worktree.
    fn worktree() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        git(dir.path(), &["init", "-q", "repo"]);
        std::fs::write(repo.join("a.txt"), "1\n2\n3\n").unwrap();
        std::fs::write(repo.join("b.txt"), "b\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "base"]);
        let tree = dir.path().join("tree");
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "feature",
                tree.to_str().unwrap(),
            ],
        );
        (dir, tree)
    }

    async fn both(tree: &Path) -> (GitStats, GitStats) {
        let cli = with_git_commands(&Git::new(Duration::from_secs(10)), tree, "main")
            .await
            .unwrap();
        (compute(tree, "main").unwrap(), cli)
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

    #[tokio::test]
    async fn a_missing_worktree_is_an_error_and_a_stuck_one_times_out() {
        let err = compute(Path::new("/nonexistent/worktree"), "main").unwrap_err();
        assert!(!err.message().is_empty());
        let limit = Arc::new(Semaphore::new(1));
        let stuck = || {
            std::thread::sleep(Duration::from_millis(300));
            Ok(())
        };
        let err = bounded(&limit, Duration::from_millis(20), stuck)
            .await
            .unwrap_err();
        assert!(err.contains("took longer than 20 ms"), "{err}");
        let (_dir, tree) = worktree();
        let (measured, key) = compute_bounded(&tree, "main", &limit, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(measured, GitStats::default());
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
