//! A pull request's CI status from its head commit's checks (D§5.2), and the checks that fail.

use super::enums::{CheckConclusionState, CheckStatusState, StatusState};
use super::pull_request::{CheckRun, RollupContext, StatusContext};
use crate::enums::CiStatus;
use crate::ids::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A check whose latest run failed, with what is needed to show it and fetch its log.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailingCheck {
    pub name: String,
    pub workflow: Option<String>,
    /// GitHub's own word for the outcome: a check run's conclusion (`FAILURE`,
    /// `STARTUP_FAILURE`, …) or a status context's state (`FAILURE`, `ERROR`).
    pub conclusion: String,
    /// The Actions workflow run, from the check's link (`/actions/runs/<id>`).
    pub run_id: Option<u64>,
    /// The check run's `databaseId`, which is the Actions job id.
    pub job_id: Option<u64>,
    pub url: Option<String>,
}

/// D§5.2. `checks` is `None` when the head commit is not known (UNKNOWN); an empty list means
/// the commit has no checks, which counts as SUCCESS.
pub fn ci_status(checks: Option<&[RollupContext]>) -> CiStatus {
    let Some(checks) = checks else {
        return CiStatus::Unknown;
    };
    let verdicts: Vec<Verdict> = latest_runs(checks).iter().map(|c| c.verdict).collect();
    if verdicts.contains(&Verdict::Failing) {
        CiStatus::Failure
    } else if verdicts.contains(&Verdict::Pending) {
        CiStatus::Pending
    } else if verdicts.iter().all(|v| *v == Verdict::Passing) {
        CiStatus::Success
    } else {
        CiStatus::Unknown
    }
}

/// The checks that make [`ci_status`] FAILURE, after the same de-duplication of re-runs, in a
/// fixed order (by name first).
pub fn failing_checks(checks: &[RollupContext]) -> Vec<FailingCheck> {
    let mut failing: Vec<FailingCheck> = latest_runs(checks)
        .into_iter()
        .filter(|c| c.verdict == Verdict::Failing)
        .map(|c| FailingCheck {
            name: c.name.to_owned(),
            workflow: c.workflow.map(str::to_owned),
            conclusion: c.outcome.to_owned(),
            run_id: c.run_id,
            job_id: c.job_id,
            url: c.url.map(str::to_owned),
        })
        .collect();
    failing.sort();
    failing
}

/// Every check of the head commit after the de-duplication of re-runs, in GitHub's order, for
/// the workspace page.
pub fn check_lines(checks: &[RollupContext]) -> Vec<CheckLine> {
    latest_runs(checks)
        .into_iter()
        .filter(|c| !c.name.is_empty())
        .map(|c| CheckLine {
            name: c.name.to_owned(),
            workflow: c.workflow.map(str::to_owned),
            outcome: c.outcome.to_owned(),
            verdict: c.verdict,
            url: c.url.map(str::to_owned),
        })
        .collect()
}

/// One check as the workspace page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckLine {
    pub name: String,
    pub workflow: Option<String>,
    /// GitHub's own word: a conclusion, a status, or a status context's state.
    pub outcome: String,
    pub verdict: Verdict,
    pub url: Option<String>,
}

/// Where one check's effective state (D§5.2 step 3) falls among the lists of step 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// FAILURE, ERROR, ACTION_REQUIRED, TIMED_OUT, CANCELLED, STARTUP_FAILURE
    Failing,
    /// PENDING, EXPECTED, QUEUED, IN_PROGRESS
    Pending,
    /// SUCCESS, SKIPPED, NEUTRAL
    Passing,
    /// anything else
    Unknown,
}

/// One rollup entry, normalised (D§5.2 step 1) to what de-duplication and the verdict need.
struct Check<'a> {
    name: &'a str,
    workflow: Option<&'a str>,
    url: Option<&'a str>,
    run_id: Option<u64>,
    job_id: Option<u64>,
    /// The later of started and completed.
    time: Option<Timestamp>,
    verdict: Verdict,
    outcome: &'a str,
}

impl<'a> Check<'a> {
    fn of(context: &'a RollupContext) -> Self {
        match context {
            RollupContext::CheckRun(run) => Self::of_run(run),
            RollupContext::StatusContext(status) => Self::of_status(status),
            RollupContext::Other => Self {
                name: "",
                workflow: None,
                url: None,
                run_id: None,
                job_id: None,
                time: None,
                verdict: Verdict::Unknown,
                outcome: "",
            },
        }
    }

    fn of_run(run: &'a CheckRun) -> Self {
        use CheckConclusionState as C;
        use CheckStatusState as S;
        // Step 1 keeps COMPLETED, IN_PROGRESS, PENDING and QUEUED and reads any other status as
        // PENDING; step 3 takes the conclusion only once the run is COMPLETED.
        let verdict = match (&run.status, &run.conclusion) {
            (S::Completed, Some(C::Success | C::Skipped | C::Neutral)) => Verdict::Passing,
            // STARTUP_FAILURE is kept too, beyond D§5.2's list: a workflow that cannot start
            // has failed (github.md §2).
            (
                S::Completed,
                Some(
                    C::Failure | C::Cancelled | C::TimedOut | C::ActionRequired | C::StartupFailure,
                ),
            ) => Verdict::Failing,
            // No conclusion left after step 1 (none, STALE, or one GitHub added): the effective
            // state is COMPLETED itself, which is in no list of step 4.
            (S::Completed, Some(C::Stale | C::Other(_)) | None) => Verdict::Unknown,
            _ => Verdict::Pending,
        };
        Self {
            name: &run.name,
            workflow: run.workflow_name(),
            url: run.details_url.as_deref(),
            run_id: run.details_url.as_deref().and_then(actions_run_id),
            job_id: run.database_id,
            time: run.started_at.max(run.completed_at),
            verdict,
            outcome: run
                .conclusion
                .as_ref()
                .map_or(run.status.as_str(), CheckConclusionState::as_str),
        }
    }

    fn of_status(status: &'a StatusContext) -> Self {
        use StatusState as S;
        // Step 1: PENDING and EXPECTED are pending, SUCCESS passes, FAILURE and ERROR fail;
        // a state GitHub added has no conclusion, so step 3 falls back to it and step 4 to
        // UNKNOWN.
        let verdict = match status.state {
            S::Success => Verdict::Passing,
            S::Failure | S::Error => Verdict::Failing,
            S::Pending | S::Expected => Verdict::Pending,
            S::Other(_) => Verdict::Unknown,
        };
        Self {
            name: &status.context,
            workflow: None,
            url: status.target_url.as_deref(),
            run_id: status.target_url.as_deref().and_then(actions_run_id),
            job_id: None,
            time: Some(status.created_at),
            verdict,
            outcome: status.state.as_str(),
        }
    }

    /// D§5.2 step 2: the runs of one Actions job share a key; a check without a run link is
    /// never merged with another.
    fn rerun_key(&self) -> Option<(String, String)> {
        self.run_id?;
        Some((
            self.workflow.unwrap_or_default().to_lowercase(),
            self.name.to_lowercase(),
        ))
    }
}

/// D§5.2 step 2: of the runs of one job, keep the highest run id, then the latest time, then the
/// later position.
fn latest_runs(contexts: &[RollupContext]) -> Vec<Check<'_>> {
    let mut kept: Vec<Check> = Vec::with_capacity(contexts.len());
    let mut slot_of_key: HashMap<(String, String), usize> = HashMap::new();
    for check in contexts.iter().map(Check::of) {
        let Some(key) = check.rerun_key() else {
            kept.push(check);
            continue;
        };
        match slot_of_key.get(&key) {
            Some(&slot) => {
                let old = &kept[slot];
                // `>=`: on a tie the later position wins.
                if (check.run_id, check.time) >= (old.run_id, old.time) {
                    kept[slot] = check;
                }
            }
            None => {
                slot_of_key.insert(key, kept.len());
                kept.push(check);
            }
        }
    }
    kept
}

/// The workflow run id in an Actions link: `…/actions/runs/<id>[/job/<job>]`.
pub fn actions_run_id(url: &str) -> Option<u64> {
    const MARKER: &str = "/actions/runs/";
    let start = url.find(MARKER)? + MARKER.len();
    let digits = &url[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_come_from_actions_links_only() {
        let cases = [
            ("https://github.com/o/r/actions/runs/123/job/456", Some(123)),
            ("https://github.com/o/r/actions/runs/77", Some(77)),
            (
                "https://github.com/o/r/actions/runs/77?check_suite_focus=true",
                Some(77),
            ),
            ("https://github.com/o/r/actions/runs/", None),
            ("https://github.com/o/r/actions/runs/x1", None),
            ("https://ci.example.com/build/123", None),
            (
                "https://github.com/o/r/actions/runs/99999999999999999999999",
                None,
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(actions_run_id(url), expected, "{url}");
        }
    }
}
