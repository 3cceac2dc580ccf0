//! `fs/read_text_file` and `fs/write_text_file` from agents, served only inside the session's
//! worktree (sessions.md §1). Paths are resolved by the kernel beneath the worktree's directory
//! (`openat2` with `RESOLVE_BENEATH`): a symlink, `..` or absolute path that leads out, existing
//! or dangling, is refused, and one swapped in between a check and the write cannot be followed,
//! since there is no separate check. The permission policy judges "inside the worktree" with the
//! same resolution. Only regular files are read or written: a FIFO or device in the worktree
//! is refused at once rather than waited on. Anything refused names the path.

use crate::worktree_files::{ReadError, Tree};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Larger files are refused rather than streamed into an agent's context.
const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

pub async fn read(
    root: &Path,
    path: &Path,
    line: Option<u32>,
    limit: Option<u32>,
) -> Result<String, String> {
    let (root, path) = (root.to_owned(), path.to_owned());
    let text = tokio::task::spawn_blocking(move || read_beneath(&root, &path))
        .await
        .map_err(|e| format!("cannot read the file: {e}"))??;
    if line.is_none() && limit.is_none() {
        return Ok(text);
    }
    let skip = line.map_or(0, |l| l.saturating_sub(1) as usize);
    let take = limit.map_or(usize::MAX, |l| l as usize);
    Ok(text.split_inclusive('\n').skip(skip).take(take).collect())
}

pub async fn write(root: &Path, path: &Path, content: &str) -> Result<(), String> {
    let (root, path, content) = (root.to_owned(), path.to_owned(), content.to_owned());
    tokio::task::spawn_blocking(move || write_beneath(&root, &path, &content))
        .await
        .map_err(|e| format!("cannot write the file: {e}"))?
}

/// Whether `path` (relative to `root`, or absolute) names something inside `root` once every
/// symlink is followed: an existing file, or one that writing would create there. Judges a tool
/// call's locations before the agent acts on them.
pub fn is_inside(root: &Path, path: &Path) -> bool {
    let Ok((tree, relative)) = beneath(root, path) else {
        return false;
    };
    // The nearest part that exists decides: what is missing would be created below it.
    let mut candidate = relative.as_path();
    loop {
        match tree.open_at(candidate, OFlag::O_PATH, Mode::empty()) {
            Ok(_) => return true,
            Err(Errno::ENOENT) => match candidate.parent() {
                Some(parent) => candidate = parent,
                None => return true,
            },
            Err(_) => return false,
        }
    }
}

fn read_beneath(root: &Path, path: &Path) -> Result<String, String> {
    names_a_file(path, "read")?;
    let (tree, relative) = beneath(root, path).map_err(|refused| refused.say(path, root))?;
    let content = tree
        .read(&relative, MAX_READ_BYTES)
        .map_err(|e| refusal(e, path, root, "read"))?;
    String::from_utf8(content)
        .map_err(|_| format!("cannot read {}: it is not UTF-8 text", path.display()))
}

fn write_beneath(root: &Path, path: &Path, content: &str) -> Result<(), String> {
    names_a_file(path, "write")?;
    let (tree, relative) = beneath(root, path).map_err(|refused| refused.say(path, root))?;
    if let Some(parent) = relative.parent() {
        create_dirs(&tree, parent)
            .map_err(|e| refusal(e.into(), path, root, "create the folder of"))?;
    }
    tree.create(&relative)
        .map_err(|e| refusal(e, path, root, "write"))?
        .write_all(content.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Refuses a path that as written can only name a folder. Rust's `Path` drops a trailing `/`
/// or `/.`, which would make `new/` a file named `new`.
fn names_a_file(path: &Path, doing: &str) -> Result<(), String> {
    let text = path.as_os_str().as_bytes();
    let folder = [b"/".as_slice(), b"/.", b"/.."]
        .iter()
        .any(|end| text.ends_with(end))
        || matches!(text, b"" | b"." | b"..");
    if folder {
        return Err(format!(
            "cannot {doing} {}: it names a folder, not a file",
            path.display()
        ));
    }
    Ok(())
}

/// Creates the folders of `relative` that are missing, each beneath the tree.
fn create_dirs(tree: &Tree, relative: &Path) -> Result<(), Errno> {
    let directory = OFlag::O_PATH | OFlag::O_DIRECTORY;
    let mut done = PathBuf::new();
    for part in relative.components() {
        done.push(part);
        match tree.open_at(&done, directory, Mode::empty()) {
            Ok(_) => continue,
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
        let parent = done.parent().unwrap_or(Path::new(""));
        let at = tree.open_at(parent, directory, Mode::empty())?;
        match nix::sys::stat::mkdirat(&at, part.as_os_str(), Mode::from_bits_truncate(0o755)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Why a path was refused before the file system was asked anything about it.
enum Refused {
    Outside,
    Unreadable(String),
}

impl Refused {
    fn say(self, path: &Path, root: &Path) -> String {
        match self {
            Self::Outside => outside(path, root),
            Self::Unreadable(e) => format!("the worktree {} is unreadable: {e}", root.display()),
        }
    }
}

fn outside(path: &Path, root: &Path) -> String {
    format!(
        "{} is outside the workspace's worktree {}; ff serves files of the worktree only",
        path.display(),
        root.display()
    )
}

/// A failed open, said for the agent: a path that resolved out of the worktree is refused as
/// such; anything else names the path and the reason.
fn refusal(e: ReadError, path: &Path, root: &Path, doing: &str) -> String {
    match e {
        ReadError::Outside => outside(path, root),
        other => format!("cannot {doing} {}: {other}", path.display()),
    }
}

/// The worktree's directory, and `path` relative to it. Refused before the file system is asked
/// anything when the path leaves the worktree as text: whether an outside file exists is not
/// the agent's to learn.
fn beneath(root: &Path, path: &Path) -> Result<(Tree, PathBuf), Refused> {
    let root = root
        .canonicalize()
        .map_err(|e| Refused::Unreadable(e.to_string()))?;
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        root.join(path)
    };
    let normal = lexically_normal(&joined).ok_or(Refused::Outside)?;
    let relative = normal
        .strip_prefix(&root)
        .map_err(|_| Refused::Outside)?
        .to_owned();
    let tree = Tree::open(&root).map_err(|e| Refused::Unreadable(e.desc().to_owned()))?;
    Ok((tree, relative))
}

/// `path` with `.` and `..` resolved as text; `None` when `..` climbs above the root of the file
/// system.
fn lexically_normal(path: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                if !normal.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    Some(normal)
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

    #[tokio::test]
    async fn a_path_naming_a_folder_is_neither_read_nor_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        for path in ["new/", "new/.", "src/..", ".", "", "/", "a.txt/"] {
            let e = write(&root, Path::new(path), "x").await.unwrap_err();
            assert!(e.contains("names a folder, not a file"), "{path:?}: {e}");
            let e = read(&root, Path::new(path), None, None).await.unwrap_err();
            assert!(e.contains("names a folder, not a file"), "{path:?}: {e}");
        }
        let e = write(&root, &root.join("new/"), "x").await.unwrap_err();
        assert!(e.contains("names a folder"), "{e}");
        assert!(!root.join("new").exists());
        assert_eq!(
            std::fs::read_dir(&root).unwrap().count(),
            2,
            "only src and a.txt"
        );
        assert_eq!(std::fs::read_to_string(root.join("a.txt")).unwrap(), "a");
    }

    #[tokio::test]
    async fn no_symlink_leads_a_write_out_of_the_worktree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        // A dangling link, a link to an outside folder, a link inside that is fine.
        std::os::unix::fs::symlink(elsewhere.join("x"), root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("linked")).unwrap();
        std::os::unix::fs::symlink("src/a.rs", root.join("alias.rs")).unwrap();
        for escape in ["out.txt", "linked/new.txt", "linked/deep/new.txt"] {
            let e = write(&root, Path::new(escape), "x").await.unwrap_err();
            assert!(e.contains(escape) && e.contains("outside"), "{escape}: {e}");
            assert!(!is_inside(&root, Path::new(escape)), "{escape}");
        }
        assert_eq!(
            std::fs::read_dir(&elsewhere).unwrap().count(),
            0,
            "nothing written outside"
        );
        write(&root, Path::new("alias.rs"), "inside").await.unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("src/a.rs")).unwrap(),
            "inside"
        );
        assert!(is_inside(&root, Path::new("alias.rs")));
        assert!(is_inside(&root, &root.join("new/dir/file.txt")));
    }

    #[tokio::test]
    async fn a_fifo_in_the_worktree_is_refused_at_once_for_reading_and_writing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(&root).unwrap();
        nix::unistd::mkfifo(&root.join("pipe"), Mode::from_bits_truncate(0o600)).unwrap();
        let soon = std::time::Duration::from_secs(5);
        let e = tokio::time::timeout(soon, read(&root, Path::new("pipe"), None, None))
            .await
            .expect("reading a FIFO returns at once")
            .unwrap_err();
        assert!(
            e.contains("pipe") && e.contains("not a regular file"),
            "{e}"
        );
        let e = tokio::time::timeout(soon, write(&root, Path::new("pipe"), "x"))
            .await
            .expect("writing a FIFO returns at once")
            .unwrap_err();
        assert!(
            e.contains("pipe") && e.contains("not a regular file"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_symlink_swapped_in_while_writing_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        let target = root.join("flip.txt");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flipper = {
            let (target, outside, stop) = (target.clone(), elsewhere.join("x"), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = std::fs::remove_file(&target);
                    let _ = std::os::unix::fs::symlink(&outside, &target);
                    let _ = std::fs::remove_file(&target);
                    let _ = std::fs::write(&target, "regular");
                }
            })
        };
        let mut refused = 0;
        for _ in 0..2000 {
            if let Err(e) = write(&root, Path::new("flip.txt"), "agent").await {
                assert!(e.contains("flip.txt"), "{e}");
                refused += 1;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        flipper.join().unwrap();
        assert!(
            !elsewhere.join("x").exists(),
            "the write followed a swapped-in symlink ({refused} writes were refused)"
        );
    }
}
