//! Ignored files (`.env.local`, local databases, build output) are not in git, so removing the
//! worktree would delete them. Archive moves them aside into the data directory instead, keeping
//! their paths, and says where. Within one filesystem a move is a rename, so even a large
//! `node_modules` costs nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// A move across filesystems copies; a copy that takes longer fails the archive.
const COPY_TIMEOUT: Duration = Duration::from_secs(300);

/// What was moved, so that a failed archive can put it back.
pub struct MovedAside {
    pub dir: PathBuf,
    pub paths: Vec<String>,
}

/// Moves each of `entries` (paths relative to `worktree`, directories ending in `/`) to the same
/// relative path under `dir`.
pub async fn move_aside(
    worktree: &Path,
    entries: &[String],
    dir: &Path,
) -> Result<MovedAside, String> {
    let mut moved = MovedAside {
        dir: dir.to_owned(),
        paths: Vec::new(),
    };
    for entry in entries {
        let relative = entry.trim_end_matches('/');
        if let Err(e) = relocate(&worktree.join(relative), &dir.join(relative)).await {
            let undone = put_back(worktree, &moved).await;
            return Err(format!(
                "Cannot move the ignored {relative} aside to {}: {e}{}",
                dir.display(),
                undone.err().map(|u| format!(" ({u})")).unwrap_or_default()
            ));
        }
        moved.paths.push(entry.clone());
    }
    Ok(moved)
}

/// Undoes [`move_aside`] after a later step of the archive failed.
pub async fn put_back(worktree: &Path, moved: &MovedAside) -> Result<(), String> {
    for entry in &moved.paths {
        let relative = entry.trim_end_matches('/');
        relocate(&moved.dir.join(relative), &worktree.join(relative))
            .await
            .map_err(|e| {
                format!(
                    "{relative} stays in {} and could not be put back: {e}",
                    moved.dir.display()
                )
            })?;
    }
    Ok(())
}

async fn relocate(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| e.to_string())?;
    }
    match tokio::fs::rename(from, to).await {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(nix::libc::EXDEV) => copy_then_remove(from, to).await,
        Err(e) => Err(e.to_string()),
    }
}

/// Across filesystems: `cp -a` keeps modes, times and symlinks as they are.
async fn copy_then_remove(from: &Path, to: &Path) -> Result<(), String> {
    let copy = Command::new("cp")
        .arg("-a")
        .arg("--")
        .arg(from)
        .arg(to)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(COPY_TIMEOUT, copy)
        .await
        .map_err(|_| format!("copying took longer than {} s", COPY_TIMEOUT.as_secs()))?
        .map_err(|e| format!("cannot run cp: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let removed = if tokio::fs::symlink_metadata(from)
        .await
        .is_ok_and(|m| m.is_dir())
    {
        tokio::fs::remove_dir_all(from).await
    } else {
        tokio::fs::remove_file(from).await
    };
    removed.map_err(|e| e.to_string())
}
