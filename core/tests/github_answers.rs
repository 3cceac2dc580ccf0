//! The models against canned GitHub answers. The answers in `github_answers/` are also checked
//! against GitHub's schema by the contract check (`end2end/contract/check-graphql.mjs`), and
//! their queries are the server's `.graphql` files, so the models, the queries and the schema
//! cannot drift apart unnoticed.

use ff_core::enums::{CiStatus, PrState, ReviewDecision, ReviewState};
use ff_core::github::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

macro_rules! graphql {
    ($file:literal) => {
        include_str!(concat!("../../server/src/github/graphql/", $file))
    };
}

macro_rules! answer {
    ($file:literal) => {
        Canned::read(include_str!(concat!("github_answers/", $file)))
    };
}

struct Canned {
    query: String,
    response: Value,
}

impl Canned {
    fn read(text: &str) -> Self {
        let file: Value = serde_json::from_str(text).unwrap();
        Self {
            query: file["query"].as_str().unwrap().to_owned(),
            response: file["response"].clone(),
        }
    }

    fn parse<T: DeserializeOwned>(&self) -> GraphqlResponse<T> {
        serde_json::from_value(self.response.clone()).unwrap()
    }
}

#[test]
fn canned_queries_are_the_servers_documents() {
    let same = [
        (answer!("pr_details.json"), graphql!("pr_details.graphql")),
        (answer!("issues.json"), graphql!("issues.graphql")),
        (
            answer!("repository_id.json"),
            graphql!("repository_id.graphql"),
        ),
        (
            answer!("create_pull_request.json"),
            graphql!("create_pull_request.graphql"),
        ),
        (answer!("viewer.json"), graphql!("viewer.graphql")),
    ];
    for (canned, document) in same {
        assert_eq!(canned.query, document);
    }
    // The batch is the server's own expansion of the fragment.
    let summary = graphql!("pr_summary.graphql");
    let start = summary.find("fragment PrSummary").unwrap();
    let fragment = &summary[start..start + summary[start..].find("\n}\n").unwrap() + 3];
    assert!(answer!("pr_summary_batch.json").query.starts_with(fragment));
}

fn run_details(workflow: &str, run_id: u64, job_id: u64, conclusion: &str) -> FailingCheck {
    FailingCheck {
        name: "build".into(),
        workflow: Some(workflow.into()),
        conclusion: conclusion.into(),
        run_id: Some(run_id),
        job_id: Some(job_id),
        url: Some(format!(
            "https://github.com/acme/app/actions/runs/{run_id}/job/{job_id}"
        )),
    }
}

#[test]
fn a_summary_batch() {
    let answer = answer!("pr_summary_batch.json").parse::<SummaryAnswer>();
    let error = &answer.errors[0];
    assert_eq!(
        (error.kind.as_deref(), error.alias()),
        (Some("NOT_FOUND"), Some("b4"))
    );
    let data = answer.data.unwrap();
    assert_eq!(data.rate_limit.unwrap().remaining, 4990);
    assert_eq!(
        data.branches.keys().collect::<Vec<_>>(),
        ["b0", "b1", "b2", "b3", "b4"]
    );
    assert_eq!(data.branches["b4"], None, "a failed alias is not 'no PR'");
    assert!(data.branches["b3"]
        .as_ref()
        .unwrap()
        .pull_requests
        .nodes
        .is_empty());
    let prs = |alias: &str| {
        data.branches[alias]
            .as_ref()
            .unwrap()
            .pull_requests
            .nodes
            .clone()
    };

    // b0: the failing test run was re-run and passed.
    let [open] = &prs("b0")[..] else { panic!() };
    assert_eq!(open.pr_state(), PrState::ChangesRequested);
    assert_eq!(open.ci_status(), CiStatus::Success);
    assert_eq!(open.failing_checks(), []);
    assert!(!open.has_merge_conflict(true));
    assert_eq!(
        (
            open.reviews.unwrap().total_count,
            open.comments.total_count,
            open.review_threads.total_count
        ),
        (2, 3, 1)
    );
    let latest = &open.latest_reviews.as_ref().unwrap().nodes[0];
    assert_eq!(latest.state.normalised(), ReviewState::ChangesRequested);

    // b1: a fork's newer PR from a branch of the same name, then ours, a conflicted draft.
    let [fork, draft] = &prs("b1")[..] else {
        panic!()
    };
    assert!(fork.is_cross_repository);
    assert_eq!(fork.head_repository_owner.as_ref().unwrap().login, "forker");
    assert_eq!(draft.head_repository_owner.as_ref().unwrap().login, "acme");
    assert_eq!(draft.pr_state(), PrState::Draft);
    assert_eq!(
        draft.review_decision.as_ref().and_then(|d| d.known()),
        Some(ReviewDecision::ReviewRequired)
    );
    assert_eq!(draft.ci_status(), CiStatus::Failure);
    assert!(draft.has_merge_conflict(false));
    assert_eq!(
        draft.failing_checks(),
        [
            run_details("Release", 200, 2001, "STARTUP_FAILURE"),
            FailingCheck {
                name: "deploy/preview".into(),
                workflow: None,
                conclusion: "ERROR".into(),
                run_id: None,
                job_id: None,
                url: None,
            },
        ]
    );

    // b2: merged, and a commit without any check is SUCCESS.
    let [merged] = &prs("b2")[..] else { panic!() };
    assert_eq!(merged.pr_state(), PrState::Merged);
    assert!(merged.merged_at.is_some());
    assert_eq!(merged.head_checks(), Some(&[][..]));
    assert_eq!(merged.ci_status(), CiStatus::Success);
    assert!(
        merged.has_merge_conflict(true),
        "UNKNOWN keeps the last mark"
    );
}

#[test]
fn a_summary_without_its_head_commit_is_unknown() {
    let mut pr =
        answer!("pr_summary_batch.json").response["data"]["b0"]["pullRequests"]["nodes"][0].clone();
    pr["commits"]["nodes"] = json!([]);
    let pr: PullRequestSummary = serde_json::from_value(pr).unwrap();
    assert_eq!(pr.head_checks(), None);
    assert_eq!(pr.ci_status(), CiStatus::Unknown);
    assert_eq!(pr.failing_checks(), []);
}

#[test]
fn values_github_adds_later_do_not_fail_an_answer() {
    let mut pr =
        answer!("pr_summary_batch.json").response["data"]["b1"]["pullRequests"]["nodes"][1].clone();
    pr["state"] = json!("QUEUED");
    pr["reviewDecision"] = json!("LGTM");
    pr["mergeable"] = json!("PONDERING");
    pr["mergeStateStatus"] = json!("WOBBLY");
    pr["isDraft"] = json!(false);
    let contexts =
        &mut pr["commits"]["nodes"][0]["commit"]["statusCheckRollup"]["contexts"]["nodes"];
    contexts[0]["conclusion"] = json!("EXPLODED");
    contexts[0]["status"] = json!("SNOOZING");
    contexts[1]["state"] = json!("SHRUGGING");
    contexts
        .as_array_mut()
        .unwrap()
        .push(json!({"__typename": "CheckSuiteRunner", "whatever": 1}));
    let pr: PullRequestSummary = serde_json::from_value(pr).unwrap();
    assert_eq!(pr.state, PullRequestState::Other("QUEUED".into()));
    assert_eq!(pr.pr_state(), PrState::Open);
    assert!(pr.has_merge_conflict(true) && !pr.has_merge_conflict(false));
    let checks = pr.head_checks().unwrap();
    assert_eq!(checks.last(), Some(&RollupContext::Other));
    assert_eq!(pr.ci_status(), CiStatus::Pending);
}

#[test]
fn details_become_what_the_browser_is_sent() {
    let answer = answer!("pr_details.json").parse::<DetailsAnswer>();
    let details = answer
        .data
        .unwrap()
        .repository
        .unwrap()
        .pull_request
        .unwrap();
    assert_eq!(details.comments.nodes[0].database_id, Some(501));
    let view = PrDetailsView::new(&details, &[]);
    let reviews: Vec<_> = view
        .reviews
        .iter()
        .map(|r| (r.author.as_str(), r.state, r.submitted_at.is_some()))
        .collect();
    assert_eq!(
        reviews,
        [
            ("reviewer", ReviewState::ChangesRequested, true),
            ("ghost", ReviewState::Commented, true),
            ("octo", ReviewState::Pending, false),
        ]
    );
    let threads: Vec<_> = view
        .unresolved_threads
        .iter()
        .map(|t| (t.path.as_str(), t.line, t.comments.len()))
        .collect();
    assert_eq!(
        threads,
        [("src/login.rs", Some(42), 2), ("src/old.rs", None, 1)]
    );
    assert_eq!(view.unresolved_threads[0].comments[1].author, "ghost");

    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(
        json["unresolvedThreads"][0]["comments"][0],
        json!({
            "author": "reviewer",
            "body": "An empty password passes here.",
            "url": "https://github.com/acme/app/pull/12#discussion_r602",
            "createdAt": "2026-11-25T11:25:00.000Z",
        })
    );
    assert_eq!(
        json["reviews"][0],
        json!({
            "author": "reviewer",
            "state": "CHANGES_REQUESTED",
            "body": "Please handle the empty password.",
            "submittedAt": "2026-11-25T11:30:00.000Z",
            "url": "https://github.com/acme/app/pull/12#pullrequestreview-1",
        })
    );
    assert_eq!(json["failingChecks"], json!([]));
    let round_trip: PrDetailsView = serde_json::from_value(json).unwrap();
    assert_eq!(round_trip, view);
}

#[test]
fn the_ratchet_observes_the_poll_and_the_details() {
    use ff_core::ratchet::{FailedCheck, GithubPrState, ReviewPolicy};
    let batch = answer!("pr_summary_batch.json").parse::<SummaryAnswer>();
    let data = batch.data.unwrap();
    let pr = |alias: &str| {
        data.branches[alias]
            .as_ref()
            .unwrap()
            .pull_requests
            .nodes
            .clone()
    };
    let details = answer!("pr_details.json")
        .parse::<DetailsAnswer>()
        .data
        .unwrap()
        .repository
        .unwrap()
        .pull_request
        .unwrap();

    let draft = &pr("b1")[1];
    let seen = ratchet_observation(draft, None, true);
    assert_eq!(seen.state, GithubPrState::Open, "a draft is open");
    assert_eq!(seen.ci_status, CiStatus::Failure);
    assert_eq!(
        seen.failing_checks,
        [
            FailedCheck {
                name: "build".into(),
                conclusion: "STARTUP_FAILURE".into(),
                run: Some("200".into())
            },
            FailedCheck {
                name: "deploy/preview".into(),
                conclusion: "ERROR".into(),
                run: None
            },
        ],
        "the run id, else the link, tells re-runs apart"
    );
    assert!(seen.has_merge_conflict && seen.reviews.is_empty() && seen.inline_comments.is_empty());
    assert_eq!(
        ratchet_observation(&pr("b2")[0], None, false).state,
        GithubPrState::Merged
    );

    let open = &pr("b0")[0];
    let seen = ratchet_observation(open, Some(&details), false);
    assert_eq!(seen.review_decision, Some(ReviewDecision::ChangesRequested));
    let reviews: Vec<_> = seen
        .reviews
        .iter()
        .map(|r| (r.author.as_str(), r.state))
        .collect();
    assert_eq!(
        reviews,
        [
            ("reviewer", ReviewState::ChangesRequested),
            ("ghost", ReviewState::Commented)
        ],
        "a review still being written is not feedback"
    );
    let comments: Vec<_> = seen
        .inline_comments
        .iter()
        .map(|c| (c.author.as_str(), c.path.as_str(), c.line, c.resolved))
        .collect();
    assert_eq!(
        comments,
        [
            ("reviewer", "src/login.rs", Some(10), true),
            ("reviewer", "src/login.rs", Some(42), false),
            ("ghost", "src/login.rs", Some(42), false),
            ("reviewer", "src/old.rs", None, false),
        ]
    );
    let quoted = ff_core::ratchet::review_feedback(&seen, ReviewPolicy::default());
    assert_eq!(
        quoted.len(),
        4,
        "three unresolved comments and the changes-requested review: {quoted:?}"
    );
}

#[test]
fn failing_checks_are_sent_in_camel_case() {
    let check = run_details("CI", 1, 2, "FAILURE");
    assert_eq!(
        serde_json::to_value(&check).unwrap(),
        json!({
            "name": "build", "workflow": "CI", "conclusion": "FAILURE", "runId": 1, "jobId": 2,
            "url": "https://github.com/acme/app/actions/runs/1/job/2",
        })
    );
}

#[test]
fn issues_repository_id_created_pr_and_viewer() {
    let issues = answer!("issues.json").parse::<IssuesAnswer>();
    let issues = issues.data.unwrap().repository.unwrap().issues.nodes;
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].labels.as_ref().unwrap().nodes[1].name, "auth");
    assert_eq!(issues[0].assignees.nodes[0].login, "octo");
    assert_eq!(login_or_ghost(issues[1].author.as_ref()), "ghost");
    assert_eq!(
        IssueUrl::parse(&issues[0].url).unwrap().number(),
        issues[0].number
    );

    let id = answer!("repository_id.json").parse::<RepositoryIdAnswer>();
    let repository = id.data.unwrap().repository.unwrap();
    assert_eq!(
        (
            repository.id.as_str(),
            repository.default_branch_ref.unwrap().name.as_str()
        ),
        ("R_kgDOAbCdEf", "main")
    );

    let created = answer!("create_pull_request.json").parse::<CreatePullRequestAnswer>();
    let pr = created
        .data
        .unwrap()
        .create_pull_request
        .unwrap()
        .pull_request
        .unwrap();
    assert_eq!(
        (pr.number, pr.is_draft, &pr.state),
        (12, true, &PullRequestState::Open)
    );
    assert_eq!(PrUrl::parse(&pr.url).unwrap().number(), pr.number);

    let viewer = answer!("viewer.json").parse::<ViewerAnswer>();
    assert_eq!(viewer.data.unwrap().viewer.login, "octo");
}

#[test]
fn a_rate_limited_answer_has_no_data() {
    let answer: GraphqlResponse<SummaryAnswer> = serde_json::from_value(json!({
        "data": null,
        "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]
    }))
    .unwrap();
    assert!(answer.data.is_none());
    assert!(answer.errors[0].is_rate_limited());
}

#[test]
fn models_serialize_back_to_the_answers_they_read() {
    // A fake GitHub can build its answers from the models.
    let canned = answer!("pr_summary_batch.json");
    let read = canned.parse::<SummaryAnswer>();
    let mut written = serde_json::to_value(&read).unwrap();
    let mut expected = canned.response.clone();
    // Timestamps are written with milliseconds; the canned ones have none.
    normalise_times(&mut written);
    normalise_times(&mut expected);
    // The canned error carries `locations`, which ff does not read.
    expected["errors"][0]
        .as_object_mut()
        .unwrap()
        .remove("locations");
    assert_eq!(written, expected);
}

fn normalise_times(value: &mut Value) {
    match value {
        Value::String(text) if text.ends_with(".000Z") => {
            *text = text.replace(".000Z", "Z");
        }
        Value::Array(items) => items.iter_mut().for_each(normalise_times),
        Value::Object(fields) => fields.values_mut().for_each(normalise_times),
        _ => {}
    }
}
