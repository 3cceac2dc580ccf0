//! Create → READY through ff, next to a plain `git worktree add` of the same repository, in the
//! same run. Run with `cargo bench -p ff-server --bench create_workspace` (FF_BENCH_RUNS=N).

use ff_core::enums::WorkspaceStatus;
use ff_server::events::DomainEvent;
use std::path::Path;
use std::time::{Duration, Instant};

const FILES: usize = 5_000;

#[path = "../tests/common/mod.rs"]
mod common;

use common::repo::git;
use common::TestApp;

/// A repository of `FILES` small source files in 50 directories, pushed to a bare origin.
fn generate_repo(root: &Path) -> std::path::PathBuf {
    let repo = root.join("repo");
    git(root, &["init", "-q", "--bare", "origin.git"]);
    git(root, &["init", "-q", "repo"]);
    for i in 0..FILES {
        let dir = repo.join(format!("src/module{:02}", i % 50));
        std::fs::create_dir_all(&dir).unwrap();
        let body = format!("// file {i}\npub fn f{i}() -> usize {{\n    {i}\n}}\n");
        std::fs::write(dir.join(format!("file{i:04}.rs")), body).unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "generated"]);
    git(
        &repo,
        &[
            "remote",
            "add",
            "origin",
            root.join("origin.git").to_str().unwrap(),
        ],
    );
    git(&repo, &["push", "-q", "origin", "main"]);
    git(&repo, &["remote", "set-head", "origin", "main"]);
    repo
}

fn summary(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(samples[samples.len() / 2]);
    let p90 = ms(samples[(samples.len() * 9 / 10).min(samples.len() - 1)]);
    (median, p90, ms(*samples.last().unwrap()))
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("FF_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let root = tempfile::tempdir().unwrap();
    let repo = generate_repo(root.path());

    let mut plain = Vec::new();
    for i in 0..runs {
        let path = root.path().join(format!("plain-{i}"));
        let started = Instant::now();
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("plain-{i}"),
                path.to_str().unwrap(),
                "main",
            ],
        );
        plain.push(started.elapsed());
    }

    let app = TestApp::spawn().await;
    let (url, client, bus) = (app.url.clone(), app.client.clone(), app.events.clone());
    let project = app.add_project(&repo).await;

    let mut ff = Vec::new();
    for i in 0..runs {
        let mut events = bus.subscribe();
        let started = Instant::now();
        let created: serde_json::Value = client
            .post(format!("{url}/api/projects/{project}/workspaces"))
            .json(&serde_json::json!({"source": "MANUAL", "name": format!("bench {i}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        loop {
            if let Some(Ok(DomainEvent::WorkspaceStateChanged { to, workspace, .. })) =
                events.next().await
            {
                if workspace.id.as_str() == id {
                    assert_eq!(
                        to,
                        WorkspaceStatus::Provisioning.max(to),
                        "provisioning failed: {workspace:?}"
                    );
                    if to == WorkspaceStatus::Ready {
                        break;
                    }
                }
            }
        }
        ff.push(started.elapsed());
    }

    let (pm, p90, pmax) = summary(plain);
    let (fm, f90, fmax) = summary(ff);
    println!("create → READY on a {FILES}-file repository, {runs} runs each (ms)");
    println!("{:<28} {:>9} {:>9} {:>9}", "", "median", "p90", "max");
    println!(
        "{:<28} {:>9.1} {:>9.1} {:>9.1}",
        "git worktree add (baseline)", pm, p90, pmax
    );
    println!(
        "{:<28} {:>9.1} {:>9.1} {:>9.1}",
        "ff create → READY", fm, f90, fmax
    );
    println!("ratio (median): {:.2}× plain git (target ≤ 1.20×)", fm / pm);
}
