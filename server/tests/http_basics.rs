mod common;

use common::TestApp;
use ff_core::api::{ErrorBody, ErrorCode, Health};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;

#[tokio::test]
async fn healthz_reports_ok_and_the_version() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.at("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let health: Health = response.json().await.unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    app.shutdown().await;
}

#[tokio::test]
async fn the_first_load_is_fully_server_rendered() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.at("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    for expected in [
        "<!DOCTYPE html>",
        "<title>ff</title>",
        r#"href="/pkg/ff.css""#,
        "/pkg/ff.js",
        "<h1>Projects</h1>",
        r#"data-testid="repo-path""#,
    ] {
        assert!(
            html.contains(expected),
            "first load lacks {expected:?}:\n{html}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn embedded_assets_are_served_with_types_and_revalidation() {
    assert!(
        ff_server::http::assets::present(),
        "build the site first: scripts/build.sh"
    );
    let app = TestApp::spawn().await;
    for (path, mime) in [
        ("/pkg/ff.js", "text/javascript"),
        ("/pkg/ff_bg.wasm", "application/wasm"),
        ("/pkg/ff.css", "text/css"),
        ("/pkg/favicon.svg", "image/svg+xml"),
    ] {
        let response = app.client.get(app.at(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[CONTENT_TYPE], mime, "{path}");
        let etag = response.headers()[ETAG].clone();
        assert!(
            !response.bytes().await.unwrap().is_empty(),
            "{path} is empty"
        );

        let again = app
            .client
            .get(app.at(path))
            .header(IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let missing = app.client.get(app.at("/pkg/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn unknown_api_paths_answer_in_the_error_format() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.at("/api/nope")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::NotFound);
    assert!(
        body.error.message.contains("/api/nope"),
        "{}",
        body.error.message
    );
    app.shutdown().await;
}

#[tokio::test]
async fn unknown_pages_are_404_with_the_app_shell() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.at("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Not found"), "{html}");
    assert!(
        html.contains("/pkg/ff.js"),
        "the 404 page must still hydrate"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_database_is_created_in_wal_mode_in_the_data_dir() {
    let app = TestApp::spawn().await;
    let db = app.data_dir.path().join("ff.db");
    assert!(db.exists(), "no database at {}", db.display());
    let pool = ff_server::db::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    pool.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let app = TestApp::spawn().await;
    let url = app.at("/healthz");
    app.shutdown().await;
    assert!(
        reqwest::get(url).await.is_err(),
        "still serving after shutdown"
    );
}

#[tokio::test]
async fn a_foreign_host_name_is_refused_everywhere_even_from_loopback() {
    // DNS rebinding: evil.example resolves to 127.0.0.1, and its page sends its own Host.
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/api/projects",
        "/healthz",
        "/ws/snapshots?projectId=x",
    ] {
        let response = app
            .client
            .get(app.at(path))
            .header("Host", "evil.example")
            .header("Origin", "http://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        let body: ErrorBody = response.json().await.unwrap();
        assert_eq!(body.error.code, ErrorCode::Forbidden);
    }
    let local = app
        .client
        .get(app.at("/api/projects"))
        .header("Host", "localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), StatusCode::OK);
}
