mod common;

use common::TestApp;
use ff_core::api::{ErrorBody, ErrorCode, Health};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

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
        "<h1>Home</h1>",
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

#[tokio::test]
async fn a_path_that_is_not_utf8_answers_in_the_error_format() {
    let app = TestApp::spawn().await;
    for path in ["/api/projects/%FF", "/api/workspaces/%C3%28/archive"] {
        let method = if path.ends_with("archive") {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let response = app
            .client
            .request(method, app.at(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: ErrorBody = response.json().await.expect("a JSON error body");
        assert_eq!(body.error.code, ErrorCode::BadRequest, "{path}");
    }
}

/// Connections that never finish their request headers are closed, and at most the configured
/// number of connections is served at once.
#[tokio::test]
async fn half_sent_requests_are_closed_and_connections_are_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with_flags(&[], |config| {
        config.http_limits.header_read_timeout = Duration::from_millis(500);
        config.http_limits.connections = 4;
    })
    .await;
    let address = app.url.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..6 {
        let mut tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .unwrap();
        idle.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(app.metric("ff_http_connections").await <= 4.0);
    let started = Instant::now();
    for tcp in &mut idle[..4] {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
        assert!(
            matches!(read, Ok(Ok(_)) | Ok(Err(_))),
            "a half-sent request was held open"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    // The waiting connections get their turn and are closed the same way; a real request is
    // then served.
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        app.client.get(app.at("/healthz")).send(),
    )
    .await
    .expect("served once slots free up")
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Bound beyond loopback, the Host header names whatever the client chose: a rebinding page's
/// own name unlocks nothing, not even a read.
#[tokio::test]
async fn beyond_loopback_a_name_must_be_an_allowed_origin() {
    let open = TestApp::spawn_with_flags(&["--host", "0.0.0.0"], |_| {}).await;
    let evil = |request: reqwest::RequestBuilder| {
        request
            .header("Host", "evil.example:7700")
            .header("Origin", "http://evil.example:7700")
    };
    let write = evil(open.client.post(open.at("/api/projects")))
        .json(&serde_json::json!({"repoPath": "/tmp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let message = write.json::<ErrorBody>().await.unwrap().error.message;
    assert!(message.contains("--allowed-origins"), "{message}");
    let backup = open
        .client
        .get(open.at("/api/backup"))
        .header("Host", "evil.example:7700")
        .send()
        .await
        .unwrap();
    assert_eq!(
        backup.status(),
        StatusCode::FORBIDDEN,
        "a same-origin GET has no Origin"
    );
    let read = evil(open.client.get(open.at("/api/projects")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.status(),
        StatusCode::FORBIDDEN,
        "a rebinding page cannot read the board either"
    );
    let local = open
        .client
        .get(open.at("/api/backup"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        local.status(),
        StatusCode::OK,
        "this machine by its loopback name"
    );

    let allowed = TestApp::spawn_with_flags(
        &[
            "--host",
            "0.0.0.0",
            "--allowed-origins",
            "http://box.lan:7700",
        ],
        |_| {},
    )
    .await;
    let change = allowed
        .client
        .post(allowed.at("/api/projects"))
        .header("Host", "box.lan:7700")
        .header("Origin", "http://box.lan:7700")
        .json(&serde_json::json!({"repoPath": "/nonexistent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        change.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "past the guard, the request itself is judged"
    );
}
