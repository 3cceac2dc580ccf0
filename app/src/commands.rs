//! Mutations, sent by the browser through the HTTP API. The page changes when the pushed frame
//! arrives, not when these return.

use ff_core::api::{AddProject, Project, RatchetToggle, Workspace};
use ff_core::create::CreateWorkspaceRequest;
use ff_core::ids::{ProjectId, WorkspaceId};

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use crate::api;
    use ff_core::api::WorkspaceDetail;

    pub async fn add_project(body: AddProject) -> Result<Project, String> {
        api::send_json("POST", "/api/projects".to_owned(), &body).await
    }

    pub async fn create_workspace(
        project: ProjectId,
        request: CreateWorkspaceRequest,
    ) -> Result<Workspace, String> {
        api::send_json(
            "POST",
            format!("/api/projects/{project}/workspaces"),
            &request,
        )
        .await
    }

    pub async fn workspace_command(id: WorkspaceId, command: &'static str) -> Result<(), String> {
        api::post(format!("/api/workspaces/{id}/{command}")).await
    }

    pub async fn set_ratchet(id: WorkspaceId, enabled: bool) -> Result<RatchetToggle, String> {
        api::send_json(
            "PUT",
            format!("/api/workspaces/{id}/ratchet"),
            &RatchetToggle { enabled },
        )
        .await
    }

    pub async fn workspace(id: WorkspaceId) -> Result<WorkspaceDetail, String> {
        api::get_json(format!("/api/workspaces/{id}")).await
    }

    pub async fn logs(id: WorkspaceId) -> Result<String, String> {
        api::get_text(format!("/api/workspaces/{id}/run-script/logs?tail=500")).await
    }
}

#[cfg(feature = "hydrate")]
pub use browser::*;

/// On the server these are never dispatched (actions run on user input, in the browser); they
/// exist so that the same components compile for both sides.
#[cfg(not(feature = "hydrate"))]
mod server_side {
    use super::*;

    const BROWSER_ONLY: &str = "this action runs in the browser";

    pub async fn add_project(_: AddProject) -> Result<Project, String> {
        Err(BROWSER_ONLY.into())
    }

    pub async fn create_workspace(
        _: ProjectId,
        _: CreateWorkspaceRequest,
    ) -> Result<Workspace, String> {
        Err(BROWSER_ONLY.into())
    }

    pub async fn workspace_command(_: WorkspaceId, _: &'static str) -> Result<(), String> {
        Err(BROWSER_ONLY.into())
    }

    pub async fn set_ratchet(_: WorkspaceId, _: bool) -> Result<RatchetToggle, String> {
        Err(BROWSER_ONLY.into())
    }
}

#[cfg(not(feature = "hydrate"))]
pub use server_side::*;
