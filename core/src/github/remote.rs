//! The GitHub repository a git remote URL names.

use super::names::{shown, GithubRepo};
use super::urls::UrlError;

const REMOTE_SHAPE: &str = "git@<host>:<owner>/<repo>.git, ssh://git@<host>/<owner>/<repo>.git \
                            or https://<host>/<owner>/<repo>.git";

impl GithubRepo {
    /// From an `origin` URL in any form git writes for a GitHub host: SCP-like SSH
    /// (`git@host:o/r.git`), `ssh://` with an optional port, or `https://` (credentials before
    /// the host are ignored). Which host runs GitHub cannot be told from the URL, so any host is
    /// taken; a local path or another scheme is refused.
    pub fn from_remote(remote: &str) -> Result<Self, UrlError> {
        let remote = remote.trim();
        if remote.is_empty() {
            return Err(UrlError::Empty);
        }
        if let Some(c) = remote.chars().find(|c| !c.is_ascii()) {
            return Err(UrlError::NotAscii(c));
        }
        let (host, path) = match remote.split_once("://") {
            Some((scheme, rest)) => {
                let (authority, path) =
                    rest.split_once('/').ok_or(UrlError::Shape(REMOTE_SHAPE))?;
                let host = without_user(authority);
                let host = match scheme.to_ascii_lowercase().as_str() {
                    // The SSH daemon's port says nothing about where the API is.
                    "ssh" | "git+ssh" | "ssh+git" => without_ssh_port(host)?,
                    "https" | "http" if host.contains(':') => return Err(UrlError::Port),
                    "https" | "http" => host,
                    _ => return Err(UrlError::Scheme(shown(scheme))),
                };
                (host, path)
            }
            None => {
                // git reads `[user@]host:path` as SSH only when a ':' comes before any '/'.
                let colon = remote.find(':').ok_or(UrlError::LocalPath)?;
                if remote[..colon].contains('/') {
                    return Err(UrlError::LocalPath);
                }
                (without_user(&remote[..colon]), &remote[colon + 1..])
            }
        };
        let path = path.strip_suffix('/').unwrap_or(path);
        let path = path.strip_suffix(".git").unwrap_or(path);
        let (owner, repo) = path
            .split_once('/')
            .filter(|(_, repo)| !repo.contains('/'))
            .ok_or(UrlError::Shape(REMOTE_SHAPE))?;
        Ok(Self::parse(host, owner, repo)?)
    }
}

/// Whether git reaches `remote` over SSH (`git@host:o/r.git`, `ssh://…`): its host may then be
/// an alias of the user's SSH configuration rather than a real host name.
pub fn is_ssh_remote(remote: &str) -> bool {
    let remote = remote.trim();
    match remote.split_once("://") {
        Some((scheme, _)) => matches!(
            scheme.to_ascii_lowercase().as_str(),
            "ssh" | "git+ssh" | "ssh+git"
        ),
        None => remote
            .find(':')
            .is_some_and(|colon| !remote[..colon].contains('/')),
    }
}

/// Credentials or an SSH user before the host are no part of the repository.
fn without_user(authority: &str) -> &str {
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

fn without_ssh_port(authority: &str) -> Result<&str, UrlError> {
    match authority.split_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(host)
        }
        Some(_) => Err(UrlError::Port),
        None => Ok(authority),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_remotes_are_told_from_the_others() {
        let cases = [
            ("git@github-work:acme/widgets.git", true),
            ("ssh://git@github.com:22/acme/app.git", true),
            ("git+ssh://git@host/acme/app", true),
            ("https://github.com/acme/app.git", false),
            ("http://git.example.com/me/app.git", false),
            ("/srv/git/app.git", false),
            ("./relative:odd/app", false),
        ];
        for (remote, ssh) in cases {
            assert_eq!(is_ssh_remote(remote), ssh, "{remote}");
        }
    }
}
