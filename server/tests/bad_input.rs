mod common;

use common::repo::TestRepo;
use common::TestApp;
use reqwest::header::{CONTENT_TYPE, ORIGIN};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;

const UNPROCESSABLE: (StatusCode, &str) = (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED");
const BAD: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "BAD_REQUEST");
const NOT_FOUND: (StatusCode, &str) = (StatusCode::NOT_FOUND, "NOT_FOUND");

/// Sends a request and asserts an API error: status, code, the exact `{"error":{"code","message"}}`
/// shape, and a message naming each of `mentions`.
async fn expect_error(
    request: RequestBuilder,
    (status, code): (StatusCode, &str),
    mentions: &[&str],
) {
    let response = request.send().await.expect("request");
    let actual = response.status();
    let text = response.text().await.unwrap();
    let what = format!("{actual} {text}");
    assert_eq!(actual, status, "{what}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {what}"));
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(keys(&body), Some(vec!["error".to_owned()]), "{what}");
    assert_eq!(
        keys(&body["error"]),
        Some(vec!["code".to_owned(), "message".to_owned()]),
        "{what}"
    );
    assert_eq!(body["error"]["code"], code, "{what}");
    let message = body["error"]["message"]
        .as_str()
        .expect("message is a string");
    for mention in mentions {
        assert!(message.contains(mention), "{message:?} lacks {mention:?}");
    }
}

struct Fixture {
    app: TestApp,
    repo: TestRepo,
    project: String,
    worktree_base: PathBuf,
}

impl Fixture {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let repo = TestRepo::new();
        let project = app.add_project(&repo.path).await;
        let worktree_base = app.data_dir.path().join("worktrees").join("repo");
        Self {
            app,
            repo,
            project,
            worktree_base,
        }
    }

    fn workspaces_path(&self) -> String {
        format!("/api/projects/{}/workspaces", self.project)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.app.client.request(method, self.app.at(path))
    }

    fn create(&self, body: &str) -> RequestBuilder {
        self.request(Method::POST, &self.workspaces_path())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned())
    }

    /// Nothing of a workspace exists: no row (live or archived), no branch, no worktree.
    async fn assert_nothing_created(&self, branches_before: &[String], case: &str) {
        for query in ["", "?archived=true"] {
            let (status, rows) = self
                .app
                .get(&format!("{}{query}", self.workspaces_path()))
                .await;
            assert_eq!(
                (status, rows),
                (StatusCode::OK, json!([])),
                "{case}: {query}"
            );
        }
        assert_eq!(
            self.repo.branches(),
            branches_before,
            "{case}: a branch was created"
        );
        let worktrees = std::fs::read_dir(&self.worktree_base)
            .map(|dir| dir.count())
            .unwrap_or(0);
        assert_eq!(
            worktrees,
            0,
            "{case}: {} is not empty",
            self.worktree_base.display()
        );
    }
}

#[tokio::test]
async fn invalid_create_workspace_requests_are_refused_and_write_nothing() {
    let f = Fixture::new().await;
    let before = f.repo.branches();
    let manual = |extra: Value| {
        let mut body = json!({"source": "MANUAL", "name": "ok"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body.to_string()
    };
    let issue = |number: Value, url: &str| {
        json!({"source": "GITHUB_ISSUE", "issueNumber": number, "issueUrl": url}).to_string()
    };
    let resume =
        |branch: &str| json!({"source": "RESUME_BRANCH", "branchName": branch}).to_string();
    let mut cases = Vec::new();
    let mut case = |body: String, expected: (StatusCode, &'static str), mentions: &[&str]| {
        let mentions: Vec<String> = mentions.iter().map(|m| m.to_string()).collect();
        cases.push((body, expected, mentions));
    };
    case(
        manual(json!({"name": ""})),
        UNPROCESSABLE,
        &["name must not be empty"],
    );
    case(
        manual(json!({"name": " \t "})),
        UNPROCESSABLE,
        &["name must not be empty"],
    );
    case(
        manual(json!({"name": "x".repeat(201)})),
        UNPROCESSABLE,
        &["name is 201 characters"],
    );
    case(
        json!({"source": "BOGUS", "name": "x"}).to_string(),
        BAD,
        &["BOGUS"],
    );
    case(manual(json!({"nmae": "x"})), BAD, &["unknown field `nmae`"]);
    case(
        r#"{"source": "MANUAL", "name": "#.into(),
        BAD,
        &["invalid JSON body"],
    );
    case(
        format!("[{}]", manual(json!({}))),
        BAD,
        &["invalid type: sequence"],
    );
    case(manual(json!({"name": 5})), BAD, &["integer `5`"]);
    case(
        issue(json!("42"), "https://github.com/o/r/issues/42"),
        BAD,
        &["string \"42\""],
    );
    case(
        json!({"source": "MANUAL"}).to_string(),
        BAD,
        &["missing field `name`"],
    );
    case(
        json!({"name": "x"}).to_string(),
        BAD,
        &["missing field `source`"],
    );
    case(
        json!({"source": "RESUME_BRANCH"}).to_string(),
        BAD,
        &["missing field `branchName`"],
    );
    let mismatched = "https://github.com/o/r/issues/41";
    case(
        issue(json!(42), mismatched),
        UNPROCESSABLE,
        &["issueUrl", mismatched, "#42"],
    );
    let http = "http://github.com/o/r/issues/42";
    case(
        issue(json!(42), http),
        UNPROCESSABLE,
        &["issueUrl", http, "must start with https://"],
    );
    for branch in ["-x", "a..b", "x.lock", "x@{y", "--upload-pack=evil"] {
        let invalid = |field| format!("{field} {branch:?} is not a valid git branch name");
        case(
            manual(json!({"baseBranch": branch})),
            UNPROCESSABLE,
            &[&invalid("baseBranch")],
        );
        case(resume(branch), UNPROCESSABLE, &[&invalid("branchName")]);
    }

    for (body, expected, mentions) in &cases {
        let mentions: Vec<&str> = mentions.iter().map(String::as_str).collect();
        expect_error(f.create(body), *expected, &mentions).await;
        f.assert_nothing_created(&before, body).await;
    }
    let no_type = f
        .request(Method::POST, &f.workspaces_path())
        .body(manual(json!({})));
    expect_error(no_type, BAD, &["Content-Type: application/json"]).await;
    f.assert_nothing_created(&before, "missing Content-Type")
        .await;
    f.app.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let f = Fixture::new().await;
    let body = json!({"source": "MANUAL", "name": "ok"});
    let project = "/api/projects/no-such-project";
    expect_error(
        f.request(Method::POST, &format!("{project}/workspaces"))
            .json(&body),
        NOT_FOUND,
        &["no project with id no-such-project"],
    )
    .await;
    for (method, path) in [
        (Method::GET, project.to_owned()),
        (Method::DELETE, project.to_owned()),
        (Method::GET, format!("{project}/workspaces")),
    ] {
        expect_error(f.request(method, &path), NOT_FOUND, &["no-such-project"]).await;
    }

    let workspace = "/api/workspaces/no-such-workspace";
    let ratchet = f
        .request(Method::PUT, &format!("{workspace}/ratchet"))
        .json(&json!({"enabled": true}));
    expect_error(ratchet, NOT_FOUND, &["no-such-workspace"]).await;
    for (method, suffix) in [
        (Method::GET, ""),
        (Method::POST, "/archive"),
        (Method::POST, "/retry"),
        (Method::POST, "/run-script/start"),
        (Method::POST, "/run-script/stop"),
        (Method::GET, "/run-script"),
        (Method::GET, "/run-script/logs"),
    ] {
        let path = format!("{workspace}{suffix}");
        expect_error(f.request(method, &path), NOT_FOUND, &["no-such-workspace"]).await;
    }
    f.assert_nothing_created(&f.repo.branches(), "unknown ids")
        .await;
    f.app.shutdown().await;
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_too_large() {
    let f = Fixture::new().await;
    let before = f.repo.branches();
    let description = "x".repeat(1024 * 1024);
    let body = json!({"source": "MANUAL", "name": "big", "description": description}).to_string();
    expect_error(
        f.create(&body),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        &["too large"],
    )
    .await;
    f.assert_nothing_created(&before, "oversized body").await;
    f.app.shutdown().await;
}

#[tokio::test]
async fn wrong_methods_are_405_in_the_error_format() {
    let f = Fixture::new().await;
    for (method, path) in [
        (Method::PUT, "/api/projects".to_owned()),
        (
            Method::DELETE,
            format!("/api/projects/{}/workspaces", f.project),
        ),
        (Method::GET, "/api/workspaces/w/archive".to_owned()),
    ] {
        let mentions = [method.as_str(), path.as_str()];
        expect_error(
            f.request(method.clone(), &path),
            (StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST"),
            &mentions,
        )
        .await;
    }
    f.app.shutdown().await;
}

#[tokio::test]
async fn foreign_origins_are_forbidden_and_write_nothing() {
    let f = Fixture::new().await;
    let before = f.repo.branches();
    let other = TestRepo::new();
    let evil = "http://evil.example";
    let forbidden = (StatusCode::FORBIDDEN, "FORBIDDEN");

    let add = |origin: &str| {
        f.request(Method::POST, "/api/projects")
            .header(ORIGIN, origin)
            .json(&json!({"repoPath": other.path}))
    };
    expect_error(add(evil), forbidden, &[evil]).await;
    let create = f
        .create(&json!({"source": "MANUAL", "name": "x"}).to_string())
        .header(ORIGIN, evil);
    expect_error(create, forbidden, &[evil]).await;
    expect_error(
        f.request(Method::GET, "/api/projects").header(ORIGIN, evil),
        forbidden,
        &[evil],
    )
    .await;
    let (_, projects) = f.app.get("/api/projects").await;
    assert_eq!(projects.as_array().unwrap().len(), 1, "{projects}");
    f.assert_nothing_created(&before, "forbidden origin").await;

    let response = add(&f.app.url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    f.app.shutdown().await;
}

#[tokio::test]
async fn ill_typed_query_parameters_are_bad_requests() {
    let f = Fixture::new().await;
    let workspace = f
        .app
        .create_workspace(&f.project, json!({"source": "MANUAL", "name": "w"}))
        .await;
    let logs = format!("/api/workspaces/{workspace}/run-script/logs");
    for (path, mentions) in [
        (
            format!("{}?archived=maybe", f.workspaces_path()),
            ["archived", "`true` or `false`"],
        ),
        (format!("{logs}?tail=x"), ["tail", "invalid digit"]),
        (format!("{logs}?tial=5"), ["tial", "unknown field"]),
    ] {
        expect_error(f.request(Method::GET, &path), BAD, &mentions).await;
    }
    f.app.wait_for_status(&workspace, "READY").await;
    f.app.shutdown().await;
}
