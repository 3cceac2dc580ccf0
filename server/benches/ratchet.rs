//! Ratchet benchmark (issue 10). Prints one table. Run with `cargo bench -p ff-server --bench
//! ratchet`.
//!
//! 50 ratchet-enabled workspaces of one repository, their PRs open on the fake GitHub with CI
//! passing, the scripted agent as every fixer, GitHub polled every 2 s. Then every PR's CI fails
//! at once, each in its own run with its own log:
//!
//! 1. GitHub requests and points the ratchet adds to the PR poll: on the failure (details and
//!    job logs), then for three more polls and one forced check of every workspace, when every
//!    fixer has finished without changing anything (the same keys: nothing is fetched again).
//!    The poll's own cost in the same run is the baseline.
//! 2. The time from the failure on the fake to each fixer's first prompt (target: under two
//!    poll intervals).

#[path = "../tests/common/mod.rs"]
mod common;

use common::agent::ScriptedAgent;
use common::fake_github::{FakeGithub, Served, World, OWNER, REPO, TOKEN};
use common::TestApp;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WORKSPACES: usize = 50;
const POLL: Duration = Duration::from_secs(2);

fn row(name: &str, value: String, target: &str) {
    println!("{name:<66} {value:>20}   {target}");
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Requests and points by operation.
fn tally(served: &[Served]) -> BTreeMap<String, (usize, u32)> {
    let mut by = BTreeMap::new();
    for s in served {
        let entry = by.entry(s.operation.clone()).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += s.points;
    }
    by
}

fn report(label: &str, served: &[Served], target: &str) {
    let by = tally(served);
    let poll = by.get("PrSummaryBatch").copied().unwrap_or_default();
    let ratchet: Vec<String> = by
        .iter()
        .filter(|(op, _)| op.as_str() != "PrSummaryBatch")
        .map(|(op, (n, pt))| format!("{op} {n} req/{pt} pt"))
        .collect();
    row(
        &format!("{label}: PR poll (baseline)"),
        format!("{} req, {} pt", poll.0, poll.1),
        "",
    );
    row(
        &format!("{label}: added by the ratchet"),
        if ratchet.is_empty() {
            "0 req, 0 pt".into()
        } else {
            ratchet.join(", ")
        },
        target,
    );
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let mut world = World::new(TOKEN);
    let repo_path = common::repo::TestRepo::new();
    let head = repo_path.git(&["rev-parse", "HEAD"]);
    {
        let repo = world.repo(OWNER, REPO);
        for i in 0..WORKSPACES {
            let number = repo.open(&format!("workspace-{i}"), OWNER);
            repo.change(number, |pr| {
                pr.head_oid = head.clone();
                pr.checks[0].status = "COMPLETED".into();
                pr.checks[0].conclusion = Some("SUCCESS".into());
            });
        }
    }
    let fake = FakeGithub::start(world, 0, None).await;
    let app = TestApp::spawn_with_github(&fake.url, |config| {
        config.github.poll_interval = POLL;
        config.sessions.max_running_agents = WORKSPACES;
    })
    .await;
    let worktrees = tempfile::tempdir().unwrap();
    let mut doc = common::documents::backup(WORKSPACES, repo_path.path.to_str().unwrap());
    doc["data"]["projects"][0]["githubOwner"] = json!(OWNER);
    doc["data"]["projects"][0]["githubRepo"] = json!(REPO);
    for (i, w) in doc["data"]["workspaces"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        let worktree = worktrees.path().join(format!("workspace-w{i:05}"));
        std::fs::create_dir(&worktree).unwrap();
        w["worktreePath"] = json!(worktree);
        w["ratchetEnabled"] = json!(true);
        w["prNumber"] = json!(i + 1);
        w["prUrl"] = json!(format!("https://github.com/{OWNER}/{REPO}/pull/{}", i + 1));
        w["prState"] = json!("OPEN");
    }
    let (status, body) = app.post("/api/backup", doc).await;
    assert!(status.is_success(), "{body}");
    // After the import, whose settings replace the user's.
    let agent = ScriptedAgent::new(json!({"turns": []}));
    agent.install(&app).await;

    // Two polls with CI passing: the ratchet's checks cost nothing.
    tokio::time::sleep(POLL * 2).await;
    fake.forget_served();
    tokio::time::sleep(POLL * 2).await;
    println!(
        "{WORKSPACES} ratchet-enabled workspaces, one repository, PR poll every {} s",
        POLL.as_secs()
    );
    report("CI passing, 2 polls", &fake.served(), "");

    fake.forget_served();
    let failed_at = now_ms();
    fake.world(|w| {
        let repo = w.repo(OWNER, REPO);
        for number in 1..=WORKSPACES as u64 {
            repo.change(number, |pr| {
                pr.checks[0].run_id += 100_000;
                pr.checks[0].conclusion = Some("FAILURE".into());
                pr.checks[0].log = Some(format!(
                    "compiling…\nerror[E0308]: mismatched types in pr {number}\n"
                ));
            });
        }
    });
    let prompts = agent.wait_for("session/prompt", WORKSPACES).await;
    let mut latency: Vec<f64> = prompts
        .iter()
        .map(|p| (p["at"].as_u64().unwrap() as u128).saturating_sub(failed_at) as f64)
        .collect();
    // Every fixer finishes at once without a change, and each workspace stalls.
    tokio::time::sleep(POLL * 2).await;
    report(
        "CI failing: the poll that saw it and the next",
        &fake.served(),
        "job logs: one per failing run",
    );

    fake.forget_served();
    tokio::time::sleep(POLL * 3).await;
    for i in 0..WORKSPACES {
        let (status, _) = app
            .post(&format!("/api/workspaces/w{i:05}/ratchet/check"), json!({}))
            .await;
        assert!(status.is_success());
    }
    report(
        "Same failures: 3 more polls and a check of every workspace",
        &fake.served(),
        "target: 0 (never again for the same key)",
    );
    println!("CI failure on GitHub → the fixer's first prompt ({WORKSPACES} fixers)");
    row(
        "  p50",
        format!("{:.0} ms", percentile(&mut latency, 0.5)),
        "",
    );
    row(
        "  max",
        format!("{:.0} ms", percentile(&mut latency, 1.0)),
        &format!("target: < 2 poll intervals ({} ms)", 2 * POLL.as_millis()),
    );
    app.shutdown().await;
}
