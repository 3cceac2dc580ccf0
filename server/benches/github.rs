//! GitHub benchmarks (issue 9). Prints one table. Run with `cargo bench -p ff-server --bench
//! github`.
//!
//! 1. Requests and GraphQL points per poll for 1, 10, 50 and 200 live workspaces of one
//!    repository, as the fake GitHub computes them with GitHub's published formula: ff's batched
//!    summary (PRs attached, and branches still looking for one), next to the original's two `gh`
//!    GraphQL calls per workspace (`gh pr list --head`, then `gh pr view --json …`), sent to the
//!    same fake in the same run.
//! 2. A PR's CI changes on the fake; how long until the card's chip changes on a snapshot socket
//!    client, counted from the poll that saw the change (poll interval 1 s).

#[path = "../tests/common/mod.rs"]
mod common;

use common::fake_github::{FakeGithub, Served, World, OWNER, REPO, TOKEN};
use common::socket::Client;
use common::TestApp;
use ff_core::wire::Frame;
use ff_server::events::DomainEvent;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// `gh pr list --head BRANCH --json number,title,state,url,headRefName,…` as gh 2.x sends it.
const GH_PR_LIST: &str = "query PullRequestList($owner: String!, $repo: String!, $limit: Int!, $endCursor: String, $headBranch: String) {
  repository(owner: $owner, name: $repo) {
    pullRequests(headRefName: $headBranch, first: $limit, after: $endCursor, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      nodes { number title state url headRefName isCrossRepository isDraft createdAt headRepositoryOwner { login } author { login } }
      pageInfo { hasNextPage endCursor }
    }
  }
}";

/// `gh pr view N --json number,state,isDraft,reviewDecision,statusCheckRollup,headRefName`.
const GH_PR_VIEW: &str = "query PullRequestByNumber($owner: String!, $repo: String!, $pr_number: Int!) {
  repository(owner: $owner, name: $repo) {
    pullRequest(number: $pr_number) {
      number state isDraft reviewDecision headRefName
      statusCheckRollup: commits(last: 1) { nodes { commit { statusCheckRollup { contexts(first: 100) {
        nodes { __typename ... on StatusContext { context state targetUrl createdAt } ... on CheckRun { name status conclusion startedAt completedAt detailsUrl } }
        pageInfo { hasNextPage endCursor }
      } } } } }
    }
  }
}";

fn row(name: &str, value: String, target: &str) {
    println!("{name:<62} {value:>18}   {target}");
}

/// A fake with `acme/app` and nothing in it. Its answers are not kept for the contract check:
/// gh's own queries do not ask for `rateLimit`, which ff's rules require of ff's.
async fn empty_fake() -> FakeGithub {
    let mut world = World::new(TOKEN);
    world.repo(OWNER, REPO);
    FakeGithub::start(world, 0, None).await
}

/// A fake with `n` open PRs, one per branch `workspace-{i}`, CI passed, each with the head
/// commit `head` (a commit of the bench's clone, as discovery requires).
async fn fake_with(n: usize, head: &str) -> FakeGithub {
    let fake = empty_fake().await;
    fake.world(|w| {
        let repo = w.repo(OWNER, REPO);
        for i in 0..n {
            let number = repo.open(&format!("workspace-{i}"), OWNER);
            repo.change(number, |pr| {
                pr.head_oid = head.to_owned();
                for check in &mut pr.checks {
                    check.status = "COMPLETED".into();
                    check.conclusion = Some("SUCCESS".into());
                }
            });
        }
    });
    fake
}

/// ff with `n` imported workspaces of `acme/app`, their PRs attached (or not), polled only when
/// told (a finished agent turn refreshes the repository at once).
async fn ff_with(fake: &FakeGithub, n: usize, attached: bool, repo: &std::path::Path) -> TestApp {
    let app = TestApp::spawn_with_github(&fake.url, |config| {
        config.github.poll_interval = Duration::from_secs(3600);
        config.github.idle_debounce = Duration::from_millis(1);
    })
    .await;
    let mut doc = common::documents::backup(n, repo.to_str().unwrap());
    doc["data"]["projects"][0]["githubOwner"] = json!(OWNER);
    doc["data"]["projects"][0]["githubRepo"] = json!(REPO);
    if attached {
        for (i, w) in doc["data"]["workspaces"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            w["prNumber"] = json!(i + 1);
            w["prUrl"] = json!(format!("https://github.com/{OWNER}/{REPO}/pull/{}", i + 1));
            w["prState"] = json!("OPEN");
        }
    }
    let (status, body) = app.post("/api/backup", doc).await;
    assert!(status.is_success(), "{body}");
    app
}

/// Waits until the fake has been quiet for a while, and returns what it served.
async fn settled(fake: &FakeGithub) -> Vec<Served> {
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = fake.served().len();
        if now == last {
            return fake.served();
        }
        last = now;
    }
}

/// One poll of the repository: (requests, points).
async fn one_poll(app: &TestApp, fake: &FakeGithub) -> (usize, u32) {
    settled(fake).await;
    fake.forget_served();
    app.events.publish(DomainEvent::WorkspaceIdle {
        workspace_id: ff_core::ids::WorkspaceId::new("w00000"),
    });
    let served = settled(fake).await;
    assert!(served.iter().all(|s| s.status == 200), "{served:?}");
    // The first answer also makes ff ask, once, whose token it is: not part of a poll.
    let polls: Vec<&Served> = served
        .iter()
        .filter(|s| s.operation == "PrSummaryBatch")
        .collect();
    (polls.len(), polls.iter().map(|s| s.points).sum())
}

/// The original's strategy for `n` workspaces: two calls each, as the fake sees them.
async fn gh_strategy(fake: &FakeGithub, n: usize) -> (usize, u32) {
    fake.forget_served();
    let client = common::client();
    for i in 0..n {
        let calls = [
            (
                GH_PR_LIST,
                json!({"owner": OWNER, "repo": REPO, "limit": 30, "headBranch": format!("workspace-{i}")}),
            ),
            (
                GH_PR_VIEW,
                json!({"owner": OWNER, "repo": REPO, "pr_number": i + 1}),
            ),
        ];
        for (query, variables) in calls {
            let answer: Value = client
                .post(format!("{}/graphql", fake.url))
                .bearer_auth(TOKEN)
                .header("user-agent", "GitHub CLI 2.23.0")
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .json(&json!({"query": query, "variables": variables}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(answer.get("errors").is_none(), "{answer}");
        }
    }
    let served = fake.served();
    (served.len(), served.iter().map(|s| s.points).sum())
}

async fn cost_per_poll() {
    println!("Requests and GraphQL points per poll, one repository (points by GitHub's formula)");
    let repo = common::repo::TestRepo::new();
    let head = repo.git(&["rev-parse", "HEAD"]);
    for n in [1, 10, 50, 200] {
        let fake = fake_with(n, &head).await;
        let attached = ff_with(&fake, n, true, &repo.path).await;
        let (requests, points) = one_poll(&attached, &fake).await;
        let target = if n == 50 {
            "target: 1 request, ≤ 5 points"
        } else {
            ""
        };
        row(
            &format!("  {n:>3} workspaces, PRs attached: ff"),
            format!("{requests} req, {points} pt"),
            target,
        );
        attached.shutdown().await;

        let fresh = empty_fake().await;
        let discovering = ff_with(&fresh, n, false, &repo.path).await;
        let (requests, points) = one_poll(&discovering, &fresh).await;
        row(
            &format!("  {n:>3} workspaces, no PR yet (discovery): ff"),
            format!("{requests} req, {points} pt"),
            "",
        );
        discovering.shutdown().await;

        let (requests, points) = gh_strategy(&fake, n).await;
        row(
            &format!("  {n:>3} workspaces: original, gh pr list + gh pr view each"),
            format!("{requests} req, {points} pt"),
            "",
        );
    }
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

async fn change_to_chip() {
    const SAMPLES: usize = 30;
    let repo = common::repo::TestRepo::new();
    let fake = fake_with(1, &repo.git(&["rev-parse", "HEAD"])).await;
    let app = TestApp::spawn_with_github(&fake.url, |_| {}).await;
    let mut doc = common::documents::backup(1, repo.path.to_str().unwrap());
    doc["data"]["projects"][0]["githubOwner"] = json!(OWNER);
    doc["data"]["projects"][0]["githubRepo"] = json!(REPO);
    let (status, body) = app.post("/api/backup", doc).await;
    assert!(status.is_success(), "{body}");
    let mut client = Client::connect(&app.ws_url("projectId=bench")).await;
    let mut ci = "SUCCESS".to_owned();
    // The first poll attaches the PR; wait for its chip.
    loop {
        if let Frame::Changed { entry, .. } = client.frame().await {
            if entry.raw.pr_ci_status.to_string() == ci {
                break;
            }
        }
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        ci = if ci == "SUCCESS" {
            "FAILURE"
        } else {
            "SUCCESS"
        }
        .to_owned();
        let before = fake.served().len();
        fake.world(|w| {
            w.repo(OWNER, REPO).change(1, |pr| {
                pr.checks[0].run_id += 1;
                pr.checks[0].conclusion = Some(ci.clone());
            })
        });
        let visible = loop {
            match client.frame().await {
                Frame::Changed { entry, .. } if entry.raw.pr_ci_status.to_string() == ci => {
                    break Instant::now()
                }
                _ => {}
            }
        };
        let saw = fake.served()[before..]
            .iter()
            .find(|s| s.operation == "PrSummaryBatch")
            .map(|s| s.at)
            .expect("a poll saw the change");
        samples.push(visible.duration_since(saw).as_secs_f64() * 1000.0);
    }
    println!(
        "PR change on GitHub → chip changed on a socket client (poll every 1 s, {SAMPLES} changes)"
    );
    row(
        "  after the poll that saw it, p50",
        format!("{:.1} ms", percentile(&mut samples, 0.5)),
        "",
    );
    row(
        "  after the poll that saw it, p99",
        format!("{:.1} ms", percentile(&mut samples, 0.99)),
        "",
    );
    app.shutdown().await;
}

#[tokio::main]
async fn main() {
    cost_per_poll().await;
    change_to_chip().await;
}
