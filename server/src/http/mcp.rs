//! ff as an MCP server for its own agents (issue 19 §1): Streamable HTTP at `/mcp`, with the
//! official SDK (`rmcp`). Every request carries the calling agent's credential, which the auth
//! layer turned into a `Grantee` (one session, as its workspace) before the request got here;
//! every tool acts as that workspace and only within its project. Inputs are strict schemas
//! (unknown fields refused); outputs are structured, with a text rendering for the model.

use super::AppState;
use crate::auth::agents::Grantee;
use crate::error::{DomainError, DomainResult};
use crate::flows::child_workspaces::{Caller, Kin};
use ff_core::api::Workspace;
use ff_core::derive::status_line;
use ff_core::entry::Entry;
use ff_core::github::CreatePr;
use ff_core::ids::WorkspaceId;
use ff_core::transcript::ItemBody;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::{schema_for_output, Extension};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where the endpoint is served (the route table spells it out, for the auth test to read); the
/// auth layer admits agents' credentials here only.
pub const PATH: &str = "/mcp";
/// The newest transcript items searched for the agent's last message.
const LAST_MESSAGE_ITEMS: u32 = 50;
/// An agent's last message is cut to this in a tool's answer.
const LAST_MESSAGE_MAX_CHARS: usize = 4000;

/// The `/mcp` service: one handler per MCP session, all sharing ff's state.
pub fn service(state: AppState) -> StreamableHttpService<FfTools, LocalSessionManager> {
    let shutdown = state.shutdown.child_token();
    let config = StreamableHttpServerConfig::default()
        // ff's own guard already checked Host and Origin for every route.
        .disable_allowed_hosts()
        .with_cancellation_token(shutdown);
    StreamableHttpService::new(
        move || Ok(FfTools::new(state.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

#[derive(Clone)]
pub struct FfTools {
    state: AppState,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceInput {
    /// The workspace's id (from list_workspaces).
    pub workspace_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptionalWorkspaceInput {
    /// The workspace's id; your own workspace when left out.
    #[serde(default)]
    pub workspace_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWorkspaceInput {
    /// A short name for the child workspace (its branch is named after it).
    pub name: String,
    /// The task: the child's agent starts with it once its worktree is ready.
    pub prompt: String,
    /// The agent to run (as configured in ff); the usual default when left out.
    #[serde(default)]
    pub agent: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMessageInput {
    /// Your parent workspace's id, or one of your children's.
    pub workspace_id: String,
    pub text: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePullRequestInput {
    /// The PR's title; ff's default (from the workspace and its commits) when left out.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub draft: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullRequestSummary {
    pub number: Option<u64>,
    pub url: String,
    pub state: String,
    pub ci: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSummary {
    pub id: String,
    pub name: String,
    /// Its lifecycle state (NEW, PROVISIONING, READY, FAILED, ARCHIVING, ARCHIVED).
    pub status: String,
    /// What the workspace is waiting for or doing, in words (as ff's board says it).
    pub status_reason: String,
    pub branch: Option<String>,
    pub working: bool,
    pub pull_request: Option<PullRequestSummary>,
    /// Its parent workspace, when an agent created it.
    pub parent_id: Option<String>,
    /// `self`, `parent` or `child` as seen from the caller; absent for other workspaces.
    pub relation: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkspaceList {
    pub workspaces: Vec<WorkspaceSummary>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceView {
    pub workspace: WorkspaceSummary,
    /// The last message its agent wrote (cut to 4000 characters).
    pub last_agent_message: Option<String>,
    pub children: Vec<WorkspaceSummary>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedWorkspace {
    pub workspace: WorkspaceSummary,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub workspace_id: String,
    pub session_id: String,
    /// `parent` or `child`.
    pub to: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArchivedWorkspace {
    pub workspace_id: String,
    /// The archive goes on in the background; it keeps uncommitted work.
    pub archiving: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullRequestView {
    pub workspace_id: String,
    /// ff's stored view of the PR: state, checks (with failing logs' tails when read), review
    /// threads; as GitHub last reported them.
    pub pull_request: serde_json::Value,
}

#[tool_router]
impl FfTools {
    fn new(state: AppState) -> Self {
        Self {
            state,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "List the workspaces of your project: status in words, branch, pull request and CI, and which are your parent and children.",
        output_schema = schema_for_output::<WorkspaceList>()
    )]
    async fn list_workspaces(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(_): Parameters<NoInput>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&parts).await?;
        answer(self.list(&caller).await, |list| {
            list.workspaces
                .iter()
                .map(render_summary)
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[tool(
        description = "One workspace of your project, with the last message its agent wrote and its children.",
        output_schema = schema_for_output::<WorkspaceView>()
    )]
    async fn get_workspace(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(input): Parameters<WorkspaceInput>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&parts).await?;
        answer(self.view(&caller, &input.workspace_id).await, |view| {
            let mut text = render_summary(&view.workspace);
            for child in &view.children {
                text.push_str(&format!("\n  child: {}", render_summary(child)));
            }
            if let Some(message) = &view.last_agent_message {
                text.push_str(&format!("\nLast agent message:\n{message}"));
            }
            text
        })
    }

    #[tool(
        description = "Create a child workspace of your own: a new branch and worktree of this project whose agent starts with `prompt`. You may message it and archive it; you are told when its turn ends, its PR merges or it fails.",
        output_schema = schema_for_output::<CreatedWorkspace>()
    )]
    async fn create_workspace(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(input): Parameters<CreateWorkspaceInput>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&parts).await?;
        let created = async {
            let child = self
                .state
                .child_workspaces
                .create_child(&caller, &input.name, &input.prompt, input.agent)
                .await?;
            Ok(CreatedWorkspace {
                workspace: self.summary(&caller, &child, Some(&caller.workspace.id)),
            })
        }
        .await;
        answer(created, |c| {
            format!("Created {}", render_summary(&c.workspace))
        })
    }

    #[tool(
        description = "Send a message to your parent workspace or to one of your children: it is queued in that workspace's current agent session like any message.",
        output_schema = schema_for_output::<SentMessage>()
    )]
    async fn send_message(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(input): Parameters<SendMessageInput>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&parts).await?;
        let sent = async {
            let to = WorkspaceId::new(input.workspace_id.clone());
            let (kin, session) = self
                .state
                .child_workspaces
                .send_message(&caller, &to, &input.text)
                .await?;
            Ok(SentMessage {
                workspace_id: to.to_string(),
                session_id: session.to_string(),
                to: kin_word(kin).to_owned(),
            })
        }
        .await;
        answer(sent, |s| {
            format!(
                "Queued for your {} {} (session {})",
                s.to, s.workspace_id, s.session_id
            )
        })
    }

    #[tool(
        description = "Archive one of your child workspaces through ff's normal archive (uncommitted work is kept).",
        output_schema = schema_for_output::<ArchivedWorkspace>()
    )]
    async fn archive_workspace(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(input): Parameters<WorkspaceInput>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&parts).await?;
        let id = WorkspaceId::new(input.workspace_id);
        let archived = self
            .state
            .child_workspaces
            .archive_child(&caller, &id)
            .await
            .map(|()| ArchivedWorkspace {
                workspace_id: id.to_string(),
                archiving: true,
            });
        answer(archived, |a| format!("Archiving {}", a.workspace_id))
    }

    #[tool(
        description = "Open a pull request for your own workspace the way ff's Create PR button does: push the branch, open the PR against the default branch, attach it.",
        output_schema = schema_for_output::<PullRequestView>()
    )]
    async fn create_pull_request(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(input): Parameters<CreatePullRequestInput>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&parts).await?;
        let request = CreatePr {
            title: input.title,
            body: input.body,
            draft: input.draft,
        };
        let created = async {
            let view = self
                .state
                .github
                .create_pr(&caller.workspace.id, request)
                .await?;
            pr_view(&caller.workspace.id, &view)
        }
        .await;
        answer(created, render_pr)
    }

    #[tool(
        description = "A pull request of a workspace of your project (your own when no id is given), as ff last read it: state, checks with failing logs' tails, unresolved review threads. Makes no request to GitHub.",
        output_schema = schema_for_output::<PullRequestView>()
    )]
    async fn get_pull_request(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
        Parameters(input): Parameters<OptionalWorkspaceInput>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&parts).await?;
        let read = async {
            let id = match input.workspace_id {
                Some(id) => {
                    let id = WorkspaceId::new(id);
                    self.state.child_workspaces.in_project(&caller, &id).await?;
                    id
                }
                None => caller.workspace.id.clone(),
            };
            let view = self.state.github.pr_view_stored(&id).await?;
            pr_view(&id, &view)
        }
        .await;
        answer(read, render_pr)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for FfTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_instructions(
            "ff runs many coding agents in parallel, each in its own git worktree (a workspace). \
             These tools act as your workspace, within its project: see the other workspaces, \
             create child workspaces for parts of your task, message your parent or children, \
             and open your pull request.",
        )
    }
}

impl FfTools {
    /// The calling agent, from the credential the auth layer admitted.
    async fn caller(&self, parts: &axum::http::request::Parts) -> Result<Caller, ErrorData> {
        let grantee = parts
            .extensions
            .get::<Grantee>()
            .ok_or_else(|| ErrorData::invalid_request("no agent credential", None))?;
        self.state
            .child_workspaces
            .caller(grantee)
            .await
            .map_err(|e| {
                ErrorData::invalid_request(format!("this credential's session: {e}"), None)
            })
    }

    async fn list(&self, caller: &Caller) -> DomainResult<WorkspaceList> {
        let project = &caller.workspace.project_id;
        let parent = self
            .state
            .workspaces
            .parent_of(&caller.workspace.id)
            .await?;
        let mut workspaces = Vec::new();
        for workspace in self.state.workspaces.list(project, false).await? {
            let parent_of_it = self.state.workspaces.parent_of(&workspace.id).await?;
            let mut summary = self.summary(caller, &workspace, parent_of_it.as_ref());
            if parent.as_ref() == Some(&workspace.id) {
                summary.relation = Some("parent".into());
            }
            workspaces.push(summary);
        }
        Ok(WorkspaceList { workspaces })
    }

    async fn view(&self, caller: &Caller, id: &str) -> DomainResult<WorkspaceView> {
        let id = WorkspaceId::new(id);
        let workspace = self.state.child_workspaces.in_project(caller, &id).await?;
        let parent = self.state.workspaces.parent_of(&id).await?;
        let mut summary = self.summary(caller, &workspace, parent.as_ref());
        if self
            .state
            .workspaces
            .parent_of(&caller.workspace.id)
            .await?
            .as_ref()
            == Some(&id)
        {
            summary.relation = Some("parent".into());
        }
        let children = self
            .state
            .workspaces
            .children_of(&id)
            .await?
            .iter()
            .map(|child| self.summary(caller, child, Some(&id)))
            .collect();
        Ok(WorkspaceView {
            workspace: summary,
            last_agent_message: self.last_agent_message(&id).await?,
            children,
        })
    }

    /// The newest agent message of the workspace's most recently active session.
    async fn last_agent_message(&self, id: &WorkspaceId) -> DomainResult<Option<String>> {
        let sessions = self.state.sessions.list(id).await?;
        let Some(session) = sessions.iter().max_by_key(|s| s.updated_at) else {
            return Ok(None);
        };
        let items = self
            .state
            .sessions
            .items(&session.id, 0, Some(u64::MAX), LAST_MESSAGE_ITEMS)
            .await?;
        Ok(items.iter().rev().find_map(|item| match &item.body {
            ItemBody::Agent { text } => Some(text.chars().take(LAST_MESSAGE_MAX_CHARS).collect()),
            _ => None,
        }))
    }

    /// A workspace as the board shows it (from the snapshot), or as its row says when the
    /// snapshot has not seen it yet.
    fn summary(
        &self,
        caller: &Caller,
        workspace: &Workspace,
        parent: Option<&WorkspaceId>,
    ) -> WorkspaceSummary {
        let entry: Option<Entry> = self.state.snapshot.store.get(&workspace.id);
        let relation = if workspace.id == caller.workspace.id {
            Some("self".to_owned())
        } else if parent == Some(&caller.workspace.id) {
            Some("child".to_owned())
        } else {
            None
        };
        let (status_reason, working, pull_request) = match &entry {
            Some(entry) => {
                let line = status_line(entry);
                let raw = &entry.raw;
                let pr = raw.pr_url.as_ref().map(|url| PullRequestSummary {
                    number: raw.pr_number,
                    url: url.clone(),
                    state: word(&raw.pr_state),
                    ci: word(&raw.pr_ci_status),
                });
                (line.words, raw.is_working, pr)
            }
            None => (workspace.status.to_string(), false, None),
        };
        WorkspaceSummary {
            id: workspace.id.to_string(),
            name: workspace.name.clone(),
            status: workspace.status.to_string(),
            status_reason,
            branch: workspace.branch_name.clone(),
            working,
            pull_request,
            parent_id: parent.map(ToString::to_string),
            relation,
        }
    }
}

/// A tool's answer: the structured value with its text rendering, or the refusal as a tool
/// error the model reads (naming the field, for bad input).
fn answer<T: Serialize>(
    result: DomainResult<T>,
    render: impl FnOnce(&T) -> String,
) -> Result<CallToolResult, ErrorData> {
    match result {
        Ok(value) => {
            let text = render(&value);
            let structured = serde_json::to_value(&value)
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            let mut result = CallToolResult::structured(structured);
            result.content = vec![ContentBlock::text(text)];
            Ok(result)
        }
        Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(refusal(&e))])),
    }
}

fn refusal(error: &DomainError) -> String {
    match error {
        DomainError::NotFound(_) => format!("{error} (in this project)"),
        DomainError::Invalid { field, message } => format!("invalid {field}: {message}"),
        _ => error.to_string(),
    }
}

fn pr_view(id: &WorkspaceId, view: &ff_core::github::PrView) -> DomainResult<PullRequestView> {
    let pull_request = serde_json::to_value(view)
        .map_err(|e| DomainError::Internal(format!("cannot render the PR: {e}")))?;
    Ok(PullRequestView {
        workspace_id: id.to_string(),
        pull_request,
    })
}

fn render_pr(view: &PullRequestView) -> String {
    serde_json::to_string_pretty(&view.pull_request).unwrap_or_default()
}

fn render_summary(w: &WorkspaceSummary) -> String {
    let mut text = format!("{} (id {}): {}", w.name, w.id, w.status_reason);
    if let Some(relation) = &w.relation {
        text.push_str(&format!(" [{relation}]"));
    }
    if let Some(branch) = &w.branch {
        text.push_str(&format!("; branch {branch}"));
    }
    if let Some(pr) = &w.pull_request {
        text.push_str(&format!("; PR {} {}, CI {}", pr.url, pr.state, pr.ci));
    }
    text
}

fn kin_word(kin: Kin) -> &'static str {
    match kin {
        Kin::Parent => "parent",
        Kin::Child => "child",
    }
}

/// An enum as its wire name.
fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
