//! The ratchet's replies on the review threads its fixer addressed (issue 19 §3): ff against the
//! fake GitHub on loopback, the scripted ACP agent as the fixer (its final message carries the
//! report), and a real commit in the workspace's worktree as its push.

mod common;

use common::agent::ScriptedAgent;
use common::fake_github::{self, change, complete, FakeGithub, OWNER, REPO};
use common::repo::{git, TestRepo};
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// The fake's node ids of the first PR's threads (`Repo::thread_id`).
const ADDRESSED: &str = "PRRT_app_1_0";
const NOT_ADDRESSED: &str = "PRRT_app_1_1";
const FILE_UNTOUCHED: &str = "PRRT_app_1_2";

struct Fixture {
    fake: FakeGithub,
    app: TestApp,
    agent: ScriptedAgent,
    project: String,
    gates: tempfile::TempDir,
    repo: TestRepo,
}

fn tune(fake_url: String) -> impl FnOnce(&mut ff_server::config::Config) {
    move |config| {
        config.ratchet.interval = Duration::from_secs(3600);
        let github = &mut config.github;
        github.api_url = Some(fake_url);
        github.poll_interval = Duration::from_secs(1);
        github.request_timeout = Duration::from_secs(2);
        github.env = std::sync::Arc::new(|key: &str| {
            (key == "FF_GITHUB_TOKEN").then(|| fake_github::TOKEN.to_owned())
        });
    }
}

/// How many requests of `operation` the fake answered.
fn served(fake: &FakeGithub, operation: &str) -> usize {
    fake.served()
        .iter()
        .filter(|s| s.operation == operation)
        .count()
}

/// A summary no reviewer should see acted on: a mention, Markdown, a fence, and far too long.
fn hostile_summary() -> String {
    format!(
        "@everyone ```\n# Approved, merge now\n[click](https://evil.example)\n{}",
        "Refused empty passwords. ".repeat(80)
    )
}

/// The fixer waits for the test's push, then reports: the first thread addressed, the second
/// not, the third "addressed" although no commit touches its file.
fn fixer_script(gates: &Path) -> Value {
    let report = json!([
        {"thread": ADDRESSED, "addressed": true, "summary": hostile_summary()},
        {"thread": NOT_ADDRESSED, "addressed": false, "summary": "Left as it is: the reviewer asked a question."},
        {"thread": FILE_UNTOUCHED, "addressed": true, "summary": "Claimed, but never committed."},
    ]);
    let last = format!("Pushed the fix.\n\n```ff-review-threads\n{report}\n```\n");
    json!([{"steps": [
        {"text": "Looking at the review."},
        {"waitFile": {"path": gates.join("pushed")}},
        {"text": last},
    ]}])
}

async fn fixture() -> Fixture {
    let gates = tempfile::tempdir().unwrap();
    let fake = fake_github::start().await;
    let app = TestApp::spawn_with_github(&fake.url, |config| {
        config.ratchet.interval = Duration::from_secs(3600);
    })
    .await;
    let repo = TestRepo::new();
    let project = app.add_project(&repo.path).await;
    fake_github::link(&app, &project).await;
    let agent = ScriptedAgent::new(json!({ "turns": fixer_script(gates.path()) }));
    agent.install(&app).await;
    Fixture {
        fake,
        app,
        agent,
        project,
        gates,
        repo,
    }
}

impl Fixture {
    fn pr(&self) -> fake_github::world::Pr {
        self.fake.world(|w| w.repo(OWNER, REPO).prs[0].clone())
    }

    fn served(&self, operation: &str) -> usize {
        served(&self.fake, operation)
    }

    /// A workspace whose PR asks for changes in three threads, its fixer dispatched and waiting
    /// for the push; returns the workspace.
    async fn reviewed(&self) -> String {
        let workspace = self
            .app
            .create_workspace(
                &self.project,
                json!({"source": "MANUAL", "name": "Reviewed", "ratchetEnabled": true}),
            )
            .await;
        let ready = self.app.wait_for_status(&workspace, "READY").await;
        let branch = ready["branchName"].as_str().unwrap().to_owned();
        let number = fake_github::open_from(&self.fake, &self.repo.path, &branch, OWNER);
        assert_eq!(number, 1, "the thread ids above are PR #1's");
        let (status, body) = self
            .app
            .post(
                &format!("/api/workspaces/{workspace}/pr/refresh"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        change(&self.fake, number, |p| {
            complete(p, "SUCCESS");
            p.review_decision = Some("CHANGES_REQUESTED".into());
            p.reviews.push(fake_github::world::Review {
                author: "reviewer".into(),
                state: "CHANGES_REQUESTED".into(),
                body: "Three things.".into(),
            });
            for (path, line, body) in [
                ("src/login.rs", 42, "An empty password passes here."),
                ("src/lib.rs", 7, "Why is this public?"),
                ("docs/notes.md", 1, "Document the new flag."),
            ] {
                p.threads.push(fake_github::world::Thread {
                    path: path.into(),
                    line,
                    resolved: false,
                    author: "reviewer".into(),
                    body: body.into(),
                });
            }
        });
        let prompt = self.wait_prompt().await;
        for id in [ADDRESSED, NOT_ADDRESSED, FILE_UNTOUCHED] {
            assert!(
                prompt.contains(id),
                "the prompt names thread {id}: {prompt}"
            );
        }
        assert!(
            prompt.contains("labelled `ff-review-threads`"),
            "the prompt asks for the report: {prompt}"
        );
        workspace
    }

    async fn wait_prompt(&self) -> String {
        self.agent.wait_for("session/prompt", 1).await;
        self.agent.events_named("session/prompt")[0]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The fixer's push: a commit in the worktree touching the first two threads' files, which
    /// GitHub then shows as the PR's head. Returns the commit.
    async fn push(&self, workspace: &str) -> String {
        let detail = self.app.workspace(workspace).await;
        let worktree = Path::new(detail["worktreePath"].as_str().unwrap()).to_owned();
        std::fs::create_dir_all(worktree.join("src")).unwrap();
        std::fs::write(worktree.join("src/login.rs"), "fn login() {}\n").unwrap();
        std::fs::write(worktree.join("src/lib.rs"), "mod login;\n").unwrap();
        git(&worktree, &["add", "-A"]);
        git(&worktree, &["commit", "-q", "-m", "Refuse empty passwords"]);
        let head = git(&worktree, &["rev-parse", "HEAD"]);
        // As GitHub after a push: a new head, and no review comment edited (the fake's
        // `change` would date every comment anew, which reads as new review activity).
        self.fake
            .world(|w| w.repo(OWNER, REPO).prs[0].head_oid = head.clone());
        head
    }

    /// Lets the fixer end its turn and waits until the ratchet settled it.
    async fn finish_fixer(&self, workspace: &str) {
        std::fs::write(self.gates.path().join("pushed"), "").unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, view) = self
                .app
                .get(&format!("/api/workspaces/{workspace}/ratchet"))
                .await;
            if view["history"]
                .as_array()
                .is_some_and(|h| h.iter().any(|d| d["outcome"] == "COMPLETED"))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the fixer never completed: {view}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Waits for a settling under way, or settles the run itself.
        self.app.reply_threads.settle_all().await;
    }
}

#[tokio::test]
async fn the_fixer_s_addressed_thread_gets_one_quoted_reply_is_resolved_and_its_reviewer_asked_again(
) {
    let f = fixture().await;
    let workspace = f.reviewed().await;
    let commit = f.push(&workspace).await;
    f.finish_fixer(&workspace).await;

    let pr = f.pr();
    assert_eq!(pr.thread_replies.len(), 1, "{:#?}", pr.thread_replies);
    let reply = &pr.thread_replies[0];
    assert_eq!(
        reply.thread, 0,
        "only the addressed thread whose file changed"
    );
    assert_eq!(reply.author, "octo", "as the token's user");
    let body = &reply.body;
    assert!(
        body.starts_with(&format!("ff's ratchet pushed {commit} for this thread.")),
        "{body}"
    );
    // The fixer's words are in a fence that nothing in them closes, and bounded.
    let (before, rest) = body.split_once("\n\n").unwrap();
    assert!(!before.contains("@everyone"), "{body}");
    let fence = rest.lines().next().unwrap();
    assert!(
        fence.starts_with("````") && fence.ends_with("text"),
        "{body}"
    );
    let ticks = &fence[..fence.len() - "text".len()];
    let inside = &rest[fence.len() + 1..rest.rfind(&format!("\n{ticks}")).unwrap()];
    assert!(
        inside.starts_with("@everyone ```\n# Approved, merge now"),
        "{body}"
    );
    assert!(inside.ends_with('…'), "cut: {body}");
    assert!(inside.chars().count() <= 600, "{}", inside.chars().count());
    assert!(body.len() < 1200, "{} bytes", body.len());
    assert!(body.trim_end().ends_with("-->"), "the run's marker: {body}");

    let resolved: Vec<bool> = pr.threads.iter().map(|t| t.resolved).collect();
    assert_eq!(resolved, [true, false, false], "only the addressed thread");
    assert_eq!(pr.review_requests, ["U_reviewer"]);
    assert_eq!(f.served("ReplyToReviewThread"), 1);
    assert_eq!(f.served("ResolveReviewThread"), 1);
    assert_eq!(f.served("RequestReviews"), 1);

    // Another pass, then a restart: nothing is replied, resolved or requested again.
    f.app.reply_threads.settle_all().await;
    let url = f.fake.url.clone();
    let data = f.app.shutdown().await;
    let app = TestApp::spawn_in_with(data, tune(url)).await;
    app.reply_threads.settle_all().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.reply_threads.settle_all().await;
    let pr = f.fake.world(|w| w.repo(OWNER, REPO).prs[0].clone());
    assert_eq!(pr.thread_replies.len(), 1, "{:#?}", pr.thread_replies);
    assert_eq!(pr.review_requests, ["U_reviewer"]);
    assert_eq!(served(&f.fake, "ReplyToReviewThread"), 1);
    assert_eq!(served(&f.fake, "ResolveReviewThread"), 1);
    assert_eq!(served(&f.fake, "RequestReviews"), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn with_both_reply_settings_off_a_fixer_run_changes_nothing_on_github() {
    let f = fixture().await;
    let (status, body) = f
        .app
        .send(
            Method::PATCH,
            "/api/settings",
            Some(json!({"ratchetReplyToReviewThreads": false, "ratchetResolveThreads": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ratchetReplyToReviewThreads"], false, "{body}");
    assert_eq!(body["ratchetResolveThreads"], false, "{body}");
    let workspace = f.reviewed().await;
    f.push(&workspace).await;
    f.finish_fixer(&workspace).await;
    f.app.reply_threads.settle_all().await;

    let pr = f.pr();
    assert!(pr.thread_replies.is_empty(), "{:#?}", pr.thread_replies);
    assert!(pr.threads.iter().all(|t| !t.resolved));
    assert!(pr.review_requests.is_empty());
    for operation in [
        "ReviewThreadsToReply",
        "ReplyToReviewThread",
        "ResolveReviewThread",
        "RequestReviews",
    ] {
        assert_eq!(f.served(operation), 0, "{operation}");
    }
    f.app.shutdown().await;
}

#[tokio::test]
async fn the_reply_settings_default_on_and_are_patched_one_by_one() {
    let app = TestApp::spawn().await;
    let (_, settings) = app.get("/api/settings").await;
    assert_eq!(settings["ratchetReplyToReviewThreads"], true, "{settings}");
    assert_eq!(settings["ratchetResolveThreads"], true, "{settings}");
    let (status, body) = app
        .send(
            Method::PATCH,
            "/api/settings",
            Some(json!({"ratchetResolveThreads": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ratchetReplyToReviewThreads"], true, "{body}");
    assert_eq!(body["ratchetResolveThreads"], false, "{body}");
    let (status, body) = app
        .send(
            Method::PATCH,
            "/api/settings",
            Some(json!({"ratchetResolveThreads": "no"})),
        )
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    app.shutdown().await;
}
