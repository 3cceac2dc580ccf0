//! What a server-rendered page reads, provided by the server as context (the app does not depend
//! on the server crate; the server implements this trait over its own services).

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
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a page's data could not be read, with the HTTP status the page should answer with.
#[derive(Clone, Debug)]
pub struct PageError {
    pub status: u16,
    pub message: String,
}

pub trait Backend: Send + Sync + 'static {
    fn projects(&self) -> BoxFuture<'_, Result<Vec<Project>, PageError>>;
    fn project(&self, id: ProjectId) -> BoxFuture<'_, Result<Project, PageError>>;
    /// The project's `full` snapshot frame, once the first reconciliation pass has seeded it.
    fn snapshot(&self, project: ProjectId) -> BoxFuture<'_, Result<Frame, PageError>>;
    fn workspace(&self, id: WorkspaceId) -> BoxFuture<'_, Result<WorkspaceDetail, PageError>>;
    /// The project's scheduled tasks with their latest runs.
    fn schedules(&self, project: ProjectId) -> BoxFuture<'_, Result<Vec<Schedule>, PageError>>;
    /// How ff stands with the project's GitHub host; `None` without a GitHub repository.
    fn github_status(
        &self,
        project: ProjectId,
    ) -> BoxFuture<'_, Result<Option<HostStatus>, PageError>>;
    fn ratchet(&self, id: WorkspaceId) -> BoxFuture<'_, Result<RatchetView, PageError>>;
    fn diff(&self, id: WorkspaceId) -> BoxFuture<'_, Result<DiffList, PageError>>;
    fn diff_file(
        &self,
        id: WorkspaceId,
        path: String,
    ) -> BoxFuture<'_, Result<FileDiff, PageError>>;
    fn review_comments(
        &self,
        id: WorkspaceId,
    ) -> BoxFuture<'_, Result<Vec<ReviewComment>, PageError>>;
    /// A session's chat as its socket would start it: the page's socket then resumes after it.
    fn chat(&self, session: SessionId) -> BoxFuture<'_, Result<ChatFrame, PageError>>;
    /// Every configured agent with its install state.
    fn agents(&self) -> BoxFuture<'_, Result<Vec<AgentInfo>, PageError>>;
    fn settings(&self) -> BoxFuture<'_, Result<SettingsView, PageError>>;
    /// How often a disconnected page polls the snapshot route.
    fn poll_interval_ms(&self) -> u32;
}

#[derive(Clone)]
pub struct BackendContext(pub Arc<dyn Backend>);
