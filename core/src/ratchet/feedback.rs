//! Which review feedback counts (D§6.2): for the snapshot key's latest activity and for what the
//! fixer prompt quotes.

use super::observation::{PrObservation, Review, ReviewComment, ReviewPolicy, ReviewTrigger};
use crate::enums::ReviewState;
use serde::Serialize;

/// One piece of feedback quoted to the fixer, serialized into the prompt's untrusted-JSON block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Feedback {
    pub author: String,
    pub body: String,
    /// The file of an inline comment, or "PR review" for a review summary.
    pub path: String,
    pub line: Option<u32>,
    pub url: String,
    /// The review thread of an inline comment: the id the fixer's report names it by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
}

/// The path given to review summaries, which belong to no file.
pub const REVIEW_SUMMARY_PATH: &str = "PR review";

/// A later approval from the same reviewer withdraws what they asked for before.
fn superseded(review: &Review, reviews: &[Review]) -> bool {
    reviews.iter().any(|later| {
        later.state == ReviewState::Approved
            && later.author == review.author
            && later.submitted_at_ms > review.submitted_at_ms
    })
}

/// A review asking for something under the policy's trigger, whoever wrote it.
fn asks_for_changes(review: &Review, trigger: ReviewTrigger) -> bool {
    match review.state {
        ReviewState::ChangesRequested => true,
        ReviewState::Commented => {
            trigger == ReviewTrigger::AllReviewFeedback && !review.body.trim().is_empty()
        }
        ReviewState::Approved | ReviewState::Dismissed | ReviewState::Pending => false,
    }
}

/// The reviews that still ask for something, by someone else.
fn live_reviews<'a>(
    pr: &'a PrObservation,
    policy: ReviewPolicy<'a>,
) -> impl Iterator<Item = &'a Review> + 'a {
    pr.reviews.iter().filter(move |review| {
        !policy.is_self(&review.author)
            && asks_for_changes(review, policy.trigger)
            && !superseded(review, &pr.reviews)
    })
}

/// The latest review activity by someone else: counted reviews and every inline comment,
/// resolved or not (editing or answering in a resolved thread is still activity). `None` when
/// there is none.
pub fn latest_review_activity_ms(pr: &PrObservation, policy: ReviewPolicy<'_>) -> Option<i64> {
    let reviews = live_reviews(pr, policy).map(|review| review.submitted_at_ms);
    let comments = pr
        .inline_comments
        .iter()
        .filter(|comment| !policy.is_self(&comment.author))
        .map(|comment| comment.updated_at_ms);
    reviews.chain(comments).max()
}

fn open_comments<'a>(
    pr: &'a PrObservation,
    policy: ReviewPolicy<'a>,
) -> impl Iterator<Item = &'a ReviewComment> + 'a {
    pr.inline_comments
        .iter()
        .filter(move |comment| !comment.resolved && !policy.is_self(&comment.author))
}

fn summaries<'a>(
    pr: &'a PrObservation,
    policy: ReviewPolicy<'a>,
) -> impl Iterator<Item = &'a Review> + 'a {
    live_reviews(pr, policy).filter(|review| !review.body.trim().is_empty())
}

/// Whether [`review_feedback`] would quote anything, without building it.
pub(crate) fn has_review_feedback(pr: &PrObservation, policy: ReviewPolicy<'_>) -> bool {
    open_comments(pr, policy).next().is_some() || summaries(pr, policy).next().is_some()
}

/// What the fixer must address: unresolved inline comments, then review summaries with a body,
/// each in the order GitHub listed them.
pub fn review_feedback(pr: &PrObservation, policy: ReviewPolicy<'_>) -> Vec<Feedback> {
    let comments = open_comments(pr, policy).map(|comment| Feedback {
        author: comment.author.clone(),
        body: comment.body.clone(),
        path: comment.path.clone(),
        line: comment.line,
        url: comment.url.clone(),
        thread: comment.thread_id.clone(),
    });
    let summaries = summaries(pr, policy).map(|review| Feedback {
        author: review.author.clone(),
        body: review.body.trim().to_owned(),
        path: REVIEW_SUMMARY_PATH.to_owned(),
        line: None,
        url: pr.url.clone(),
        thread: None,
    });
    comments.chain(summaries).collect()
}
