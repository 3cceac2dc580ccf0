//! `fs/read_text_file` and `fs/write_text_file` from agents, served only inside the session's
//! worktree, after resolving symlinks (sessions.md §1). Anything else is refused naming the path.

use std::path::{Path, PathBuf};

/// Larger files are refused rather than streamed into an agent's context.
const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

pub async fn read(
    root: &Path,
    path: &Path,
    line: Option<u32>,
    limit: Option<u32>,
) -> Result<String, String> {
    let real = inside(root, path, false).await?;
    let size = tokio::fs::metadata(&real)
        .await
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if size > MAX_READ_BYTES {
        return Err(format!(
            "{} is {size} bytes; files over {MAX_READ_BYTES} bytes are not read",
            path.display()
        ));
    }
    let text = tokio::fs::read_to_string(&real)
        .await
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if line.is_none() && limit.is_none() {
        return Ok(text);
    }
    let skip = line.map_or(0, |l| l.saturating_sub(1) as usize);
    let take = limit.map_or(usize::MAX, |l| l as usize);
    Ok(text.split_inclusive('\n').skip(skip).take(take).collect())
}

pub async fn write(root: &Path, path: &Path, content: &str) -> Result<(), String> {
    let target = inside(root, path, true).await?;
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    tokio::fs::write(&target, content)
        .await
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The real path of `path` if it lies inside `root`. For a file to be written, it (or, when it
/// does not exist yet, its nearest existing ancestor) is resolved instead.
async fn inside(root: &Path, path: &Path, creating: bool) -> Result<PathBuf, String> {
    let refuse = || {
        format!(
            "{} is outside the workspace's worktree {}; ff serves files of the worktree only",
            path.display(),
            root.display()
        )
    };
    let root = tokio::fs::canonicalize(root)
        .await
        .map_err(|e| format!("the worktree {} is unreadable: {e}", root.display()))?;
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        root.join(path)
    };
    // Refused before the file system is asked anything: whether an outside file exists is not
    // the agent's to learn.
    if !lexically_inside(&joined, &root) {
        return Err(refuse());
    }
    let real = match tokio::fs::canonicalize(&joined).await {
        Ok(real) => real,
        Err(e) if creating && e.kind() == std::io::ErrorKind::NotFound => {
            // Resolve the part that exists; the rest must not climb out with `..`.
            let mut existing = joined.as_path();
            let mut rest = Vec::new();
            loop {
                let Some(parent) = existing.parent() else {
                    return Err(refuse());
                };
                rest.push(existing.file_name().ok_or_else(refuse)?.to_owned());
                existing = parent;
                if let Ok(real) = tokio::fs::canonicalize(existing).await {
                    let mut target = real;
                    for part in rest.iter().rev() {
                        if part == ".." || part == "." {
                            return Err(refuse());
                        }
                        target.push(part);
                    }
                    break target;
                }
            }
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err(refuse())
    }
}

/// Whether `path` (relative to `root`, or absolute) lies inside `root` once symlinks are
/// resolved; for a path that does not exist yet, its nearest existing ancestor decides. Used to
/// judge a tool call's locations before the agent acts on them.
pub fn is_inside(root: &Path, path: &Path) -> bool {
    let Ok(root) = root.canonicalize() else {
        return false;
    };
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        root.join(path)
    };
    if !lexically_inside(&joined, &root) {
        return false;
    }
    joined
        .ancestors()
        .find_map(|ancestor| ancestor.canonicalize().ok())
        .is_some_and(|real| real.starts_with(&root))
}

/// Whether `path`, with `.` and `..` resolved as text, stays under `root`.
fn lexically_inside(path: &Path, root: &Path) -> bool {
    use std::path::Component;
    let mut normal = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                if !normal.pop() {
                    return false;
                }
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal.starts_with(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_served_inside_the_worktree_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/a.rs"), "one\ntwo\nthree\n").unwrap();
        std::fs::write(dir.path().join("secret"), "outside").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();

        assert_eq!(
            read(&root, &root.join("src/a.rs"), None, None)
                .await
                .unwrap(),
            "one\ntwo\nthree\n"
        );
        assert_eq!(
            read(&root, &root.join("src/a.rs"), Some(2), Some(1))
                .await
                .unwrap(),
            "two\n"
        );
        assert_eq!(
            read(&root, Path::new("src/a.rs"), None, None)
                .await
                .unwrap()
                .len(),
            14
        );
        for escape in [
            dir.path().join("secret"),
            root.join("../secret"),
            root.join("link"),
            PathBuf::from("../secret"),
            PathBuf::from("/etc/passwd"),
        ] {
            let e = read(&root, &escape, None, None).await.unwrap_err();
            assert!(
                e.contains("outside the workspace's worktree"),
                "{escape:?}: {e}"
            );
            let e = write(&root, &escape, "x").await.unwrap_err();
            assert!(
                e.contains("outside the workspace's worktree"),
                "{escape:?}: {e}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join("secret")).unwrap(),
            "outside"
        );

        write(&root, &root.join("new/dir/file.txt"), "hello")
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("new/dir/file.txt")).unwrap(),
            "hello"
        );
        let e = write(&root, &root.join("new/../../escape.txt"), "x")
            .await
            .unwrap_err();
        assert!(e.contains("outside"), "{e}");
        assert!(!dir.path().join("escape.txt").exists());
        let e = read(&root, &root.join("missing.txt"), None, None)
            .await
            .unwrap_err();
        assert!(e.contains("missing.txt"), "{e}");
    }
}
