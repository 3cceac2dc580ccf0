//! Real git repositories in a temp dir: a working clone and a bare `origin` it pushes to.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct TestRepo {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub origin: PathBuf,
}

/// Runs git with a fixed identity; panics with git's message on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

impl TestRepo {
    /// A repository with one commit on `main`, pushed to a bare origin whose HEAD is `main`.
    pub fn new() -> Self {
        let repo = Self::empty();
        std::fs::write(repo.path.join("README.md"), "hello\n").unwrap();
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "initial"]);
        repo.git(&["push", "-q", "origin", "main"]);
        repo.git(&["remote", "set-head", "origin", "main"]);
        repo
    }

    /// A repository with an origin but no commits at all.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let origin = dir.path().join("origin.git");
        let path = dir.path().join("repo");
        git(dir.path(), &["init", "-q", "--bare", "origin.git"]);
        git(dir.path(), &["init", "-q", "repo"]);
        git(
            &path,
            &["remote", "add", "origin", origin.to_str().unwrap()],
        );
        Self {
            _dir: dir,
            path,
            origin,
        }
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.path, args)
    }

    /// Commits `factory-factory.json` on main and pushes it.
    pub fn configure(&self, config: serde_json::Value) {
        std::fs::write(self.path.join("factory-factory.json"), config.to_string()).unwrap();
        self.git(&["add", "factory-factory.json"]);
        self.git(&["commit", "-q", "-m", "configure scripts"]);
        self.git(&["push", "-q", "origin", "main"]);
    }

    /// A branch that exists only on origin (pushed from another clone).
    pub fn push_origin_only_branch(&self, branch: &str, file: &str) {
        let other = self
            .path
            .with_file_name(format!("other-{}", branch.replace('/', "-")));
        git(
            self.path.parent().unwrap(),
            &[
                "clone",
                "-q",
                self.origin.to_str().unwrap(),
                other.to_str().unwrap(),
            ],
        );
        git(&other, &["checkout", "-q", "-b", branch]);
        std::fs::write(other.join(file), "from elsewhere\n").unwrap();
        git(&other, &["add", "-A"]);
        git(&other, &["commit", "-q", "-m", "work done elsewhere"]);
        git(&other, &["push", "-q", "origin", branch]);
    }

    pub fn branches(&self) -> Vec<String> {
        self.git(&["branch", "--format=%(refname:short)"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn has_branch(&self, branch: &str) -> bool {
        self.branches().iter().any(|b| b == branch)
    }

    /// Files of `branch`'s last commit tree.
    pub fn files_on(&self, branch: &str) -> Vec<String> {
        self.git(&["ls-tree", "-r", "--name-only", branch])
            .lines()
            .map(str::to_owned)
            .collect()
    }
}
