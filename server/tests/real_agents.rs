//! ff driving the real adapters a user installs (`claude-agent-acp`, `codex-acp` from npm) through
//! its own session path, against the fake model APIs of `common::fake_models` on loopback.

mod common;

use common::fake_models::{
    claude_command, claude_env, codex_command, codex_env, AdapterCommand, AgentEnv, Api,
    CodexApproval, FakeModels, Reply,
};
use common::repo::TestRepo;
use common::TestApp;
use ff_core::enums::StatusReasonCode;
use ff_core::ids::WorkspaceId;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Configures `command` with `env` as the default agent `name`; returns a READY workspace.
async fn workspace_with_agent(
    app: &TestApp,
    name: &str,
    command: AdapterCommand,
    env: &AgentEnv,
) -> (String, PathBuf, TestRepo) {
    let server = json!({
        "command": command.program,
        "args": command.args,
        "env": env.vars.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
    });
    let (status, body) = app
        .send(
            Method::PATCH,
            "/api/settings",
            Some(json!({"agentServers": {name: server}, "defaultAgent": name})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let repo = TestRepo::new();
    let (_, workspace) = app
        .ready_workspace(&repo, json!({"source": "MANUAL", "name": "Real agent"}))
        .await;
    let tree = PathBuf::from(
        app.workspace(&workspace).await["worktreePath"]
            .as_str()
            .unwrap(),
    );
    (workspace, tree, repo)
}

async fn new_session(app: &TestApp, workspace: &str) -> String {
    let (status, session) = app
        .post(&format!("/api/workspaces/{workspace}/sessions"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session["id"].as_str().unwrap().to_owned()
}

async fn say(app: &TestApp, session: &str, text: &str) {
    let (status, body) = app
        .post(
            &format!("/api/sessions/{session}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

async fn answer(app: &TestApp, session: &str, kind: &str) -> Value {
    let waiting = app
        .wait_session(session, "asking for permission", |s| {
            !s["pendingRequest"].is_null()
        })
        .await;
    let request = waiting["pendingRequest"].clone();
    let option = request["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} option: {request}"))
        .clone();
    let (status, body) = app
        .post(
            &format!("/api/sessions/{session}/permission"),
            json!({"requestId": request["requestId"], "optionId": option["optionId"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    request
}

fn reason(app: &TestApp, workspace: &str) -> StatusReasonCode {
    app.snapshot
        .store
        .get(&WorkspaceId::new(workspace))
        .unwrap()
        .derived
        .status_reason
        .code
}

#[tokio::test]
async fn claude_answers_writes_with_permission_and_rejections_through_ff() {
    let app = TestApp::spawn().await;
    let fake = FakeModels::start().await;
    let env = claude_env(&fake);
    let (workspace, tree, _repo) =
        workspace_with_agent(&app, "claude", claude_command(), &env).await;
    let session = new_session(&app, &workspace).await;

    fake.script(
        Api::Anthropic,
        [Reply::streamed(
            ["Hello", " from", " Claude"],
            Duration::from_millis(20),
        )],
    );
    say(&app, &session, "Say hello").await;
    let items = app.wait_turns(&session, 1).await;
    let text: String = items
        .iter()
        .filter(|i| i["kind"] == "agent")
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello from Claude");
    assert_eq!(items.last().unwrap()["reason"], "end_turn");
    let usage = &app.session(&session).await["usage"];
    assert_eq!(usage["size"], 200_000, "{usage}");

    fake.script(
        Api::Anthropic,
        [
            Reply::write(&tree.join("hello.txt"), "written by claude\n"),
            Reply::text("Done."),
        ],
    );
    say(&app, &session, "Write hello.txt").await;
    let request = answer(&app, &session, "allow_once").await;
    assert_eq!(request["type"], "permission_request");
    let items = app.wait_turns(&session, 2).await;
    assert_eq!(
        std::fs::read_to_string(tree.join("hello.txt")).unwrap(),
        "written by claude\n"
    );
    let tool = items.iter().rev().find(|i| i["kind"] == "tool").unwrap();
    assert_eq!(
        (&tool["toolKind"], &tool["status"]),
        (&json!("edit"), &json!("completed")),
        "{tool}"
    );
    let permission = items
        .iter()
        .rev()
        .find(|i| i["kind"] == "permission")
        .unwrap();
    assert_eq!(permission["decidedBy"], "person");

    fake.script(
        Api::Anthropic,
        [
            Reply::write(&tree.join("nope.txt"), "no\n"),
            Reply::text("Understood, I will not."),
        ],
    );
    say(&app, &session, "Write nope.txt").await;
    answer(&app, &session, "reject_once").await;
    let items = app.wait_turns(&session, 3).await;
    assert!(!tree.join("nope.txt").exists());
    let tool = items.iter().rev().find(|i| i["kind"] == "tool").unwrap();
    assert_eq!(tool["status"], "failed", "{tool}");
    assert!(items.iter().any(|i| i["text"] == "Understood, I will not."));
    common::eventually("ready for the next prompt", || {
        reason(&app, &workspace) == StatusReasonCode::ReadyForNextPrompt
    })
    .await;
}

#[tokio::test]
async fn a_cancel_while_claude_asks_and_a_model_api_error_become_visible_states() {
    let app = TestApp::spawn().await;
    let fake = FakeModels::start().await;
    let env = claude_env(&fake);
    let (workspace, tree, _repo) =
        workspace_with_agent(&app, "claude", claude_command(), &env).await;
    let session = new_session(&app, &workspace).await;

    fake.script(Api::Anthropic, [Reply::write(&tree.join("x.txt"), "x")]);
    say(&app, &session, "Write x").await;
    app.wait_session(&session, "asking", |s| !s["pendingRequest"].is_null())
        .await;
    common::eventually("needs permission", || {
        reason(&app, &workspace) == StatusReasonCode::NeedsPermission
    })
    .await;
    let (status, _) = app
        .post(&format!("/api/sessions/{session}/cancel"), json!(null))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let items = app.wait_turns(&session, 1).await;
    assert_eq!(items.last().unwrap()["reason"], "cancelled");
    let tool = items.iter().find(|i| i["kind"] == "tool").unwrap();
    assert_eq!(
        tool["status"], "cancelled",
        "ff closed what the agent left open: {tool}"
    );
    let permission = items.iter().find(|i| i["kind"] == "permission").unwrap();
    assert_eq!(permission["decidedBy"], "cancelled");
    assert!(app.session(&session).await["pendingRequest"].is_null());

    // A fresh session: after a cancel Claude Code settles its interrupted turn on its own.
    let session = new_session(&app, &workspace).await;
    // Claude Code retries once (CLAUDE_CODE_MAX_RETRIES=1), then reports the last answer.
    fake.script(
        Api::Anthropic,
        [
            Reply::server_error("the model is on fire"),
            Reply::server_error("the model is on fire"),
        ],
    );
    say(&app, &session, "Try again").await;
    let error = app
        .wait_item(&session, "the error", |i| i["kind"] == "error")
        .await;
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("500") && message.contains("the model is on fire"),
        "{message}"
    );
    common::eventually("a session error on the board", || {
        reason(&app, &workspace) == StatusReasonCode::SessionError
    })
    .await;
}

#[tokio::test]
async fn codex_answers_a_text_turn_and_asks_before_its_tool_call_with_a_string_id() {
    let app = TestApp::spawn().await;
    let fake = FakeModels::start().await;
    let env = codex_env(&fake, CodexApproval::OnRequest);
    let (workspace, tree, _repo) = workspace_with_agent(&app, "codex", codex_command(), &env).await;
    let session = new_session(&app, &workspace).await;

    fake.script(Api::OpenAi, [Reply::text("Hi from Codex")]);
    say(&app, &session, "Say hi").await;
    let items = app.wait_turns(&session, 1).await;
    assert!(
        items.iter().any(|i| i["text"] == "Hi from Codex"),
        "{items:#?}"
    );

    fake.script(
        Api::OpenAi,
        [
            Reply::escalated_exec_command("touch made-by-codex", "to show the permission round"),
            Reply::text("Made it."),
        ],
    );
    say(&app, &session, "Make a file").await;
    let request = answer(&app, &session, "allow_once").await;
    let id = request["requestId"].as_str().unwrap();
    assert_eq!(id.len(), 36, "codex-acp sends string (UUID) ids: {id}");
    let items = app.wait_turns(&session, 2).await;
    let turn: Vec<&Value> = items
        .iter()
        .skip_while(|i| i["text"] != "Make a file")
        .collect();
    let first_permission = turn.iter().position(|i| i["kind"] == "permission").unwrap();
    let first_tool = turn.iter().position(|i| i["kind"] == "tool").unwrap();
    assert!(
        first_tool < first_permission,
        "the tool call is known from the request itself"
    );
    assert!(tree.join("made-by-codex").exists());
    assert!(items.iter().any(|i| i["text"] == "Made it."));
}

/// Issue 19 §1 with the real adapter: claude-agent-acp is offered ff's MCP server in
/// `session/new` (over HTTP, with its session's own credential), Claude Code declares ff's tools
/// to the model as `mcp__ff__…`, the fake model calls `create_workspace`, Claude Code asks before
/// an MCP tool runs and the person allows it through ff, and the child appears on the board as a
/// child of the caller's workspace.
#[tokio::test]
async fn claude_creates_a_child_workspace_through_ffs_mcp_server() {
    let app = TestApp::spawn().await;
    let fake = FakeModels::start().await;
    let env = claude_env(&fake);
    let (parent, _tree, _repo) = workspace_with_agent(&app, "claude", claude_command(), &env).await;
    let project = app.workspace(&parent).await["projectId"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = new_session(&app, &parent).await;

    fake.script(
        Api::Anthropic,
        [
            Reply::tool(
                "mcp__ff__create_workspace",
                json!({"name": "Docs part", "prompt": "Write the docs"}),
            ),
            // The parent's answer once the tool returned, and the child's first turn (with the
            // real adapter too), in whichever order they come.
            Reply::text("Done."),
            Reply::text("Done."),
        ],
    );
    say(&app, &session, "Split off the docs").await;
    let request = answer(&app, &session, "allow_once").await;
    assert!(
        request.to_string().contains("create_workspace"),
        "the permission asked is for ff's tool: {request}"
    );
    let items = app.wait_turns(&session, 1).await;
    let offered = fake.model_requests(Api::Anthropic)[0]
        .tool_names()
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert!(
        offered.iter().any(|t| t == "mcp__ff__create_workspace"),
        "Claude Code declared ff's MCP tools to the model: {offered:?}"
    );
    let tool = items
        .iter()
        .find(|i| i["kind"] == "tool")
        .unwrap_or_else(|| panic!("a tool item: {items:#?}"));
    assert_eq!(tool["status"], "completed", "{tool}");

    let children = app.workspace(&parent).await["children"].clone();
    let [child] = children.as_array().unwrap().as_slice() else {
        panic!("one child expected: {children}")
    };
    assert_eq!(child["name"], "Docs part");
    let child = child["id"].as_str().unwrap().to_owned();
    assert_eq!(app.workspace(&child).await["parent"]["id"], parent.as_str());
    let entry = app
        .wait_entry(&project, &child, "on the board", |e| !e.is_null())
        .await;
    assert_eq!(entry["workspaceId"], child.as_str());
    // What the tool answered went back to the model: the child's id, made by ff.
    let answered = fake
        .wait_for_model_requests(Api::Anthropic, 2)
        .await
        .iter()
        .any(|r| {
            r.body["messages"].to_string().contains("tool_result")
                && r.body["messages"].to_string().contains(&child)
        });
    assert!(answered, "the tool's result names the child");
}
