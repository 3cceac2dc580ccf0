//! What server-rendered pages read: the app's `Backend`, answered by ff's own services.

use super::AppState;
use crate::error::DomainError;
use ff_app::backend::{Backend, BackendContext, BoxFuture, PageError};
use ff_core::api::{Project, WorkspaceDetail};
use ff_core::chat::ChatFrame;
use ff_core::ids::{ProjectId, SessionId, WorkspaceId};
use ff_core::ratchet::RatchetView;
use ff_core::review::comments::ReviewComment;
use ff_core::review::diff::{DiffList, FileDiff};
use ff_core::schedules::Schedule;
use ff_core::sessions::{AgentInfo, SettingsView};
use ff_core::wire::Frame;
use std::sync::Arc;

struct Pages(AppState);

/// The status a page answers with when its data is missing or unreadable.
fn page_error(e: DomainError) -> PageError {
    let status = match &e {
        DomainError::NotFound(_) => 404,
        DomainError::BadRequest(_) | DomainError::Invalid { .. } => 400,
        DomainError::Conflict(_) => 409,
        DomainError::TooManyRetries(_) => 429,
        DomainError::Upstream(_) => 502,
        DomainError::Database(_) | DomainError::Internal(_) => 500,
    };
    PageError {
        status,
        message: e.to_string(),
    }
}

impl Backend for Pages {
    fn projects(&self) -> BoxFuture<'_, Result<Vec<Project>, PageError>> {
        Box::pin(async move { self.0.projects.list().await.map_err(page_error) })
    }

    fn project(&self, id: ProjectId) -> BoxFuture<'_, Result<Project, PageError>> {
        Box::pin(async move { self.0.projects.get(&id).await.map_err(page_error) })
    }

    fn snapshot(&self, project: ProjectId) -> BoxFuture<'_, Result<Frame, PageError>> {
        Box::pin(async move {
            self.0.projects.get(&project).await.map_err(page_error)?;
            let store = &self.0.snapshot.store;
            let _ = tokio::time::timeout(super::FIRST_PASS_WAIT, store.wait_ready()).await;
            Ok(store.full(&project))
        })
    }

    fn workspace(&self, id: WorkspaceId) -> BoxFuture<'_, Result<WorkspaceDetail, PageError>> {
        Box::pin(async move { self.0.workspaces.detail(&id).await.map_err(page_error) })
    }

    fn schedules(&self, project: ProjectId) -> BoxFuture<'_, Result<Vec<Schedule>, PageError>> {
        Box::pin(async move {
            self.0.projects.get(&project).await.map_err(page_error)?;
            self.0.schedules.list(&project).await.map_err(page_error)
        })
    }

    fn github_status(
        &self,
        project: ProjectId,
    ) -> BoxFuture<'_, Result<Option<ff_core::github::HostStatus>, PageError>> {
        Box::pin(async move {
            self.0
                .github
                .project_status(&project)
                .await
                .map_err(page_error)
        })
    }

    fn chat(&self, session: SessionId) -> BoxFuture<'_, Result<ChatFrame, PageError>> {
        Box::pin(async move { self.0.sessions.baseline(&session).await.map_err(page_error) })
    }

    fn agents(&self) -> BoxFuture<'_, Result<Vec<AgentInfo>, PageError>> {
        Box::pin(async move { self.0.sessions.agent_list().await.map_err(page_error) })
    }

    fn settings(&self) -> BoxFuture<'_, Result<SettingsView, PageError>> {
        Box::pin(async move {
            crate::settings::load(&self.0.db)
                .await
                .map(|settings| settings.view())
                .map_err(page_error)
        })
    }

    fn ratchet(&self, id: WorkspaceId) -> BoxFuture<'_, Result<RatchetView, PageError>> {
        Box::pin(async move { self.0.ratchet.view(&id).await.map_err(page_error) })
    }

    fn diff(&self, id: WorkspaceId) -> BoxFuture<'_, Result<DiffList, PageError>> {
        Box::pin(async move { self.0.review.diff(&id).await.map_err(page_error) })
    }

    fn diff_file(
        &self,
        id: WorkspaceId,
        path: String,
    ) -> BoxFuture<'_, Result<FileDiff, PageError>> {
        Box::pin(async move {
            self.0
                .review
                .diff_file(&id, &path)
                .await
                .map_err(page_error)
        })
    }

    fn review_comments(
        &self,
        id: WorkspaceId,
    ) -> BoxFuture<'_, Result<Vec<ReviewComment>, PageError>> {
        Box::pin(async move { self.0.review.comments(&id).await.map_err(page_error) })
    }

    fn poll_interval_ms(&self) -> u32 {
        u32::try_from(self.0.poll_interval.as_millis()).unwrap_or(u32::MAX)
    }
}

pub fn context(state: &AppState) -> BackendContext {
    BackendContext(Arc::new(Pages(state.clone())))
}
