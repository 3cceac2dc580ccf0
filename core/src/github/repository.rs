//! Opening a pull request: the repository's node id and default branch (repository_id.graphql),
//! then the mutation's answer (create_pull_request.graphql).

use super::answer::RateLimit;
use super::enums::PullRequestState;
use crate::ids::Timestamp;
use serde::{Deserialize, Serialize};

/// The `data` of `query RepositoryId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryIdAnswer {
    pub rate_limit: Option<RateLimit>,
    pub repository: Option<RepositoryId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryId {
    /// The node id `createPullRequest` takes.
    pub id: String,
    /// `null` for an empty repository.
    pub default_branch_ref: Option<BranchRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchRef {
    pub name: String,
}

/// The `data` of `mutation CreatePullRequest` (mutations cannot ask for `rateLimit`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePullRequestAnswer {
    pub create_pull_request: Option<CreatePullRequestPayload>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePullRequestPayload {
    pub pull_request: Option<CreatedPullRequest>,
}

/// What attaching a new PR needs; the next summary poll fills in the rest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedPullRequest {
    pub number: u64,
    pub url: String,
    pub title: String,
    pub state: PullRequestState,
    pub is_draft: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub head_ref_name: String,
    pub head_ref_oid: String,
    pub base_ref_name: String,
}
