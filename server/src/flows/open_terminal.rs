//! Opening a terminal: its workspace must be ready with a worktree (the workspaces domain), then
//! the terminals domain starts a shell there. An archive that begins meanwhile ends it: the
//! archive ends the workspace's terminals after its state change, and this flow looks at the
//! state again once the terminal is registered, so one of the two always sees the other.

use crate::error::{DomainError, DomainResult};
use crate::terminals::Terminals;
use crate::workspaces::Workspaces;
use ff_core::enums::WorkspaceStatus;
use ff_core::ids::WorkspaceId;
use ff_core::terminals::{OpenTerminal as Request, TerminalInfo};
use std::path::PathBuf;

#[derive(Clone)]
pub struct OpenTerminal {
    workspaces: Workspaces,
    terminals: Terminals,
}

impl OpenTerminal {
    pub fn new(workspaces: Workspaces, terminals: Terminals) -> Self {
        Self {
            workspaces,
            terminals,
        }
    }

    pub async fn open(&self, id: &WorkspaceId, request: Request) -> DomainResult<TerminalInfo> {
        let worktree = self.ready_worktree(id).await?;
        let terminal = self
            .terminals
            .open(id, &worktree, request.cols, request.rows)?;
        if let Err(e) = self.ready_worktree(id).await {
            let _ = self.terminals.end(&terminal.id).await;
            return Err(e);
        }
        Ok(terminal)
    }

    /// The terminals of a workspace that exists.
    pub async fn list(&self, id: &WorkspaceId) -> DomainResult<Vec<TerminalInfo>> {
        self.workspaces.detail(id).await?;
        Ok(self.terminals.list(id))
    }

    async fn ready_worktree(&self, id: &WorkspaceId) -> DomainResult<PathBuf> {
        let workspace = self.workspaces.detail(id).await?.workspace;
        if workspace.status != WorkspaceStatus::Ready {
            return Err(DomainError::Conflict(format!(
                "the workspace is {}; a terminal needs a ready workspace",
                workspace.status
            )));
        }
        workspace
            .worktree_path
            .map(PathBuf::from)
            .ok_or_else(|| DomainError::Conflict("the workspace has no worktree".into()))
    }
}
