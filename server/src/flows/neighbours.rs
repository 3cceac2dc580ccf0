//! The rows domains keep about each other's entities, handed to them as the narrow traits they
//! define (bridges) so that none uses another: a run script and GitHub read a workspace's
//! status, branch and worktree (`workspaces`) and a project's origin (`projects`); a workspace
//! reads its project and its PR (`github`), and its creation writes, in its own transaction,
//! the rows the ratchet and the run script keep beside it (through their owners' stores), as
//! provisioning records the scripts it found; a session reads its workspace, the agent it or
//! its project chose, takes the first prompt and marks that the workspace had a session.

use crate::db::Db;
use crate::{github, projects, ratchet, run_script, sessions, workspaces};
use ff_core::api::{PrInfo, Project, Workspace};
use ff_core::factory_config::FactoryConfig;
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use futures_util::future::BoxFuture;
use sqlx::SqliteConnection;
use std::path::Path;

#[derive(Clone)]
pub struct Rows {
    db: Db,
}

impl Rows {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    async fn workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, sqlx::Error> {
        let record = workspaces::store::get(&mut *self.db.acquire().await?, id.as_str()).await?;
        Ok(record.map(|r| r.workspace))
    }
}

impl run_script::Workspaces for Rows {
    fn workspace<'a>(
        &'a self,
        id: &'a WorkspaceId,
    ) -> BoxFuture<'a, Result<Option<Workspace>, sqlx::Error>> {
        Box::pin(Rows::workspace(self, id))
    }
}

impl github::Directory for Rows {
    fn project<'a>(
        &'a self,
        id: &'a ProjectId,
    ) -> BoxFuture<'a, Result<Option<Project>, sqlx::Error>> {
        Box::pin(async move {
            projects::store::get_live(&mut *self.db.acquire().await?, id.as_str()).await
        })
    }

    fn live_projects(&self) -> BoxFuture<'_, Result<Vec<Project>, sqlx::Error>> {
        Box::pin(async move { projects::store::list_live(&mut *self.db.acquire().await?).await })
    }

    fn workspace<'a>(
        &'a self,
        id: &'a WorkspaceId,
    ) -> BoxFuture<'a, Result<Option<Workspace>, sqlx::Error>> {
        Box::pin(Rows::workspace(self, id))
    }
}

impl workspaces::Neighbours for Rows {
    fn project<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Project>, sqlx::Error>> {
        Box::pin(projects::store::get_live(conn, id))
    }

    fn created<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        id: &'a str,
        ratchet_enabled: bool,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let bookkeeping = ratchet::store::Bookkeeping::new(ratchet_enabled);
            ratchet::store::insert(&mut *tx, id, &bookkeeping, now).await?;
            run_script::store::insert(tx, id, now).await
        })
    }

    fn pr<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<PrInfo, sqlx::Error>> {
        Box::pin(github::store::info(conn, id))
    }

    fn read_scripts<'a>(
        &'a self,
        worktree: &'a Path,
    ) -> BoxFuture<'a, Result<FactoryConfig, String>> {
        Box::pin(run_script::read_config(worktree))
    }

    fn record_scripts<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        id: &'a str,
        run: Option<&'a str>,
        cleanup: Option<&'a str>,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(run_script::store::set_commands(tx, id, run, cleanup, now))
    }
}

impl sessions::Workspaces for Rows {
    fn get<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<sessions::WorkspaceRow>, sqlx::Error>> {
        Box::pin(async move {
            let record = workspaces::store::get(conn, id).await?;
            Ok(record.map(|r| sessions::WorkspaceRow {
                workspace: r.workspace,
                agent: r.agent,
            }))
        })
    }

    fn take_initial_prompt<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, sqlx::Error>> {
        Box::pin(workspaces::store::take_initial_prompt(tx, id))
    }

    fn mark_has_had_sessions<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(workspaces::store::mark_has_had_sessions(tx, id))
    }

    fn project_agent<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        project: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, sqlx::Error>> {
        Box::pin(async move {
            let project = projects::store::get_live(conn, project).await?;
            Ok(project.and_then(|p| p.default_agent))
        })
    }
}
