//! Read-only facts about a repository, in-process (libgit2): no `git` process on a request path.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoFacts {
    /// The top of the working tree.
    pub root: PathBuf,
    pub default_branch: String,
    pub origin_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{0} is not a git repository")]
    NotARepository(PathBuf),
    #[error("{path} is inside the git repository at {root}; add {root} instead")]
    Subdirectory { path: PathBuf, root: PathBuf },
    #[error("{0} is a bare repository; ff needs a working tree")]
    Bare(PathBuf),
    #[error("cannot read the git repository at {path}: {message}")]
    Unreadable { path: PathBuf, message: String },
}

/// Which of `oids` are commits this clone has (its own history, or fetched): a PR whose head
/// commit is not among them was pushed from another clone. An unreadable repository has none.
pub fn known_commits(path: &Path, oids: &[String]) -> Vec<bool> {
    let Ok(repo) = git2::Repository::open(path) else {
        return vec![false; oids.len()];
    };
    oids.iter()
        .map(|oid| {
            git2::Oid::from_str(oid)
                .ok()
                .filter(|_| oid.len() == 40 || oid.len() == 64)
                .is_some_and(|oid| repo.find_commit(oid).is_ok())
        })
        .collect()
}

/// Opens the repository at `path` (which must be its top level) and detects the default branch:
/// `origin/HEAD`, else the current branch (even one with no commits yet), else `main`.
pub fn inspect(path: &Path) -> Result<RepoFacts, InspectError> {
    if !path.exists() {
        return Err(InspectError::Missing(path.to_owned()));
    }
    let repo = git2::Repository::open(path).map_err(|e| match e.code() {
        git2::ErrorCode::NotFound => match git2::Repository::discover(path) {
            Ok(outer) => match outer.workdir() {
                Some(root) => InspectError::Subdirectory {
                    path: path.to_owned(),
                    root: root.components().collect(),
                },
                None => InspectError::NotARepository(path.to_owned()),
            },
            Err(_) => InspectError::NotARepository(path.to_owned()),
        },
        _ => InspectError::Unreadable {
            path: path.to_owned(),
            message: e.message().to_owned(),
        },
    })?;
    let root = repo
        .workdir()
        .ok_or_else(|| InspectError::Bare(path.to_owned()))?
        .to_owned();
    let default_branch = origin_head(&repo)
        .or_else(|| current_branch(&repo))
        .unwrap_or_else(|| "main".to_owned());
    let origin_url = repo
        .find_remote("origin")
        .ok()
        .and_then(|remote| remote.url().ok().map(str::to_owned));
    Ok(RepoFacts {
        root,
        default_branch,
        origin_url,
    })
}

fn origin_head(repo: &git2::Repository) -> Option<String> {
    let reference = repo.find_reference("refs/remotes/origin/HEAD").ok()?;
    let target = reference.symbolic_target().ok()??;
    target
        .strip_prefix("refs/remotes/origin/")
        .map(str::to_owned)
}

fn current_branch(repo: &git2::Repository) -> Option<String> {
    let head = repo.find_reference("HEAD").ok()?;
    let target = head.symbolic_target().ok()??;
    target.strip_prefix("refs/heads/").map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::git;

    #[test]
    fn detects_the_current_branch_of_an_empty_repository() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "trunk"]);
        let facts = inspect(dir.path()).unwrap();
        assert_eq!(facts.default_branch, "trunk");
        assert_eq!(facts.origin_url, None);
        assert_eq!(
            facts.root.canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
    }

    #[test]
    fn origin_head_wins_over_the_current_branch() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "work"]);
        git(
            dir.path(),
            &["remote", "add", "origin", "git@github.com:octo/hello.git"],
        );
        git(
            dir.path(),
            &[
                "symbolic-ref",
                "refs/remotes/origin/HEAD",
                "refs/remotes/origin/develop",
            ],
        );
        let facts = inspect(dir.path()).unwrap();
        assert_eq!(facts.default_branch, "develop");
        assert_eq!(
            facts.origin_url.as_deref(),
            Some("git@github.com:octo/hello.git")
        );
    }

    #[test]
    fn refuses_what_is_not_a_usable_repository() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        assert!(matches!(
            inspect(&plain),
            Err(InspectError::NotARepository(_))
        ));
        assert!(matches!(
            inspect(&dir.path().join("nope")),
            Err(InspectError::Missing(_))
        ));
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("src")).unwrap();
        git(&repo, &["init", "-q"]);
        let err = inspect(&repo.join("src")).unwrap_err();
        assert!(matches!(err, InspectError::Subdirectory { .. }), "{err}");
        assert!(
            err.to_string()
                .ends_with(&format!("add {} instead", repo.display())),
            "{err}"
        );
        let bare = dir.path().join("bare.git");
        git(dir.path(), &["init", "-q", "--bare", "bare.git"]);
        assert!(matches!(inspect(&bare), Err(InspectError::Bare(_))));
    }
}
