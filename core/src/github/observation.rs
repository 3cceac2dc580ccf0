//! A pull request as the ratchet decides on it (D§6.2 step 2): the summary of the latest poll
//! and, when the decision needs them, the PR's reviews and review threads.

use super::answer::login_or_ghost;
use super::ci::FailingCheck;
use super::details::PullRequestDetails;
use super::enums::PullRequestState;
use super::names::GithubRepo;
use super::pull_request::PullRequestSummary;
use super::urls::PrUrl;
use crate::ratchet::{FailedCheck, GithubPrState, PrObservation, Review, ReviewComment};

/// A workspace's PR for one ratchet check.
#[derive(Clone, Debug)]
pub struct Observation {
    pub pr: PrObservation,
    /// The failing checks with their jobs and links, for the fixer's prompt.
    pub failing: Vec<FailingCheck>,
    /// The PR's head branch as GitHub names it: data for the fixer, never a command.
    pub head: String,
    /// The PR's head commit as GitHub last read it.
    pub head_oid: String,
    /// ff's own spelling of the PR's URL.
    pub url: PrUrl,
    pub repo: GithubRepo,
    /// The project's default branch, as its clone names it.
    pub default_branch: String,
    pub self_login: String,
}

/// `has_merge_conflict` is the stored mark, which stays as it was while GitHub computes
/// mergeability. Without `details` the observation has no reviews and no threads.
pub fn ratchet_observation(
    summary: &PullRequestSummary,
    details: Option<&PullRequestDetails>,
    has_merge_conflict: bool,
) -> PrObservation {
    let failing_checks = summary
        .failing_checks()
        .into_iter()
        .map(|check| FailedCheck {
            name: check.name,
            conclusion: check.conclusion,
            run: check.run_id.map(|id| id.to_string()).or(check.url),
        })
        .collect();
    let reviews = details
        .and_then(|d| d.reviews.as_ref())
        .map(|reviews| {
            reviews
                .nodes
                .iter()
                // A review still being written (no submission time) is not feedback yet.
                .filter_map(|review| {
                    Some(Review {
                        author: login_or_ghost(review.author.as_ref()).to_owned(),
                        state: review.state.normalised(),
                        body: review.body.clone(),
                        submitted_at_ms: review.submitted_at?.millis(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let inline_comments = details
        .map(|d| {
            d.review_threads
                .nodes
                .iter()
                .flat_map(|thread| {
                    thread.comments.nodes.iter().map(|comment| ReviewComment {
                        author: login_or_ghost(comment.author.as_ref()).to_owned(),
                        body: comment.body.clone(),
                        path: comment.path.clone(),
                        line: comment.line.or(thread.line),
                        url: comment.url.clone(),
                        updated_at_ms: comment.updated_at.millis(),
                        resolved: thread.is_resolved,
                        thread_id: thread.id.clone(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    PrObservation {
        number: summary.number,
        url: summary.url.clone(),
        state: github_state(summary),
        ci_status: summary.ci_status(),
        failing_checks,
        review_decision: summary.review_decision.as_ref().and_then(|d| d.known()),
        reviews,
        inline_comments,
        has_merge_conflict,
        base_branch: summary.base_ref_name.clone(),
    }
}

/// A state GitHub added later is not one the ratchet may act on.
fn github_state(summary: &PullRequestSummary) -> GithubPrState {
    match summary.state {
        _ if summary.merged => GithubPrState::Merged,
        PullRequestState::Merged => GithubPrState::Merged,
        PullRequestState::Open => GithubPrState::Open,
        PullRequestState::Closed | PullRequestState::Other(_) => GithubPrState::Closed,
    }
}
