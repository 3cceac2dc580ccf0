//! The ratchet's decision for one check (ratchet.md §1, D§6.2): which fixer, if any, a PR needs
//! now. Pure, so that every rule is a table row in a test; fetching, dispatching and recording
//! are the server's.

mod decision;
mod feedback;
mod key;
mod observation;
pub mod replies;
mod view;

pub use decision::{
    decide, Check, CheckInput, Decision, StallReason, TriggerReason, WaitReason, MAX_RETRIES,
};
pub use feedback::{latest_review_activity_ms, review_feedback, Feedback, REVIEW_SUMMARY_PATH};
pub use key::{is_failure_conclusion, snapshot_key, FAILURE_CONCLUSIONS};
pub use observation::{
    Activity, Bookkeeping, FailedCheck, GithubPrState, PrObservation, Review, ReviewComment,
    ReviewPolicy, ReviewTrigger,
};
pub use view::{RatchetCheck, RatchetDispatch, RatchetView, Verdict};
