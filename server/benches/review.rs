//! Review benchmarks (issue 11): the diff list and one file's hunks of a workspace that changed
//! 500 files of a 5 000-file repository, server time p50 (in-process, and the HTTP request on
//! loopback), next to `git diff --numstat` of the same worktree in the same run. Prints one
//! table. Run with `cargo bench -p ff-server --bench review`. The overlap derivation
//! (50 workspaces × 200 changed paths) is measured by `cargo bench -p ff-core --bench overlaps`.

use ff_core::review::diff::{DiffList, FileDiff};
use ff_core::review::path::ReviewPath;
use ff_server::review::diff;
use ff_server::snapshot::git_stats;
use serde_json::json;
use std::path::Path;
use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;

use common::repo::{git, TestRepo};
use common::TestApp;

const FILES: usize = 5_000;
const CHANGED: usize = 500;
const RUNS: usize = 30;
const COLD_RUNS: usize = 7;

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn row(name: &str, value: String, target: &str) {
    println!("{name:<58} {value:>14}   {target}");
}

/// A source file of 60 lines.
fn source(i: usize, variant: &str) -> String {
    let mut text = format!("//! Module {i}.\n\nuse std::fmt;\n\n");
    for f in 0..8 {
        text.push_str(&format!(
            "/// Function {f}.\npub fn f{f}(x: u32) -> u32 {{\n    let y = x + {f}; // {variant}\n    y * 2\n}}\n\n"
        ));
    }
    text.push_str("pub struct S;\n\nimpl fmt::Display for S {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n        write!(f, \"S\")\n    }\n}\n");
    text
}

fn time_ms(work: impl FnOnce()) -> f64 {
    let started = Instant::now();
    work();
    started.elapsed().as_secs_f64() * 1000.0
}

fn p50(mut work: impl FnMut()) -> f64 {
    work();
    let mut samples: Vec<f64> = (0..RUNS).map(|_| time_ms(&mut work)).collect();
    percentile(&mut samples, 0.5)
}

#[tokio::main]
async fn main() {
    let repo = TestRepo::new();
    for i in 0..FILES {
        let dir = repo.path.join(format!("src/m{:02}", i % 50));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("f{i}.rs")), source(i, "base")).unwrap();
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "5 000 files"]);
    repo.git(&["push", "-q", "origin", "main"]);

    let app = TestApp::spawn().await;
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Bench"}))
        .await;
    let worktree = app.wait_for_status(&id, "READY").await["worktreePath"]
        .as_str()
        .unwrap()
        .to_owned();
    let tree = Path::new(&worktree);
    // Every tenth file changes: half of them committed, half left in the working tree.
    for (n, i) in (0..FILES).step_by(FILES / CHANGED).enumerate() {
        let path = tree.join(format!("src/m{:02}/f{i}.rs", i % 50));
        std::fs::write(&path, source(i, "changed")).unwrap();
        if n == CHANGED / 2 {
            git(tree, &["commit", "-q", "-am", "half of the changes"]);
        }
    }
    let one = ReviewPath::parse("src/m00/f0.rs").unwrap();

    let list = diff::list(tree, "main").unwrap();
    assert_eq!(list.files.len(), CHANGED);
    assert_eq!(
        list.totals,
        git_stats::compute(tree, "main").unwrap().stats,
        "the totals are the git statistics"
    );
    let in_process_list = p50(|| {
        diff::list(tree, "main").unwrap();
    });
    let in_process_file = p50(|| {
        let found = diff::files(tree, "main", std::slice::from_ref(&one), true).unwrap();
        assert_eq!(found.len(), 1);
    });
    let base = git(tree, &["merge-base", "HEAD", "main"]);
    let numstat = p50(|| {
        git(tree, &["diff", "--numstat", &base]);
    });

    let mut http_list = Vec::new();
    let mut http_file = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let (status, body) = app.get(&format!("/api/workspaces/{id}/diff")).await;
        http_list.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(status.is_success(), "{body}");
        let _: DiffList = serde_json::from_value(body).unwrap();
        let started = Instant::now();
        let (status, body) = app
            .get(&format!(
                "/api/workspaces/{id}/diff/file?path=src/m00/f0.rs"
            ))
            .await;
        http_file.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(status.is_success(), "{body}");
        let _: FileDiff = serde_json::from_value(body).unwrap();
    }

    // Cold: every changed file changed again since the last list, so no count is known yet
    // and each of the 500 is diffed (the first list after an agent's edits).
    let mut cold = Vec::new();
    for run in 0..COLD_RUNS {
        for i in (0..FILES).step_by(FILES / CHANGED) {
            let path = tree.join(format!("src/m{:02}/f{i}.rs", i % 50));
            std::fs::write(&path, source(i, &format!("cold {run}"))).unwrap();
        }
        cold.push(time_ms(|| {
            let list = diff::list(tree, "main").unwrap();
            assert_eq!(list.files.len(), CHANGED);
        }));
    }

    println!("Review: a workspace that changed {CHANGED} files of a {FILES}-file repository");
    row(
        "  diff list, in-process, every file changed since (p50)",
        format!("{:.1} ms", percentile(&mut cold, 0.5)),
        "",
    );
    row(
        "  diff list, in-process, again (counts known) (p50)",
        format!("{in_process_list:.1} ms"),
        "target < 50 ms",
    );
    row(
        "  diff list, GET /api/workspaces/{id}/diff (p50)",
        format!("{:.1} ms", percentile(&mut http_list, 0.5)),
        "",
    );
    row(
        "  one file's hunks, highlighted, in-process (p50)",
        format!("{in_process_file:.1} ms"),
        "target < 10 ms",
    );
    row(
        "  one file's hunks, GET …/diff/file (p50)",
        format!("{:.1} ms", percentile(&mut http_file, 0.5)),
        "",
    );
    row(
        "  git diff --numstat <merge base>, same worktree (p50)",
        format!("{numstat:.1} ms"),
        "reference",
    );
    println!("Overlaps (50 workspaces × 200 paths): cargo bench -p ff-core --bench overlaps");
    app.shutdown().await;
}
