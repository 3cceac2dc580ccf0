//! Removing a project: `projects` refuses while the project has live workspaces, which only
//! `workspaces` knows; this flow answers that question for it, inside the removal's
//! transaction.

use crate::projects::LiveWorkspaces;
use crate::workspaces;
use futures_util::future::BoxFuture;
use sqlx::SqliteConnection;

pub struct ProjectWorkspaces;

impl LiveWorkspaces for ProjectWorkspaces {
    fn count<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        project: &'a str,
    ) -> BoxFuture<'a, Result<i64, sqlx::Error>> {
        Box::pin(workspaces::store::count_live_in_project(conn, project))
    }
}
