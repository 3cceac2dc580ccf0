//! What the server sends the browser about a pull request's details (github.md §4): failing
//! checks, reviews and unresolved review threads, each with its link.

use super::answer::login_or_ghost;
use super::ci::{failing_checks, FailingCheck};
use super::details::{PullRequestDetails, Review, ReviewComment, ReviewThread};
use super::pull_request::RollupContext;
use crate::enums::ReviewState;
use crate::ids::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrDetailsView {
    pub failing_checks: Vec<FailingCheck>,
    pub reviews: Vec<PrReview>,
    pub unresolved_threads: Vec<PrThread>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrReview {
    pub author: String,
    pub state: ReviewState,
    pub body: String,
    pub submitted_at: Option<Timestamp>,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrThread {
    pub path: String,
    pub line: Option<u32>,
    pub comments: Vec<PrThreadComment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrThreadComment {
    pub author: String,
    pub body: String,
    pub url: String,
    pub created_at: Timestamp,
}

impl PrDetailsView {
    /// `checks`: the head commit's rollup, as the summary has it.
    pub fn new(details: &PullRequestDetails, checks: &[RollupContext]) -> Self {
        Self {
            failing_checks: failing_checks(checks),
            reviews: details
                .reviews
                .iter()
                .flat_map(|r| &r.nodes)
                .map(PrReview::from)
                .collect(),
            unresolved_threads: details
                .review_threads
                .nodes
                .iter()
                .filter(|t| !t.is_resolved)
                .map(PrThread::from)
                .collect(),
        }
    }
}

impl From<&Review> for PrReview {
    fn from(review: &Review) -> Self {
        Self {
            author: login_or_ghost(review.author.as_ref()).to_owned(),
            state: review.state.normalised(),
            body: review.body.clone(),
            submitted_at: review.submitted_at,
            url: review.url.clone(),
        }
    }
}

impl From<&ReviewThread> for PrThread {
    fn from(thread: &ReviewThread) -> Self {
        Self {
            path: thread.path.clone(),
            line: thread.line,
            comments: thread
                .comments
                .nodes
                .iter()
                .map(PrThreadComment::from)
                .collect(),
        }
    }
}

impl From<&ReviewComment> for PrThreadComment {
    fn from(comment: &ReviewComment) -> Self {
        Self {
            author: login_or_ghost(comment.author.as_ref()).to_owned(),
            body: comment.body.clone(),
            url: comment.url.clone(),
            created_at: comment.created_at,
        }
    }
}

/// `GET /api/workspaces/{id}/pr`: the stored PR snapshot, the head commit's checks from the
/// latest summary, and the details when they were fetched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrView {
    #[serde(flatten)]
    pub pr: crate::api::PrInfo,
    pub head_oid: Option<String>,
    /// The last poll that read this PR from GitHub (since ff started).
    pub checked_at: Option<Timestamp>,
    pub checks: Vec<super::ci::CheckLine>,
    pub details: Option<PrDetailsView>,
    /// Why the details could not be fetched this time (GitHub paused, failing, not connected).
    pub details_error: Option<String>,
    /// The details shown (if any) are older than the PR: they are being read from GitHub now,
    /// and asking again in a moment shows them.
    #[serde(default)]
    pub details_pending: bool,
}

/// `POST /api/workspaces/{id}/pr`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachPr {
    pub url: String,
}

/// `POST /api/workspaces/{id}/pr/create`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePr {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub draft: Option<bool>,
}

/// How ff stands with one GitHub host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HostState {
    Ok,
    NotConnected,
    Paused,
    Failing,
    /// The project's origin is on a host nobody said runs GitHub: GitHub is off for it.
    NotGithub,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitView {
    pub limit: u32,
    pub remaining: u32,
    pub reset_at: Timestamp,
}

/// One entry of `GET /api/github/status` (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostStatus {
    pub host: String,
    pub connected: bool,
    /// Where the token came from: `FF_GITHUB_TOKEN`, `GH_TOKEN`, …, or `gh auth token`.
    pub token_source: Option<String>,
    pub login: Option<String>,
    pub rate_limit: Option<RateLimitView>,
    pub paused_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub state: HostState,
    /// One plain sentence for the board's status line; `None` when all is well.
    pub message: Option<String>,
}

impl HostStatus {
    /// A host whose token is still being looked for: nothing to say yet.
    pub fn unknown(host: String) -> Self {
        Self {
            host,
            connected: false,
            token_source: None,
            login: None,
            rate_limit: None,
            paused_until: None,
            last_error: None,
            state: HostState::Ok,
            message: None,
        }
    }

    /// Whether ff is still looking for the host's token (nothing is known either way yet).
    pub fn still_looking(&self) -> bool {
        !self.connected && self.message.is_none()
    }

    /// An origin on a host that is not GitHub as far as ff knows: no token is sent there.
    pub fn not_github(host: String) -> Self {
        let message = format!(
            "origin is on {host}, which is not a GitHub host; add it in Settings if it is \
             GitHub Enterprise"
        );
        Self {
            state: HostState::NotGithub,
            message: Some(message),
            ..Self::unknown(host)
        }
    }
}

/// How the views name a PR state.
pub fn pr_state_label(state: crate::enums::PrState) -> &'static str {
    use crate::enums::PrState as S;
    match state {
        // Only shown beside a PR's number: attached, not read from GitHub yet.
        S::None => "Not read yet",
        S::Draft => "Draft",
        S::Open => "Open",
        S::ChangesRequested => "Changes requested",
        S::Approved => "Approved",
        S::Merged => "Merged",
        S::Closed => "Closed",
    }
}

/// How the views name a review decision.
pub fn review_label(decision: crate::enums::ReviewDecision) -> &'static str {
    use crate::enums::ReviewDecision as D;
    match decision {
        D::Approved => "Approved",
        D::ChangesRequested => "Changes requested",
        D::ReviewRequired => "Review required",
    }
}

/// A link from GitHub's text, if it is a web address at all: anything else (`javascript:`,
/// relative paths) is shown as text, never followed.
pub fn web_link(url: &str) -> Option<&str> {
    let lower = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        .then_some(url)
        .filter(|u| !u.chars().any(|c| c.is_whitespace() || c.is_control()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_become_links() {
        assert_eq!(
            web_link("https://github.com/a/b/pull/1"),
            Some("https://github.com/a/b/pull/1")
        );
        assert_eq!(web_link("HTTP://ci.example/1"), Some("HTTP://ci.example/1"));
        for bad in [
            "javascript:alert(1)",
            "/relative",
            "https://x y",
            "data:text/html,x",
            "",
        ] {
            assert_eq!(web_link(bad), None, "{bad}");
        }
    }
}
