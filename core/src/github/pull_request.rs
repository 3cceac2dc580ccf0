//! The summary of a pull request as `fragment PrSummary` selects it (pr_summary.graphql), and the
//! batched answer that carries one per branch alias.

use super::answer::{present_nodes, Actor, Count, Nodes, RateLimit};
use super::ci::{ci_status, failing_checks, FailingCheck};
use super::enums::*;
use super::state::{merge_conflict, pr_state};
use crate::enums::{CiStatus, PrState};
use crate::ids::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequestSummary {
    pub number: u64,
    pub url: String,
    pub title: String,
    pub state: PullRequestState,
    pub is_draft: bool,
    pub merged: bool,
    pub merged_at: Option<Timestamp>,
    pub closed: bool,
    pub updated_at: Timestamp,
    pub created_at: Timestamp,
    pub head_ref_name: String,
    pub head_ref_oid: String,
    pub base_ref_name: String,
    pub is_cross_repository: bool,
    pub head_repository_owner: Option<Actor>,
    pub review_decision: Option<PullRequestReviewDecision>,
    pub mergeable: MergeableState,
    pub merge_state_status: MergeStateStatus,
    /// `commits(last: 1)`: the head commit only.
    pub commits: Nodes<PullRequestCommit>,
    pub reviews: Option<Count>,
    pub comments: Count,
    pub review_threads: Count,
    pub latest_reviews: Option<Nodes<LatestReview>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestCommit {
    pub commit: Commit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commit {
    pub oid: String,
    /// `null` when the commit has no check runs and no statuses at all.
    pub status_check_rollup: Option<StatusCheckRollup>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCheckRollup {
    /// GitHub's own summary; ff computes its own (D§5.2) because this one counts superseded runs.
    pub state: StatusState,
    pub contexts: RollupContexts,
}

/// `contexts(first: 100)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupContexts {
    pub total_count: u64,
    #[serde(deserialize_with = "present_nodes")]
    pub nodes: Vec<RollupContext>,
}

/// The union `StatusCheckRollupContext`, told apart by `__typename`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "__typename")]
pub enum RollupContext {
    CheckRun(CheckRun),
    StatusContext(StatusContext),
    /// A member type GitHub added later.
    #[serde(other)]
    Other,
}

/// A check run, usually one job of a GitHub Actions workflow run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckRun {
    /// The job id (the REST API's job logs take it).
    pub database_id: Option<u64>,
    pub name: String,
    pub status: CheckStatusState,
    pub conclusion: Option<CheckConclusionState>,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub details_url: Option<String>,
    pub check_suite: CheckSuite,
}

impl CheckRun {
    /// The name of the Actions workflow the run belongs to, if it is one.
    pub fn workflow_name(&self) -> Option<&str> {
        let run = self.check_suite.workflow_run.as_ref()?;
        Some(&run.workflow.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckSuite {
    /// `null` for checks that GitHub Actions did not run.
    pub workflow_run: Option<WorkflowRun>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRun {
    pub workflow: Workflow,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    pub name: String,
}

/// A commit status set through the statuses API (older CI services).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusContext {
    pub context: String,
    pub state: StatusState,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestReview {
    pub author: Option<Actor>,
    pub state: PullRequestReviewState,
    pub submitted_at: Option<Timestamp>,
}

impl PullRequestSummary {
    /// The head commit's checks: `None` when the answer has no head commit (nothing is known),
    /// an empty list when the commit has no checks at all, which D§5.2 counts as passing.
    pub fn head_checks(&self) -> Option<&[RollupContext]> {
        let head = self.commits.nodes.last()?;
        Some(
            head.commit
                .status_check_rollup
                .as_ref()
                .map_or(&[], |rollup| &rollup.contexts.nodes),
        )
    }

    pub fn ci_status(&self) -> CiStatus {
        ci_status(self.head_checks())
    }

    pub fn failing_checks(&self) -> Vec<FailingCheck> {
        failing_checks(self.head_checks().unwrap_or_default())
    }

    pub fn pr_state(&self) -> PrState {
        pr_state(
            &self.state,
            self.is_draft,
            self.review_decision.as_ref().and_then(|d| d.known()),
        )
    }

    /// `previous`: the mark stored from the last answer, kept while GitHub is computing.
    pub fn has_merge_conflict(&self, previous: bool) -> bool {
        merge_conflict(&self.mergeable, &self.merge_state_status, previous)
    }
}

/// `repository(…) { pullRequests(headRefName: …) { nodes { ...PrSummary } } }`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryPullRequests {
    pub pull_requests: Nodes<PullRequestSummary>,
}

/// The `data` of a summary batch: `rateLimit` and one alias (`b0`, `b1`, …) per branch, each
/// `null` when that alias failed (see the answer's `errors`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryAnswer {
    pub rate_limit: Option<RateLimit>,
    #[serde(flatten)]
    pub branches: BTreeMap<String, Option<RepositoryPullRequests>>,
}

/// `repository(…) { pullRequest(number: …) { ...PrSummary } }`: a `pN` alias of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryPullRequest {
    pub pull_request: Option<PullRequestSummary>,
}

/// `fragment PrCandidate`: enough to tell which PR of a branch is the workspace's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrCandidate {
    pub number: u64,
    pub url: String,
    pub created_at: Timestamp,
    pub head_ref_name: String,
    pub head_repository_owner: Option<Actor>,
}

/// `repository(…) { pullRequests(headRefName: …) { nodes { ...PrCandidate } } }`: a `bN` alias.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCandidates {
    pub pull_requests: Nodes<PrCandidate>,
}

impl RepositoryCandidates {
    /// Discovery (github.md §2): the newest PR whose head is the branch in the repository of
    /// `owner` (not a fork's branch of the same name), created no earlier than `since`.
    pub fn discovered(&self, owner: &str, since: Timestamp) -> Option<&PrCandidate> {
        self.pull_requests
            .nodes
            .iter()
            .filter(|pr| {
                pr.head_repository_owner
                    .as_ref()
                    .is_some_and(|o| o.login.eq_ignore_ascii_case(owner))
                    && pr.created_at >= since
            })
            .max_by_key(|pr| (pr.created_at, pr.number))
    }
}
