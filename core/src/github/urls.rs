//! Pull request and issue URLs, parsed once into their repository and number, and found in
//! untrusted text such as an agent tool's output.

use super::names::{shown, GithubRepo, Host, NameError, Owner, RepoName};
use serde::{Serialize, Serializer};
use std::fmt;

/// Why a URL or remote was refused; reads after the value, as in `url "…" has a port`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("is empty")]
    Empty,
    #[error("contains the character {0:?}; GitHub URLs are plain ASCII")]
    NotAscii(char),
    #[error("must start with https://")]
    NotHttps,
    #[error("uses {0:?}, which is not SSH or HTTPS")]
    Scheme(String),
    #[error("is a local path, not a remote on a GitHub host")]
    LocalPath,
    #[error("has user information before the host")]
    UserInfo,
    #[error("has a port; ff reaches GitHub hosts on the standard port")]
    Port,
    #[error("must look like {0}")]
    Shape(&'static str),
    #[error("has {0:?} where the number belongs; it must be a whole number from 1, without leading zeros")]
    Number(String),
    #[error("has an invalid part: {0}")]
    Name(#[from] NameError),
}

/// The path segment before the number, and the whole shape for error messages.
struct Kind {
    segment: &'static str,
    shape: &'static str,
}

const PULL: Kind = Kind {
    segment: "pull",
    shape: "https://<host>/<owner>/<repo>/pull/<number>",
};
const ISSUES: Kind = Kind {
    segment: "issues",
    shape: "https://<host>/<owner>/<repo>/issues/<number>",
};

/// Declares a URL of one numbered thing in a repository, kept with its canonical spelling.
macro_rules! numbered_url {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name {
            repo: GithubRepo,
            number: u64,
            url: String,
        }

        impl $name {
            /// Takes the canonical form and tolerates surrounding whitespace, one trailing slash,
            /// a query and a fragment; refuses anything else.
            pub fn parse(text: &str) -> Result<Self, UrlError> {
                let (repo, number) = parse_numbered(text, &$kind, false)?;
                Ok(Self::new(repo, number))
            }

            pub fn new(repo: GithubRepo, number: u64) -> Self {
                let url = format!(
                    "https://{}/{}/{}/{}/{number}",
                    repo.host, repo.owner, repo.repo, $kind.segment
                );
                Self { repo, number, url }
            }

            pub fn repo(&self) -> &GithubRepo {
                &self.repo
            }

            pub fn number(&self) -> u64 {
                self.number
            }

            /// `https://<host>/<owner>/<repo>/…/<number>`, host in lowercase.
            pub fn as_str(&self) -> &str {
                &self.url
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.url)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.url)
            }
        }
    };
}

numbered_url!(
    /// `https://<host>/<owner>/<repo>/pull/<number>`
    PrUrl,
    PULL
);

numbered_url!(
    /// `https://<host>/<owner>/<repo>/issues/<number>`
    IssueUrl,
    ISSUES
);

/// `allow_subpage`: text after the number (`/files`, `/checks`) is accepted, as it is when
/// scanning output for links.
fn parse_numbered(
    text: &str,
    kind: &Kind,
    allow_subpage: bool,
) -> Result<(GithubRepo, u64), UrlError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UrlError::Empty);
    }
    if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
        return Err(UrlError::NotAscii(c));
    }
    let rest = strip_prefix_ignore_case(text, "https://").ok_or(UrlError::NotHttps)?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let shape = || UrlError::Shape(kind.shape);
    let (authority, path) = rest.split_once('/').ok_or_else(shape)?;
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    if authority.contains(':') {
        return Err(UrlError::Port);
    }
    let parts: Vec<&str> = path.splitn(5, '/').collect();
    let (&[owner, repo, segment, number] | &[owner, repo, segment, number, _]) = &parts[..] else {
        return Err(shape());
    };
    if segment != kind.segment || (parts.len() == 5 && !allow_subpage) {
        return Err(shape());
    }
    let repo = GithubRepo {
        host: Host::parse(authority)?,
        owner: Owner::parse(owner)?,
        repo: RepoName::parse(repo)?,
    };
    Ok((repo, parse_number(number)?))
}

fn parse_number(text: &str) -> Result<u64, UrlError> {
    let canonical =
        !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit());
    canonical
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| UrlError::Number(shown(text)))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// At most this many distinct pull request URLs are taken from one text.
pub const MAX_FOUND_PR_URLS: usize = 20;
/// A candidate link longer than this is no pull request URL.
const MAX_CANDIDATE_BYTES: usize = 2048;

/// Pull request URLs in `text`, in order of first appearance and without repeats. Work is
/// linear in the text's length and the result is capped, so any tool output may be scanned.
pub fn find_pr_urls(text: &str) -> Vec<PrUrl> {
    let mut found: Vec<PrUrl> = Vec::new();
    // A link ends at the first byte that cannot be part of one; no candidate is read twice.
    let mut scanned_to = 0;
    for (start, _) in text.match_indices("https://") {
        if start < scanned_to {
            continue;
        }
        let len = text.as_bytes()[start..]
            .iter()
            .take_while(|b| is_link_byte(**b))
            .count();
        scanned_to = start + len;
        if len > MAX_CANDIDATE_BYTES {
            continue;
        }
        // Punctuation that ends a sentence or markup is not part of the link.
        let candidate =
            text[start..scanned_to].trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '_', '~']);
        let Ok((repo, number)) = parse_numbered(candidate, &PULL, true) else {
            continue;
        };
        let url = PrUrl::new(repo, number);
        if !found.contains(&url) {
            found.push(url);
            if found.len() == MAX_FOUND_PR_URLS {
                break;
            }
        }
    }
    found
}

/// Quotes and brackets that surround links in text, JSON or Markdown.
const AROUND_LINKS: &[u8] = b"\"'`<>()[]{}|\\^";

fn is_link_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !AROUND_LINKS.contains(&b)
}
