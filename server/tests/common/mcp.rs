//! ff's MCP server as its agents see it, driven with the official SDK's client (`rmcp`): the
//! credential an agent was given in `session/new`, a connection with it, and a child workspace
//! created through it.

use super::agent::ScriptedAgent;
use super::TestApp;
use reqwest::StatusCode;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};
use std::time::Duration;

pub type Client = RunningService<RoleClient, ()>;

/// The credential ff gave the agent in a `session/new` it logged, over HTTP or stdio.
pub fn credential_of(session_new: &Value) -> String {
    let server = &session_new["mcpServers"][0];
    assert_eq!(server["name"], "ff", "{session_new}");
    if let Some(headers) = server["headers"].as_array() {
        let value = headers[0]["value"].as_str().unwrap();
        return value.strip_prefix("Bearer ").unwrap().to_owned();
    }
    let env = server["env"].as_array().expect("http headers or stdio env");
    env.iter()
        .find(|v| v["name"] == "FF_MCP_CREDENTIAL")
        .and_then(|v| v["value"].as_str())
        .unwrap()
        .to_owned()
}

pub async fn connect(app: &TestApp, credential: &str) -> Client {
    let config =
        StreamableHttpClientTransportConfig::with_uri(app.at("/mcp")).auth_header(credential);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("an MCP session")
}

pub async fn call(client: &Client, tool: &'static str, arguments: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(tool)
        .with_arguments(arguments.as_object().expect("an object").clone());
    tokio::time::timeout(Duration::from_secs(20), client.call_tool(params))
        .await
        .expect("the tool answers in time")
        .expect("a tool result")
}

/// A parent workspace's first session, and a child its agent creates through ff's MCP server.
pub struct Family {
    pub parent_session: String,
    pub child: String,
    pub client: Client,
}

/// Starts a session in `workspace` (the agent's `sessions_before`+1-th `session/new`): its id,
/// and an MCP client with the credential ff gave it.
pub async fn start_session(
    app: &TestApp,
    agent: &ScriptedAgent,
    workspace: &str,
    sessions_before: usize,
) -> (String, Client) {
    let (status, body) = app
        .post(
            &format!("/api/workspaces/{workspace}/sessions"),
            json!({"prompt": "Split the work"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let session = body["id"].as_str().unwrap().to_owned();
    let started = agent.wait_for("session/new", sessions_before + 1).await;
    let client = connect(app, &credential_of(&started[sessions_before])).await;
    (session, client)
}

/// Starts a session in `parent` (the agent's `sessions_before`+1-th) and creates a child named
/// `name` from it.
pub async fn create_child(
    app: &TestApp,
    agent: &ScriptedAgent,
    parent: &str,
    sessions_before: usize,
    name: &str,
) -> Family {
    let (parent_session, client) = start_session(app, agent, parent, sessions_before).await;
    let created = call(
        &client,
        "create_workspace",
        json!({"name": name, "prompt": "Do the child part"}),
    )
    .await;
    assert_eq!(created.is_error, Some(false), "{created:?}");
    let child = created.structured_content.expect("structured output")["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Family {
        parent_session,
        child,
        client,
    }
}
