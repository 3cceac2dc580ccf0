mod common;

use common::repo::TestRepo;
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::Path;

/// Asserts an API error: its status, its code, and that the message names each of `mentions`.
fn assert_error(response: &(StatusCode, Value), status: StatusCode, code: &str, mentions: &[&str]) {
    let (actual, body) = response;
    assert_eq!(*actual, status, "{body}");
    let keys: Vec<&String> = body["error"]
        .as_object()
        .expect("error object")
        .keys()
        .collect();
    assert_eq!(keys, ["code", "message"], "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    for mention in mentions {
        assert!(message.contains(mention), "{message:?} lacks {mention:?}");
    }
}

async fn add(app: &TestApp, repo_path: impl serde::Serialize) -> (StatusCode, Value) {
    app.post("/api/projects", json!({ "repoPath": repo_path }))
        .await
}

async fn list(app: &TestApp) -> Value {
    let (status, projects) = app.get("/api/projects").await;
    assert_eq!(status, StatusCode::OK, "{projects}");
    projects
}

fn canonical(path: &Path) -> String {
    path.canonicalize().unwrap().to_str().unwrap().to_owned()
}

#[tokio::test]
async fn adding_a_repository_detects_its_facts() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    // The checked-out branch is not the default: origin/HEAD decides.
    repo.git(&["checkout", "-q", "-b", "work"]);

    let (status, project) = add(&app, &repo.path).await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let base = app.data_dir.path().join("worktrees").join("repo");
    let created_at = project["createdAt"].as_str().unwrap();
    assert_eq!(
        project,
        json!({
            "id": project["id"],
            "name": "Repo",
            "slug": "repo",
            "repoPath": canonical(&repo.path),
            "defaultBranch": "main",
            "githubOwner": null,
            "githubRepo": null,
            "githubHost": null,
            "defaultAgent": null,
            "worktreeBasePath": base.to_str().unwrap(),
            "setupTimeoutSeconds": 300,
            "createdAt": created_at,
            "updatedAt": created_at,
        })
    );
    assert!(
        created_at.len() == 24 && created_at.ends_with('Z'),
        "not RFC 3339 UTC with milliseconds: {created_at}"
    );
    assert!(!project["id"].as_str().unwrap().is_empty());

    let id = project["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/projects/{id}")).await,
        (StatusCode::OK, project.clone())
    );
    assert_eq!(list(&app).await, json!([project]));
    app.shutdown().await;
}

#[tokio::test]
async fn github_owner_and_repo_come_from_origin() {
    let app = TestApp::spawn().await;
    for (url, owner, name, host) in [
        ("git@github.com:octo/hello.git", "octo", "hello", None),
        (
            "https://github.com/octo-org/world",
            "octo-org",
            "world",
            None,
        ),
        (
            "ssh://git@GHE.corp.example:2222/team/tool.git",
            "team",
            "tool",
            Some("ghe.corp.example"),
        ),
    ] {
        let repo = TestRepo::new();
        repo.git(&["remote", "set-url", "origin", url]);
        let (status, project) = add(&app, &repo.path).await;
        assert_eq!(status, StatusCode::CREATED, "{project}");
        assert_eq!(project["githubOwner"], owner, "{url}");
        assert_eq!(project["githubRepo"], name, "{url}");
        assert_eq!(project["githubHost"], json!(host), "{url}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn one_repository_is_one_project_however_it_is_spelled() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let first = app.add_project(&repo.path).await;
    let link = tempfile::tempdir().unwrap();
    let symlink = link.path().join("link");
    std::os::unix::fs::symlink(&repo.path, &symlink).unwrap();

    for spelling in [
        repo.path.to_str().unwrap().to_owned(),
        format!("{}/", repo.path.display()),
        symlink.to_str().unwrap().to_owned(),
    ] {
        assert_error(
            &add(&app, &spelling).await,
            StatusCode::CONFLICT,
            "CONFLICT",
            &["already added", "\"Repo\""],
        );
    }
    let projects = list(&app).await;
    assert_eq!(projects.as_array().unwrap().len(), 1, "{projects}");
    assert_eq!(projects[0]["id"], first.as_str());
    app.shutdown().await;
}

#[tokio::test]
async fn repositories_with_the_same_directory_name_get_distinct_slugs() {
    let app = TestApp::spawn().await;
    let (one, two) = (TestRepo::new(), TestRepo::new());
    let (_, first) = add(&app, &one.path).await;
    let (_, second) = add(&app, &two.path).await;
    let worktrees = app.data_dir.path().join("worktrees");
    for (project, name, slug) in [(&first, "Repo", "repo"), (&second, "Repo 2", "repo-2")] {
        assert_eq!(project["name"], name, "{project}");
        assert_eq!(project["slug"], slug, "{project}");
        assert_eq!(
            project["worktreeBasePath"],
            worktrees.join(slug).to_str().unwrap()
        );
    }
    assert_eq!(second["repoPath"], canonical(&two.path));
    app.shutdown().await;
}

#[tokio::test]
async fn paths_that_are_not_a_repository_top_level_are_refused() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let subdir = repo.path.join("src");
    std::fs::create_dir(&subdir).unwrap();
    let plain = tempfile::tempdir().unwrap();
    let missing = plain.path().join("nope");
    let add_root = format!("add {} instead", repo.path.display());

    let cases: [(String, &[&str]); 5] = [
        (
            plain.path().display().to_string(),
            &["not a git repository"],
        ),
        (
            subdir.display().to_string(),
            &["inside the git repository", &add_root],
        ),
        (missing.display().to_string(), &["does not exist"]),
        ("repo".to_owned(), &["repoPath", "absolute", "\"repo\""]),
        ("   ".to_owned(), &["repoPath must not be empty"]),
    ];
    for (path, mentions) in cases {
        assert_error(
            &add(&app, &path).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            mentions,
        );
    }
    assert_eq!(list(&app).await, json!([]));
    app.shutdown().await;
}

#[tokio::test]
async fn patching_a_project_validates_and_persists() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let id = app.add_project(&repo.path).await;
    let path = format!("/api/projects/{id}");
    let patch = |body: Value| app.send(Method::PATCH, &path, Some(body));

    let (status, patched) = patch(json!({
        "name": "  Renamed  ",
        "defaultBranch": "release/1.x",
        "setupTimeoutSeconds": 60,
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(patched["defaultBranch"], "release/1.x");
    assert_eq!(patched["setupTimeoutSeconds"], 60);
    assert!(patched["updatedAt"].as_str() >= patched["createdAt"].as_str());

    let bad: [(Value, StatusCode, &str, &[&str]); 5] = [
        (
            json!({"defaultBranch": "a..b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            &["defaultBranch", "a..b"],
        ),
        (
            json!({"setupTimeoutSeconds": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            &["setupTimeoutSeconds", "got 0"],
        ),
        (
            json!({"setupTimeoutSeconds": 3601}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            &["setupTimeoutSeconds", "3601"],
        ),
        (
            json!({"name": "x", "nmae": "y"}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &["nmae"],
        ),
        (
            json!({"name": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            &["name must not be empty"],
        ),
    ];
    for (body, status, code, mentions) in bad {
        assert_error(&patch(body).await, status, code, mentions);
    }
    assert_error(
        &app.send(
            Method::PATCH,
            "/api/projects/nope",
            Some(json!({"name": "x"})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &["nope"],
    );

    // Persisted: a restart on the same data still has the accepted patch and none of the rest.
    let app = TestApp::spawn_in(app.shutdown().await).await;
    assert_eq!(app.get(&path).await, (StatusCode::OK, patched));
    app.shutdown().await;
}

#[tokio::test]
async fn a_project_is_deleted_only_without_live_workspaces() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = app.add_project(&repo.path).await;
    let path = format!("/api/projects/{project}");
    let workspace = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Work"}))
        .await;
    app.wait_for_status(&workspace, "READY").await;

    assert_error(
        &app.send(Method::DELETE, &path, None).await,
        StatusCode::CONFLICT,
        "CONFLICT",
        &["1 live workspace"],
    );
    assert_eq!(app.get(&path).await.0, StatusCode::OK);

    let (status, body) = app
        .command(&format!("/api/workspaces/{workspace}/archive"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    app.wait_for_status(&workspace, "ARCHIVED").await;

    assert_eq!(
        app.send(Method::DELETE, &path, None).await,
        (StatusCode::NO_CONTENT, Value::Null)
    );
    assert_error(
        &app.get(&path).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &[&project],
    );
    assert_error(
        &app.send(Method::DELETE, &path, None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &[&project],
    );
    assert_eq!(list(&app).await, json!([]));

    // The repository can come back as a new project; the deleted one keeps its slug reserved.
    let (status, again) = add(&app, &repo.path).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_ne!(again["id"], project.as_str());
    assert_eq!(again["slug"], "repo-2");
    assert_eq!(list(&app).await, json!([again]));
    app.shutdown().await;
}
