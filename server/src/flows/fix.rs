//! The ratchet's fixer (ratchet.md): `ratchet` decides, for a READY workspace (`workspaces`)
//! whose PR (`github`) is failing, on a fixer; its prompt carries the failing jobs' logs
//! (`github`) and goes through the one path for fixers, `acquire_and_dispatch` of `sessions`
//! (a fixer at rest starts from a fresh agent); the ratchet follows the fixer's session to its
//! end and stops fixers when the PR is merged or the ratchet is turned off. This flow is the
//! ratchet's only way to those domains (its bridge `ratchet::Fixing`).

use crate::error::DomainResult;
use crate::github::Github;
use crate::ratchet::Fixing;
use crate::sessions::{Sessions, WhenIdle};
use crate::workspaces;
use ff_core::api::Workspace;
use ff_core::github::{GithubRepo, Observation};
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::sessions::{Dispatched, Session, RATCHET_WORKFLOW};
use futures_util::future::BoxFuture;
use sqlx::SqliteConnection;

pub struct Fix {
    github: Github,
    sessions: Sessions,
}

impl Fix {
    pub fn new(github: Github, sessions: Sessions) -> Self {
        Self { github, sessions }
    }
}

impl Fixing for Fix {
    fn workspace<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Workspace>, sqlx::Error>> {
        Box::pin(async move {
            let record = workspaces::store::get(conn, id).await?;
            Ok(record.map(|r| r.workspace))
        })
    }

    fn observation<'a>(
        &'a self,
        id: &'a WorkspaceId,
    ) -> BoxFuture<'a, DomainResult<Option<Observation>>> {
        Box::pin(self.github.observation(id))
    }

    fn job_log<'a>(
        &'a self,
        repo: &'a GithubRepo,
        job: u64,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            self.github
                .job_log(repo, job)
                .await
                .map(|log| log.to_string())
                .map_err(|e| e.to_string())
        })
    }

    fn dispatch<'a>(
        &'a self,
        id: &'a WorkspaceId,
        prompt: &'a str,
    ) -> BoxFuture<'a, DomainResult<Dispatched>> {
        Box::pin(self.sessions.acquire_and_dispatch(
            id,
            RATCHET_WORKFLOW,
            prompt,
            WhenIdle::Restart,
        ))
    }

    fn sessions<'a>(&'a self, id: &'a WorkspaceId) -> BoxFuture<'a, DomainResult<Vec<Session>>> {
        Box::pin(self.sessions.list(id))
    }

    fn session<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, DomainResult<Session>> {
        Box::pin(self.sessions.get(id))
    }

    fn stop<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, DomainResult<()>> {
        Box::pin(self.sessions.stop(id))
    }
}
