//! What server-rendered pages read: the app's `Backend`, answered by ff's own services.

use super::AppState;
use crate::error::DomainError;
use ff_app::backend::{Backend, BackendContext, BoxFuture};
use ff_core::api::{Project, WorkspaceDetail};
use ff_core::ids::{ProjectId, WorkspaceId};
use ff_core::wire::Frame;
use std::sync::Arc;
use std::time::Duration;

/// A first load waits this long at most for the first reconciliation pass.
const FIRST_PASS_WAIT: Duration = Duration::from_secs(10);

struct Pages(AppState);

fn message(e: DomainError) -> String {
    e.to_string()
}

impl Backend for Pages {
    fn projects(&self) -> BoxFuture<'_, Result<Vec<Project>, String>> {
        Box::pin(async move { self.0.projects.list().await.map_err(message) })
    }

    fn project(&self, id: ProjectId) -> BoxFuture<'_, Result<Project, String>> {
        Box::pin(async move { self.0.projects.get(&id).await.map_err(message) })
    }

    fn snapshot(&self, project: ProjectId) -> BoxFuture<'_, Result<Frame, String>> {
        Box::pin(async move {
            self.0.projects.get(&project).await.map_err(message)?;
            let store = &self.0.snapshot.store;
            let _ = tokio::time::timeout(FIRST_PASS_WAIT, store.wait_ready()).await;
            Ok(store.full(&project))
        })
    }

    fn workspace(&self, id: WorkspaceId) -> BoxFuture<'_, Result<WorkspaceDetail, String>> {
        Box::pin(async move { self.0.workspaces.detail(&id).await.map_err(message) })
    }

    fn poll_interval_ms(&self) -> u32 {
        u32::try_from(self.0.poll_interval.as_millis()).unwrap_or(u32::MAX)
    }
}

pub fn context(state: &AppState) -> BackendContext {
    BackendContext(Arc::new(Pages(state.clone())))
}
