//! GitHub hosts, owners and repository names, parsed once from user input, a remote or a URL.

use serde::Serialize;
use std::fmt;

pub const GITHUB_COM: &str = "github.com";
pub const OWNER_MAX_CHARS: usize = 39;
pub const REPO_MAX_CHARS: usize = 100;
const HOST_MAX_CHARS: usize = 253;
const LABEL_MAX_CHARS: usize = 63;
/// How much of an offending value an error repeats: input may be huge and hostile.
const SHOWN_CHARS: usize = 60;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("host {0:?} is not a DNS name (dot-separated labels of letters, digits and '-')")]
    Host(String),
    #[error("owner {0:?} must be 1 to 39 letters, digits or '-', and not start or end with '-'")]
    Owner(String),
    #[error(
        "repository {0:?} must be 1 to 100 letters, digits, '.', '_' or '-', and not '.' or '..'"
    )]
    Repo(String),
}

/// `text` cut for an error message.
pub(super) fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Declares a validated name: its `parse`, `as_str`, `Display`, and serialization as the string.
macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $check:expr, $error:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self, NameError> {
                let check: fn(&str) -> Option<String> = $check;
                check(text).map(Self).ok_or_else(|| NameError::$error(shown(text)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A host name in lowercase: `github.com` or a GitHub Enterprise host.
    Host,
    |text| {
        let label_ok = |label: &str| {
            (1..=LABEL_MAX_CHARS).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        (text.len() <= HOST_MAX_CHARS && text.split('.').all(label_ok))
            .then(|| text.to_ascii_lowercase())
    },
    Host
);

name_type!(
    /// A user or organization login, as GitHub allows them.
    Owner,
    |text| {
        let ok = (1..=OWNER_MAX_CHARS).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        ok.then(|| text.to_owned())
    },
    Owner
);

name_type!(
    /// A repository name, as GitHub allows them.
    RepoName,
    |text| {
        let ok = (1..=REPO_MAX_CHARS).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && text != "."
            && text != "..";
        ok.then(|| text.to_owned())
    },
    Repo
);

/// A repository on a GitHub host.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct GithubRepo {
    pub host: Host,
    pub owner: Owner,
    pub repo: RepoName,
}

impl GithubRepo {
    /// From the three parts as a user gives them; the first bad part is named.
    pub fn parse(host: &str, owner: &str, repo: &str) -> Result<Self, NameError> {
        Ok(Self {
            host: Host::parse(host)?,
            owner: Owner::parse(owner)?,
            repo: RepoName::parse(repo)?,
        })
    }

    /// GitHub matches owners and repository names without regard to case.
    pub fn same_repository(&self, other: &Self) -> bool {
        self.host == other.host
            && self.owner.0.eq_ignore_ascii_case(&other.owner.0)
            && self.repo.0.eq_ignore_ascii_case(&other.repo.0)
    }
}

/// `host/owner/repo`
impl fmt::Display for GithubRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.host, self.owner, self.repo)
    }
}
