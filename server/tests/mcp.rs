//! ff as an MCP server for its own agents (issue 19 §1), driven with the official SDK's client
//! (`rmcp`) over Streamable HTTP: each agent session is offered `/mcp` with a credential of its
//! own in `session/new`, lists the tools, creates a child workspace, and parent and child
//! message each other; the credential works only in its own project, as its own workspace, on
//! `/mcp` only, and while its agent runs. `ff mcp-bridge` carries the same over stdio.

mod common;

use common::agent::ScriptedAgent;
use common::mcp::{call, connect, credential_of, Client};
use common::repo::TestRepo;
use common::{TestApp, TOKEN};
use ff_core::ids::{SessionId, WorkspaceId};
use ff_server::events::DomainEvent;
use reqwest::StatusCode;
use rmcp::model::CallToolRequestParams;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn manual(name: &str) -> Value {
    json!({"source": "MANUAL", "name": name})
}

/// A successful call's structured output (its text rendering is checked to be there).
async fn ok(client: &Client, tool: &'static str, arguments: Value) -> Value {
    let result = call(client, tool, arguments).await;
    assert_eq!(result.is_error, Some(false), "{tool}: {result:?}");
    assert!(
        !result.content.is_empty(),
        "{tool} renders its answer as text"
    );
    result.structured_content.expect("structured output")
}

/// A refused call's text.
async fn refused(client: &Client, tool: &'static str, arguments: Value) -> String {
    let result = call(client, tool, arguments).await;
    assert_eq!(result.is_error, Some(true), "{tool}: {result:?}");
    serde_json::to_string(&result.content).unwrap()
}

/// Waits for the agent to be prompted with text containing `needle`.
async fn prompted_with(agent: &ScriptedAgent, needle: &str) -> Value {
    for _ in 0..200 {
        if let Some(prompt) = agent
            .events_named("session/prompt")
            .into_iter()
            .find(|e| e["text"].as_str().unwrap_or("").contains(needle))
        {
            return prompt;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no prompt with {needle:?}: {:#?}",
        agent.events_named("session/prompt")
    );
}

#[tokio::test]
async fn an_agent_creates_a_child_and_they_message_each_other_within_their_project() {
    let app = TestApp::spawn().await;
    let agent = ScriptedAgent::new(json!({"mcpHttp": true}));
    agent.install(&app).await;
    let repo = TestRepo::new();
    let (project, parent) = app.ready_workspace(&repo, manual("Parent")).await;
    let (status, body) = app
        .post(
            &format!("/api/workspaces/{parent}/sessions"),
            json!({"prompt": "Split the work"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let parent_session = body["id"].as_str().unwrap().to_owned();
    let first = agent.wait_for("session/new", 1).await;
    let server = &first[0]["mcpServers"][0];
    assert_eq!(
        server["type"], "http",
        "the agent said it speaks MCP over HTTP"
    );
    assert_eq!(server["url"], app.at("/mcp"));
    let credential = credential_of(&first[0]);
    assert!(!credential.contains(TOKEN), "never the user's token");
    let client = connect(&app, &credential).await;

    // The tools, each with a strict input schema and a declared output.
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "archive_workspace",
            "create_pull_request",
            "create_workspace",
            "get_pull_request",
            "get_workspace",
            "list_workspaces",
            "send_message",
        ]
    );
    for tool in &tools {
        assert_eq!(
            tool.input_schema.get("additionalProperties"),
            Some(&json!(false)),
            "{}",
            tool.name
        );
        assert!(tool.output_schema.is_some(), "{}", tool.name);
    }
    let bad = refused_or_error(
        &client,
        json!({"name": "x", "prompt": "y", "colour": "red"}),
    )
    .await;
    assert!(bad.contains("colour"), "{bad}");

    // A child, which starts with its prompt and has a credential of its own.
    let created = ok(
        &client,
        "create_workspace",
        json!({"name": "Child part", "prompt": "Do the child part"}),
    )
    .await;
    let child = created["workspace"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["workspace"]["relation"], "child");
    assert_eq!(created["workspace"]["parentId"], parent.as_str());
    app.wait_for_status(&child, "READY").await;
    // Its page links its parent, and the parent's page lists it.
    assert_eq!(app.workspace(&child).await["parent"]["id"], parent.as_str());
    let listed_children = &app.workspace(&parent).await["children"];
    assert_eq!(
        listed_children[0]["name"], "Child part",
        "{listed_children}"
    );
    prompted_with(&agent, "Do the child part").await;
    let sessions = agent.wait_for("session/new", 2).await;
    let child_credential = credential_of(&sessions[1]);
    assert_ne!(child_credential, credential);
    let child_client = connect(&app, &child_credential).await;

    let listed = ok(&child_client, "list_workspaces", json!({})).await;
    let relation = |id: &str| {
        listed["workspaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == id)
            .map(|w| w["relation"].clone())
    };
    assert_eq!(relation(&parent), Some(json!("parent")));
    assert_eq!(relation(&child), Some(json!("self")));
    let seen = ok(&client, "get_workspace", json!({"workspaceId": child})).await;
    assert_eq!(seen["workspace"]["name"], "Child part");
    let children = ok(&client, "get_workspace", json!({"workspaceId": parent})).await;
    assert_eq!(children["children"][0]["id"], child.as_str());

    // Messages both ways, each queued in the other's session as another agent's words.
    let sent = ok(
        &client,
        "send_message",
        json!({"workspaceId": child, "text": "Parent says: use the new API"}),
    )
    .await;
    assert_eq!(sent["to"], "child");
    let prompt = prompted_with(&agent, "Parent says: use the new API").await;
    assert!(
        prompt["text"].as_str().unwrap().contains("```text"),
        "{prompt}"
    );
    let sent = ok(
        &child_client,
        "send_message",
        json!({"workspaceId": parent, "text": "Child says: done"}),
    )
    .await;
    assert_eq!(sent["to"], "parent");
    assert_eq!(sent["sessionId"], parent_session.as_str());
    prompted_with(&agent, "Child says: done").await;
    // The parent heard when the child's turn ended.
    prompted_with(&agent, "your child workspace \"Child part\"").await;

    // Only within its project, and as its own workspace.
    let other_repo = TestRepo::new();
    let other_project = app.add_project(&other_repo.path).await;
    let elsewhere = app
        .create_workspace(&other_project, manual("Elsewhere"))
        .await;
    assert_ne!(other_project, project);
    let why = refused(&client, "get_workspace", json!({"workspaceId": elsewhere})).await;
    assert!(why.contains("no workspace with id"), "{why}");
    refused(
        &client,
        "send_message",
        json!({"workspaceId": elsewhere, "text": "hi"}),
    )
    .await;
    let why = refused(
        &child_client,
        "archive_workspace",
        json!({"workspaceId": parent}),
    )
    .await;
    assert!(why.contains("children"), "{why}");
    refused(
        &child_client,
        "archive_workspace",
        json!({"workspaceId": child}),
    )
    .await;

    // /mcp takes no user token, no credential, nor a forged one; the token's routes take no
    // credential.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    let anonymous = reqwest::Client::new();
    for bearer in [None, Some(TOKEN.to_owned()), Some(format!("{credential}x"))] {
        let mut request = anonymous
            .post(app.at("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(bearer) = &bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bearer:?}");
    }
    let response = anonymous
        .get(app.at("/api/projects"))
        .bearer_auth(&credential)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The parent archives its child through the normal archive.
    let archived = ok(&client, "archive_workspace", json!({"workspaceId": child})).await;
    assert_eq!(archived["archiving"], true);
    app.wait_for_status(&child, "ARCHIVED").await;

    // A stopped session's credential is revoked.
    let (status, body) = app
        .command(&format!("/api/sessions/{parent_session}/stop"))
        .await;
    assert!(status.is_success(), "{body}");
    for _ in 0..100 {
        let response = anonymous
            .post(app.at("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .bearer_auth(&credential)
            .json(&init)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::UNAUTHORIZED {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the stopped session's credential still works");
}

/// Unknown input fields are refused by the strict schema, naming the field (as a protocol
/// error or a tool error, whichever the SDK gives).
async fn refused_or_error(client: &Client, arguments: Value) -> String {
    let params = CallToolRequestParams::new("create_workspace")
        .with_arguments(arguments.as_object().unwrap().clone());
    match client.call_tool(params).await {
        Ok(result) => {
            assert_eq!(result.is_error, Some(true), "{result:?}");
            serde_json::to_string(&result.content).unwrap()
        }
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn agents_without_mcp_over_http_get_the_stdio_bridge() {
    let app = TestApp::spawn().await;
    let agent = ScriptedAgent::new(json!({}));
    agent.install(&app).await;
    let repo = TestRepo::new();
    let (_, workspace) = app.ready_workspace(&repo, manual("Bridged")).await;
    let (status, body) = app
        .post(
            &format!("/api/workspaces/{workspace}/sessions"),
            json!({"prompt": "Hello"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let first = agent.wait_for("session/new", 1).await;
    let server = &first[0]["mcpServers"][0];
    assert_eq!(server["command"], env!("CARGO_BIN_EXE_ff"), "{server}");
    assert_eq!(server["args"], json!(["mcp-bridge"]));
    let env: Vec<(String, String)> = server["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_owned(),
                v["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The agent would start it so; the test speaks its stdio as the agent would.
    let mut bridge = tokio::process::Command::new(env!("CARGO_BIN_EXE_ff"))
        .arg("mcp-bridge")
        .envs(env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = bridge.stdin.take().unwrap();
    let mut stdout = BufReader::new(bridge.stdout.take().unwrap()).lines();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "agent", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "list_workspaces", "arguments": {}}}),
    ];
    let mut answers = Vec::new();
    for message in messages {
        stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
        if message.get("id").is_some() {
            let line = tokio::time::timeout(Duration::from_secs(20), stdout.next_line())
                .await
                .expect("the bridge answers in time")
                .unwrap()
                .expect("a line");
            answers.push(serde_json::from_str::<Value>(&line).unwrap());
        }
    }
    assert_eq!(answers[0]["id"], 1, "{answers:?}");
    assert!(
        answers[0]["result"]["serverInfo"].is_object(),
        "{answers:?}"
    );
    let listed = &answers[1]["result"]["structuredContent"]["workspaces"];
    assert_eq!(listed[0]["id"], workspace.as_str(), "{answers:?}");
    assert_eq!(listed[0]["relation"], "self");
    drop(stdin);
    let ended = tokio::time::timeout(Duration::from_secs(10), bridge.wait())
        .await
        .expect("the bridge ends with its stdin");
    assert!(ended.unwrap().success());
}

#[tokio::test]
async fn children_nest_two_deep_and_a_session_creates_at_most_its_allowance() {
    let app = TestApp::spawn().await;
    // The allowance is a setting (default 5), checked whole: out of range is refused by name.
    let (status, body) = app.get("/api/settings").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["maxChildrenPerSession"], 5);
    for bad in [json!(51), json!(-1)] {
        let (status, body) = app
            .send(
                reqwest::Method::PATCH,
                "/api/settings",
                Some(json!({ "maxChildrenPerSession": bad })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(body.to_string().contains("maxChildrenPerSession"), "{body}");
    }
    set_allowance(&app, 1).await;
    let agent = ScriptedAgent::new(json!({"mcpHttp": true}));
    agent.install(&app).await;
    let repo = TestRepo::new();
    let (_, top) = app.ready_workspace(&repo, manual("Top")).await;
    let (status, body) = app
        .post(
            &format!("/api/workspaces/{top}/sessions"),
            json!({"prompt": "Plan"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut credentials = vec![credential_of(&agent.wait_for("session/new", 1).await[0])];
    let mut ids = vec![top];
    // Top creates a child, the child a grandchild; each starts a session of its own.
    for depth in 1..=2 {
        let client = connect(&app, &credentials[depth - 1]).await;
        let name = format!("Depth {depth}");
        let created = ok(
            &client,
            "create_workspace",
            json!({"name": name, "prompt": format!("Work at depth {depth}")}),
        )
        .await;
        let id = created["workspace"]["id"].as_str().unwrap().to_owned();
        app.wait_for_status(&id, "READY").await;
        let sessions = agent.wait_for("session/new", depth + 1).await;
        credentials.push(credential_of(&sessions[depth]));
        ids.push(id);
        let why = refused(
            &client,
            "create_workspace",
            json!({"name": "One more", "prompt": "More"}),
        )
        .await;
        assert!(why.contains("maxChildrenPerSession"), "{why}");
    }
    // A larger allowance takes effect at once, for sessions already running.
    set_allowance(&app, 2).await;
    let top = connect(&app, &credentials[0]).await;
    let created = ok(
        &top,
        "create_workspace",
        json!({"name": "Second child", "prompt": "More"}),
    )
    .await;
    assert_eq!(created["workspace"]["parentId"], ids[0].as_str());
    let deepest = connect(&app, &credentials[2]).await;
    let why = refused(
        &deepest,
        "create_workspace",
        json!({"name": "Too deep", "prompt": "No"}),
    )
    .await;
    assert!(why.contains("at most 2 deep"), "{why}");
    // A grandparent is not a parent: no message skips a generation.
    let why = refused(
        &deepest,
        "send_message",
        json!({"workspaceId": ids[0], "text": "hi"}),
    )
    .await;
    assert!(why.contains("parent and children"), "{why}");
}

/// A child's news is told to its parent once per state, across a restart of ff too: the same
/// state published again after the restart (as a resumed turn or a re-read PR would) is not
/// told again; a new state is.
#[tokio::test]
async fn a_restart_does_not_tell_the_parent_the_same_news_again() {
    let app = TestApp::spawn().await;
    let agent = ScriptedAgent::new(json!({"mcpHttp": true}));
    agent.install(&app).await;
    let repo = TestRepo::new();
    let (_, parent) = app.ready_workspace(&repo, manual("Parent")).await;
    let family = common::mcp::create_child(&app, &agent, &parent, 0, "Child part").await;
    let child = family.child.clone();
    family.client.cancel().await.unwrap();
    let finished = format!("\"Child part\" (id {child}): its agent finished a turn");
    prompted_with(&agent, &finished).await;
    let told = |what: &str| {
        agent
            .events_named("session/prompt")
            .iter()
            .filter(|e| e["text"].as_str().unwrap_or("").contains(what))
            .count()
    };
    let (status, sessions) = app.get(&format!("/api/workspaces/{child}/sessions")).await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    let child_session = sessions[0]["id"].as_str().unwrap().to_owned();

    let app = TestApp::spawn_in(app.shutdown().await).await;
    let turn = |completed| DomainEvent::SessionTurnEnded {
        workspace_id: WorkspaceId::new(child.clone()),
        session_id: SessionId::new(child_session.clone()),
        workflow: ff_core::sessions::USER_WORKFLOW.to_owned(),
        completed,
    };
    app.events.publish(turn(true));
    app.events.publish(turn(false));
    // The bus delivers in order: once the new state is told, the repeat was already passed over.
    prompted_with(&agent, &format!("(id {child}): its agent's turn failed")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(told(&finished), 1, "the same news told twice");
    app.shutdown().await;
}

async fn set_allowance(app: &TestApp, n: u32) {
    let (status, body) = app
        .send(
            reqwest::Method::PATCH,
            "/api/settings",
            Some(json!({ "maxChildrenPerSession": n })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["maxChildrenPerSession"], n);
}

/// A ready workspace named `name` whose agent session runs (the agent's `index`th
/// `session/new`), and an MCP client with that session's credential.
async fn working_workspace(
    app: &TestApp,
    agent: &ScriptedAgent,
    repo: &TestRepo,
    name: &str,
    index: usize,
) -> (String, String, Client) {
    let (project, id) = app.ready_workspace(repo, manual(name)).await;
    let (_, client) = common::mcp::start_session(app, agent, &id, index).await;
    (project, id, client)
}

/// A child created through `client`, once it is ready.
async fn ready_child(app: &TestApp, client: &Client, name: &str) -> String {
    let created = ok(
        client,
        "create_workspace",
        json!({"name": name, "prompt": format!("Do {name}")}),
    )
    .await;
    let id = created["workspace"]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&id, "READY").await;
    id
}

#[tokio::test]
async fn a_childs_snapshot_entry_names_its_parent_and_reconciliation_agrees() {
    let app = TestApp::spawn_with_flags(&["--reconcile-interval-ms", "300"], |_| {}).await;
    let agent = ScriptedAgent::new(json!({"mcpHttp": true}));
    agent.install(&app).await;
    let repo = TestRepo::new();
    let (project, parent, client) = working_workspace(&app, &agent, &repo, "Lead & <co>", 0).await;
    let child = ready_child(&app, &client, "Helper").await;
    let entry = app
        .wait_entry(&project, &child, "the child names its parent", |e| {
            e["parent"]["id"] == parent.as_str()
        })
        .await;
    assert_eq!(
        entry["parent"],
        json!({"id": parent, "name": "Lead & <co>"}),
        "the name as data, for the page to escape"
    );
    // A workspace no agent created carries no parent at all: its entry is as before.
    let top = app.entry(&project, &parent).await;
    assert!(top.is_object() && top.get("parent").is_none(), "{top}");
    // Reconciliation reads the same parent from the rows: passes go by without drift.
    let passes = app.metric("ff_reconcile_passes_total").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while app.metric("ff_reconcile_passes_total").await < passes + 2.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no reconciliation pass"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.metric("ff_snapshot_drift_total{group=\"workspace\"}")
            .await,
        0.0
    );
    assert_eq!(
        app.entry(&project, &child).await["parent"]["id"],
        parent.as_str()
    );
}

#[tokio::test]
async fn archiving_a_parent_with_live_children_asks_first_and_can_detach_them() {
    let app = TestApp::spawn().await;
    let agent = ScriptedAgent::new(json!({"mcpHttp": true}));
    agent.install(&app).await;
    let repo = TestRepo::new();
    let (project, parent, client) = working_workspace(&app, &agent, &repo, "Parent", 0).await;
    let children = [
        ready_child(&app, &client, "First").await,
        ready_child(&app, &client, "Second").await,
    ];
    let archive = format!("/api/workspaces/{parent}/archive");

    // No choice: refused, saying how many, and nothing changed.
    let (status, body) = app.command(&archive).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("2 live child workspaces"), "{message}");
    for (status, body) in [
        app.post(&archive, json!({})).await,
        app.post(&archive, json!({"children": null})).await,
    ] {
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
    let (status, body) = app.post(&archive, json!({"children": "keep"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("children"), "{body}");
    assert_eq!(app.workspace(&parent).await["status"], "READY");
    for child in &children {
        let detail = app.workspace(child).await;
        assert_eq!(detail["status"], "READY");
        assert_eq!(detail["parent"]["id"], parent.as_str());
    }

    // Detach: the parent goes, the children stay, on their own.
    let (status, body) = app.post(&archive, json!({"children": "detach"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    app.wait_for_status(&parent, "ARCHIVED").await;
    for child in &children {
        let detail = app.workspace(child).await;
        assert_eq!(detail["status"], "READY", "{detail}");
        assert!(detail["parent"].is_null(), "{detail}");
        app.wait_entry(
            &project,
            child,
            "the detached child without a parent",
            |e| e.is_object() && e.get("parent").is_none(),
        )
        .await;
    }
}

#[tokio::test]
async fn archiving_a_parent_with_its_children_archives_them_all_keeping_their_work() {
    let app = TestApp::spawn().await;
    let agent = ScriptedAgent::new(json!({"mcpHttp": true}));
    agent.install(&app).await;
    let repo = TestRepo::new();
    let (_, parent, client) = working_workspace(&app, &agent, &repo, "Parent", 0).await;
    let child = ready_child(&app, &client, "Child").await;
    // The child's own agent creates a grandchild: archiving takes the whole family.
    let sessions = agent.wait_for("session/new", 2).await;
    let child_client = connect(&app, &credential_of(&sessions[1])).await;
    let grandchild = ready_child(&app, &child_client, "Grandchild").await;
    // Work the child's agent left uncommitted is committed to its branch by the archive.
    let detail = app.workspace(&child).await;
    let worktree = detail["worktreePath"].as_str().unwrap();
    let branch = detail["branchName"].as_str().unwrap().to_owned();
    std::fs::write(std::path::Path::new(worktree).join("notes.txt"), "kept\n").unwrap();

    let (status, body) = app
        .post(
            &format!("/api/workspaces/{parent}/archive"),
            json!({"children": "archive"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    for id in [&parent, &child, &grandchild] {
        app.wait_for_status(id, "ARCHIVED").await;
    }
    let kept = common::repo::git(&repo.path, &["show", &format!("{branch}:notes.txt")]);
    assert_eq!(kept.trim(), "kept");
    // Archived children keep their parent, as history.
    assert_eq!(app.workspace(&child).await["parent"]["id"], parent.as_str());
}
