//! Real repositories for the unit tests of the modules that read git.

use std::path::{Path, PathBuf};
use std::process::Command;

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
