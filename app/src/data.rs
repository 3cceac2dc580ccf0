//! Loading a page's data: from the server's own services while rendering on the server, over
//! HTTP in the browser. Resources built on these resolve on the server and arrive in the page,
//! so hydration does not fetch them again.

use ff_core::api::{Project, WorkspaceDetail};
use ff_core::chat::ChatFrame;
use ff_core::github::HostStatus;
use ff_core::ids::{ProjectId, SessionId, WorkspaceId};
use ff_core::ratchet::RatchetView;
use ff_core::review::comments::ReviewComment;
use ff_core::review::diff::{DiffList, FileDiff};
use ff_core::schedules::Schedule;
use ff_core::sessions::{AgentInfo, SettingsView};
use ff_core::wire::Frame;
#[cfg(feature = "ssr")]
use leptos::prelude::expect_context;
use std::future::Future;

/// Where data comes from in this build.
#[derive(Clone)]
pub struct Source {
    #[cfg(feature = "ssr")]
    backend: crate::backend::BackendContext,
}

/// A page's data could not be read: on the server the response takes the status the failure
/// deserves (404 for a missing record), and the message is what the page shows.
#[cfg(feature = "ssr")]
fn failed(error: crate::backend::PageError) -> String {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.status) {
            response.set_status(status);
        }
    }
    error.message
}

impl Source {
    /// Must be called while rendering (it reads the render context).
    pub fn current() -> Self {
        Self {
            #[cfg(feature = "ssr")]
            backend: expect_context::<crate::backend::BackendContext>(),
        }
    }

    pub fn projects(&self) -> impl Future<Output = Result<Vec<Project>, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.projects().await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json("/api/projects".to_owned()))
    }

    pub fn project(
        &self,
        id: ProjectId,
    ) -> impl Future<Output = Result<Project, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.project(id).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json(format!("/api/projects/{id}")))
    }

    pub fn snapshot(
        &self,
        project: ProjectId,
    ) -> impl Future<Output = Result<Frame, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.snapshot(project).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json(format!(
            "/api/projects/{project}/snapshot"
        )))
    }

    pub fn schedules(
        &self,
        project: ProjectId,
    ) -> impl Future<Output = Result<Vec<Schedule>, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.schedules(project).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json(format!(
            "/api/projects/{project}/schedules"
        )))
    }

    pub fn workspace(
        &self,
        id: WorkspaceId,
    ) -> impl Future<Output = Result<WorkspaceDetail, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.workspace(id).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json(format!("/api/workspaces/{id}")))
    }

    /// The chat of a session as the server renders it first. In the browser there is nothing to
    /// fetch: the session's socket starts with the same baseline.
    pub fn chat(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Option<ChatFrame>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            // A chat that cannot be read now is not worth failing the page for: its socket
            // brings it once it can.
            async move { backend.chat(session).await.ok() }
        }
        #[cfg(not(feature = "ssr"))]
        {
            let _ = session;
            std::future::ready(None)
        }
    }

    pub fn agents(&self) -> impl Future<Output = Result<Vec<AgentInfo>, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.agents().await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json("/api/agents".to_owned()))
    }

    pub fn settings(&self) -> impl Future<Output = Result<SettingsView, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.settings().await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json("/api/settings".to_owned()))
    }
}

impl Source {
    /// How ff stands with the project's GitHub host (`None`: the project has no repository).
    pub fn github_status(
        &self,
        project: &Project,
    ) -> impl Future<Output = Result<Option<HostStatus>, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            let id = project.id.clone();
            async move { backend.github_status(id).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        {
            let host = project.github_owner.is_some().then(|| {
                project
                    .github_host
                    .clone()
                    .unwrap_or_else(|| "github.com".to_owned())
            });
            browser(async move {
                let Some(host) = host else { return Ok(None) };
                let all: Vec<HostStatus> =
                    crate::api::get_json("/api/github/status".to_owned()).await?;
                Ok(all.into_iter().find(|s| s.host == host))
            })
        }
    }

    pub fn ratchet(
        &self,
        id: WorkspaceId,
    ) -> impl Future<Output = Result<RatchetView, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.ratchet(id).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json(format!(
            "/api/workspaces/{id}/ratchet"
        )))
    }

    pub fn diff(
        &self,
        id: WorkspaceId,
    ) -> impl Future<Output = Result<DiffList, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.diff(id).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json(format!("/api/workspaces/{id}/diff")))
    }

    pub fn diff_file(
        &self,
        id: WorkspaceId,
        path: String,
    ) -> impl Future<Output = Result<FileDiff, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.diff_file(id, path).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json(file_url(&id, &path)))
    }

    pub fn review_comments(
        &self,
        id: WorkspaceId,
    ) -> impl Future<Output = Result<Vec<ReviewComment>, String>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let backend = self.backend.0.clone();
            async move { backend.review_comments(id).await.map_err(failed) }
        }
        #[cfg(not(feature = "ssr"))]
        browser(crate::api::get_json(format!(
            "/api/workspaces/{id}/review/comments"
        )))
    }
}

/// `GET …/diff/file?path=P`, with the path percent-encoded.
#[cfg(not(feature = "ssr"))]
pub(crate) fn file_url(id: &WorkspaceId, path: &str) -> String {
    let path = String::from(js_sys::encode_uri_component(path));
    format!("/api/workspaces/{id}/diff/file?path={path}")
}

/// Browser futures are not `Send`; the browser has one thread, so the wrapper is never crossed.
#[cfg(not(feature = "ssr"))]
pub(crate) fn browser<F: Future + 'static>(future: F) -> send_wrapper::SendWrapper<F> {
    send_wrapper::SendWrapper::new(future)
}
