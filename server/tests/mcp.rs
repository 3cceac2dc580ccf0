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
    let app = TestApp::spawn_with_flags(&["--max-children-per-session", "1"], |_| {}).await;
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
        assert!(why.contains("--max-children-per-session"), "{why}");
    }
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
