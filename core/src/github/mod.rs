//! GitHub, purely: the shapes of the GraphQL answers ff reads, the mappings that turn them into
//! ff's PR state, CI status and conflict mark (D§5.2, D§5.3, github.md §2), the repository and
//! URL types every GitHub input is parsed into once, and the PR details the browser is sent.
//!
//! The queries themselves live in `server/src/github/graphql/`; the models here follow their
//! selections field for field, in GitHub's spelling.

mod names;
mod remote;
mod urls;

pub use names::{
    GithubRepo, Host, NameError, Owner, RepoName, GITHUB_COM, OWNER_MAX_CHARS, REPO_MAX_CHARS,
};
pub use urls::{find_pr_urls, IssueUrl, PrUrl, UrlError, MAX_FOUND_PR_URLS};
