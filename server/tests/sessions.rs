//! Agent sessions driven through ff's real ACP client against the scripted agent: every update
//! kind, permissions before and after their tool call, policies, fs inside and outside the
//! worktree, crashes, hangs, floods, slow starts, rate limits, the global cap, the first session
//! of a workspace, bad input, and the snapshot's session group.

mod common;

use common::agent::ScriptedAgent;
use common::repo::TestRepo;
use common::TestApp;
use ff_core::enums::{PendingRequestType, StatusReasonCode};
use ff_core::ids::WorkspaceId;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

fn manual(name: &str) -> Value {
    json!({"source": "MANUAL", "name": name})
}

/// A ready workspace with the scripted agent as the default, and a session on it.
async fn session_with(app: &TestApp, agent: &ScriptedAgent, repo: &TestRepo) -> (String, String) {
    agent.install(app).await;
    let (_, workspace) = app.ready_workspace(repo, manual("Agent work")).await;
    let (status, session) = app
        .post(&format!("/api/workspaces/{workspace}/sessions"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    (workspace, session["id"].as_str().unwrap().to_owned())
}

async fn say(app: &TestApp, session: &str, text: &str) -> Value {
    let (status, body) = app
        .post(
            &format!("/api/sessions/{session}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body
}

fn entry(app: &TestApp, workspace: &str) -> ff_core::entry::Entry {
    app.snapshot
        .store
        .get(&WorkspaceId::new(workspace))
        .expect("an entry")
}

async fn reason_becomes(app: &TestApp, workspace: &str, code: StatusReasonCode) {
    common::eventually(&format!("status reason {code}"), || {
        entry(app, workspace).derived.status_reason.code == code
    })
    .await;
}

fn worktree(app_workspace: &Value) -> PathBuf {
    PathBuf::from(app_workspace["worktreePath"].as_str().unwrap())
}

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["kind"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_text_turn_streams_into_one_message_and_the_board_follows() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [{"steps": [
        {"thought": "Let me look."},
        {"text": "Hello "}, {"text": "from "}, {"text": "the agent."},
        {"usage": {"used": 1200, "size": 200000, "cost": {"amount": 0.0123, "currency": "USD"}}},
    ]}]}));
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    reason_becomes(&app, &workspace, StatusReasonCode::NoSessionStarted).await;

    say(&app, &session, "Say hello").await;
    let items = app.wait_turns(&session, 1).await;
    assert_eq!(kinds(&items), ["user", "thought", "agent", "usage", "stop"]);
    assert_eq!(items[0]["text"], "Say hello");
    assert_eq!(items[2]["text"], "Hello from the agent.");
    assert_eq!(items[4]["reason"], "end_turn");
    let prompts = agent.wait_for("session/prompt", 1).await;
    assert_eq!(prompts[0]["text"], "Say hello");

    reason_becomes(&app, &workspace, StatusReasonCode::ReadyForNextPrompt).await;
    let e = entry(&app, &workspace);
    assert!(!e.raw.is_working);
    assert!(e.raw.has_had_sessions);
    let summary = &e.raw.session_summaries.as_slice()[0];
    assert_eq!(summary.agent.as_deref(), Some("scripted"));
    assert_eq!(summary.usage.as_ref().unwrap().used, Some(1200));
    assert_eq!(e.derived.costs[0].micros, 12_300);
    let session = app.session(&session).await;
    assert_eq!(
        session["status"], "RUNNING",
        "the agent stays up for the next message"
    );
    assert_eq!(session["runtime"]["phase"], "idle");
    assert_eq!(session["models"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_permission_after_its_tool_call_waits_for_a_person_and_moves_the_card() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [{"steps": [
        {"toolCall": {"toolCallId": "t1", "title": "Write notes.md", "kind": "edit", "status": "pending",
                      "content": [{"type": "diff", "path": "notes.md", "oldText": null, "newText": "hi"}]}},
        {"permission": {"toolCall": {"toolCallId": "t1", "title": "Write notes.md", "kind": "edit"},
                        "onReject": "stop"}},
        {"edit": {"path": "notes.md", "content": "hi\n"}},
        {"toolCallUpdate": {"toolCallId": "t1", "status": "completed"}},
        {"text": "Written."},
    ]}]}));
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "Write notes").await;
    let waiting = app
        .wait_session(&session, "asking", |s| !s["pendingRequest"].is_null())
        .await;
    let request = &waiting["pendingRequest"];
    assert_eq!(request["type"], "permission_request");
    assert_eq!(request["toolCall"]["title"], "Write notes.md");
    let options: Vec<&str> = request["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["optionId"].as_str().unwrap())
        .collect();
    assert_eq!(options, ["allow", "allow_always", "reject"]);
    reason_becomes(&app, &workspace, StatusReasonCode::NeedsPermission).await;
    assert_eq!(
        entry(&app, &workspace).raw.pending_request_type,
        Some(PendingRequestType::PermissionRequest)
    );

    let (status, body) = app
        .post(
            &format!("/api/sessions/{session}/permission"),
            json!({"requestId": request["requestId"], "optionId": "allow"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let items = app.wait_turns(&session, 1).await;
    assert_eq!(
        kinds(&items),
        ["user", "tool", "permission", "agent", "stop"]
    );
    assert_eq!(items[1]["status"], "completed");
    assert_eq!(items[2]["choice"], "allow");
    assert_eq!(items[2]["decidedBy"], "person");
    let outcome = &agent.wait_for("permission", 1).await[0];
    assert_eq!(outcome["optionId"], "allow", "{outcome}");
    let tree = worktree(&app.workspace(&workspace).await);
    assert_eq!(
        std::fs::read_to_string(tree.join("notes.md")).unwrap(),
        "hi\n"
    );
    reason_becomes(&app, &workspace, StatusReasonCode::ReadyForNextPrompt).await;
}

#[tokio::test]
async fn a_permission_before_its_tool_call_and_a_rejection() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [{"steps": [
        {"permission": {"toolCall": {"toolCallId": "c1", "title": "rm -rf build", "kind": "execute",
                                     "rawInput": {"command": "rm -rf build"}},
                        "options": [
                            {"optionId": "approved", "name": "Yes", "kind": "allow_once"},
                            {"optionId": "abort", "name": "No", "kind": "reject_once"}],
                        "onReject": "stop"}},
        {"toolCall": {"toolCallId": "c1", "title": "rm -rf build", "kind": "execute", "status": "in_progress"}},
        {"text": "never reached"},
    ]}]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "Clean up").await;
    let waiting = app
        .wait_session(&session, "asking", |s| !s["pendingRequest"].is_null())
        .await;
    let request_id = waiting["pendingRequest"]["requestId"].clone();
    // The tool call the request names is on the transcript before the agent announced it.
    let tool = app
        .wait_item(&session, "the tool call", |i| i["kind"] == "tool")
        .await;
    assert_eq!(tool["toolCallId"], "c1");
    let (status, _) = app
        .post(
            &format!("/api/sessions/{session}/permission"),
            json!({"requestId": request_id, "optionId": "abort"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let items = app.wait_turns(&session, 1).await;
    assert!(!items.iter().any(|i| i["text"] == "never reached"));
    let permission = items.iter().find(|i| i["kind"] == "permission").unwrap();
    assert_eq!(permission["choice"], "abort");
    assert_eq!(agent.events_named("permission")[0]["optionId"], "abort");
}

#[tokio::test]
async fn policies_answer_edits_inside_the_worktree_and_everything_with_all() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let edit = |id: &str, path: &str| {
        json!({"permission": {"toolCall": {"toolCallId": id, "title": format!("Edit {path}"), "kind": "edit",
                                            "locations": [{"path": path}]}}})
    };
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [edit("e1", "src/new.rs"), {"text": "edited"}]},
        {"steps": [edit("e2", "/etc/hosts")]},
        {"steps": [{"permission": {"toolCall": {"toolCallId": "x1", "title": "cargo test", "kind": "execute"}}},
                   {"text": "ran"}]},
    ]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    let (status, _) = app
        .send(
            Method::PATCH,
            "/api/settings",
            Some(json!({"permissionPolicy": "edits"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    say(&app, &session, "edit inside").await;
    let items = app.wait_turns(&session, 1).await;
    let decided = items.iter().find(|i| i["kind"] == "permission").unwrap();
    assert_eq!(
        (&decided["choice"], &decided["decidedBy"]),
        (&json!("allow"), &json!("policy"))
    );

    say(&app, &session, "edit outside").await;
    let asked = app
        .wait_session(&session, "asking about /etc/hosts", |s| {
            !s["pendingRequest"].is_null()
        })
        .await;
    assert_eq!(
        asked["pendingRequest"]["toolCall"]["title"],
        "Edit /etc/hosts"
    );
    app.post(&format!("/api/sessions/{session}/cancel"), json!(null))
        .await;
    app.wait_turns(&session, 2).await;

    app.send(
        Method::PATCH,
        "/api/settings",
        Some(json!({"permissionPolicy": "all"})),
    )
    .await;
    say(&app, &session, "run a command").await;
    let items = app.wait_turns(&session, 3).await;
    let last = items
        .iter()
        .rev()
        .find(|i| i["kind"] == "permission")
        .unwrap();
    assert_eq!(
        (&last["choice"], &last["decidedBy"]),
        (&json!("allow"), &json!("policy"))
    );
}

#[tokio::test]
async fn files_are_served_to_the_agent_inside_its_worktree_only() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [{"steps": [
        {"readFile": {"path": "README.md"}},
        {"readFile": {"path": "../../etc/passwd"}},
        {"readFile": {"path": "/etc/passwd"}},
        {"readFile": {"path": "escape/passwd"}},
        {"writeFile": {"path": "out/result.txt", "content": "done"}},
        {"writeFile": {"path": "../outside.txt", "content": "nope"}},
    ]}]}));
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    let tree = worktree(&app.workspace(&workspace).await);
    std::os::unix::fs::symlink("/etc", tree.join("escape")).unwrap();
    say(&app, &session, "files").await;
    let items = app.wait_turns(&session, 1).await;
    let said: Vec<&str> = items
        .iter()
        .filter(|i| i["kind"] == "agent")
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    let text = said.join("\n");
    assert!(text.contains("read ok: 6 bytes"), "{text}");
    assert_eq!(
        text.matches("outside the workspace's worktree").count(),
        4,
        "{text}"
    );
    assert!(text.contains("write ok"), "{text}");
    assert_eq!(
        std::fs::read_to_string(tree.join("out/result.txt")).unwrap(),
        "done"
    );
    assert!(!tree.parent().unwrap().join("outside.txt").exists());
}

#[tokio::test]
async fn a_crash_mid_turn_is_a_session_error_and_the_next_message_resumes_the_session() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [{"text": "working on it"}, {"toolCall": {"toolCallId": "t1", "title": "Build", "kind": "execute", "status": "in_progress"}},
                   {"crash": {"code": 3}}]},
        {"steps": [{"text": "back again"}]},
    ]}));
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "first").await;
    app.wait_item(&session, "the error", |i| i["kind"] == "error")
        .await;
    reason_becomes(&app, &workspace, StatusReasonCode::SessionError).await;
    // The turn fails when the connection drops; the session when the process is reaped.
    let crashed = app
        .wait_session(&session, "failed", |s| s["status"] == "FAILED")
        .await;
    assert_eq!(crashed["runtime"]["lastExit"]["code"], 3);
    assert_eq!(crashed["runtime"]["lastExit"]["unexpected"], true);
    let tool = app
        .wait_item(&session, "the tool call", |i| i["kind"] == "tool")
        .await;
    assert_eq!(
        tool["status"], "failed",
        "ff closes what the dead agent left open"
    );

    say(&app, &session, "second").await;
    app.wait_item(&session, "the reply", |i| i["text"] == "back again")
        .await;
    let loads = agent.events_named("session/load");
    assert_eq!(
        loads.len(),
        1,
        "the agent resumed its session: {:#?}",
        agent.events()
    );
    reason_becomes(&app, &workspace, StatusReasonCode::ReadyForNextPrompt).await;
}

#[tokio::test]
async fn a_hung_turn_is_cancelled_at_the_turn_timeout() {
    let app = TestApp::spawn_with_flags(&["--turn-timeout-ms", "1500"], |_| {}).await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(
        json!({"turns": [{"steps": [{"text": "thinking"}, {"hang": {}}]},
                                                   {"steps": [{"text": "fine now"}]}]}),
    );
    let (_, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "hang").await;
    let error = app
        .wait_item(&session, "the timeout", |i| i["kind"] == "error")
        .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("took longer than"),
        "{error}"
    );
    say(&app, &session, "again").await;
    app.wait_item(&session, "the next reply", |i| i["text"] == "fine now")
        .await;
}

#[tokio::test]
async fn a_flood_of_ten_thousand_chunks_arrives_whole_in_few_writes() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(
        json!({"turns": [{"steps": [{"flood": {"count": 10000, "text": "{n},"}}]}]}),
    );
    let (_, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "flood").await;
    let items = app.wait_turns(&session, 1).await;
    let text = items[1]["text"].as_str().unwrap();
    let expected: String = (0..10000).map(|n| format!("{n},")).collect();
    assert_eq!(text.len(), expected.len());
    assert_eq!(text, expected, "every chunk, in order, in one item");
}

#[tokio::test]
async fn the_transcript_pages_backwards_from_before_for_load_earlier() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    for n in 0..3 {
        say(&app, &session, &format!("message {n}")).await;
        app.wait_turns(&session, n + 1).await;
    }
    // user, agent, stop: three items a turn.
    let page = |query: &'static str| {
        let app = &app;
        let session = session.clone();
        async move {
            let (status, body) = app
                .get(&format!("/api/sessions/{session}/items?{query}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            body.as_array()
                .unwrap()
                .iter()
                .map(|i| i["seq"].as_u64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page("before=9&limit=3").await, [6, 7, 8]);
    assert_eq!(page("before=3&limit=10").await, [1, 2]);
    assert_eq!(page("after=2&before=7&limit=2").await, [5, 6]);
    assert!(page("before=1").await.is_empty());
    assert_eq!(page("after=7").await, [8, 9]);
    let (status, body) = app
        .get(&format!("/api/sessions/{session}/items?before=soon"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "BAD_REQUEST");
}

#[tokio::test]
async fn a_slow_start_shows_starting_and_one_past_the_handshake_timeout_fails_clearly() {
    let app = TestApp::spawn_with_flags(&[], |config| {
        config.sessions.handshake_timeout = Duration::from_millis(1500);
    })
    .await;
    let repo = TestRepo::new();
    let slow = ScriptedAgent::new(
        json!({"startDelayMs": 800, "turns": [{"steps": [{"text": "late but here"}]}]}),
    );
    let (workspace, session) = session_with(&app, &slow, &repo).await;
    say(&app, &session, "hello").await;
    reason_becomes(&app, &workspace, StatusReasonCode::StartingSession).await;
    app.wait_item(&session, "the reply", |i| i["text"] == "late but here")
        .await;

    let too_slow = ScriptedAgent::new(json!({"startDelayMs": 5000, "turns": []}));
    too_slow.install(&app).await;
    let (_, other) = app
        .post(&format!("/api/workspaces/{workspace}/sessions"), json!({}))
        .await;
    let other = other["id"].as_str().unwrap().to_owned();
    say(&app, &other, "hello").await;
    let error = app
        .wait_item(&other, "the start error", |i| i["kind"] == "error")
        .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("did not answer within 1 s"),
        "{error}"
    );
    assert_eq!(app.session(&other).await["runtime"]["phase"], "error");
}

#[tokio::test]
async fn a_rate_limited_turn_is_retried_after_a_pause_not_failed() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [{"error": {"code": -32603, "message": "API Error: rate limit exceeded", "data": {"error": {"type": "rate_limit_error"}}}}]},
        {"steps": [{"text": "got through"}]},
    ]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    say(&app, &session, "please").await;
    let paused = app
        .wait_session(&session, "paused", |s| {
            !s["runtime"]["pausedUntil"].is_null()
        })
        .await;
    assert_eq!(
        paused["queue"].as_array().unwrap().len(),
        1,
        "the message waits: {paused}"
    );
    let items = app.wait_turns(&session, 1).await;
    assert!(items.iter().any(|i| i["text"] == "got through"));
    let users: Vec<&Value> = items.iter().filter(|i| i["kind"] == "user").collect();
    assert_eq!(users.len(), 2, "sent twice, the second time through");
    assert_eq!(agent.events_named("session/prompt").len(), 2);
}

#[tokio::test]
async fn no_more_than_the_configured_number_of_turns_run_at_once() {
    let app = TestApp::spawn_with_flags(&["--max-running-agents", "3"], |_| {}).await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(
        json!({"turns": (0..10).map(|_| json!({"steps": [{"sleep": {"ms": 400}}, {"text": "done"}]})).collect::<Vec<_>>()}),
    );
    agent.install(&app).await;
    let project = app.add_project(&repo.path).await;
    let mut sessions = Vec::new();
    for n in 0..10 {
        let workspace = app
            .create_workspace(&project, manual(&format!("Parallel {n}")))
            .await;
        app.wait_for_status(&workspace, "READY").await;
        let (_, session) = app
            .post(&format!("/api/workspaces/{workspace}/sessions"), json!({}))
            .await;
        sessions.push(session["id"].as_str().unwrap().to_owned());
    }
    for session in &sessions {
        say(&app, session, "go").await;
    }
    let mut most = 0;
    let mut saw_queued = false;
    loop {
        let mut working = 0;
        let mut finished = 0;
        for session in &sessions {
            let s = app.session(session).await;
            working += usize::from(s["runtime"]["working"] == true);
            saw_queued |= s["runtime"]["queuedBehind"].is_u64();
            finished += usize::from(
                s["queue"].as_array().unwrap().is_empty()
                    && s["runtime"]["working"] == false
                    && s["runtime"]["phase"] == "idle"
                    && s["status"] == "RUNNING",
            );
        }
        most = most.max(working);
        assert!(working <= 3, "{working} turns ran at once");
        if finished == sessions.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(most, 3, "the slots were used");
    assert!(saw_queued, "waiting sessions said how many were ahead");
    // The agents' own clocks agree: never more than three prompts between start and end.
    let mut edges: Vec<(u64, i32)> = agent
        .events()
        .iter()
        .filter_map(|e| match e["event"].as_str()? {
            "session/prompt" => Some((e["at"].as_u64()?, 1)),
            "turn/end" => Some((e["at"].as_u64()?, -1)),
            _ => None,
        })
        .collect();
    edges.sort();
    let mut running = 0;
    for (_, step) in edges {
        running += step;
        assert!(running <= 3, "the agents saw {running} turns at once");
    }
}

#[tokio::test]
async fn a_workspace_created_with_an_initial_prompt_starts_its_agent_by_itself() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [{"steps": [{"text": "on it"}]}]}));
    agent.install(&app).await;
    let project = app.add_project(&repo.path).await;
    let workspace = app
        .create_workspace(
            &project,
            json!({"source": "MANUAL", "name": "Auto", "initialPrompt": "Fix the login form", "agent": "scripted"}),
        )
        .await;
    app.wait_for_status(&workspace, "READY").await;
    let prompts = agent.wait_for("session/prompt", 1).await;
    assert_eq!(prompts[0]["text"], "Fix the login form");
    let (_, sessions) = app
        .get(&format!("/api/workspaces/{workspace}/sessions"))
        .await;
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["agent"], "scripted");
    let id = sessions[0]["id"].as_str().unwrap();
    app.wait_item(id, "the reply", |i| i["text"] == "on it")
        .await;
    reason_becomes(&app, &workspace, StatusReasonCode::ReadyForNextPrompt).await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_error_format_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [{"permission": {"toolCall": {"toolCallId": "t", "title": "Run", "kind": "execute"}}}]},
    ]}));
    let (workspace, session) = session_with(&app, &agent, &repo).await;
    let (_, other) = app
        .post(&format!("/api/workspaces/{workspace}/sessions"), json!({}))
        .await;
    let other = other["id"].as_str().unwrap().to_owned();
    let project = app.get("/api/projects").await.1[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let long = "x".repeat(100_001);
    let cases: Vec<(Method, String, Value, StatusCode, &str)> = vec![
        (
            Method::POST,
            format!("/api/workspaces/{workspace}/sessions"),
            json!({"agent": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a configured agent",
        ),
        (
            Method::POST,
            format!("/api/workspaces/{workspace}/sessions"),
            json!({"agnt": "x"}),
            StatusCode::BAD_REQUEST,
            "unknown field",
        ),
        (
            Method::POST,
            format!("/api/sessions/{session}/messages"),
            json!({"text": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "must not be empty",
        ),
        (
            Method::POST,
            format!("/api/sessions/{session}/messages"),
            json!({"text": long}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "100001 characters",
        ),
        (
            Method::POST,
            format!("/api/sessions/{session}/messages"),
            json!({"txt": "hi"}),
            StatusCode::BAD_REQUEST,
            "unknown field",
        ),
        (
            Method::POST,
            format!("/api/sessions/{session}/permission"),
            json!({"requestId": "stale", "optionId": "allow"}),
            StatusCode::CONFLICT,
            "not open in this session",
        ),
        (
            Method::DELETE,
            format!("/api/sessions/{other}/messages/not-a-message"),
            Value::Null,
            StatusCode::NOT_FOUND,
            "not queued in this session",
        ),
        (
            Method::GET,
            "/api/sessions/no-such-session".to_owned(),
            Value::Null,
            StatusCode::NOT_FOUND,
            "no session with id no-such-session",
        ),
        (
            Method::PUT,
            format!("/api/sessions/{session}/config"),
            json!({"model": "gpt-9"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "is not one the agent offers",
        ),
        (
            Method::PATCH,
            "/api/settings".to_owned(),
            json!({"agentServers": {"x": {"command": ""}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "must not be empty",
        ),
        (
            Method::PATCH,
            "/api/settings".to_owned(),
            json!({"agentServers": {"x": {"command": "bin/x"}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "absolute path or a bare program name",
        ),
        (
            Method::PATCH,
            "/api/settings".to_owned(),
            json!({"defaultAgnt": "x"}),
            StatusCode::BAD_REQUEST,
            "unknown field",
        ),
        (
            Method::PATCH,
            "/api/settings".to_owned(),
            json!({"defaultAgent": "missing"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a configured agent",
        ),
        (
            Method::POST,
            format!("/api/projects/{project}/workspaces"),
            json!({"source": "MANUAL", "name": "x", "agent": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a configured agent",
        ),
        (
            Method::POST,
            format!("/api/projects/{project}/workspaces"),
            json!({"source": "MANUAL", "name": "x", "initialPrompt": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "must not be empty",
        ),
    ];
    let settings_before = app.get("/api/settings").await.1;
    for (method, path, body, status, mention) in cases {
        let body = (!body.is_null()).then_some(body);
        let (actual, answer) = app.send(method.clone(), &path, body).await;
        assert_eq!(actual, status, "{method} {path}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(mention),
            "{method} {path}: {message:?} lacks {mention:?}"
        );
    }
    assert_eq!(
        app.get("/api/settings").await.1,
        settings_before,
        "settings unchanged"
    );
    assert_eq!(
        app.get(&format!("/api/projects/{project}/workspaces"))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // An open request answered through another session, or with an unknown option.
    say(&app, &session, "run").await;
    let open = app
        .wait_session(&session, "asking", |s| !s["pendingRequest"].is_null())
        .await;
    let request_id = open["pendingRequest"]["requestId"].clone();
    let (status, body) = app
        .post(
            &format!("/api/sessions/{other}/permission"),
            json!({"requestId": request_id, "optionId": "allow"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/sessions/{session}/permission"),
            json!({"requestId": request_id, "optionId": "maybe"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("allow, allow_always, reject"));
    assert!(
        !app.session(&session).await["pendingRequest"].is_null(),
        "still open"
    );

    // The limit of active sessions per workspace.
    for _ in 0..3 {
        let (status, _) = app
            .post(&format!("/api/workspaces/{workspace}/sessions"), json!({}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, body) = app
        .post(&format!("/api/workspaces/{workspace}/sessions"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn agents_are_listed_with_their_install_state() {
    let app = TestApp::spawn().await;
    let agent = ScriptedAgent::new(json!({"turns": []}));
    agent.install(&app).await;
    let (status, agents) = app.get("/api/agents").await;
    assert_eq!(status, StatusCode::OK);
    let by_name = |name: &str| {
        agents
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap()
    };
    let scripted = by_name("scripted");
    assert_eq!(scripted["installed"], true);
    assert_eq!(scripted["builtIn"], false);
    let claude = by_name("claude");
    assert_eq!(claude["builtIn"], true);
    assert_eq!(claude["installHint"], "ff agents install claude");
}

/// The session socket: a baseline, then every item and text chunk as it happens; a client that
/// reconnects with `since` gets exactly what it missed; either way it ends up with the transcript.
#[tokio::test]
async fn the_session_socket_streams_and_resumes_without_loss() {
    use common::socket::Client;
    use ff_core::chat::{ChatApplied, ChatCache, ChatFrame};
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": [
        {"steps": [{"flood": {"count": 300, "text": "a{n} "}}, {"toolCall": {"toolCallId": "t", "title": "ls", "kind": "execute", "status": "completed"}}]},
        {"steps": [{"flood": {"count": 300, "text": "b{n} "}}]},
    ]}));
    let (_, session) = session_with(&app, &agent, &repo).await;
    let url = |query: &str| {
        format!(
            "{}/ws/sessions/{session}{query}",
            app.url.replacen("http", "ws", 1)
        )
    };
    let mut cache = ChatCache::new(ff_core::ids::SessionId::new(&session));
    let mut client = Client::connect(&url("")).await;
    let baseline: ChatFrame = client.next().await;
    assert!(matches!(baseline, ChatFrame::Items { .. }), "{baseline:?}");
    assert_eq!(cache.apply(baseline), ChatApplied::Baseline);

    say(&app, &session, "first").await;
    let transcript_of =
        |cache: &ChatCache| serde_json::to_value(cache.items().collect::<Vec<_>>()).unwrap();
    while cache
        .items()
        .filter(|i| matches!(i.body, ff_core::transcript::ItemBody::Stop { .. }))
        .count()
        < 1
    {
        let frame: ChatFrame = client.next().await;
        assert_eq!(cache.apply(frame), ChatApplied::Changed);
    }
    assert_eq!(
        transcript_of(&cache),
        json!(app.wait_turns(&session, 1).await)
    );
    client.close().await;

    // Away while the second turn streams; back with the cursor.
    say(&app, &session, "second").await;
    app.wait_turns(&session, 2).await;
    let cursor = cache.cursor().unwrap().clone();
    let mut resumed = Client::connect(&url(&format!("?since={cursor}"))).await;
    while cache
        .items()
        .filter(|i| matches!(i.body, ff_core::transcript::ItemBody::Stop { .. }))
        .count()
        < 2
    {
        let frame: ChatFrame = resumed.next().await;
        assert!(
            !matches!(frame, ChatFrame::Items { .. }),
            "a resume replays, it does not restart"
        );
        assert_eq!(
            cache.apply(frame),
            ChatApplied::Changed,
            "nothing missing or repeated"
        );
    }
    assert_eq!(transcript_of(&cache), json!(app.items(&session).await));

    // A foreign page cannot read it, and an unknown session is a clear 404.
    let foreign = app
        .client
        .get(app.at(&format!("/ws/sessions/{session}")))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let (status, body) = app.get("/ws/sessions/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn the_agent_is_the_requests_then_the_workspaces_then_the_projects_then_the_users() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let agent = ScriptedAgent::new(json!({"turns": []}));
    agent.install(&app).await;
    let (status, body) = app
        .send(
            Method::PATCH,
            "/api/settings",
            Some(json!({"agentServers": {"other": agent.server()}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let project = app.add_project(&repo.path).await;
    let project_path = format!("/api/projects/{project}");
    let set_project = |agent: Value| {
        app.send(
            Method::PATCH,
            &project_path,
            Some(json!({ "defaultAgent": agent })),
        )
    };
    let (status, body) = set_project(json!("nobody")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_FAILED", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("defaultAgent"));
    let (status, body) = set_project(json!("other")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["defaultAgent"], "other");

    let workspace = app.create_workspace(&project, manual("Agents")).await;
    app.wait_for_status(&workspace, "READY").await;
    let sessions = format!("/api/workspaces/{workspace}/sessions");
    let open = |request: Value| app.post(&sessions, request);
    let (_, session) = open(json!({})).await;
    assert_eq!(session["agent"], "other", "the project's: {session}");
    let (_, session) = open(json!({"agent": "scripted"})).await;
    assert_eq!(session["agent"], "scripted", "the request's: {session}");
    let (status, body) = set_project(Value::Null).await;
    assert_eq!(
        (status, &body["defaultAgent"]),
        (StatusCode::OK, &Value::Null)
    );
    let (_, session) = open(json!({})).await;
    assert_eq!(session["agent"], "scripted", "the user's: {session}");

    let chosen = app
        .create_workspace(
            &project,
            json!({"source": "MANUAL", "name": "Chosen", "agent": "other"}),
        )
        .await;
    app.wait_for_status(&chosen, "READY").await;
    let (_, session) = app
        .post(&format!("/api/workspaces/{chosen}/sessions"), json!({}))
        .await;
    assert_eq!(session["agent"], "other", "the workspace's: {session}");
}
