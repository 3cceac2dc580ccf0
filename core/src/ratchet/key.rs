//! The snapshot key of D§6.2: a fixer is dispatched once per distinct key, so the key holds
//! exactly what a fixer could act on and nothing that changes without the PR changing.

use super::feedback::latest_review_activity_ms;
use super::observation::{FailedCheck, PrObservation, ReviewPolicy};
use crate::enums::CiStatus;

/// The check conclusions that count as failed. Anything else listed (NEUTRAL, SKIPPED, …) is
/// left out of the key.
pub const FAILURE_CONCLUSIONS: &[&str] = &[
    "FAILURE",
    "TIMED_OUT",
    "CANCELLED",
    "ERROR",
    "ACTION_REQUIRED",
    "STARTUP_FAILURE",
];

/// Conclusions are compared without regard to case, as GitHub's APIs differ in it.
pub fn is_failure_conclusion(conclusion: &str) -> bool {
    FAILURE_CONCLUSIONS
        .iter()
        .any(|failure| failure.eq_ignore_ascii_case(conclusion))
}

/// `pr:<n>|<ci>|<changes-requested|no-changes-requested>:<latest ms|none>|merge:<conflict|clean>`.
pub fn snapshot_key(pr: &PrObservation, policy: ReviewPolicy<'_>) -> String {
    let review = if pr.changes_requested() {
        "changes-requested"
    } else {
        "no-changes-requested"
    };
    let latest = latest_review_activity_ms(pr, policy)
        .map_or_else(|| "none".to_owned(), |ms| ms.to_string());
    let merge = if pr.has_merge_conflict {
        "conflict"
    } else {
        "clean"
    };
    format!(
        "pr:{}|{}|{review}:{latest}|merge:{merge}",
        pr.number,
        ci_key(pr.ci_status, &pr.failing_checks)
    )
}

/// `ci:<STATUS>`, except that a failure names its failed checks, sorted so that the order GitHub
/// lists them in does not matter.
fn ci_key(status: CiStatus, checks: &[FailedCheck]) -> String {
    if status != CiStatus::Failure {
        return format!("ci:{status}");
    }
    let mut failed: Vec<String> = checks
        .iter()
        .filter(|check| is_failure_conclusion(&check.conclusion))
        .map(|check| {
            let run = check.run.as_deref().unwrap_or("no-run-id-or-details-url");
            format!("{}:{}:{run}", check.name, check.conclusion)
        })
        .collect();
    if failed.is_empty() {
        return "ci:FAILURE:unknown".to_owned();
    }
    failed.sort_unstable();
    format!("ci:FAILURE:{}", failed.join("|"))
}
