//! The review's bounds on what it reads (issue 16 §7): a huge file left in a worktree is listed
//! as too large without being read. Alone in its binary, so the process's peak memory is this
//! test's.

mod common;

use common::repo::TestRepo;
use common::TestApp;
use ff_core::review::diff::{DiffList, FileDiff, FileStatus};
use reqwest::StatusCode;
use serde_json::json;
use std::path::PathBuf;

const MIB: u64 = 1024 * 1024;

/// A line of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test]
async fn a_huge_untracked_file_is_listed_as_too_large_and_never_read() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Huge"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    let tree = PathBuf::from(ready["worktreePath"].as_str().unwrap());
    std::fs::write(tree.join("notes.txt"), "a small change\n").unwrap();
    let diff_path = format!("/api/workspaces/{id}/diff");
    let (status, _) = app.get(&diff_path).await;
    assert_eq!(status, StatusCode::OK);

    // A log: text where git looks for binary content (its first 8 000 bytes), then sparse, so
    // 300 MB cost no disk, but whoever reads them holds 300 MB.
    let log: String = (0..400)
        .map(|n| format!("line {n:>14} of the log\n"))
        .collect();
    std::fs::write(tree.join("huge.log"), log).unwrap();
    let huge = std::fs::OpenOptions::new()
        .append(true)
        .open(tree.join("huge.log"))
        .unwrap();
    huge.set_len(300 * MIB).unwrap();
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak RSS (Linux ≥ 4.0)");
    let baseline = status_bytes("VmRSS:");

    for _ in 0..2 {
        let (status, body) = app.get(&diff_path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let list: DiffList = serde_json::from_value(body).unwrap();
        let file = list.files.iter().find(|f| f.path == "huge.log").unwrap();
        assert_eq!(file.status, FileStatus::Untracked);
        assert!(file.too_large, "{file:?}");
        assert!(!file.shown());
    }
    let url = reqwest::Url::parse_with_params(
        &app.at(&format!("/api/workspaces/{id}/diff/file")),
        [("path", "huge.log")],
    )
    .unwrap();
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let file: FileDiff = response.json().await.unwrap();
    assert!(file.file.too_large && file.hunks.is_empty(), "{file:?}");

    let peak = status_bytes("VmHWM:");
    let grown = peak.saturating_sub(baseline);
    println!(
        "peak RSS grew by {} MiB over the baseline ({} MiB)",
        grown / MIB,
        baseline / MIB
    );
    assert!(
        grown < 100 * MIB,
        "reading the diff of a 300 MB file raised the peak by {} MiB",
        grown / MIB
    );
    app.shutdown().await;
}
