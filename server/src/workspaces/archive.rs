//! Archive (D§2.6): stop the run script, commit every uncommitted and untracked change to the
//! workspace's branch, remove the worktree. The branch stays. Any failure rolls back.

use super::store::WorkspaceRecord;
use crate::git::{Git, GitError};
use ff_core::api::{ErrorCode, ErrorDetail, Project};
use std::path::Path;

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

/// Removes the worktree of `record` after saving its work on the branch.
pub async fn remove_worktree(
    git: &Git,
    record: &WorkspaceRecord,
    project: &Project,
) -> Result<(), ErrorDetail> {
    let Some(path) = record.workspace.worktree_path.as_deref().map(Path::new) else {
        return Ok(());
    };
    if !path.exists() {
        let _ = git
            .run(Path::new(&project.repo_path), ["worktree", "prune"])
            .await;
        return Ok(());
    }
    ensure_own_worktree(
        path,
        Path::new(&project.worktree_base_path),
        record.workspace.id.as_str(),
    )?;
    commit_everything(git, path, &record.workspace.name).await?;
    let repo = Path::new(&project.repo_path);
    match git
        .run(
            repo,
            [
                Path::new("worktree").as_os_str(),
                "remove".as_ref(),
                "--force".as_ref(),
                path.as_os_str(),
            ],
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(GitError::Failed { stderr, .. }) if stderr.contains("is not a working tree") => {
            tokio::fs::remove_dir_all(path)
                .await
                .map_err(|e| internal(format!("Cannot remove {}: {e}", path.display())))
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
