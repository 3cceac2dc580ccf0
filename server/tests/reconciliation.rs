//! Reconciliation and git statistics against a real database file and real worktrees.

mod common;

use common::repo::TestRepo;
use common::TestApp;
use ff_core::entry::GitStats;
use ff_core::ids::WorkspaceId;
use ff_core::wire::Frame;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A READY workspace, its worktree, and a second connection to the app's database file.
async fn ready_workspace(app: &TestApp) -> (TestRepo, String, PathBuf, sqlx::SqlitePool) {
    let repo = TestRepo::new();
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Reconciled"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    let worktree = PathBuf::from(ready["worktreePath"].as_str().unwrap());
    let db = ff_server::db::connect(&format!(
        "sqlite://{}",
        app.data_dir.path().join("ff.db").display()
    ))
    .await
    .unwrap();
    (repo, id, worktree, db)
}

async fn entry_name(app: &TestApp, id: &str) -> Option<String> {
    app.snapshot
        .store
        .get(&WorkspaceId::new(id))
        .map(|e| e.raw.name)
}

#[tokio::test]
async fn a_row_changed_directly_in_sqlite_is_corrected_by_the_next_pass_and_counted_as_drift() {
    let app = TestApp::spawn().await;
    let (_repo, id, _, db) = ready_workspace(&app).await;
    app.snapshot.reconciler.pass().await.unwrap();
    sqlx::query("UPDATE workspaces SET name = 'Renamed behind its back' WHERE id = ?")
        .bind(&id)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        entry_name(&app, &id).await.as_deref(),
        Some("Reconciled"),
        "no event told the snapshot"
    );

    let summary = app.snapshot.reconciler.pass().await.unwrap();
    assert_eq!((summary.drifted, summary.changed), (1, 1));
    assert_eq!(
        entry_name(&app, &id).await.as_deref(),
        Some("Renamed behind its back")
    );
    assert_eq!(
        app.metric("ff_snapshot_drift_total{group=\"workspace\"}")
            .await,
        1.0
    );

    let again = app.snapshot.reconciler.pass().await.unwrap();
    assert_eq!(
        (again.changed, again.drifted),
        (0, 0),
        "an unchanged pass emits nothing"
    );
}

#[tokio::test]
async fn deleting_a_workspace_row_removes_its_entry_and_tells_the_sockets() {
    let app = TestApp::spawn().await;
    let (_repo, id, _, db) = ready_workspace(&app).await;
    let project = app
        .snapshot
        .store
        .get(&WorkspaceId::new(&id))
        .unwrap()
        .raw
        .project_id;
    let mut client =
        common::socket::Client::connect(&app.ws_url(&format!("projectId={project}"))).await;
    assert!(matches!(client.frame().await, Frame::Full { .. }));

    sqlx::query("DELETE FROM workspaces WHERE id = ?")
        .bind(&id)
        .execute(&db)
        .await
        .unwrap();
    let summary = app.snapshot.reconciler.pass().await.unwrap();
    assert_eq!(summary.removed, 1);
    assert!(app.snapshot.store.get(&WorkspaceId::new(&id)).is_none());
    loop {
        if let Frame::Removed { workspace_id, .. } = client.frame().await {
            assert_eq!(workspace_id.as_str(), id);
            break;
        }
    }
}

#[tokio::test]
async fn editing_a_worktree_file_updates_git_stats_within_three_seconds() {
    let app = TestApp::spawn().await;
    let (_repo, id, worktree, _) = ready_workspace(&app).await;
    let workspace = WorkspaceId::new(&id);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app
        .snapshot
        .store
        .get(&workspace)
        .and_then(|e| e.raw.git_stats)
        != Some(GitStats::default())
    {
        assert!(
            Instant::now() < deadline,
            "the ready workspace was never measured"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let edited = Instant::now();
    std::fs::write(worktree.join("README.md"), "hello\nagent edit\n").unwrap();
    let expected = GitStats {
        total: 1,
        additions: 1,
        deletions: 0,
        has_uncommitted: true,
    };
    loop {
        if app
            .snapshot
            .store
            .get(&workspace)
            .and_then(|e| e.raw.git_stats)
            == Some(expected)
        {
            break;
        }
        assert!(
            edited.elapsed() < Duration::from_secs(3),
            "gitStats did not follow the edit within 3 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let entry = app.snapshot.store.get(&workspace).unwrap();
    assert_eq!(entry.source, "watcher");
}

#[tokio::test]
async fn git_statistics_that_cannot_be_read_become_null_without_stalling_the_pass() {
    let app = TestApp::spawn().await;
    let (_repo, id, worktree, _) = ready_workspace(&app).await;
    std::fs::remove_dir_all(&worktree).unwrap();
    let summary = app.snapshot.reconciler.pass().await.unwrap();
    assert_eq!((summary.scanned, summary.git_stats_computed), (1, 0));
    assert_eq!(
        app.snapshot
            .store
            .get(&WorkspaceId::new(&id))
            .unwrap()
            .raw
            .git_stats,
        None
    );
    assert!(app.metric("ff_git_stats_failed_total").await >= 1.0);
}

#[tokio::test]
async fn metrics_are_served_in_the_prometheus_text_format() {
    let app = TestApp::spawn().await;
    let (_repo, id, _, _) = ready_workspace(&app).await;
    app.snapshot.reconciler.pass().await.unwrap();
    let project = app
        .snapshot
        .store
        .get(&WorkspaceId::new(&id))
        .unwrap()
        .raw
        .project_id;
    let mut client =
        common::socket::Client::connect(&app.ws_url(&format!("projectId={project}"))).await;
    assert!(matches!(client.frame().await, Frame::Full { .. }));
    let (status, _) = app
        .send(
            reqwest::Method::PUT,
            &format!("/api/workspaces/{id}/ratchet"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(matches!(client.frame().await, Frame::Changed { .. }));
    let response = app.client.get(app.at("/metrics")).send().await.unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for series in [
        "ff_snapshot_push_latency_seconds_bucket",
        "ff_reconcile_duration_seconds_count",
        "ff_reconcile_passes_total",
        "ff_snapshot_sockets",
        "ff_snapshot_entries 1",
        "ff_git_stats_computed_total",
        "ff_snapshot_replay_hits_total",
    ] {
        assert!(text.contains(series), "/metrics lacks {series}:\n{text}");
    }
    assert!(
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .all(|l| l.starts_with("ff_")),
        "every series is named ff_…"
    );
    assert_eq!(
        app.metric("ff_snapshot_push_latency_seconds_count").await,
        1.0,
        "the toggle's push was timed"
    );
}

#[tokio::test]
async fn an_imported_backup_shows_up_in_the_snapshot_without_waiting_for_the_next_pass() {
    let source = TestApp::spawn().await;
    let (_repo, id, _, _) = ready_workspace(&source).await;
    let (_, document) = source.get("/api/backup").await;

    // A reconciliation interval far beyond the test: only the import can trigger the pass.
    let target =
        TestApp::spawn_with(|config| config.reconcile.interval = Duration::from_secs(3600)).await;
    let (status, _) = target.post("/api/backup", document).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(5);
    while target.snapshot.store.get(&WorkspaceId::new(&id)).is_none() {
        assert!(
            Instant::now() < deadline,
            "the imported workspace never reached the snapshot"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_unreadable_row_is_skipped_and_the_pass_goes_on() {
    let app = TestApp::spawn().await;
    let (repo, broken, _, db) = ready_workspace(&app).await;
    let project = app
        .snapshot
        .store
        .get(&WorkspaceId::new(&broken))
        .unwrap()
        .raw
        .project_id;
    let fine = app
        .create_workspace(
            project.as_str(),
            json!({"source": "MANUAL", "name": "Fine"}),
        )
        .await;
    app.wait_for_status(&fine, "READY").await;
    sqlx::query("UPDATE workspaces SET created_at = 'not a time' WHERE id = ?")
        .bind(&broken)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE workspaces SET name = 'Fine, renamed' WHERE id = ?")
        .bind(&fine)
        .execute(&db)
        .await
        .unwrap();

    let summary = app
        .snapshot
        .reconciler
        .pass()
        .await
        .expect("the pass completes");
    assert_eq!((summary.unreadable, summary.removed), (1, 0));
    assert_eq!(
        entry_name(&app, &fine).await.as_deref(),
        Some("Fine, renamed")
    );
    assert_eq!(
        entry_name(&app, &broken).await.as_deref(),
        Some("Reconciled"),
        "kept as it was"
    );
    drop(repo);
}

async fn stats_become(app: &TestApp, workspace: &WorkspaceId, expected: GitStats, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .snapshot
        .store
        .get(workspace)
        .and_then(|e| e.raw.git_stats)
        != Some(expected)
    {
        assert!(Instant::now() < deadline, "gitStats never showed {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `git add` touches only the index, which a linked worktree keeps outside its tree.
#[tokio::test]
async fn staging_a_file_refreshes_git_stats_without_a_reconciliation_pass() {
    let app = TestApp::spawn().await;
    let (_repo, id, worktree, _) = ready_workspace(&app).await;
    let workspace = WorkspaceId::new(&id);
    stats_become(&app, &workspace, GitStats::default(), "the ready worktree").await;
    std::fs::write(worktree.join("notes.txt"), "one\ntwo\n").unwrap();
    let untracked = GitStats {
        total: 0,
        additions: 0,
        deletions: 0,
        has_uncommitted: true,
    };
    stats_become(&app, &workspace, untracked, "the untracked file").await;
    let passes = app.metric("ff_reconcile_passes_total").await;

    common::repo::git(&worktree, &["add", "notes.txt"]);
    let staged = GitStats {
        total: 1,
        additions: 2,
        deletions: 0,
        has_uncommitted: true,
    };
    stats_become(&app, &workspace, staged, "the staged file").await;
    assert_eq!(
        app.metric("ff_reconcile_passes_total").await,
        passes,
        "the watcher, not a pass, noticed"
    );
}
