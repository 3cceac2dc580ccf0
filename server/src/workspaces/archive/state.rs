//! Whether a worktree is in a state whose work an archive commit would strand: HEAD detached or
//! on another branch, or a rebase, merge, cherry-pick, revert or bisect stopped half-way. An
//! archive commit there lands beside the workspace's branch, and once the worktree is removed the
//! work survives only as dangling objects. ff refuses instead, saying what to finish first.

use crate::git::changes::open_worktree;
use git2::{Repository, RepositoryState};
use std::path::Path;

/// `Err` is the sentence the user reads: what state the worktree is in and how to leave it.
pub fn ready_to_archive(worktree: &Path, branch: &str) -> Result<(), String> {
    let repo = open_worktree(worktree)
        .map_err(|e| format!("Cannot read the worktree's repository: {}", e.message()))?;
    let at = head_commit(&repo);
    let in_progress = match repo.state() {
        RepositoryState::Clean => None,
        RepositoryState::Merge => Some(("a merge", "git merge --continue", "git merge --abort")),
        RepositoryState::Rebase
        | RepositoryState::RebaseInteractive
        | RepositoryState::RebaseMerge
        | RepositoryState::ApplyMailbox
        | RepositoryState::ApplyMailboxOrRebase => {
            Some(("a rebase", "git rebase --continue", "git rebase --abort"))
        }
        RepositoryState::CherryPick | RepositoryState::CherryPickSequence => Some((
            "a cherry-pick",
            "git cherry-pick --continue",
            "git cherry-pick --abort",
        )),
        RepositoryState::Revert | RepositoryState::RevertSequence => {
            Some(("a revert", "git revert --continue", "git revert --abort"))
        }
        RepositoryState::Bisect => Some(("a bisect", "git bisect reset", "git bisect reset")),
    };
    let path = worktree.display();
    if let Some((operation, finish, abort)) = in_progress {
        return Err(format!(
            "The worktree is in the middle of {operation} (HEAD at {at}): finish it (`{finish}`) \
             or abort it (`{abort}`) in {path}, then archive again. Nothing was changed."
        ));
    }
    let wanted = format!("refs/heads/{branch}");
    let head = repo
        .find_reference("HEAD")
        .map_err(|e| format!("Cannot read the worktree's HEAD: {}", e.message()))?;
    let target = head
        .symbolic_target()
        .map_err(|e| format!("Cannot read the worktree's HEAD: {}", e.message()))?;
    match target {
        Some(target) if target == wanted => Ok(()),
        Some(other) => Err(format!(
            "The worktree has branch {} checked out, not the workspace's branch {branch}: switch \
             back (`git switch {branch}`) in {path}, then archive again. Nothing was changed.",
            other.strip_prefix("refs/heads/").unwrap_or(other)
        )),
        None => {
            let unsaved = commits_not_on(&repo, &wanted)
                .map(|n| format!(", {n} commit(s) not on {branch}"))
                .unwrap_or_default();
            Err(format!(
                "HEAD is detached at {at}{unsaved}: check out the branch, or keep the commits on it \
                 (`git switch -C {branch}` keeps them), in {path}, then archive again. Nothing was \
                 changed."
            ))
        }
    }
}

fn head_commit(repo: &Repository) -> String {
    repo.head()
        .ok()
        .and_then(|h| h.target())
        .map(|oid| oid.to_string()[..7].to_owned())
        .unwrap_or_else(|| "no commit".to_owned())
}

/// Commits reachable from HEAD but not from `branch` (None when it cannot be counted).
fn commits_not_on(repo: &Repository, branch: &str) -> Option<usize> {
    let mut walk = repo.revwalk().ok()?;
    walk.push_head().ok()?;
    if let Ok(tip) = repo.refname_to_id(branch) {
        walk.hide(tip).ok()?;
    }
    Some(walk.count())
}
