//! Overlaps between parallel workspaces (review.md §3) on real worktrees: they follow edits
//! through the file watcher, leave when one side reverts, and never cross projects.

mod common;

use common::repo::TestRepo;
use common::TestApp;
use ff_core::ids::WorkspaceId;
use ff_core::overlaps::Overlap;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

async fn ready(app: &TestApp, project: &str, name: &str) -> (String, PathBuf) {
    let id = app
        .create_workspace(project, json!({"source": "MANUAL", "name": name}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    (id, PathBuf::from(ready["worktreePath"].as_str().unwrap()))
}

fn overlaps(app: &TestApp, id: &str) -> Vec<Overlap> {
    app.snapshot
        .store
        .get(&WorkspaceId::new(id))
        .map(|e| e.raw.overlaps)
        .unwrap_or_default()
}

/// Waits until every workspace has the overlaps expected of it; the watcher settles 300 ms
/// after the last edit and measures within 1 s of the first, so 5 s is generous.
/// A workspace and its expected overlaps: (other workspace, its name, the shared paths).
type Expected<'a> = (&'a str, Vec<(&'a str, &'a str, Vec<&'a str>)>);

async fn overlaps_become(app: &TestApp, expected: &[Expected<'_>]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let actual: Vec<Vec<(String, String, Vec<String>)>> = expected
            .iter()
            .map(|(id, _)| {
                overlaps(app, id)
                    .into_iter()
                    .map(|o| (o.workspace_id.to_string(), o.name, o.paths))
                    .collect()
            })
            .collect();
        let wanted: Vec<Vec<(String, String, Vec<String>)>> = expected
            .iter()
            .map(|(_, list)| {
                list.iter()
                    .map(|(id, name, paths)| {
                        let paths = paths.iter().map(|&p| p.to_owned()).collect();
                        (id.to_string(), name.to_string(), paths)
                    })
                    .collect()
            })
            .collect();
        if actual == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "overlaps are {actual:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn workspaces_editing_the_same_file_are_marked_until_one_reverts() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let other_repo = TestRepo::new();
    let project = app.add_project(&repo.path).await;
    let other_project = app.add_project(&other_repo.path).await;
    let (login, login_tree) = ready(&app, &project, "Fix login").await;
    let (search, search_tree) = ready(&app, &project, "Add search").await;
    let (elsewhere, elsewhere_tree) = ready(&app, &other_project, "Same file, other project").await;

    std::fs::write(login_tree.join("README.md"), "hello\nlogin\n").unwrap();
    std::fs::write(login_tree.join("login.rs"), "fn login() {}\n").unwrap();
    std::fs::write(search_tree.join("README.md"), "hello\nsearch\n").unwrap();
    std::fs::write(elsewhere_tree.join("README.md"), "hello\nelsewhere\n").unwrap();
    std::fs::write(elsewhere_tree.join("login.rs"), "fn login() {}\n").unwrap();
    overlaps_become(
        &app,
        &[
            (&login, vec![(&search, "Add search", vec!["README.md"])]),
            (&search, vec![(&login, "Fix login", vec!["README.md"])]),
            (&elsewhere, vec![]),
        ],
    )
    .await;
    let summary = app.snapshot.reconciler.pass().await.unwrap();
    assert_eq!(summary.drifted, 0, "overlaps moving are not drift");
    assert_eq!(
        overlaps(&app, &login).len(),
        1,
        "a pass derives the same overlaps"
    );
    assert_eq!(overlaps(&app, &login)[0].count, 1);

    // One side reverts: the mark goes from both.
    std::fs::write(search_tree.join("README.md"), "hello\n").unwrap();
    overlaps_become(
        &app,
        &[(&login, vec![]), (&search, vec![]), (&elsewhere, vec![])],
    )
    .await;

    // A new file both create is an overlap too; archiving one side removes it.
    std::fs::write(search_tree.join("login.rs"), "fn login2() {}\n").unwrap();
    overlaps_become(
        &app,
        &[
            (&login, vec![(&search, "Add search", vec!["login.rs"])]),
            (&search, vec![(&login, "Fix login", vec!["login.rs"])]),
        ],
    )
    .await;
    let (status, body) = app
        .command(&format!("/api/workspaces/{search}/archive"))
        .await;
    assert!(status.is_success(), "{body}");
    overlaps_become(&app, &[(&login, vec![])]).await;
}
