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
