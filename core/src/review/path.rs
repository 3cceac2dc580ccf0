//! The path of a changed file as a client names it: relative to the worktree, in git's form.
//! Parsed before anything looks it up, so `..`, absolute paths and the like never reach the
//! filesystem or git; the server then also requires it to be one of the listed files.

use std::fmt;

/// Longest path accepted (git's own limit on Linux is 4096 bytes).
const MAX_PATH_BYTES: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReviewPath(String);

/// Why a path cannot name a changed file; the message names the path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path:?} is not a path inside the worktree: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: &'static str,
}

impl ReviewPath {
    pub fn parse(path: &str) -> Result<Self, PathError> {
        let refuse = |reason| {
            Err(PathError {
                path: path.to_owned(),
                reason,
            })
        };
        if path.is_empty() {
            return refuse("it is empty");
        }
        if path.len() > MAX_PATH_BYTES {
            return refuse("it is too long");
        }
        if path.contains('\0') {
            return refuse("it contains a NUL character");
        }
        if path.starts_with('/') {
            return refuse("it is absolute");
        }
        for part in path.split('/') {
            match part {
                "" => return refuse("it has an empty segment"),
                "." | ".." => return refuse("it has a . or .. segment"),
                ".git" => return refuse("it is inside .git"),
                _ => {}
            }
        }
        Ok(Self(path.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file name's extension (`rs` of `src/lib.rs`), if it has a plain one.
    pub fn extension(&self) -> Option<&str> {
        let name = self.0.rsplit('/').next()?;
        let (stem, extension) = name.rsplit_once('.')?;
        let plain = extension
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-');
        (!stem.is_empty() && !extension.is_empty() && plain).then_some(extension)
    }
}

impl fmt::Display for ReviewPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worktree_paths_parse_and_escapes_do_not() {
        for ok in [
            "a.rs",
            "src/lib.rs",
            "dir with spaces/é.txt",
            "..hidden",
            "a/.b/c..d",
        ] {
            assert_eq!(ReviewPath::parse(ok).unwrap().as_str(), ok);
        }
        let cases = [
            ("", "it is empty"),
            ("/etc/passwd", "it is absolute"),
            ("../outside", "it has a . or .. segment"),
            ("src/../../x", "it has a . or .. segment"),
            ("./a", "it has a . or .. segment"),
            ("a//b", "it has an empty segment"),
            ("a/", "it has an empty segment"),
            (".git/config", "it is inside .git"),
            ("a\0b", "it contains a NUL character"),
        ];
        for (path, reason) in cases {
            let err = ReviewPath::parse(path).unwrap_err();
            assert_eq!(err.reason, reason, "{path:?}");
            assert!(err.to_string().contains(&format!("{path:?}")), "{err}");
        }
        assert!(ReviewPath::parse(&"a/".repeat(3000)).is_err());
    }

    #[test]
    fn extensions() {
        let ext = |p: &str| ReviewPath::parse(p).unwrap().extension().map(str::to_owned);
        assert_eq!(ext("src/lib.rs").as_deref(), Some("rs"));
        assert_eq!(ext("a.tar.gz").as_deref(), Some("gz"));
        assert_eq!(ext("Makefile"), None);
        assert_eq!(ext(".gitignore"), None);
        assert_eq!(ext("dir.d/file"), None);
        assert_eq!(ext("weird.`x`"), None);
    }
}
