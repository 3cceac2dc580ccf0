//! Sessions against hostile agents and hostile timing (issue 21): agents that never answer, that
//! flood while being asked something, that write what is not JSON-RPC or close their output and
//! live on, that hang in their handshake while ff is killed; cancels, stops, deletes and archives
//! that race the queue; and a steady chat whose snapshot never needs correcting.

mod common;

use common::agent::ScriptedAgent;
use common::binary::RunningFf;
use common::repo::TestRepo;
use common::TestApp;
use ff_core::enums::StatusReasonCode;
use ff_core::ids::WorkspaceId;
use ff_server::events::DomainEvent;
use ff_server::process::process_alive;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;

fn manual(name: &str) -> Value {
    json!({"source": "MANUAL", "name": name})
}

/// A ready workspace with `agent` as the default agent, and a session on it.
async fn session_with(app: &TestApp, agent: &ScriptedAgent, repo: &TestRepo) -> (String, String) {
    agent.install(app).await;
    let (_, workspace) = app.ready_workspace(repo, manual("Hostile")).await;
    let session = new_session(app, &workspace).await;
    (workspace, session)
}

async fn new_session(app: &TestApp, workspace: &str) -> String {
    let (status, session) = app
        .post(&format!("/api/workspaces/{workspace}/sessions"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session["id"].as_str().unwrap().to_owned()
}

async fn say(app: &TestApp, session: &str, text: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/api/sessions/{session}/messages"),
        json!({"text": text}),
    )
    .await
}

/// `what` must finish: ff answers it within `seconds`, whatever the agent does. A hang is the
/// defect these tests look for, so it fails the test instead of hanging it.
async fn finishes<T>(what: &str, seconds: u64, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {seconds} s"))
}

fn entry(app: &TestApp, workspace: &str) -> ff_core::entry::Entry {
    app.snapshot
        .store
        .get(&WorkspaceId::new(workspace))
        .expect("an entry")
}

/// The sum of every `ff_snapshot_drift_total` series.
async fn drift(app: &TestApp) -> f64 {
    let text = app
        .client
        .get(app.at("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("ff_snapshot_drift_total"))
        .filter_map(|l| l.rsplit_once(' ')?.1.trim().parse::<f64>().ok())
        .sum()
}

// ------------------------------------------------------------------ items 2 and 3

#[tokio::test]
async fn a_mode_change_the_agent_never_answers_blocks_nothing_else() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"unanswered": ["session/set_mode"]}));
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "hello").await;
    app.wait_turns(&session, 1).await;

    let change = {
        let (client, url) = (
            app.client.clone(),
            app.at(&format!("/api/sessions/{session}/config")),
        );
        tokio::spawn(async move {
            client
                .put(url)
                .json(&json!({"mode": "plan"}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    agent.wait_for("unanswered", 1).await;
    // The session's actor is free while the agent keeps the change waiting.
    finishes("reading the transcript", 10, app.items(&session)).await;
    finishes("reading the session", 10, app.session(&session)).await;
    let (status, body) = finishes(
        "stopping the session",
        20,
        app.command(&format!("/api/sessions/{session}/stop")),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let answered = finishes("the pending change's answer", 10, change)
        .await
        .unwrap();
    assert_eq!(
        answered,
        StatusCode::CONFLICT,
        "the change was not made, and says so"
    );
    let session_now = app.session(&session).await;
    assert_eq!(session_now["mode"], "default", "{session_now}");

    let (status, _) = app
        .command(&format!("/api/workspaces/{workspace}/archive"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    finishes(
        "the archive",
        30,
        app.wait_for_status(&workspace, "ARCHIVED"),
    )
    .await;
    finishes("shutting ff down", 30, app.shutdown()).await;
}

#[tokio::test]
async fn an_unanswered_change_fails_after_the_request_timeout_and_the_session_goes_on() {
    let app = TestApp::spawn_with_flags(&[], |config| {
        config.sessions.request_timeout = Duration::from_millis(500);
    })
    .await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"unanswered": ["session/set_config_option"]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "hello").await;
    app.wait_turns(&session, 1).await;
    let (status, body) = finishes(
        "the model change",
        10,
        app.send(
            Method::PUT,
            &format!("/api/sessions/{session}/config"),
            Some(json!({"model": "scripted-smart"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("session/set_config_option") && message.contains("0.5 s"),
        "the error names the request and the wait: {body}"
    );
    assert_eq!(app.session(&session).await["model"], "scripted-fast");
    say(&app, &session, "still there?").await;
    app.wait_turns(&session, 2).await;
}

#[tokio::test]
async fn a_mode_change_during_a_flooding_turn_does_not_deadlock_the_session() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [{"text": "start "}, {"flood": {"count": 20000, "text": "chunk {n} with some padding to fill the pipe "}}]},
    ]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "flood").await;
    app.wait_session(&session, "working", |s| s["runtime"]["working"] == true)
        .await;
    let (status, body) = finishes(
        "the mode change during the flood",
        60,
        app.send(
            Method::PUT,
            &format!("/api/sessions/{session}/config"),
            Some(json!({"mode": "plan"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = finishes("the flooding turn", 120, app.wait_turns(&session, 1)).await;
    let text = items
        .iter()
        .filter(|i| i["kind"] == "agent")
        .map(|i| i["text"].as_str().unwrap().to_owned())
        .collect::<String>();
    assert!(text.contains("chunk 19999 "), "every chunk arrived");
    assert_eq!(app.session(&session).await["mode"], "plan");
}

// ------------------------------------------------------------------ items 4 and 10

#[tokio::test]
async fn lines_that_are_not_utf8_or_too_long_are_skipped_and_the_turn_goes_on() {
    let app = TestApp::spawn_with_flags(&[], |config| {
        config.sessions.max_line_bytes = 64 * 1024;
    })
    .await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [{"steps": [
        {"text": "before "},
        {"raw": {"bytes": [255, 254, 123, 34, 10]}},
        {"raw": {"long": {"len": 3_000_000, "newline": true}}},
        {"text": "after"},
    ]}]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "garbage").await;
    let items = finishes("the turn", 30, app.wait_turns(&session, 1)).await;
    let text: String = items
        .iter()
        .filter(|i| i["kind"] == "agent")
        .map(|i| i["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "before after", "{items:#?}");
    let now = app.session(&session).await;
    assert_eq!(now["status"], "RUNNING", "the connection lives: {now}");
    say(&app, &session, "again").await;
    app.wait_turns(&session, 2).await;
}

#[tokio::test]
async fn an_agent_that_closes_its_output_and_lives_on_is_stopped_and_the_next_message_resumes() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    // Like codex-acp, it does not exit when its stdin closes.
    let agent = ScriptedAgent::new(json!({"outlivesClient": true, "turns": [
        {"steps": [{"text": "half "}, {"raw": "close"}, {"hang": {}}]},
        {"steps": [{"text": "back"}]},
    ]}));
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "first").await;
    let prompt = agent.wait_for("session/prompt", 1).await;
    let pid = prompt[0]["pid"].as_u64().unwrap() as u32;
    let failed = app
        .wait_session(&session, "failed", |s| s["status"] == "FAILED")
        .await;
    assert_eq!(failed["runtime"]["working"], false, "{failed}");
    let error = failed["runtime"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("connection"),
        "the reason says the connection was lost: {failed}"
    );
    common::eventually("the agent's process is gone", || !process_alive(pid)).await;
    assert!(
        !entry(&app, &workspace).raw.is_working,
        "the card does not say working"
    );
    say(&app, &session, "second").await;
    let items = app.wait_turns(&session, 1).await;
    assert!(items.iter().any(|i| i["text"] == "back"), "{items:#?}");
    assert_eq!(agent.events_named("session/load").len(), 1, "resumed");
}

// ------------------------------------------------------------------ item 5

#[tokio::test]
async fn releasing_a_message_that_waits_for_a_slot_puts_the_session_back() {
    let app = TestApp::spawn_with_flags(&["--max-running-agents", "1"], |_| {}).await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [{"steps": [{"hang": {}}]}]}));
    let (busy_workspace, busy) = session_with(&app, &agent, &repo).await;
    say(&app, &busy, "hold the only slot").await;
    app.wait_session(&busy, "working", |s| s["runtime"]["working"] == true)
        .await;
    let project = entry(&app, &busy_workspace).raw.project_id.to_string();
    let workspace = app.create_workspace(&project, manual("Waiting")).await;
    app.wait_for_status(&workspace, "READY").await;

    // Cancelled while it waits.
    let waiting = new_session(&app, &workspace).await;
    let (_, accepted) = say(&app, &waiting, "wait for a slot").await;
    app.wait_session(&waiting, "queued behind", |s| {
        s["runtime"]["queuedBehind"].is_u64()
    })
    .await;
    let message = accepted["messageId"].as_str().unwrap();
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/sessions/{waiting}/messages/{message}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let back = app.session(&waiting).await;
    assert_eq!(back["runtime"]["phase"], "idle", "{back}");
    assert!(back["runtime"]["queuedBehind"].is_null(), "{back}");
    common::eventually("the card no longer says starting", || {
        entry(&app, &workspace).derived.status_reason.code != StatusReasonCode::StartingSession
    })
    .await;

    // Stopped while it waits.
    say(&app, &waiting, "wait again").await;
    app.wait_session(&waiting, "queued behind", |s| {
        s["runtime"]["queuedBehind"].is_u64()
    })
    .await;
    app.command(&format!("/api/sessions/{waiting}/stop")).await;
    let back = app.session(&waiting).await;
    assert_eq!(back["runtime"]["phase"], "idle", "{back}");
    assert!(back["queue"].as_array().unwrap().is_empty());
    common::eventually("the card no longer says starting", || {
        entry(&app, &workspace).derived.status_reason.code != StatusReasonCode::StartingSession
    })
    .await;

    // Deleted while it waits: its summary leaves the card.
    say(&app, &waiting, "and again").await;
    app.wait_session(&waiting, "queued behind", |s| {
        s["runtime"]["queuedBehind"].is_u64()
    })
    .await;
    let (status, _) = app
        .send(Method::DELETE, &format!("/api/sessions/{waiting}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    common::eventually("the deleted session leaves the card", || {
        let entry = entry(&app, &workspace);
        entry.raw.session_summaries.as_slice().is_empty()
            && entry.derived.status_reason.code != StatusReasonCode::StartingSession
    })
    .await;
    app.command(&format!("/api/sessions/{busy}/stop")).await;
}

// ------------------------------------------------------------------ item 6

#[tokio::test]
async fn only_structured_rate_limits_are_retried_and_not_forever() {
    let app = TestApp::spawn_with_flags(&[], |config| {
        config.sessions.rate_limit_backoff = Duration::from_millis(50);
    })
    .await;
    let repo = TestRepo::new();
    let limited = json!({"steps": [{"error": {"code": -32603, "message": "Internal error", "data": {"status": 429}}}]});
    let mut turns = vec![
        json!({"steps": [{"error": {"code": -32603, "message": "tests/429_overloaded.log: no such file"}}]}),
    ];
    turns.extend(std::iter::repeat_n(limited, 12));
    let agent = ScriptedAgent::new(json!({ "turns": turns }));
    let (_, session) = session_with(&app, &agent, &repo).await;

    // Text that merely mentions 429 is an ordinary failure, not retried.
    say(&app, &session, "read the log").await;
    let failed = app
        .wait_item(&session, "an error", |i| i["kind"] == "error")
        .await;
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("429_overloaded"),
        "{failed}"
    );
    let now = app.session(&session).await;
    assert!(now["runtime"]["pausedUntil"].is_null(), "{now}");
    assert!(now["queue"].as_array().unwrap().is_empty(), "{now}");
    assert_eq!(agent.events_named("session/prompt").len(), 1);

    // A structured rate limit is retried, a bounded number of times, then fails with the reason.
    say(&app, &session, "try hard").await;
    let gave_up = app
        .wait_session(&session, "failed after retries", |s| {
            s["queue"].as_array().is_some_and(Vec::is_empty)
                && s["runtime"]["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("rate limit"))
        })
        .await;
    assert!(gave_up["runtime"]["pausedUntil"].is_null(), "{gave_up}");
    let prompts = agent.events_named("session/prompt").len();
    assert!(
        (3..=12).contains(&(prompts - 1)),
        "retried a bounded number of times: {prompts}"
    );
}

// ------------------------------------------------------------------ items 7 and 8

#[tokio::test]
async fn nothing_is_accepted_from_the_moment_archive_begins_and_sockets_close_with_a_reason() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    // An agent that ignores SIGTERM keeps the archive in ARCHIVING for the stop's grace.
    let agent = ScriptedAgent::new(
        json!({"ignoresSigterm": true, "outlivesClient": true, "turns": [
            {"steps": [{"hang": {}}]},
        ]}),
    );
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "work").await;
    app.wait_session(&session, "working", |s| s["runtime"]["working"] == true)
        .await;
    let other = new_session(&app, &workspace).await;
    let mut socket = common::socket::Client::connect(&format!(
        "{}/ws/sessions/{session}",
        app.url.replacen("http", "ws", 1)
    ))
    .await;
    let _: Value = socket.next().await;

    let (status, _) = app
        .command(&format!("/api/workspaces/{workspace}/archive"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_status(&workspace, "ARCHIVING").await;
    for target in [&session, &other] {
        let (status, body) = say(&app, target, "one more thing").await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("ARCHIVING"),
            "{body}"
        );
        let (status, body) = app.command(&format!("/api/sessions/{target}/start")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
    app.wait_for_status(&workspace, "ARCHIVED").await;
    let (status, body) = say(&app, &other, "after the archive").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ARCHIVED"),
        "{body}"
    );
    let ended = finishes("the socket's close", 10, socket.ended()).await;
    assert_eq!(
        ended,
        common::socket::Ended::Closed(Some(4410)),
        "closed with the archive's code"
    );
    assert_eq!(agent.events_named("session/prompt").len(), 1);
}

#[tokio::test]
async fn a_deleted_sessions_socket_is_closed_with_a_reason_and_nothing_brings_it_back() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({}));
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "hello").await;
    app.wait_turns(&session, 1).await;
    let mut socket = common::socket::Client::connect(&format!(
        "{}/ws/sessions/{session}",
        app.url.replacen("http", "ws", 1)
    ))
    .await;
    let _: Value = socket.next().await;
    // Readers keep asking for the session while it is deleted.
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (
                app.client.clone(),
                app.at(&format!("/api/sessions/{session}")),
            );
            tokio::spawn(async move {
                for _ in 0..200 {
                    let _ = client.get(&url).send().await;
                }
            })
        })
        .collect();
    let (status, _) = app
        .send(Method::DELETE, &format!("/api/sessions/{session}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for reader in readers {
        reader.await.unwrap();
    }
    let (status, _) = app.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let ended = finishes("the socket's close", 10, socket.ended()).await;
    assert_eq!(ended, common::socket::Ended::Closed(Some(4404)));
    // A new session's report brings the board's group up to date: the deleted one is not in it.
    let _ = new_session(&app, &workspace).await;
    common::eventually("one session on the card", || {
        entry(&app, &workspace)
            .raw
            .session_summaries
            .as_slice()
            .len()
            == 1
    })
    .await;
    assert!(entry(&app, &workspace)
        .raw
        .session_summaries
        .as_slice()
        .iter()
        .all(|s| s.session_id != session));
}

// ------------------------------------------------------------------ item 9

#[tokio::test]
async fn an_agent_caught_in_its_handshake_when_ff_is_killed_is_stopped_at_restart() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"startDelayMs": 600_000, "outlivesClient": true}));
    let server = RunningFf::start(data.path(), "warn");
    let (status, _) = server
        .send(
            Method::PATCH,
            "/api/settings",
            Some(json!({"agentServers": {"scripted": agent.server()}, "defaultAgent": "scripted"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, project) = server
        .post("/api/projects", Some(json!({"repoPath": repo.path})))
        .await;
    let (_, workspace) = server
        .post(
            &format!(
                "/api/projects/{}/workspaces",
                project["id"].as_str().unwrap()
            ),
            Some(json!({"source": "MANUAL", "name": "Handshake", "initialPrompt": "start"})),
        )
        .await;
    let workspace = workspace["id"].as_str().unwrap().to_owned();
    let started = agent.wait_for("start", 1).await;
    let pid = started[0]["pid"].as_u64().unwrap() as u32;
    let session = server
        .wait_for(&workspace, "starting its agent", |w| w["status"] == "READY")
        .await;
    drop(session);
    // The identity is written before the handshake begins; give the write its moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    assert!(process_alive(pid), "SIGKILL leaves the agent behind");
    let server = RunningFf::start(data.path(), "warn");
    common::eventually("the agent left from the handshake is gone", || {
        !process_alive(pid)
    })
    .await;
    drop(server);
}

// ------------------------------------------------------------------ items 12 and 13

#[tokio::test]
async fn thirty_seconds_of_chat_on_three_workspaces_never_drift() {
    let app = TestApp::spawn_with_flags(&["--reconcile-interval-ms", "1000"], |_| {}).await;
    let repo = TestRepo::new();
    let turn = |n: u64| {
        json!({"steps": [
            {"text": format!("reply {n} ")},
            {"usage": {"used": 100 * n, "size": 200000}},
            {"toolCall": {"toolCallId": format!("t{n}"), "title": "Edit", "kind": "edit", "status": "pending"}},
            {"permission": {"toolCall": {"toolCallId": format!("t{n}"), "title": "Edit"}}},
            {"toolCallUpdate": {"toolCallId": format!("t{n}"), "status": "completed"}},
            {"sleep": {"ms": 150}},
            {"text": "done"},
        ]})
    };
    let agent = ScriptedAgent::new(json!({"turns": (0..400).map(turn).collect::<Vec<_>>()}));
    agent.install(&app).await;
    let project = app.add_project(&repo.path).await;
    let mut workspaces = Vec::new();
    for n in 0..3 {
        let id = app
            .create_workspace(&project, manual(&format!("Chat {n}")))
            .await;
        app.wait_for_status(&id, "READY").await;
        workspaces.push(id);
    }
    // One pass past the setup, so that what is counted is the chat's.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = drift(&app).await;
    let started = std::time::Instant::now();
    let mut round = 0u64;
    while started.elapsed() < Duration::from_secs(30) {
        round += 1;
        for workspace in &workspaces {
            let session = new_session(&app, workspace).await;
            say(&app, &session, "go").await;
            let pending = app
                .wait_session(&session, "asking", |s| !s["pendingRequest"].is_null())
                .await;
            let request = pending["pendingRequest"]["requestId"].as_str().unwrap();
            app.post(
                &format!("/api/sessions/{session}/permission"),
                json!({"requestId": request, "optionId": "allow"}),
            )
            .await;
            app.wait_turns(&session, 1).await;
            match round % 3 {
                0 => {
                    app.command(&format!("/api/sessions/{session}/stop")).await;
                }
                1 => {}
                _ => {
                    app.command(&format!("/api/sessions/{session}/stop")).await;
                    app.command(&format!("/api/sessions/{session}/start")).await;
                    app.wait_session(&session, "started again", |s| {
                        s["status"] == "RUNNING" && s["runtime"]["phase"] == "idle"
                    })
                    .await;
                }
            }
            // Deleted in the end, so that the workspace stays within its active sessions.
            app.send(Method::DELETE, &format!("/api/sessions/{session}"), None)
                .await;
        }
    }
    // Two more passes over the settled state.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        drift(&app).await - before,
        0.0,
        "reconciliation corrected what events should have said"
    );
}

#[tokio::test]
async fn a_turns_end_is_announced_only_once_its_items_are_written() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [{"text": "working on it"}, {"hang": {}}]},
    ]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    let mut events = app.events.subscribe();
    say(&app, &session, "go").await;
    app.wait_item(&session, "the reply", |i| i["text"] == "working on it")
        .await;
    let db = ff_server::db::connect(&format!(
        "sqlite://{}",
        app.data_dir.path().join("ff.db").display()
    ))
    .await
    .unwrap();
    app.command(&format!("/api/sessions/{session}/stop")).await;
    loop {
        let event = finishes("the turn's end", 20, events.next()).await;
        if let Some(Ok(DomainEvent::SessionTurnEnded { .. })) = event {
            break;
        }
    }
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM session_items WHERE session_id = ? ORDER BY seq")
            .bind(&session)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(kinds, ["user", "agent", "stop"], "written before the news");
}

// ------------------------------------------------------------------ also

#[tokio::test]
async fn an_update_naming_another_session_is_not_shown_in_this_one() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [{"foreignText": "not yours"}, {"text": "yours"}]},
    ]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "go").await;
    let items = app.wait_turns(&session, 1).await;
    let text: String = items
        .iter()
        .filter(|i| i["kind"] == "agent")
        .map(|i| i["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "yours", "{items:#?}");
}
