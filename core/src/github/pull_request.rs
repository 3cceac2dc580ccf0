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
    pub state: PullRequestState,
    pub created_at: Timestamp,
    pub head_ref_name: String,
    pub head_ref_oid: String,
    pub is_cross_repository: bool,
    pub head_repository_owner: Option<Actor>,
}

/// `repository(…) { pullRequests(headRefName: …) { nodes { ...PrCandidate } } }`: a `bN` alias.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCandidates {
    pub pull_requests: Nodes<PrCandidate>,
}

/// How far this machine's clock and GitHub's may disagree when a PR's creation is compared with
/// a workspace's: a PR opened this long before its workspace still counts as opened for it.
pub const CLOCK_SKEW_SECONDS: i64 = 120;

/// Which PRs of its branch a workspace takes for its own (github.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// ff made the branch for the workspace created at this time: a PR opened since then, in
    /// any state (compared at GitHub's whole seconds, with [`CLOCK_SKEW_SECONDS`]).
    Since(Timestamp),
    /// The workspace resumed an existing branch: its open PR, however old.
    Resumed,
}

/// Whole seconds since the epoch: GitHub's `createdAt` has no finer precision.
fn whole_seconds(at: Timestamp) -> i64 {
    at.millis().div_euclid(1000)
}

impl PrCandidate {
    /// Its head is the branch in the repository of `owner`, not a fork's branch of that name.
    pub fn in_repository_of(&self, owner: &str) -> bool {
        !self.is_cross_repository
            && self
                .head_repository_owner
                .as_ref()
                .is_some_and(|o| o.login.eq_ignore_ascii_case(owner))
    }
}

impl RepositoryCandidates {
    /// The branch's PRs that may be the workspace's, newest first: in the repository of
    /// `owner` and opened for it as `discovery` says. Whether the head commit is in this
    /// clone's history is for the caller to tell, and the first that is, is the one.
    pub fn eligible(&self, owner: &str, discovery: Discovery) -> Vec<&PrCandidate> {
        let mut eligible: Vec<&PrCandidate> = self
            .pull_requests
            .nodes
            .iter()
            .filter(|pr| pr.in_repository_of(owner))
            .filter(|pr| match discovery {
                Discovery::Since(since) => {
                    whole_seconds(pr.created_at) + CLOCK_SKEW_SECONDS >= whole_seconds(since)
                }
                Discovery::Resumed => pr.state == PullRequestState::Open,
            })
            .collect();
        eligible.sort_by_key(|pr| std::cmp::Reverse((pr.created_at, pr.number)));
        eligible
    }
}

impl PullRequestSummary {
    /// Why this PR is not the one whose head is `branch` in the repository of `owner` (a fork's
    /// PR, another branch's); `None` when it is.
    pub fn not_of_branch(&self, owner: &str, branch: &str) -> Option<String> {
        let head_owner = self
            .head_repository_owner
            .as_ref()
            .map(|o| o.login.as_str());
        if self.is_cross_repository || !head_owner.is_some_and(|o| o.eq_ignore_ascii_case(owner)) {
            return Some(format!(
                "PR #{} comes from a fork ({}), not from the project's repository",
                self.number,
                head_owner.unwrap_or("a deleted account")
            ));
        }
        (self.head_ref_name != branch).then(|| {
            format!(
                "PR #{} is of another branch ({:?}), not {branch:?}",
                self.number, self.head_ref_name
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn candidate(number: u64, created: &str, state: PullRequestState, owner: &str) -> PrCandidate {
        PrCandidate {
            number,
            url: format!("https://github.com/acme/app/pull/{number}"),
            state,
            created_at: at(created),
            head_ref_name: "b".into(),
            head_ref_oid: format!("{number:040}"),
            is_cross_repository: owner != "acme",
            head_repository_owner: Some(Actor {
                login: owner.into(),
            }),
        }
    }

    fn numbers(candidates: &[PrCandidate], discovery: Discovery) -> Vec<u64> {
        let all = RepositoryCandidates {
            pull_requests: Nodes {
                nodes: candidates.to_vec(),
            },
        };
        all.eligible("ACME", discovery)
            .iter()
            .map(|c| c.number)
            .collect()
    }

    #[test]
    fn a_new_branch_takes_prs_of_its_own_second_and_skew_but_not_older_ones() {
        use PullRequestState::{Closed, Merged, Open};
        let workspace = Discovery::Since(at("2026-05-01T12:00:00.900Z"));
        let cases: &[(&[PrCandidate], &[u64])] = &[
            (&[candidate(1, "2026-05-01T12:00:00Z", Open, "acme")], &[1]),
            (&[candidate(1, "2026-05-01T11:58:00Z", Open, "acme")], &[1]),
            (&[candidate(1, "2026-05-01T11:57:59Z", Open, "acme")], &[]),
            (
                &[candidate(1, "2026-05-01T12:00:05Z", Open, "outsider")],
                &[],
            ),
            (
                &[
                    candidate(3, "2026-05-01T12:05:00Z", Closed, "acme"),
                    candidate(4, "2026-05-01T12:09:00Z", Open, "acme"),
                    candidate(5, "2026-05-01T12:10:00Z", Open, "fork"),
                    candidate(2, "2026-04-01T00:00:00Z", Merged, "acme"),
                ],
                &[4, 3],
            ),
        ];
        for (candidates, expected) in cases {
            assert_eq!(numbers(candidates, workspace), *expected, "{candidates:?}");
        }
    }

    #[test]
    fn a_resumed_branch_takes_its_open_pr_however_old() {
        use PullRequestState::{Closed, Merged, Open};
        let candidates = [
            candidate(7, "2020-01-01T00:00:00Z", Open, "acme"),
            candidate(8, "2021-01-01T00:00:00Z", Closed, "acme"),
            candidate(9, "2022-01-01T00:00:00Z", Merged, "acme"),
            candidate(10, "2023-01-01T00:00:00Z", Open, "fork"),
        ];
        assert_eq!(numbers(&candidates, Discovery::Resumed), [7]);
    }
}
