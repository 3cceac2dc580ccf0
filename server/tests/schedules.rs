//! Scheduled tasks on the real router, a real SQLite file, real git repositories and the scripted
//! ACP agent, with the scheduler's clock set by hand: a due time creates one workspace whose
//! agent gets the task's prompt; a task skips its due time while its previous run is still
//! working; due times missed while ff was stopped run once at startup; bad input names its field
//! and changes nothing.

mod common;

use common::agent::ScriptedAgent;
use common::repo::TestRepo;
use common::TestApp;
use ff_core::ids::Timestamp;
use ff_server::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

async fn app_at(clock: &Clock) -> TestApp {
    let clock = clock.clone();
    TestApp::spawn_with_flags(&[], move |config| config.clock = clock).await
}

/// A project of a fresh repository, with the scripted agent as the default agent.
async fn project(app: &TestApp, repo: &TestRepo, agent: &ScriptedAgent) -> String {
    agent.install(app).await;
    app.add_project(&repo.path).await
}

async fn create(app: &TestApp, project: &str, body: Value) -> Value {
    let (status, created) = app
        .post(&format!("/api/projects/{project}/schedules"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn executions(app: &TestApp, schedule: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/api/schedules/{schedule}/executions"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

/// Waits (at most 30 s) until the task's executions, newest first, satisfy `done`.
async fn wait_executions(
    app: &TestApp,
    schedule: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = executions(app, schedule).await;
        if done(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "never {what}: {list:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn workspaces(app: &TestApp, project: &str) -> Vec<Value> {
    let (_, list) = app
        .get(&format!("/api/projects/{project}/workspaces"))
        .await;
    list.as_array().unwrap().clone()
}

async fn schedule(app: &TestApp, id: &str) -> Value {
    let (status, body) = app.get(&format!("/api/schedules/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_due_time_creates_one_workspace_whose_first_session_gets_the_prompt() {
    let clock = Clock::manual(at("2026-03-02T07:59:00Z"));
    let app = app_at(&clock).await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [{"steps": [{"text": "updated"}]}]}));
    let project = project(&app, &repo, &agent).await;
    let task = create(
        &app,
        &project,
        json!({"name": "Nightly deps", "prompt": "Update the dependencies", "cron": "0 9 * * *", "timeZone": "Europe/Berlin"}),
    )
    .await;
    let id = task["id"].as_str().unwrap();
    // 09:00 in Berlin in March is 08:00 UTC.
    assert_eq!(task["nextDueAt"], "2026-03-02T08:00:00.000Z");
    assert_eq!(
        (&task["enabled"], &task["agent"]),
        (&json!(true), &Value::Null)
    );
    assert_eq!(executions(&app, id).await, Vec::<Value>::new());

    clock.set(at("2026-03-02T08:00:00Z"));
    let runs = wait_executions(&app, id, "a run with its workspace", |runs| {
        runs.first().is_some_and(|r| r["workspaceId"].is_string())
    })
    .await;
    let run = &runs[0];
    assert_eq!(
        (&run["trigger"], &run["dueAt"], &run["startedAt"]),
        (
            &json!("SCHEDULED"),
            &json!("2026-03-02T08:00:00.000Z"),
            &json!("2026-03-02T08:00:00.000Z")
        )
    );
    let workspace_id = run["workspaceId"].as_str().unwrap();
    let workspace = app.wait_for_status(workspace_id, "READY").await;
    assert_eq!(workspace["creationSource"], "SCHEDULED");
    assert_eq!(workspace["scheduleId"], id);
    assert_eq!(workspace["name"], "Nightly deps · 2026-03-02 09:00");
    assert_eq!(run["workspaceName"], workspace["name"]);

    // The normal create path: the first session starts with the task's prompt.
    let prompts = agent.wait_for("session/prompt", 1).await;
    assert_eq!(prompts[0]["text"], "Update the dependencies");
    let runs = wait_executions(&app, id, "the run completed", |runs| {
        runs[0]["status"] == "COMPLETED"
    })
    .await;
    assert_eq!(runs[0]["completedAt"], "2026-03-02T08:00:00.000Z");
    assert_eq!(runs[0]["error"], Value::Null);

    let task = schedule(&app, id).await;
    assert_eq!(task["nextDueAt"], "2026-03-03T08:00:00.000Z");
    assert_eq!(task["lastRunAt"], "2026-03-02T08:00:00.000Z");
    assert_eq!(task["recentExecutions"][0]["id"], runs[0]["id"]);
    // Waking the scheduler again at the same time starts nothing more.
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/schedules/{id}"),
            Some(json!({"name": "Deps"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(executions(&app, id).await.len(), 1);
    assert_eq!(workspaces(&app, &project).await.len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_task_skips_its_due_time_while_the_previous_run_is_still_working() {
    let clock = Clock::manual(at("2026-03-02T09:59:00Z"));
    let app = app_at(&clock).await;
    let repo = TestRepo::new();
    let go = tempfile::tempdir().unwrap();
    let release = go.path().join("go");
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [{"text": "working"}, {"waitFile": {"path": release}}]},
    ]}));
    let project = project(&app, &repo, &agent).await;
    let task = create(
        &app,
        &project,
        json!({"name": "Triage", "prompt": "Triage new issues", "cron": "*/30 * * * *", "timeZone": "UTC"}),
    )
    .await;
    let id = task["id"].as_str().unwrap();

    clock.set(at("2026-03-02T10:00:00Z"));
    let first = wait_executions(&app, id, "the first run", |runs| {
        runs.first().is_some_and(|r| r["workspaceId"].is_string())
    })
    .await[0]
        .clone();
    // Its agent is mid-turn until the test lets it go on.
    agent.wait_for("session/prompt", 1).await;

    clock.set(at("2026-03-02T10:30:00Z"));
    let runs = wait_executions(&app, id, "the second due time", |runs| runs.len() == 2).await;
    let skipped = &runs[0];
    assert_eq!(
        (&skipped["status"], &skipped["trigger"], &skipped["dueAt"]),
        (
            &json!("SKIPPED"),
            &json!("SCHEDULED"),
            &json!("2026-03-02T10:30:00.000Z")
        )
    );
    assert_eq!(skipped["workspaceId"], Value::Null);
    assert_eq!(skipped["completedAt"], "2026-03-02T10:30:00.000Z");
    let reason = skipped["error"].as_str().unwrap();
    assert_eq!(
        reason,
        format!(
            "The previous run's workspace \"{}\" is still working",
            first["workspaceName"].as_str().unwrap()
        )
    );
    assert_eq!(runs[1]["status"], "RUNNING");
    assert_eq!(workspaces(&app, &project).await.len(), 1);
    assert_eq!(
        schedule(&app, id).await["nextDueAt"],
        "2026-03-02T11:00:00.000Z"
    );

    // Run now is refused for the same reason, and records nothing.
    let (status, body) = app.command(&format!("/api/schedules/{id}/run")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["message"], reason);
    assert_eq!(executions(&app, id).await.len(), 2);

    std::fs::write(&release, "").unwrap();
    wait_executions(&app, id, "the first run completed", |runs| {
        runs[1]["status"] == "COMPLETED"
    })
    .await;
    clock.set(at("2026-03-02T11:00:00Z"));
    let runs = wait_executions(&app, id, "the third due time ran", |runs| {
        runs.len() == 3 && runs[0]["workspaceId"].is_string()
    })
    .await;
    assert_eq!(runs[0]["dueAt"], "2026-03-02T11:00:00.000Z");
    assert_ne!(runs[0]["workspaceId"], first["workspaceId"]);
    assert_eq!(workspaces(&app, &project).await.len(), 2);
    app.shutdown().await;
}

#[tokio::test]
async fn due_times_missed_while_ff_was_stopped_run_once_at_startup() {
    let clock = Clock::manual(at("2026-03-02T06:30:00Z"));
    let app = app_at(&clock).await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({}));
    let project = project(&app, &repo, &agent).await;
    let task = create(
        &app,
        &project,
        json!({"name": "Hourly", "prompt": "Check the build", "cron": "0 * * * *", "timeZone": "UTC"}),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_owned();
    assert_eq!(task["nextDueAt"], "2026-03-02T07:00:00.000Z");
    let data = app.shutdown().await;

    // Six due times pass while ff is stopped (07:00 to 12:00).
    let later = Clock::manual(at("2026-03-02T12:10:00Z"));
    let restarted = {
        let later = later.clone();
        TestApp::spawn_in_with(data, move |config| config.clock = later).await
    };
    let runs = wait_executions(&restarted, &id, "the catch-up run", |runs| {
        runs.first().is_some_and(|r| r["workspaceId"].is_string())
    })
    .await;
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(
        (
            &runs[0]["trigger"],
            &runs[0]["dueAt"],
            &runs[0]["startedAt"]
        ),
        (
            &json!("CATCH_UP"),
            &json!("2026-03-02T12:00:00.000Z"),
            &json!("2026-03-02T12:10:00.000Z")
        )
    );
    assert_eq!(
        schedule(&restarted, &id).await["nextDueAt"],
        "2026-03-02T13:00:00.000Z"
    );
    agent.wait_for("session/prompt", 1).await;
    wait_executions(&restarted, &id, "the catch-up completed", |runs| {
        runs[0]["status"] == "COMPLETED"
    })
    .await;
    assert_eq!(executions(&restarted, &id).await.len(), 1);
    assert_eq!(workspaces(&restarted, &project).await.len(), 1);
    restarted.shutdown().await;
}

#[tokio::test]
async fn run_now_edit_disable_and_delete() {
    let clock = Clock::manual(at("2026-07-01T12:00:00Z"));
    let app = app_at(&clock).await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({}));
    let project = project(&app, &repo, &agent).await;
    let task = create(
        &app,
        &project,
        json!({"name": "Weekly", "prompt": "Write the changelog", "cron": "0 9 * * 1", "timeZone": "America/New_York", "enabled": false, "agent": "scripted"}),
    )
    .await;
    let id = task["id"].as_str().unwrap();
    assert_eq!(
        (&task["nextDueAt"], &task["agent"]),
        (&Value::Null, &json!("scripted"))
    );

    // Run now works on a disabled task and leaves its due times alone.
    let (status, run) = app.command(&format!("/api/schedules/{id}/run")).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(
        (&run["trigger"], &run["dueAt"], &run["status"]),
        (&json!("MANUAL"), &Value::Null, &json!("RUNNING"))
    );
    let workspace = run["workspaceId"].as_str().unwrap().to_owned();
    assert_eq!(run["workspaceName"], "Weekly · 2026-07-01 08:00");
    assert_eq!(schedule(&app, id).await["nextDueAt"], Value::Null);
    agent.wait_for("session/prompt", 1).await;

    // Enabled: due next Monday 09:00 in New York (13:00 UTC in July).
    let (status, enabled) = app
        .send(
            Method::PATCH,
            &format!("/api/schedules/{id}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["nextDueAt"], "2026-07-06T13:00:00.000Z");
    // A new zone moves the due time; clearing the agent keeps it.
    let (_, moved) = app
        .send(
            Method::PATCH,
            &format!("/api/schedules/{id}"),
            Some(json!({"timeZone": "Asia/Tokyo", "agent": null})),
        )
        .await;
    assert_eq!(moved["nextDueAt"], "2026-07-06T00:00:00.000Z");
    assert_eq!(moved["agent"], Value::Null);
    let (_, list) = app.get(&format!("/api/projects/{project}/schedules")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        list[0]["recentExecutions"][0]["workspaceId"],
        workspace.as_str()
    );

    let (status, _) = app
        .send(Method::DELETE, &format!("/api/schedules/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/api/schedules/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The run's workspace stays, no longer linked to a task.
    let kept = app.workspace(&workspace).await;
    assert_eq!(
        (&kept["creationSource"], &kept["scheduleId"]),
        (&json!("SCHEDULED"), &Value::Null)
    );
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_names_its_field_and_changes_nothing() {
    let clock = Clock::manual(at("2026-07-01T12:00:00Z"));
    let app = app_at(&clock).await;
    let repo = TestRepo::new();
    let project = app.add_project(&repo.path).await;
    let good = json!({"name": "Deps", "prompt": "Update", "cron": "0 9 * * 1", "timeZone": "UTC"});
    let task = create(&app, &project, good.clone()).await;
    let id = task["id"].as_str().unwrap();
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let create_path = format!("/api/projects/{project}/schedules");
    let task_path = format!("/api/schedules/{id}");
    let cases = [
        (
            Method::POST,
            create_path.clone(),
            with("cron", json!("61 * * * *")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cron \"61 * * * *\" is not a cron expression",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("cron", json!("0 9 * * * *")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cron \"0 9 * * * *\"",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("cron", json!("0 0 30 2 *")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cron \"0 0 30 2 *\" never comes due",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("timeZone", json!("Mars/Olympus")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "timeZone \"Mars/Olympus\" is not an IANA time zone",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("timeZone", json!("+02:00")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "timeZone \"+02:00\"",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("name", json!("  ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name must not be empty",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("prompt", json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "prompt must not be empty",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("agent", json!("nobody")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "agent \"nobody\" is not a configured agent",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("timezone", json!("UTC")),
            StatusCode::BAD_REQUEST,
            "unknown field `timezone`",
        ),
        (
            Method::POST,
            create_path.clone(),
            without("prompt"),
            StatusCode::BAD_REQUEST,
            "missing field `prompt`",
        ),
        (
            Method::POST,
            create_path.clone(),
            with("enabled", json!("yes")),
            StatusCode::BAD_REQUEST,
            "invalid type",
        ),
        (
            Method::POST,
            "/api/projects/nope/schedules".into(),
            good.clone(),
            StatusCode::NOT_FOUND,
            "no project",
        ),
        (
            Method::PATCH,
            task_path.clone(),
            json!({"cron": "every day"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cron \"every day\"",
        ),
        (
            Method::PATCH,
            task_path.clone(),
            json!({"timeZone": "Europe/Atlantis", "name": "Renamed"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "timeZone \"Europe/Atlantis\"",
        ),
        (
            Method::PATCH,
            task_path.clone(),
            json!({"agent": "nobody"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "agent \"nobody\" is not a configured agent",
        ),
        (
            Method::PATCH,
            task_path.clone(),
            json!({"nextDueAt": "2026-07-01T12:00:00.000Z"}),
            StatusCode::BAD_REQUEST,
            "unknown field `nextDueAt`",
        ),
        (
            Method::PATCH,
            "/api/schedules/nope".into(),
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            "no scheduled task with id nope",
        ),
        (
            Method::GET,
            format!("{task_path}/executions?limit=0"),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "limit must be between 1 and 200",
        ),
        (
            Method::GET,
            format!("{task_path}/executions?since=1"),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "unknown field `since`",
        ),
        (
            Method::POST,
            "/api/schedules/nope/run".into(),
            Value::Null,
            StatusCode::NOT_FOUND,
            "no scheduled task",
        ),
        (
            Method::DELETE,
            "/api/schedules/nope".into(),
            Value::Null,
            StatusCode::NOT_FOUND,
            "no scheduled task",
        ),
    ];
    for (method, path, body, status, mention) in cases {
        let sent = (!body.is_null()).then(|| body.clone());
        let (actual, answer) = app.send(method.clone(), &path, sent).await;
        assert_eq!(actual, status, "{method} {path} {body}: {answer}");
        let code = match status {
            StatusCode::UNPROCESSABLE_ENTITY => "VALIDATION_FAILED",
            StatusCode::BAD_REQUEST => "BAD_REQUEST",
            _ => "NOT_FOUND",
        };
        assert_eq!(answer["error"]["code"], code, "{method} {path}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(mention),
            "{method} {path}: {message:?} lacks {mention:?}"
        );
    }
    let (_, list) = app.get(&create_path).await;
    assert_eq!(list, json!([task]), "nothing was written");
    app.shutdown().await;
}

#[tokio::test]
async fn a_runs_pull_request_is_recorded_once_github_knows_it() {
    use common::fake_github::{self, OWNER, REPO};
    let fake = fake_github::start().await;
    let clock = Clock::manual(at("2026-07-01T12:00:00Z"));
    let app = {
        let clock = clock.clone();
        TestApp::spawn_with_github(&fake.url, move |config| config.clock = clock).await
    };
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({}));
    let project = project(&app, &repo, &agent).await;
    fake_github::link(&app, &project).await;
    let task = create(
        &app,
        &project,
        json!({"name": "Release notes", "prompt": "Open a PR with the notes", "cron": "@weekly", "timeZone": "UTC"}),
    )
    .await;
    let id = task["id"].as_str().unwrap();
    let (status, run) = app.command(&format!("/api/schedules/{id}/run")).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(
        (&run["prUrl"], &run["prNumber"]),
        (&Value::Null, &Value::Null)
    );
    let workspace = app
        .wait_for_status(run["workspaceId"].as_str().unwrap(), "READY")
        .await;
    let branch = workspace["branchName"].as_str().unwrap();
    // A PR of this branch whose head is this clone's commit: the one discovery attaches.
    let number = fake_github::open_from(&fake, &repo.path, branch, OWNER);
    let runs = wait_executions(&app, id, "the run's PR recorded", |runs| {
        runs[0]["prNumber"] == number
    })
    .await;
    assert_eq!(
        runs[0]["prUrl"],
        format!("https://github.com/{OWNER}/{REPO}/pull/{number}")
    );
    app.shutdown().await;
}
