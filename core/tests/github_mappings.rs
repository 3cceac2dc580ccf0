//! Every rule of D§5.2 (CI status) and every row of D§5.3 (PR state), the conflict mark of
//! github.md §2, re-run de-duplication, and properties of the CI mapping over random rollups.
//! Each row carries a label, so a failure names the rule that broke.

use ff_core::enums::{CiStatus, PrState, ReviewDecision};
use ff_core::github::*;
use ff_core::ids::Timestamp;
use proptest::collection::vec;
use proptest::option::of as maybe;
use proptest::prelude::*;
use proptest::sample::select;

const T0: i64 = 1_790_000_000_000;
const MINUTE: i64 = 60_000;

fn at(minute: i64) -> Timestamp {
    Timestamp::from_millis(T0 + minute * MINUTE).expect("timestamp in range")
}

/// An Actions check run of `workflow`, run `run_id` (its job id derived from it), started at
/// minute `run_id` and completed a minute later when it has a conclusion.
fn actions(
    workflow: &str,
    name: &str,
    run_id: u64,
    status: &str,
    conclusion: Option<&str>,
) -> CheckRun {
    let job_id = run_id * 10;
    CheckRun {
        database_id: Some(job_id),
        name: name.into(),
        status: status.into(),
        conclusion: conclusion.map(Into::into),
        started_at: Some(at(run_id as i64)),
        completed_at: conclusion.map(|_| at(run_id as i64 + 1)),
        details_url: Some(format!(
            "https://github.com/acme/app/actions/runs/{run_id}/job/{job_id}"
        )),
        check_suite: CheckSuite {
            workflow_run: Some(WorkflowRun {
                workflow: Workflow {
                    name: workflow.into(),
                },
            }),
        },
    }
}

/// A completed Actions job of workflow "CI".
fn job(name: &str, run_id: u64, conclusion: &str) -> RollupContext {
    RollupContext::CheckRun(actions("CI", name, run_id, "COMPLETED", Some(conclusion)))
}

/// A check run of another app (no Actions link, no workflow).
fn app_check(name: &str, status: &str, conclusion: Option<&str>) -> RollupContext {
    RollupContext::CheckRun(CheckRun {
        database_id: Some(7),
        name: name.into(),
        status: status.into(),
        conclusion: conclusion.map(Into::into),
        started_at: None,
        completed_at: None,
        details_url: Some(format!("https://checks.example.com/{name}")),
        check_suite: CheckSuite { workflow_run: None },
    })
}

fn status(context: &str, state: &str) -> RollupContext {
    RollupContext::StatusContext(StatusContext {
        context: context.into(),
        state: state.into(),
        target_url: Some(format!("https://ci.example.com/{context}")),
        description: None,
        created_at: at(0),
    })
}

fn with_times(mut check: RollupContext, started: i64, completed: Option<i64>) -> RollupContext {
    if let RollupContext::CheckRun(run) = &mut check {
        run.started_at = Some(at(started));
        run.completed_at = completed.map(at);
    }
    check
}

#[test]
fn ci_status_result_rules() {
    use CiStatus::*;
    let rows: Vec<(&str, Vec<RollupContext>, CiStatus)> = vec![
        ("4 empty list is SUCCESS", vec![], Success),
        ("4 FAILURE", vec![job("test", 1, "FAILURE")], Failure),
        (
            "4 ERROR (status context)",
            vec![status("ci/x", "ERROR")],
            Failure,
        ),
        (
            "4 FAILURE (status context)",
            vec![status("ci/x", "FAILURE")],
            Failure,
        ),
        (
            "4 ACTION_REQUIRED",
            vec![job("test", 1, "ACTION_REQUIRED")],
            Failure,
        ),
        ("4 TIMED_OUT", vec![job("test", 1, "TIMED_OUT")], Failure),
        ("4 CANCELLED", vec![job("test", 1, "CANCELLED")], Failure),
        (
            "4 STARTUP_FAILURE",
            vec![job("test", 1, "STARTUP_FAILURE")],
            Failure,
        ),
        (
            "4 failure beats pending and success",
            vec![
                app_check("a", "IN_PROGRESS", None),
                job("b", 1, "SUCCESS"),
                status("c", "ERROR"),
            ],
            Failure,
        ),
        (
            "4 PENDING (status context)",
            vec![status("ci/x", "PENDING")],
            Pending,
        ),
        (
            "4 EXPECTED (status context)",
            vec![status("ci/x", "EXPECTED")],
            Pending,
        ),
        ("4 QUEUED", vec![app_check("a", "QUEUED", None)], Pending),
        (
            "4 IN_PROGRESS",
            vec![app_check("a", "IN_PROGRESS", None)],
            Pending,
        ),
        (
            "4 PENDING (check run)",
            vec![app_check("a", "PENDING", None)],
            Pending,
        ),
        (
            "4 pending beats success",
            vec![job("a", 1, "SUCCESS"), status("b", "PENDING")],
            Pending,
        ),
        (
            "4 pending beats unknown",
            vec![app_check("a", "COMPLETED", None), status("b", "EXPECTED")],
            Pending,
        ),
        ("4 SUCCESS", vec![job("test", 1, "SUCCESS")], Success),
        (
            "4 SUCCESS (status context)",
            vec![status("ci/x", "SUCCESS")],
            Success,
        ),
        ("4 SKIPPED", vec![job("test", 1, "SKIPPED")], Success),
        (
            "4 NEUTRAL",
            vec![app_check("a", "COMPLETED", Some("NEUTRAL"))],
            Success,
        ),
        (
            "4 all of SUCCESS, SKIPPED, NEUTRAL",
            vec![
                job("a", 1, "SUCCESS"),
                job("b", 1, "SKIPPED"),
                app_check("c", "COMPLETED", Some("NEUTRAL")),
                status("d", "SUCCESS"),
            ],
            Success,
        ),
        (
            "4 else UNKNOWN: completed without a conclusion",
            vec![job("a", 1, "SUCCESS"), app_check("b", "COMPLETED", None)],
            Unknown,
        ),
        (
            "4 else UNKNOWN: STALE is dropped by step 1",
            vec![job("a", 1, "STALE")],
            Unknown,
        ),
        (
            "4 else UNKNOWN: a conclusion GitHub added",
            vec![job("a", 1, "EXPLODED")],
            Unknown,
        ),
        (
            "4 else UNKNOWN: a status state GitHub added",
            vec![status("a", "WOBBLY")],
            Unknown,
        ),
        (
            "4 else UNKNOWN: a rollup member type GitHub added",
            vec![job("a", 1, "SUCCESS"), RollupContext::Other],
            Unknown,
        ),
        (
            "1 REQUESTED reads PENDING",
            vec![app_check("a", "REQUESTED", None)],
            Pending,
        ),
        (
            "1 WAITING reads PENDING",
            vec![app_check("a", "WAITING", None)],
            Pending,
        ),
        (
            "1 a status GitHub added reads PENDING",
            vec![app_check("a", "SNOOZING", Some("SUCCESS"))],
            Pending,
        ),
        (
            "3 a conclusion counts only once COMPLETED",
            vec![app_check("a", "IN_PROGRESS", Some("FAILURE"))],
            Pending,
        ),
    ];
    for (label, checks, expected) in rows {
        assert_eq!(ci_status(Some(&checks)), expected, "{label}");
    }
    assert_eq!(ci_status(None), Unknown, "4 rollup null is UNKNOWN");
}

#[test]
fn re_runs_are_de_duplicated() {
    use CiStatus::*;
    let rows: Vec<(&str, Vec<RollupContext>, CiStatus)> = vec![
        (
            "a failing run superseded by a passing re-run",
            vec![job("test", 100, "FAILURE"), job("test", 101, "SUCCESS")],
            Success,
        ),
        (
            "the highest run id wins, not the position",
            vec![job("test", 101, "SUCCESS"), job("test", 100, "FAILURE")],
            Success,
        ),
        (
            "a passing run superseded by a failing re-run",
            vec![job("test", 100, "SUCCESS"), job("test", 101, "FAILURE")],
            Failure,
        ),
        (
            "a re-run still in progress",
            vec![
                job("test", 100, "FAILURE"),
                RollupContext::CheckRun(actions("CI", "test", 101, "IN_PROGRESS", None)),
            ],
            Pending,
        ),
        (
            "same run id: the later time wins",
            vec![
                with_times(job("test", 100, "SUCCESS"), 5, Some(9)),
                with_times(job("test", 100, "FAILURE"), 1, Some(2)),
            ],
            Success,
        ),
        (
            "same run id: a completion counts as the later time",
            vec![
                with_times(job("test", 100, "FAILURE"), 1, Some(8)),
                with_times(job("test", 100, "SUCCESS"), 5, None),
            ],
            Failure,
        ),
        (
            "same run id and time: the later position wins",
            vec![
                with_times(job("test", 100, "FAILURE"), 1, Some(2)),
                with_times(job("test", 100, "SUCCESS"), 1, Some(2)),
            ],
            Success,
        ),
        (
            "the key ignores case",
            vec![
                RollupContext::CheckRun(actions("CI", "Test", 100, "COMPLETED", Some("FAILURE"))),
                RollupContext::CheckRun(actions("ci", "test", 101, "COMPLETED", Some("SUCCESS"))),
            ],
            Success,
        ),
        (
            "another workflow's job of the same name is another check",
            vec![
                RollupContext::CheckRun(actions("CI", "test", 100, "COMPLETED", Some("FAILURE"))),
                RollupContext::CheckRun(actions(
                    "Nightly",
                    "test",
                    101,
                    "COMPLETED",
                    Some("SUCCESS"),
                )),
            ],
            Failure,
        ),
        (
            "checks without an Actions link are never merged",
            vec![
                app_check("test", "COMPLETED", Some("FAILURE")),
                app_check("test", "COMPLETED", Some("SUCCESS")),
            ],
            Failure,
        ),
        (
            "other jobs of the superseded run stay",
            vec![
                job("test", 100, "FAILURE"),
                job("lint", 100, "FAILURE"),
                job("test", 101, "SUCCESS"),
            ],
            Failure,
        ),
    ];
    for (label, checks, expected) in rows {
        assert_eq!(ci_status(Some(&checks)), expected, "{label}");
    }
}

fn failing(name: &str, run_id: u64, conclusion: &str) -> FailingCheck {
    FailingCheck {
        name: name.into(),
        workflow: Some("CI".into()),
        conclusion: conclusion.into(),
        run_id: Some(run_id),
        job_id: Some(run_id * 10),
        url: Some(format!(
            "https://github.com/acme/app/actions/runs/{run_id}/job/{}",
            run_id * 10
        )),
    }
}

#[test]
fn failing_checks_after_de_duplication() {
    let rows: Vec<(&str, Vec<RollupContext>, Vec<FailingCheck>)> = vec![
        ("none", vec![job("test", 1, "SUCCESS")], vec![]),
        (
            "superseded by a passing re-run",
            vec![job("test", 100, "FAILURE"), job("test", 101, "SUCCESS")],
            vec![],
        ),
        (
            "a new failing run id replaces the old one",
            vec![job("test", 100, "FAILURE"), job("test", 101, "TIMED_OUT")],
            vec![failing("test", 101, "TIMED_OUT")],
        ),
        (
            "sorted by name, with GitHub's own word",
            vec![
                job("zeta", 3, "CANCELLED"),
                job("alpha", 3, "STARTUP_FAILURE"),
                job("mid", 3, "SUCCESS"),
                app_check("beta", "IN_PROGRESS", None),
            ],
            vec![
                failing("alpha", 3, "STARTUP_FAILURE"),
                failing("zeta", 3, "CANCELLED"),
            ],
        ),
        (
            "a status context: its state, no workflow or job",
            vec![status("deploy/preview", "ERROR")],
            vec![FailingCheck {
                name: "deploy/preview".into(),
                workflow: None,
                conclusion: "ERROR".into(),
                run_id: None,
                job_id: None,
                url: Some("https://ci.example.com/deploy/preview".into()),
            }],
        ),
        (
            "another app's check: its job id, no run",
            vec![app_check("codecov", "COMPLETED", Some("ACTION_REQUIRED"))],
            vec![FailingCheck {
                name: "codecov".into(),
                workflow: None,
                conclusion: "ACTION_REQUIRED".into(),
                run_id: None,
                job_id: Some(7),
                url: Some("https://checks.example.com/codecov".into()),
            }],
        ),
    ];
    for (label, checks, expected) in rows {
        assert_eq!(failing_checks(&checks), expected, "{label}");
    }
}

#[test]
fn pr_state_rows() {
    use PrState as P;
    use ReviewDecision as R;
    let open = PullRequestState::Open;
    #[rustfmt::skip]
    let rows: [(&str, PullRequestState, bool, Option<ReviewDecision>, PrState); 12] = [
        ("state MERGED", PullRequestState::Merged, false, None, P::Merged),
        ("state MERGED, draft and approved", PullRequestState::Merged, true, Some(R::Approved), P::Merged),
        ("state CLOSED", PullRequestState::Closed, false, Some(R::ChangesRequested), P::Closed),
        ("state CLOSED, draft", PullRequestState::Closed, true, None, P::Closed),
        ("open & isDraft", open.clone(), true, None, P::Draft),
        ("open & isDraft masks APPROVED", open.clone(), true, Some(R::Approved), P::Draft),
        ("open & isDraft masks CHANGES_REQUESTED", open.clone(), true, Some(R::ChangesRequested), P::Draft),
        ("open & APPROVED", open.clone(), false, Some(R::Approved), P::Approved),
        ("open & CHANGES_REQUESTED", open.clone(), false, Some(R::ChangesRequested), P::ChangesRequested),
        ("otherwise open: REVIEW_REQUIRED", open.clone(), false, Some(R::ReviewRequired), P::Open),
        ("otherwise open: no decision", open, false, None, P::Open),
        ("a state GitHub added reads as open", PullRequestState::from("QUEUED"), false, Some(R::Approved), P::Approved),
    ];
    for (label, state, is_draft, decision, expected) in rows {
        assert_eq!(pr_state(&state, is_draft, decision), expected, "{label}");
    }
    let added = PullRequestReviewDecision::from("LGTM");
    assert_eq!(
        pr_state(&PullRequestState::Open, false, added.known()),
        PrState::Open,
        "a decision GitHub added is none of ff's"
    );
}

#[test]
fn merge_conflict_rows() {
    use MergeStateStatus as S;
    use MergeableState as M;
    #[rustfmt::skip]
    let rows: [(&str, MergeableState, MergeStateStatus, bool, bool); 12] = [
        ("CONFLICTING", M::Conflicting, S::Dirty, false, true),
        ("CONFLICTING, status still UNKNOWN", M::Conflicting, S::Unknown, false, true),
        ("DIRTY", M::Mergeable, S::Dirty, false, true),
        ("DIRTY while mergeable is UNKNOWN", M::Unknown, S::Dirty, false, true),
        ("MERGEABLE and CLEAN clears a mark", M::Mergeable, S::Clean, true, false),
        ("MERGEABLE and BLOCKED", M::Mergeable, S::Blocked, true, false),
        ("MERGEABLE and BEHIND", M::Mergeable, S::Behind, false, false),
        ("MERGEABLE and UNSTABLE", M::Mergeable, S::Unstable, false, false),
        ("UNKNOWN keeps a mark", M::Unknown, S::Unknown, true, true),
        ("UNKNOWN keeps no mark", M::Unknown, S::Unknown, false, false),
        ("UNKNOWN and BLOCKED keeps a mark", M::Unknown, S::Blocked, true, true),
        ("a mergeable value GitHub added keeps the mark", M::from("PONDERING"), S::Clean, true, true),
    ];
    for (label, mergeable, status, previous, expected) in rows {
        assert_eq!(
            merge_conflict(&mergeable, &status, previous),
            expected,
            "{label}"
        );
    }
}

// Small domains, so that random rollups often repeat keys and states.
const NAMES: &[&str] = &["test", "Test", "lint", "build"];
const WORKFLOWS: &[&str] = &["CI", "ci", "Release"];

fn check_statuses() -> impl Strategy<Value = CheckStatusState> {
    prop_oneof![
        select(CheckStatusState::KNOWN),
        Just(CheckStatusState::from("SNOOZING"))
    ]
}

fn conclusions() -> impl Strategy<Value = CheckConclusionState> {
    prop_oneof![
        select(CheckConclusionState::KNOWN),
        Just(CheckConclusionState::from("EXPLODED"))
    ]
}

fn status_states() -> impl Strategy<Value = StatusState> {
    prop_oneof![
        select(StatusState::KNOWN),
        Just(StatusState::from("WOBBLY"))
    ]
}

fn check_runs() -> impl Strategy<Value = CheckRun> {
    (
        select(NAMES),
        maybe(select(WORKFLOWS)),
        maybe(1..4u64),
        check_statuses(),
        maybe(conclusions()),
        maybe(0..3i64),
        maybe(0..3i64),
    )
        .prop_map(
            |(name, workflow, run_id, status, conclusion, started, completed)| CheckRun {
                database_id: run_id.map(|r| r * 10),
                name: name.into(),
                status,
                conclusion,
                started_at: started.map(at),
                completed_at: completed.map(at),
                details_url: run_id.map(|r| {
                    format!(
                        "https://github.com/acme/app/actions/runs/{r}/job/{}",
                        r * 10
                    )
                }),
                check_suite: CheckSuite {
                    workflow_run: workflow.map(|w| WorkflowRun {
                        workflow: Workflow { name: w.into() },
                    }),
                },
            },
        )
}

fn contexts() -> impl Strategy<Value = RollupContext> {
    prop_oneof![
        4 => check_runs().prop_map(RollupContext::CheckRun),
        2 => (select(NAMES), status_states()).prop_map(|(name, state)| status(name, state.as_str())),
        1 => Just(RollupContext::Other),
    ]
}

/// Gives every check its own name, so that no two share a re-run key.
fn distinct(mut checks: Vec<RollupContext>) -> Vec<RollupContext> {
    for (i, check) in checks.iter_mut().enumerate() {
        match check {
            RollupContext::CheckRun(run) => run.name = format!("{}-{i}", run.name),
            RollupContext::StatusContext(s) => s.context = format!("{}-{i}", s.context),
            RollupContext::Other => {}
        }
    }
    checks
}

fn distinct_rollups() -> impl Strategy<Value = (Vec<RollupContext>, Vec<RollupContext>)> {
    vec(contexts(), 0..8).prop_flat_map(|checks| {
        let checks = distinct(checks);
        (Just(checks.clone()), Just(checks).prop_shuffle())
    })
}

proptest! {
    #[test]
    fn order_does_not_matter_when_keys_are_distinct((checks, shuffled) in distinct_rollups()) {
        prop_assert_eq!(ci_status(Some(&checks)), ci_status(Some(&shuffled)));
        prop_assert_eq!(failing_checks(&checks), failing_checks(&shuffled));
    }

    #[test]
    fn one_more_failure_always_fails(
        checks in vec(contexts(), 0..8),
        position in any::<prop::sample::Index>(),
        conclusion in select(&["FAILURE", "CANCELLED", "TIMED_OUT", "ACTION_REQUIRED", "STARTUP_FAILURE"][..]),
    ) {
        let mut checks = checks;
        let fresh = RollupContext::CheckRun(actions("Fresh", "fresh", 9, "COMPLETED", Some(conclusion)));
        checks.insert(position.index(checks.len() + 1), fresh);
        prop_assert_eq!(ci_status(Some(&checks)), CiStatus::Failure);
    }

    #[test]
    fn one_more_success_changes_nothing_but_an_empty_list(
        checks in vec(contexts(), 1..8),
        position in any::<prop::sample::Index>(),
    ) {
        let before = ci_status(Some(&checks));
        let mut checks = checks;
        checks.insert(position.index(checks.len() + 1), job("fresh", 9, "SUCCESS"));
        prop_assert_eq!(ci_status(Some(&checks)), before);
    }

    #[test]
    fn failing_checks_are_exactly_what_makes_failure(checks in vec(contexts(), 0..8)) {
        let failing = failing_checks(&checks);
        prop_assert_eq!(!failing.is_empty(), ci_status(Some(&checks)) == CiStatus::Failure);
        prop_assert!(failing.windows(2).all(|w| w[0] <= w[1]), "sorted");
    }

    #[test]
    fn the_latest_run_of_one_job_decides(runs in vec((1..4u64, 0..3i64, select(CheckConclusionState::KNOWN)), 1..6)) {
        let checks: Vec<RollupContext> = runs
            .iter()
            .map(|(run_id, minute, conclusion)| {
                let run = actions("CI", "test", *run_id, "COMPLETED", Some(conclusion.as_str()));
                with_times(RollupContext::CheckRun(run), *minute, None)
            })
            .collect();
        // The highest run id, then the latest time, then the later position.
        let (latest, _) = checks
            .iter()
            .zip(&runs)
            .enumerate()
            .max_by_key(|(i, (_, (run_id, minute, _)))| (*run_id, *minute, *i))
            .map(|(_, pair)| pair)
            .unwrap();
        prop_assert_eq!(ci_status(Some(&checks)), ci_status(Some(std::slice::from_ref(latest))));
    }
}
