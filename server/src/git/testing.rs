//! Real repositories for the unit tests of the modules that read git.

use std::future::Future;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// What `attempt` gives once it succeeds, tried every 20 ms for up to 2 s; panics saying `what`
/// if it never does. For a scan that is refused until a stuck one ends.
pub async fn eventually_ok<T, E, F: Future<Output = Result<T, E>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    for _ in 0..100 {
        if let Ok(done) = attempt().await {
            return done;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what}");
}

/// A FIFO in place of a file: whoever opens it to read waits until someone opens it to write.
/// Dropping it lets such a reader go on (it reads nothing), so the thread a test hung ends
/// even when the test fails, and the runtime's shutdown does not wait for it for ever.
pub struct Fifo(PathBuf);

impl Fifo {
    pub fn at(path: &Path) -> Self {
        if path.exists() {
            std::fs::remove_file(path).expect("the file the FIFO replaces");
        }
        let mode = nix::sys::stat::Mode::from_bits_truncate(0o600);
        nix::unistd::mkfifo(path, mode).expect("a FIFO");
        Self(path.to_owned())
    }

    /// Lets a reader waiting on it go on; `false` when none waits.
    pub fn release(&self) -> bool {
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(&self.0)
            .is_ok()
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        self.release();
    }
}

/// Runs git in `dir` with a fixed identity and `main` as the first branch; its output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=T", "-c", "user.email=t@t"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}");
    String::from_utf8(output.stdout).expect("git's output is UTF-8")
}

/// A repository on `main` with `files`, and a feature branch checked out in a worktree.
pub fn worktree(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let repo = dir.path().join("repo");
    git(dir.path(), &["init", "-q", "repo"]);
    for (path, content) in files {
        std::fs::write(repo.join(path), content).expect("a file of the repository");
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let tree = dir.path().join("tree");
    let tree_arg = tree.to_str().expect("a UTF-8 path");
    git(&repo, &["worktree", "add", "-q", "-b", "feature", tree_arg]);
    (dir, tree)
}
