//! Archive (D§2.6): stop the run script, commit every uncommitted and untracked change to the
//! workspace's branch, move ignored files aside, remove the worktree. The branch stays. Nothing
//! is ever lost: a worktree whose work an archive would strand is refused with a CONFLICT that
//! says why, and any failure rolls back.

use super::store::WorkspaceRecord;
use crate::git::{Git, GitError};
use ff_core::api::{ErrorCode, ErrorDetail, Project};
use std::path::Path;

mod aside;
mod state;

fn conflict(message: impl Into<String>) -> ErrorDetail {
    ErrorDetail {
        code: ErrorCode::Conflict,
        message: message.into(),
    }
}

fn internal(message: impl Into<String>) -> ErrorDetail {
    ErrorDetail {
        code: ErrorCode::Internal,
        message: message.into(),
    }
}

impl From<GitError> for ErrorDetail {
    fn from(e: GitError) -> Self {
        if e.stderr().contains("index.lock") {
            return ErrorDetail {
                code: ErrorCode::Conflict,
                message: format!(
                    "The worktree's git index is locked (another git process may be running, or \
                     one crashed and left index.lock behind); nothing was archived. {}",
                    e.stderr()
                ),
            };
        }
        internal(e.to_string())
    }
}

/// Removes the worktree of `record` after saving its work: tracked and untracked changes are
/// committed to the workspace's branch, ignored files are moved aside into `aside_dir`. `Ok`
/// carries what the workspace should say about the archive (where ignored files went).
pub async fn remove_worktree(
    git: &Git,
    record: &WorkspaceRecord,
    project: &Project,
    aside_dir: &Path,
) -> Result<Option<String>, ErrorDetail> {
    let Some(path) = record.workspace.worktree_path.as_deref().map(Path::new) else {
        return Ok(None);
    };
    if !path.exists() {
        let _ = git
            .run(Path::new(&project.repo_path), ["worktree", "prune"])
            .await;
        return Ok(None);
    }
    ensure_own_worktree(
        path,
        Path::new(&project.worktree_base_path),
        record.workspace.id.as_str(),
    )?;
    let branch = record
        .workspace
        .branch_name
        .clone()
        .ok_or_else(|| internal("The workspace has a worktree but no branch"))?;
    check_state(git, path, branch).await?;
    refuse_nested_repositories(git, path).await?;
    commit_everything(git, path, &record.workspace.name).await?;
    let ignored = listed(git, path, &["--ignored", "--directory"]).await?;
    let moved = if ignored.is_empty() {
        None
    } else {
        Some(
            aside::move_aside(path, &ignored, aside_dir)
                .await
                .map_err(internal)?,
        )
    };
    let removed = remove_clean(git, path, Path::new(&project.repo_path)).await;
    match (removed, moved) {
        (Ok(()), None) => Ok(None),
        (Ok(()), Some(moved)) => Ok(Some(format!(
            "Ignored files were kept in {}: {}",
            moved.dir.display(),
            moved.paths.join(", ")
        ))),
        (Err(mut detail), moved) => {
            if let Some(moved) = moved {
                if let Err(e) = aside::put_back(path, &moved).await {
                    detail.message.push_str(&format!(" ({e})"));
                }
            }
            Err(detail)
        }
    }
}

/// HEAD on the workspace's branch and no operation stopped half-way (read in-process, within
/// git's bounds).
async fn check_state(git: &Git, worktree: &Path, branch: String) -> Result<(), ErrorDetail> {
    let path = worktree.to_owned();
    let checked = git
        .read(worktree, "reading the worktree's state", move || {
            Ok(state::ready_to_archive(&path, &branch))
        })
        .await;
    match checked {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(conflict(message)),
        // The worktree's own state, as a stopped rebase is: the user can act on it.
        Err(e) => Err(conflict(format!(
            "Nothing was archived: {e}. A file in the worktree or its repository's .git that \
             blocks reading (a FIFO an agent left, say) stops the check: find it (`find '{}' \
             -type p`, and the same in the repository's .git), write to it once (`: > FILE`) so \
             the read waiting on it ends, remove it, then archive again.",
            worktree.display()
        ))),
    }
}

/// An untracked directory holding its own repository would be recorded as a bare gitlink, and
/// removing the worktree would delete the inner repository's commits.
async fn refuse_nested_repositories(git: &Git, worktree: &Path) -> Result<(), ErrorDetail> {
    // Without --directory git lists untracked files one by one, but stops at a nested
    // repository and lists it as a directory.
    let nested: Vec<String> = listed(git, worktree, &[])
        .await?
        .into_iter()
        .filter(|entry| entry.ends_with('/'))
        .collect();
    if nested.is_empty() {
        return Ok(());
    }
    Err(conflict(format!(
        "The worktree holds untracked git repositories ({}) whose commits archiving would delete: \
         move them out of {} (or add them as submodules), then archive again. Nothing was changed.",
        nested.join(", "),
        worktree.display()
    )))
}

/// Untracked entries of the worktree (`git ls-files --others` with `extra` options).
async fn listed(git: &Git, worktree: &Path, extra: &[&str]) -> Result<Vec<String>, ErrorDetail> {
    let args = ["ls-files", "--others", "--exclude-standard", "-z"]
        .iter()
        .chain(extra);
    Ok(git
        .run(worktree, args)
        .await?
        .split('\0')
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect())
}

/// `git worktree remove`, once nothing is left that it could delete: whatever appeared since
/// the commit (an agent still writing) stops the archive instead.
async fn remove_clean(git: &Git, worktree: &Path, repo: &Path) -> Result<(), ErrorDetail> {
    let left = git
        .run(worktree, ["status", "--porcelain", "--ignored", "-z"])
        .await?;
    if !left.trim_matches('\0').is_empty() {
        let paths: Vec<&str> = left
            .split('\0')
            .filter_map(|line| line.get(3..))
            .filter(|p| !p.is_empty())
            .take(10)
            .collect();
        return Err(conflict(format!(
            "Files changed in the worktree while it was being archived ({}); archive again once \
             nothing is writing to it.",
            paths.join(", ")
        )));
    }
    match git
        .run(
            repo,
            [
                Path::new("worktree").as_os_str(),
                "remove".as_ref(),
                // Only for initialized submodules, which git refuses to remove otherwise: the
                // status above proved nothing is left to lose.
                "--force".as_ref(),
                worktree.as_os_str(),
            ],
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(GitError::Failed { stderr, .. }) if stderr.contains("is not a working tree") => {
            tokio::fs::remove_dir_all(worktree)
                .await
                .map_err(|e| internal(format!("Cannot remove {}: {e}", worktree.display())))
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses to touch anything but the directory ff itself created for this workspace:
/// `<worktree base>/workspace-<id>`, a real directory (not a symlink), whatever a row claims.
fn ensure_own_worktree(path: &Path, base: &Path, id: &str) -> Result<(), ErrorDetail> {
    let metadata = std::fs::symlink_metadata(path)
        .map_err(|e| internal(format!("Cannot inspect {}: {e}", path.display())))?;
    let real = path
        .canonicalize()
        .map_err(|e| internal(format!("Cannot resolve {}: {e}", path.display())))?;
    let base = base
        .canonicalize()
        .map_err(|e| internal(format!("Cannot resolve {}: {e}", base.display())))?;
    if metadata.file_type().is_symlink() || real != base.join(format!("workspace-{id}")) {
        return Err(internal(format!(
            "Refusing to remove {}: it is not this workspace's worktree in {}",
            path.display(),
            base.display()
        )));
    }
    Ok(())
}

/// `git add -A` and a commit that skips hooks, when anything is uncommitted or untracked.
async fn commit_everything(git: &Git, worktree: &Path, name: &str) -> Result<(), ErrorDetail> {
    if git
        .run(worktree, ["status", "--porcelain"])
        .await?
        .is_empty()
    {
        return Ok(());
    }
    git.run(worktree, ["add", "-A"]).await?;
    // Work must never be lost for want of a configured identity.
    let has_identity = git
        .succeeds(worktree, ["var", "GIT_COMMITTER_IDENT"])
        .await?
        && git.succeeds(worktree, ["var", "GIT_AUTHOR_IDENT"]).await?;
    let mut args: Vec<String> = Vec::new();
    if !has_identity {
        args.extend(["-c", "user.name=ff", "-c", "user.email=ff@localhost"].map(str::to_owned));
    }
    args.extend(["commit", "--no-verify", "--quiet", "-m"].map(str::to_owned));
    args.push(format!("Archive workspace {name}"));
    git.run(worktree, &args).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// An agent can put a FIFO in place of a file libgit2 reads, here the configuration of the
    /// repository its worktree shares: the read of it then never ends. The archive says so
    /// within git's timeout, and asking again is refused at once instead of leaving another
    /// thread hung. Doing what the message says lets the archive go on.
    #[tokio::test]
    async fn a_repository_whose_config_blocks_reading_is_refused_without_gathering_hung_threads() {
        let (_dir, tree) = crate::git::testing::worktree(&[("a.txt", b"a\n")]);
        let config = tree.join("../repo/.git/config");
        let saved = std::fs::read(&config).unwrap();
        let fifo = crate::git::testing::Fifo::at(&config);
        let git = Git::new(Duration::from_millis(300));
        let first = check_state(&git, &tree, "feature".into())
            .await
            .unwrap_err();
        assert_eq!(first.code, ErrorCode::Conflict);
        assert!(
            first.message.contains("took longer than 300 ms") && first.message.contains("-type p"),
            "{}",
            first.message
        );
        let again = check_state(&git, &tree, "feature".into())
            .await
            .unwrap_err();
        assert!(again.message.contains("has not ended"), "{}", again.message);
        assert!(again.message.starts_with("Nothing was archived"));

        // Written to once, then removed: the waiting read ends and the next check goes on.
        assert!(fifo.release(), "the first check still waits on the FIFO");
        std::fs::remove_file(&config).unwrap();
        std::fs::write(&config, saved).unwrap();
        let what = "the archive stayed refused after the FIFO was gone";
        crate::git::testing::eventually_ok(what, || check_state(&git, &tree, "feature".into()))
            .await;
    }
}
