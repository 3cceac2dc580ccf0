//! The ratchet's decision (D§6.2 step 5): one row per rule in order of precedence, each built so
//! that no earlier rule applies, then the rows where two rules meet, then the edge cases; the
//! snapshot key, latest activity and quoted feedback; properties over random observations.

use ff_core::enums::{CiStatus, RatchetDispatchOutcome, RatchetState, ReviewDecision, ReviewState};
use ff_core::ratchet::*;
use proptest::collection::vec;
use proptest::option::of as maybe;
use proptest::prelude::*;
use proptest::sample::select;

const URL: &str = "https://github.com/acme/app/pull/12";
const T0: i64 = 1_790_000_000_000;
const ME: ReviewPolicy<'static> = ReviewPolicy {
    self_login: Some("me"),
    trigger: ReviewTrigger::ChangesRequested,
};
const ALL_FEEDBACK: ReviewPolicy<'static> = ReviewPolicy {
    trigger: ReviewTrigger::AllReviewFeedback,
    ..ME
};

fn failed(name: &str, conclusion: &str, run: Option<&str>) -> FailedCheck {
    FailedCheck {
        name: name.into(),
        conclusion: conclusion.into(),
        run: run.map(Into::into),
    }
}

fn review(author: &str, state: ReviewState, body: &str, at: i64) -> Review {
    Review {
        author: author.into(),
        state,
        body: body.into(),
        submitted_at_ms: at,
    }
}

fn comment(author: &str, body: &str, at: i64, resolved: bool) -> ReviewComment {
    ReviewComment {
        author: author.into(),
        body: body.into(),
        path: "src/login.rs".into(),
        line: Some(42),
        url: format!("{URL}#discussion_r{at}"),
        updated_at_ms: at,
        resolved,
        thread_id: None,
    }
}

/// An open PR with the given CI status and nothing else to say.
fn pr(ci_status: CiStatus) -> PrObservation {
    PrObservation {
        number: 12,
        url: URL.into(),
        state: GithubPrState::Open,
        ci_status,
        failing_checks: Vec::new(),
        review_decision: None,
        reviews: Vec::new(),
        inline_comments: Vec::new(),
        has_merge_conflict: false,
        base_branch: "main".into(),
    }
}

/// An open PR whose one test job failed in run 101.
fn failing() -> PrObservation {
    PrObservation {
        failing_checks: vec![failed("test", "FAILURE", Some("101"))],
        ..pr(CiStatus::Failure)
    }
}

fn conflicted(ci_status: CiStatus) -> PrObservation {
    PrObservation {
        has_merge_conflict: true,
        ..pr(ci_status)
    }
}

fn with_comments(ci_status: CiStatus, inline_comments: Vec<ReviewComment>) -> PrObservation {
    PrObservation {
        inline_comments,
        ..pr(ci_status)
    }
}

fn with_reviews(
    decision: Option<ReviewDecision>,
    reviews: Vec<Review>,
    ci_status: CiStatus,
) -> PrObservation {
    PrObservation {
        review_decision: decision,
        reviews,
        ..pr(ci_status)
    }
}

fn closed(state: GithubPrState) -> PrObservation {
    PrObservation { state, ..failing() }
}

fn never_dispatched() -> Bookkeeping {
    Bookkeeping::default()
}

/// A dispatch for exactly `pr`'s state that ended with `outcome` after `retry_count` retries.
fn dispatched_for(
    pr: &PrObservation,
    outcome: RatchetDispatchOutcome,
    retries: u32,
) -> Bookkeeping {
    Bookkeeping {
        snapshot_key: Some(snapshot_key(pr, ME)),
        outcome: Some(outcome),
        retry_count: retries,
        review_last_checked_ms: Some(T0 - 60_000),
        ..Bookkeeping::default()
    }
}

fn stalled(bookkeeping: Bookkeeping) -> Bookkeeping {
    Bookkeeping {
        stalled: true,
        ..bookkeeping
    }
}

const IDLE: Activity = Activity {
    fixer_working: false,
    fixer_ended_during_check: false,
    other_session_working: false,
};
const FIXER_WORKING: Activity = Activity {
    fixer_working: true,
    ..IDLE
};
const FIXER_ENDED: Activity = Activity {
    fixer_ended_during_check: true,
    ..IDLE
};
const OTHER_WORKING: Activity = Activity {
    other_session_working: true,
    ..IDLE
};

struct Row {
    label: &'static str,
    pr: PrObservation,
    bookkeeping: Bookkeeping,
    activity: Activity,
    policy: ReviewPolicy<'static>,
    decision: Decision,
    state: RatchetState,
}

fn row(
    label: &'static str,
    pr: PrObservation,
    bookkeeping: Bookkeeping,
    activity: Activity,
    decision: Decision,
    state: RatchetState,
) -> Row {
    Row {
        label,
        pr,
        bookkeeping,
        activity,
        policy: ME,
        decision,
        state,
    }
}

fn check_rows(rows: Vec<Row>) {
    for row in rows {
        let check = decide(CheckInput {
            pr: &row.pr,
            bookkeeping: &row.bookkeeping,
            activity: row.activity,
            policy: row.policy,
        });
        assert_eq!(check.decision, row.decision, "{}", row.label);
        assert_eq!(check.ratchet_state, row.state, "{} (state)", row.label);
        assert_eq!(
            check.key,
            snapshot_key(&row.pr, row.policy),
            "{} (key)",
            row.label
        );
    }
}

fn trigger(retry_count: u32, reason: TriggerReason) -> Decision {
    Decision::Trigger {
        retry_count,
        reason,
    }
}

use Decision::{Completed, FixerActive, MarkStalled, Waiting};
use RatchetDispatchOutcome::{Completed as Done, Died};
use RatchetState as R;
use TriggerReason::{CiFailure, MergeConflict, ReviewFeedback};

#[test]
fn one_row_per_rule_in_order() {
    let resolved_by_bob = with_comments(CiStatus::Success, vec![comment("bob", "ok", T0, true)]);
    #[rustfmt::skip]
    let rows = vec![
        row("1 merged", closed(GithubPrState::Merged), never_dispatched(), IDLE, Completed, R::Merged),
        row("2 closed", closed(GithubPrState::Closed), never_dispatched(), IDLE, Waiting(WaitReason::PrNotOpen), R::Idle),
        row("3 CI not settled, no conflict", pr(CiStatus::Unknown), never_dispatched(), IDLE, Waiting(WaitReason::CiPending), R::CiRunning),
        row("4 fixer working", failing(), dispatched_for(&failing(), RatchetDispatchOutcome::Running, 0), FIXER_WORKING, FixerActive, R::CiFailed),
        row("5 fixer ended during the check", failing(), never_dispatched(), FIXER_ENDED, Waiting(WaitReason::FixerEnded), R::CiFailed),
        row("6 died, retries used up", failing(), dispatched_for(&failing(), Died, MAX_RETRIES), IDLE, MarkStalled(StallReason::FixerDied { times: 4 }), R::CiFailed),
        row("6 died, another session working", failing(), dispatched_for(&failing(), Died, 1), OTHER_WORKING, Waiting(WaitReason::OtherSessionWorking), R::CiFailed),
        row("6 died, retried", failing(), dispatched_for(&failing(), Died, 1), IDLE, trigger(2, CiFailure), R::CiFailed),
        row("7 clean PR", pr(CiStatus::Success), never_dispatched(), IDLE, Waiting(WaitReason::PrClean), R::Ready),
        row("8 new review activity, nothing to fix", resolved_by_bob, never_dispatched(), IDLE, Waiting(WaitReason::NothingToFix), R::Ready),
        row("9 unchanged since a fixer finished", failing(), dispatched_for(&failing(), Done, 0), IDLE, MarkStalled(StallReason::Unchanged), R::CiFailed),
        row("10 another session working", failing(), never_dispatched(), OTHER_WORKING, Waiting(WaitReason::OtherSessionWorking), R::CiFailed),
        row("11 trigger", failing(), never_dispatched(), IDLE, trigger(0, CiFailure), R::CiFailed),
    ];
    check_rows(rows);
}

#[test]
fn where_two_rules_meet_the_earlier_wins() {
    let clean = pr(CiStatus::Success);
    let resolved_by_bob = with_comments(CiStatus::Success, vec![comment("bob", "ok", T0, true)]);
    #[rustfmt::skip]
    let rows = vec![
        row("merged beats a working fixer", closed(GithubPrState::Merged), never_dispatched(), FIXER_WORKING, Completed, R::Merged),
        row("closed beats a fixer that died", closed(GithubPrState::Closed), dispatched_for(&closed(GithubPrState::Closed), Died, 0), IDLE, Waiting(WaitReason::PrNotOpen), R::Idle),
        row("CI pending beats a working fixer", pr(CiStatus::Pending), never_dispatched(), FIXER_WORKING, Waiting(WaitReason::CiPending), R::CiRunning),
        row("a conflict does not wait for CI", conflicted(CiStatus::Pending), never_dispatched(), IDLE, trigger(0, MergeConflict), R::MergeConflict),
        row("a working fixer beats one that ended", failing(), never_dispatched(), Activity { fixer_ended_during_check: true, ..FIXER_WORKING }, FixerActive, R::CiFailed),
        row("a fixer that ended beats the retry", failing(), dispatched_for(&failing(), Died, 0), FIXER_ENDED, Waiting(WaitReason::FixerEnded), R::CiFailed),
        row("the retry beats a clean PR", clean.clone(), dispatched_for(&clean, Died, 0), IDLE, trigger(1, ReviewFeedback), R::Ready),
        row("used-up retries beat another working session", failing(), dispatched_for(&failing(), Died, 5), OTHER_WORKING, MarkStalled(StallReason::FixerDied { times: 6 }), R::CiFailed),
        row("a death for another key is no retry", failing(), dispatched_for(&pr(CiStatus::Failure), Died, 2), IDLE, trigger(0, CiFailure), R::CiFailed),
        row("clean beats unchanged", clean.clone(), dispatched_for(&clean, Done, 0), IDLE, Waiting(WaitReason::PrClean), R::Ready),
        row("nothing to fix beats unchanged", resolved_by_bob.clone(), dispatched_for(&resolved_by_bob, Done, 0), IDLE, Waiting(WaitReason::NothingToFix), R::Ready),
        row("unchanged beats another working session", failing(), dispatched_for(&failing(), Done, 0), OTHER_WORKING, MarkStalled(StallReason::Unchanged), R::CiFailed),
    ];
    check_rows(rows);
}

#[test]
fn edge_cases() {
    let rerun = PrObservation {
        failing_checks: vec![failed("test", "FAILURE", Some("102"))],
        ..failing()
    };
    let startup_failure = PrObservation {
        failing_checks: vec![failed("build", "STARTUP_FAILURE", Some("7"))],
        ..pr(CiStatus::Failure)
    };
    let approved_after_changes = with_reviews(
        Some(ReviewDecision::Approved),
        vec![
            review("alice", ReviewState::ChangesRequested, "Rename x", T0),
            review("alice", ReviewState::Approved, "", T0 + 1),
        ],
        CiStatus::Success,
    );
    let own_feedback = PrObservation {
        reviews: vec![review("me", ReviewState::Commented, "Note to self", T0)],
        inline_comments: vec![comment("Me", "TODO", T0, false)],
        ..pr(CiStatus::Success)
    };
    let unresolved = with_comments(CiStatus::Success, vec![comment("bob", "Typo", T0, false)]);
    let silent_changes = with_reviews(
        Some(ReviewDecision::ChangesRequested),
        vec![review("bob", ReviewState::ChangesRequested, "", T0)],
        CiStatus::Success,
    );
    let commented = with_reviews(
        None,
        vec![review("bob", ReviewState::Commented, "Please rename", T0)],
        CiStatus::Success,
    );
    let seen = with_comments(CiStatus::Success, vec![comment("bob", "ok", T0, true)]);
    let seen_bookkeeping = Bookkeeping {
        review_last_checked_ms: Some(T0),
        ..never_dispatched()
    };
    #[rustfmt::skip]
    let mut rows = vec![
        row("re-run fails with a new run id", rerun.clone(), stalled(dispatched_for(&failing(), Done, 0)), IDLE, trigger(0, CiFailure), R::CiFailed),
        row("re-run after the retries were used up", rerun, stalled(dispatched_for(&failing(), Died, MAX_RETRIES)), IDLE, trigger(0, CiFailure), R::CiFailed),
        row("STARTUP_FAILURE is a failure", startup_failure, never_dispatched(), IDLE, trigger(0, CiFailure), R::CiFailed),
        row("changes requested, then approved by the same reviewer", approved_after_changes, never_dispatched(), IDLE, Waiting(WaitReason::PrClean), R::Ready),
        row("conflict only", conflicted(CiStatus::Success), never_dispatched(), IDLE, trigger(0, MergeConflict), R::MergeConflict),
        row("CI pending, no conflict", pr(CiStatus::Pending), never_dispatched(), IDLE, Waiting(WaitReason::CiPending), R::CiRunning),
        row("CI failure and a conflict: CI first", PrObservation { has_merge_conflict: true, ..failing() }, never_dispatched(), IDLE, trigger(0, CiFailure), R::CiFailed),
        row("an unresolved inline comment", unresolved, never_dispatched(), IDLE, trigger(0, ReviewFeedback), R::Ready),
        row("changes requested without a word", silent_changes, never_dispatched(), IDLE, trigger(0, ReviewFeedback), R::ReviewPending),
        row("a COMMENTED summary under the default trigger", commented.clone(), never_dispatched(), IDLE, Waiting(WaitReason::PrClean), R::Ready),
        row("review activity already seen", seen, seen_bookkeeping, IDLE, Waiting(WaitReason::PrClean), R::Ready),
    ];
    rows.push(Row {
        policy: ALL_FEEDBACK,
        ..row(
            "own reviews and comments alone",
            own_feedback,
            never_dispatched(),
            IDLE,
            Waiting(WaitReason::PrClean),
            R::Ready,
        )
    });
    rows.push(Row {
        policy: ALL_FEEDBACK,
        ..row(
            "a COMMENTED summary under all review feedback",
            commented,
            never_dispatched(),
            IDLE,
            trigger(0, ReviewFeedback),
            R::Ready,
        )
    });
    check_rows(rows);
}

#[test]
fn snapshot_keys() {
    let two_failures = PrObservation {
        failing_checks: vec![
            failed("test", "TIMED_OUT", Some("https://ci.example/t/9")),
            failed("lint", "FAILURE", None),
            failed("build", "cancelled", Some("101")),
            failed("docs", "NEUTRAL", Some("101")),
        ],
        ..pr(CiStatus::Failure)
    };
    let only_neutral = PrObservation {
        failing_checks: vec![failed("docs", "SKIPPED", Some("5"))],
        ..pr(CiStatus::Failure)
    };
    let reviewed = PrObservation {
        has_merge_conflict: true,
        inline_comments: vec![
            comment("bob", "x", T0 + 5, true),
            comment("me", "y", T0 + 9, false),
        ],
        ..with_reviews(
            Some(ReviewDecision::ChangesRequested),
            vec![review("alice", ReviewState::ChangesRequested, "", T0 + 7)],
            CiStatus::Pending,
        )
    };
    #[rustfmt::skip]
    let rows = vec![
        ("success", pr(CiStatus::Success), "pr:12|ci:SUCCESS|no-changes-requested:none|merge:clean"),
        ("pending", pr(CiStatus::Pending), "pr:12|ci:PENDING|no-changes-requested:none|merge:clean"),
        ("unknown", pr(CiStatus::Unknown), "pr:12|ci:UNKNOWN|no-changes-requested:none|merge:clean"),
        ("one failure", failing(), "pr:12|ci:FAILURE:test:FAILURE:101|no-changes-requested:none|merge:clean"),
        ("failures sorted, non-failures left out", two_failures, "pr:12|ci:FAILURE:build:cancelled:101|lint:FAILURE:no-run-id-or-details-url|test:TIMED_OUT:https://ci.example/t/9|no-changes-requested:none|merge:clean"),
        ("failure without failed checks", pr(CiStatus::Failure), "pr:12|ci:FAILURE:unknown|no-changes-requested:none|merge:clean"),
        ("failure with only neutral checks", only_neutral, "pr:12|ci:FAILURE:unknown|no-changes-requested:none|merge:clean"),
        ("changes requested, latest activity by others, conflict", reviewed, "pr:12|ci:PENDING|changes-requested:1790000000007|merge:conflict"),
    ];
    for (label, pr, expected) in rows {
        assert_eq!(snapshot_key(&pr, ME), expected, "{label}");
    }
}

#[test]
fn failure_conclusions() {
    for conclusion in [
        "FAILURE",
        "TIMED_OUT",
        "CANCELLED",
        "ERROR",
        "ACTION_REQUIRED",
        "STARTUP_FAILURE",
        "startup_failure",
    ] {
        assert!(is_failure_conclusion(conclusion), "{conclusion}");
    }
    for conclusion in ["SUCCESS", "NEUTRAL", "SKIPPED", "STALE", ""] {
        assert!(!is_failure_conclusion(conclusion), "{conclusion}");
    }
}

#[test]
fn latest_review_activity() {
    use ReviewState as S;
    #[rustfmt::skip]
    let rows: Vec<(&str, PrObservation, ReviewPolicy<'static>, Option<i64>)> = vec![
        ("nothing", pr(CiStatus::Success), ME, None),
        ("changes requested", with_reviews(None, vec![review("bob", S::ChangesRequested, "", T0)], CiStatus::Success), ME, Some(T0)),
        ("approved does not count", with_reviews(None, vec![review("bob", S::Approved, "lgtm", T0)], CiStatus::Success), ME, None),
        ("dismissed and pending do not count", with_reviews(None, vec![review("bob", S::Dismissed, "x", T0), review("bob", S::Pending, "y", T0)], CiStatus::Success), ME, None),
        ("commented needs all feedback", with_reviews(None, vec![review("bob", S::Commented, "Hm", T0)], CiStatus::Success), ME, None),
        ("commented under all feedback", with_reviews(None, vec![review("bob", S::Commented, "Hm", T0)], CiStatus::Success), ALL_FEEDBACK, Some(T0)),
        ("blank commented does not count", with_reviews(None, vec![review("bob", S::Commented, " \n", T0)], CiStatus::Success), ALL_FEEDBACK, None),
        ("superseded by a later approval", with_reviews(None, vec![review("bob", S::ChangesRequested, "x", T0), review("bob", S::Approved, "", T0 + 1)], CiStatus::Success), ME, None),
        ("an earlier approval supersedes nothing", with_reviews(None, vec![review("bob", S::Approved, "", T0 - 1), review("bob", S::ChangesRequested, "x", T0)], CiStatus::Success), ME, Some(T0)),
        ("another reviewer's approval supersedes nothing", with_reviews(None, vec![review("bob", S::ChangesRequested, "x", T0), review("carol", S::Approved, "", T0 + 1)], CiStatus::Success), ME, Some(T0)),
        ("own review ignored", with_reviews(None, vec![review("me", S::ChangesRequested, "x", T0)], CiStatus::Success), ME, None),
        ("resolved inline comments count", with_comments(CiStatus::Success, vec![comment("bob", "x", T0 + 3, true), comment("bob", "y", T0 + 1, false)]), ME, Some(T0 + 3)),
        ("own inline comments ignored, any case", with_comments(CiStatus::Success, vec![comment("ME", "x", T0 + 3, false), comment("bob", "y", T0, false)]), ME, Some(T0)),
        ("without a login nobody is ignored", with_comments(CiStatus::Success, vec![comment("me", "x", T0, false)]), ReviewPolicy::default(), Some(T0)),
        ("the latest of reviews and comments", PrObservation { inline_comments: vec![comment("bob", "x", T0 + 1, false)], ..with_reviews(None, vec![review("carol", S::ChangesRequested, "", T0 + 2)], CiStatus::Success) }, ME, Some(T0 + 2)),
    ];
    for (label, pr, policy, expected) in rows {
        assert_eq!(latest_review_activity_ms(&pr, policy), expected, "{label}");
    }
}

#[test]
fn quoted_feedback() {
    use ReviewState as S;
    let quoted = |author: &str, body: &str, path: &str, line: Option<u32>, url: &str| Feedback {
        author: author.into(),
        body: body.into(),
        path: path.into(),
        line,
        url: url.into(),
        thread: None,
    };
    let observed = PrObservation {
        reviews: vec![
            review("alice", S::ChangesRequested, "  Split this function.\n", T0),
            review("bob", S::Commented, "Nice", T0),
            review("carol", S::ChangesRequested, "", T0),
            review("dave", S::ChangesRequested, "Old ask", T0),
            review("dave", S::Approved, "Fine now", T0 + 1),
            review("me", S::ChangesRequested, "Self", T0),
        ],
        inline_comments: vec![
            comment("erin", "Typo", T0, false),
            comment("erin", "Done", T0, true),
            comment("me", "Mine", T0, false),
        ],
        ..pr(CiStatus::Success)
    };
    let inline = quoted(
        "erin",
        "Typo",
        "src/login.rs",
        Some(42),
        &format!("{URL}#discussion_r{T0}"),
    );
    let split = quoted(
        "alice",
        "Split this function.",
        REVIEW_SUMMARY_PATH,
        None,
        URL,
    );
    assert_eq!(
        review_feedback(&observed, ME),
        vec![inline.clone(), split.clone()]
    );
    let nice = quoted("bob", "Nice", REVIEW_SUMMARY_PATH, None, URL);
    assert_eq!(
        review_feedback(&observed, ALL_FEEDBACK),
        vec![inline, split, nice]
    );
    assert_eq!(
        serde_json::to_value(quoted("a", "b", "PR review", None, URL)).unwrap(),
        serde_json::json!({"author": "a", "body": "b", "path": "PR review", "line": null, "url": URL})
    );
}

#[test]
fn reasons_read_as_sentences() {
    #[rustfmt::skip]
    let rows: Vec<(Decision, &str)> = vec![
        (Completed, "PR is merged"),
        (FixerActive, "A fixer is working on this PR"),
        (Waiting(WaitReason::PrNotOpen), "PR is not open"),
        (Waiting(WaitReason::CiPending), "Waiting for CI to complete"),
        (Waiting(WaitReason::FixerEnded), "Fixer session ended during this check; re-evaluating next cycle"),
        (Waiting(WaitReason::OtherSessionWorking), "Another session in this workspace is working"),
        (Waiting(WaitReason::PrClean), "PR is clean (green CI and no new review activity)"),
        (Waiting(WaitReason::NothingToFix), "No CI failures or PR review comments to address"),
        (MarkStalled(StallReason::Unchanged), "PR state unchanged since last ratchet dispatch"),
        (MarkStalled(StallReason::FixerDied { times: 4 }), "Fixer died 4 times for this PR state; waiting for PR state to change"),
        (trigger(0, CiFailure), "Dispatching a fixer: CI is failing"),
        (trigger(0, MergeConflict), "Dispatching a fixer: PR has a merge conflict"),
        (trigger(2, ReviewFeedback), "Dispatching a fixer again: PR has review feedback (retry 2 of 3)"),
    ];
    for (decision, text) in rows {
        assert_eq!(decision.to_string(), text, "{decision:?}");
    }
}

#[test]
fn github_spellings() {
    let json = |v: serde_json::Value| v.as_str().unwrap().to_owned();
    let states: Vec<String> = [
        GithubPrState::Open,
        GithubPrState::Closed,
        GithubPrState::Merged,
    ]
    .iter()
    .map(|s| json(serde_json::to_value(s).unwrap()))
    .collect();
    assert_eq!(states, ["OPEN", "CLOSED", "MERGED"]);
    let reviews: Vec<String> = REVIEW_STATES
        .iter()
        .map(|s| json(serde_json::to_value(s).unwrap()))
        .collect();
    assert_eq!(
        reviews,
        [
            "APPROVED",
            "CHANGES_REQUESTED",
            "COMMENTED",
            "DISMISSED",
            "PENDING"
        ]
    );
    assert_eq!(
        serde_json::from_str::<ReviewTrigger>("\"ALL_REVIEW_FEEDBACK\"").unwrap(),
        ReviewTrigger::AllReviewFeedback
    );
    assert_eq!(ReviewTrigger::default(), ReviewTrigger::ChangesRequested);
}

// Properties over random observations, from small value domains so that keys, authors and
// timestamps often coincide.

const REVIEW_STATES: &[ReviewState] = &[
    ReviewState::Approved,
    ReviewState::ChangesRequested,
    ReviewState::Commented,
    ReviewState::Dismissed,
    ReviewState::Pending,
];
const AUTHORS: &[&str] = &["me", "Me", "alice", "bob"];
const CONCLUSIONS: &[&str] = &["FAILURE", "STARTUP_FAILURE", "timed_out", "NEUTRAL"];
const BODIES: &[&str] = &["", " ", "Fix it"];

fn text(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    select(values).prop_map(str::to_owned)
}

fn times() -> impl Strategy<Value = i64> {
    T0..T0 + 4
}

fn failed_checks() -> impl Strategy<Value = Vec<FailedCheck>> {
    let check = (
        text(&["test", "lint"]),
        text(CONCLUSIONS),
        maybe(text(&["1", "2"])),
    )
        .prop_map(|(name, conclusion, run)| FailedCheck {
            name,
            conclusion,
            run,
        });
    vec(check, 0..4)
}

fn reviews() -> impl Strategy<Value = Vec<Review>> {
    let review = (text(AUTHORS), select(REVIEW_STATES), text(BODIES), times()).prop_map(
        |(author, state, body, submitted_at_ms)| Review {
            author,
            state,
            body,
            submitted_at_ms,
        },
    );
    vec(review, 0..5)
}

fn inline_comments() -> impl Strategy<Value = Vec<ReviewComment>> {
    let comment = (text(AUTHORS), text(BODIES), times(), any::<bool>()).prop_map(
        |(author, body, at, resolved)| ReviewComment {
            resolved,
            ..comment(&author, &body, at, false)
        },
    );
    vec(comment, 0..4)
}

fn observations() -> impl Strategy<Value = PrObservation> {
    let state = prop_oneof![
        4 => Just(GithubPrState::Open),
        1 => Just(GithubPrState::Closed),
        1 => Just(GithubPrState::Merged),
    ];
    let review_decision = maybe(select(ReviewDecision::ALL));
    (
        state,
        select(CiStatus::ALL),
        failed_checks(),
        review_decision,
        reviews(),
        inline_comments(),
        any::<bool>(),
    )
        .prop_map(
            |(
                state,
                ci_status,
                failing_checks,
                review_decision,
                reviews,
                inline_comments,
                has_merge_conflict,
            )| {
                PrObservation {
                    state,
                    failing_checks,
                    review_decision,
                    reviews,
                    inline_comments,
                    has_merge_conflict,
                    ..pr(ci_status)
                }
            },
        )
}

fn policies() -> impl Strategy<Value = ReviewPolicy<'static>> {
    let trigger = select(
        &[
            ReviewTrigger::ChangesRequested,
            ReviewTrigger::AllReviewFeedback,
        ][..],
    );
    (maybe(select(&["me", "bob"][..])), trigger).prop_map(|(self_login, trigger)| ReviewPolicy {
        self_login,
        trigger,
    })
}

/// A dispatch for this very observation (most often), for another state, or none, with any
/// outcome and retry counts around the limit.
fn bookkeeping_for(
    pr: &PrObservation,
    policy: ReviewPolicy<'_>,
    outcome: impl Strategy<Value = Option<RatchetDispatchOutcome>>,
) -> impl Strategy<Value = Bookkeeping> {
    let own_key = snapshot_key(pr, policy);
    let key = prop_oneof![
        2 => Just(Some(own_key)),
        1 => Just(Some("pr:12|ci:UNKNOWN".to_owned())),
        1 => Just(None),
    ];
    (
        key,
        outcome,
        0..=MAX_RETRIES + 2,
        any::<bool>(),
        maybe(times()),
    )
        .prop_map(
            |(snapshot_key, outcome, retry_count, stalled, review_last_checked_ms)| Bookkeeping {
                snapshot_key,
                outcome,
                retry_count,
                stalled,
                review_last_checked_ms,
                active_session: None,
            },
        )
}

/// Mostly idle, so that checks get past the fixer rules.
fn activities() -> impl Strategy<Value = Activity> {
    let any_activity = (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(fixer_working, fixer_ended_during_check, other_session_working)| Activity {
            fixer_working,
            fixer_ended_during_check,
            other_session_working,
        },
    );
    prop_oneof![2 => Just(IDLE), 1 => any_activity]
}

type Checked = (PrObservation, ReviewPolicy<'static>, Bookkeeping, Activity);

fn checks_with(
    outcome: impl Strategy<Value = Option<RatchetDispatchOutcome>> + Clone + 'static,
) -> impl Strategy<Value = Checked> {
    (observations(), policies()).prop_flat_map(move |(pr, policy)| {
        let bookkeeping = bookkeeping_for(&pr, policy, outcome.clone());
        (Just(pr), Just(policy), bookkeeping, activities())
    })
}

fn checks() -> impl Strategy<Value = Checked> {
    checks_with(maybe(select(RatchetDispatchOutcome::ALL)))
}

fn decide_on(
    pr: &PrObservation,
    policy: ReviewPolicy<'_>,
    bookkeeping: &Bookkeeping,
    activity: Activity,
) -> Check {
    decide(CheckInput {
        pr,
        bookkeeping,
        activity,
        policy,
    })
}

proptest! {
    #[test]
    fn never_triggers_on_a_merged_or_closed_pr((pr, policy, bookkeeping, activity) in checks()) {
        let check = decide_on(&pr, policy, &bookkeeping, activity);
        match pr.state {
            GithubPrState::Merged => prop_assert_eq!(check.decision, Completed),
            GithubPrState::Closed => prop_assert_eq!(check.decision, Waiting(WaitReason::PrNotOpen)),
            GithubPrState::Open => {}
        }
    }

    #[test]
    fn retries_never_exceed_the_limit(
        (pr, policy, bookkeeping, activity) in checks_with(Just(Some(RatchetDispatchOutcome::Died)))
    ) {
        if let Decision::Trigger { retry_count, .. } = decide_on(&pr, policy, &bookkeeping, activity).decision {
            prop_assert!(retry_count <= MAX_RETRIES);
        }
    }

    #[test]
    fn the_key_ignores_listing_order(
        (pr, policy, shuffled) in (observations(), policies()).prop_flat_map(|(pr, policy)| {
            let checks = Just(pr.failing_checks.clone()).prop_shuffle();
            let reviews = Just(pr.reviews.clone()).prop_shuffle();
            let comments = Just(pr.inline_comments.clone()).prop_shuffle();
            (Just(pr), Just(policy), (checks, reviews, comments))
        })
    ) {
        let (failing_checks, reviews, inline_comments) = shuffled;
        let reordered = PrObservation { failing_checks, reviews, inline_comments, ..pr.clone() };
        prop_assert_eq!(snapshot_key(&reordered, policy), snapshot_key(&pr, policy));
    }

    #[test]
    fn the_state_is_the_derived_ratchet_state((pr, policy, bookkeeping, activity) in checks()) {
        use ff_core::derive::{ratchet_state, RatchetInput};
        use ff_core::enums::PrState;
        let expected = ratchet_state(RatchetInput {
            ratchet_enabled: true,
            pr_state: match pr.state {
                GithubPrState::Open => PrState::Open,
                GithubPrState::Closed => PrState::Closed,
                GithubPrState::Merged => PrState::Merged,
            },
            pr_ci_status: pr.ci_status,
            has_merge_conflict: pr.has_merge_conflict,
            pr_review_state: pr.review_decision,
        });
        prop_assert_eq!(decide_on(&pr, policy, &bookkeeping, activity).ratchet_state, expected);
    }

    #[test]
    fn own_feedback_changes_nothing((pr, bookkeeping, activity) in (observations(), Just(Bookkeeping::default()), activities()), extra in (reviews(), inline_comments())) {
        // Adding the user's own reviews and comments leaves the key and the decision alone.
        let (reviews, comments) = extra;
        let mine = PrObservation {
            reviews: pr.reviews.iter().cloned().chain(reviews.into_iter().map(|r| Review { author: "me".into(), ..r })).collect(),
            inline_comments: pr.inline_comments.iter().cloned().chain(comments.into_iter().map(|c| ReviewComment { author: "ME".into(), ..c })).collect(),
            ..pr.clone()
        };
        prop_assert_eq!(decide_on(&mine, ME, &bookkeeping, activity), decide_on(&pr, ME, &bookkeeping, activity));
    }
}

#[test]
fn every_verdict_has_its_own_label() {
    use ff_core::ratchet::Verdict;
    let labels: std::collections::BTreeSet<_> = Verdict::ALL.iter().map(|v| v.label()).collect();
    assert_eq!(labels.len(), Verdict::ALL.len());
    assert!(labels.iter().all(|l| !l.trim().is_empty()));
    for verdict in Verdict::ALL {
        let wire = serde_json::to_value(verdict).unwrap();
        assert_eq!(serde_json::from_value::<Verdict>(wire).unwrap(), verdict);
    }
}
