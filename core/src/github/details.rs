//! A pull request's reviews, comments and review threads as pr_details.graphql selects them,
//! fetched only when its summary shows a change and something needs them.

use super::answer::{Actor, Nodes, RateLimit};
use super::enums::PullRequestReviewState;
use crate::ids::Timestamp;
use serde::{Deserialize, Serialize};

/// The `data` of `query PrDetails`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailsAnswer {
    pub rate_limit: Option<RateLimit>,
    pub repository: Option<DetailsRepository>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailsRepository {
    pub pull_request: Option<PullRequestDetails>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequestDetails {
    /// `reviews(last: 50)`; GitHub declares the connection nullable.
    pub reviews: Option<Nodes<Review>>,
    /// `comments(last: 50)`: the conversation, not the review comments.
    pub comments: Nodes<IssueComment>,
    /// `reviewThreads(last: 50)`
    pub review_threads: Nodes<ReviewThread>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub author: Option<Actor>,
    pub state: PullRequestReviewState,
    pub body: String,
    /// `null` while the review is still a draft (PENDING).
    pub submitted_at: Option<Timestamp>,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueComment {
    pub database_id: Option<u64>,
    pub author: Option<Actor>,
    pub body: String,
    pub url: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewThread {
    /// The thread's node id, which replies and resolutions name (absent in older answers).
    #[serde(default)]
    pub id: Option<String>,
    pub is_resolved: bool,
    pub is_outdated: bool,
    pub path: String,
    /// `null` when the line no longer exists in the diff.
    pub line: Option<u32>,
    /// `comments(first: 20)`
    pub comments: Nodes<ReviewComment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewComment {
    pub database_id: Option<u64>,
    pub author: Option<Actor>,
    pub body: String,
    pub url: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub path: String,
    pub line: Option<u32>,
}
