//! Server-rendered pages: complete on first load, and safe to render on any worker thread.

mod common;

use common::documents::backup;
use common::repo::TestRepo;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

// The runtime of `ff serve`: a long render may resume on another worker thread.
#[test]
fn a_board_of_200_workspaces_renders_whole_on_first_load_every_time() {
    ff_server::runtime()
        .expect("a runtime")
        .block_on(a_board_of_200_workspaces());
}

async fn a_board_of_200_workspaces() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (status, _) = app
        .post("/api/backup", backup(200, repo.path.to_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK);
    while app.snapshot.store.len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for page in ["/projects/bench", "/projects/bench/list", "/"] {
        for _ in 0..5 {
            let response = app
                .client
                .get(app.at(page))
                .send()
                .await
                .expect("the server answers");
            assert_eq!(response.status(), StatusCode::OK, "{page}");
            let html = response.text().await.unwrap();
            assert!(html.contains("</html>"), "{page} is complete");
            if page == "/projects/bench" {
                assert_eq!(html.matches(r#"data-testid="card""#).count(), 200);
                assert_eq!(html.matches(r#"data-testid="sidebar-row""#).count(), 200);
            }
            if page.ends_with("/list") {
                assert_eq!(html.matches(r#"data-testid="row""#).count(), 200);
            }
        }
    }
}

#[tokio::test]
async fn a_workspace_page_and_an_unknown_one() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Detailed"}))
        .await;
    app.wait_for_status(&id, "READY").await;
    let html = app
        .client
        .get(app.at(&format!("/workspaces/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "Detailed",
        "detailed",
        r#"data-testid="run-start""#,
        "Setup output",
    ] {
        assert!(
            html.contains(expected),
            "the detail page lacks {expected:?}"
        );
    }
    let missing = app
        .client
        .get(app.at("/workspaces/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let html = missing.text().await.unwrap();
    assert!(
        html.contains("Workspace unavailable") && html.contains("no workspace with id nope"),
        "{html}"
    );
}

#[tokio::test]
async fn a_missing_project_page_is_a_404_that_says_so() {
    let app = TestApp::spawn().await;
    for page in ["/projects/nope", "/projects/nope/list"] {
        let response = app.client.get(app.at(page)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{page}");
        let html = response.text().await.unwrap();
        assert!(html.contains("no project with id nope"), "{page}: {html}");
    }
}
