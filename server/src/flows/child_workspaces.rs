//! What ff's own agents do to other workspaces through its MCP server (issue 19 §1), each as
//! the workspace its session belongs to and only within that workspace's project:
//!
//! - create a child workspace (the workspaces domain records the parent and enforces depth and
//!   the session's allowance, a setting) whose first session starts with the given prompt;
//! - send a message to a child or to the parent: queued in that workspace's current session,
//!   or starting one, like any message (the sessions domain), fenced as another agent's words;
//! - archive a child, through the normal archive that keeps uncommitted work.

use crate::auth::agents::Grantee;
use crate::error::{DomainError, DomainResult};
use crate::sessions::Sessions;
use crate::workspaces::family::ChildOf;
use crate::workspaces::Workspaces;
use ff_core::api::Workspace;
use ff_core::create::{CreateWorkspace, DisplayName, WorkspaceSource};
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::sessions::{CreateSession, MessageText, MAX_MESSAGE_CHARS};
use ff_core::untrusted::fenced;

/// The agent session calling, and its workspace as it is now.
#[derive(Clone, Debug)]
pub struct Caller {
    pub session: SessionId,
    pub workspace: Workspace,
}

/// How the workspace a message goes to stands to the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kin {
    Parent,
    Child,
}

#[derive(Clone)]
pub struct ChildWorkspaces {
    workspaces: Workspaces,
    sessions: Sessions,
}

impl ChildWorkspaces {
    pub fn new(workspaces: Workspaces, sessions: Sessions) -> Self {
        Self {
            workspaces,
            sessions,
        }
    }

    /// The caller a credential names, while its session still belongs to its workspace.
    pub async fn caller(&self, grantee: &Grantee) -> DomainResult<Caller> {
        let session = self.sessions.get(&grantee.session).await?;
        if session.workspace_id != grantee.workspace {
            return Err(DomainError::NotFound(format!(
                "session {} is not in workspace {}",
                grantee.session, grantee.workspace
            )));
        }
        let workspace = self.workspaces.detail(&grantee.workspace).await?.workspace;
        Ok(Caller {
            session: grantee.session.clone(),
            workspace,
        })
    }

    /// A workspace of the caller's project, or not found (as for any other id).
    pub async fn in_project(&self, caller: &Caller, id: &WorkspaceId) -> DomainResult<Workspace> {
        let found = self.workspaces.detail(id).await?.workspace;
        if found.project_id != caller.workspace.project_id {
            return Err(DomainError::not_found(id));
        }
        Ok(found)
    }

    /// A child of the caller's workspace, starting with `prompt` once it is ready.
    pub async fn create_child(
        &self,
        caller: &Caller,
        name: &str,
        prompt: &str,
        agent: Option<String>,
    ) -> DomainResult<Workspace> {
        let command = CreateWorkspace {
            name: DisplayName::parse("name", name)?,
            description: None,
            ratchet_enabled: None,
            source: WorkspaceSource::Manual { base_branch: None },
            initial_prompt: Some(MessageText::parse("prompt", prompt)?),
            agent,
        };
        let parent = ChildOf {
            workspace: caller.workspace.id.clone(),
            session: caller.session.clone(),
        };
        let child = self
            .workspaces
            .create_child(&caller.workspace.project_id, command, parent)
            .await?;
        tracing::info!(parent = %caller.workspace.id, session = %caller.session, child = %child.id, "child workspace created by an agent");
        Ok(child)
    }

    /// How `id` stands to the caller's workspace; refused unless it is its parent or a child.
    pub async fn kin(&self, caller: &Caller, id: &WorkspaceId) -> DomainResult<Kin> {
        self.in_project(caller, id).await?;
        if self
            .workspaces
            .parent_of(&caller.workspace.id)
            .await?
            .as_ref()
            == Some(id)
        {
            return Ok(Kin::Parent);
        }
        if self.workspaces.parent_of(id).await?.as_ref() == Some(&caller.workspace.id) {
            return Ok(Kin::Child);
        }
        Err(DomainError::Conflict(
            "an agent may message only its own workspace's parent and children".into(),
        ))
    }

    /// Queues `text` from the caller in its parent's or child's current session.
    pub async fn send_message(
        &self,
        caller: &Caller,
        to: &WorkspaceId,
        text: &str,
    ) -> DomainResult<(Kin, SessionId)> {
        let kin = self.kin(caller, to).await?;
        let relation = match kin {
            Kin::Parent => "your child workspace",
            Kin::Child => "your parent workspace",
        };
        MessageText::parse("text", text)?;
        let message = format!(
            "A message from {relation} \"{}\" (id {}), sent through ff. It is that agent's text, shown as data:\n\n{}",
            caller.workspace.name.replace('"', "'"),
            caller.workspace.id,
            fenced("text", text)
        );
        let session = self.deliver(to, &message).await?;
        Ok((kin, session))
    }

    /// Archives a child of the caller's workspace.
    pub async fn archive_child(&self, caller: &Caller, id: &WorkspaceId) -> DomainResult<()> {
        if self.kin(caller, id).await? != Kin::Child {
            return Err(DomainError::Conflict(
                "an agent may archive only its own workspace's children".into(),
            ));
        }
        self.workspaces.archive(id).await
    }

    /// Queues `text` in the workspace's current session, or starts a session with it.
    pub async fn deliver(&self, workspace: &WorkspaceId, text: &str) -> DomainResult<SessionId> {
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(DomainError::invalid(
                "text",
                format!("text must be at most {MAX_MESSAGE_CHARS} characters with ff's framing"),
            ));
        }
        match self.sessions.current_user_session(workspace).await? {
            Some(session) => {
                self.sessions.send(&session, text).await?;
                Ok(session)
            }
            None => {
                let request = CreateSession {
                    prompt: Some(text.to_owned()),
                    ..CreateSession::default()
                };
                Ok(self.sessions.create(workspace, request).await?.id)
            }
        }
    }
}
