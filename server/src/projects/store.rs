//! The only module that writes `projects`.

use crate::db::codec::{parse_time, to_u32};
use ff_core::api::Project;
use ff_core::ids::{ProjectId, Timestamp};
use sqlx::{FromRow, SqliteConnection};

#[derive(FromRow)]
struct ProjectRow {
    id: String,
    name: String,
    slug: String,
    repo_path: String,
    default_branch: String,
    github_owner: Option<String>,
    github_repo: Option<String>,
    github_host: Option<String>,
    default_agent: Option<String>,
    worktree_base_path: String,
    setup_timeout_seconds: i64,
    created_at: String,
    updated_at: String,
}

impl TryFrom<ProjectRow> for Project {
    type Error = sqlx::Error;

    fn try_from(row: ProjectRow) -> Result<Self, Self::Error> {
        Ok(Project {
            id: ProjectId::new(row.id),
            name: row.name,
            slug: row.slug,
            repo_path: row.repo_path,
            default_branch: row.default_branch,
            github_owner: row.github_owner,
            github_repo: row.github_repo,
            github_host: row.github_host,
            default_agent: row.default_agent,
            worktree_base_path: row.worktree_base_path,
            setup_timeout_seconds: to_u32("setup_timeout_seconds", row.setup_timeout_seconds)?,
            created_at: parse_time("created_at", &row.created_at)?,
            updated_at: parse_time("updated_at", &row.updated_at)?,
        })
    }
}

const COLUMNS: &str = "id, name, slug, repo_path, default_branch, github_owner, github_repo, \
                       github_host, default_agent, worktree_base_path, setup_timeout_seconds, \
                       created_at, updated_at";

pub async fn get_live(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<Project>, sqlx::Error> {
    sqlx::query_as::<_, ProjectRow>(&format!(
        "SELECT {COLUMNS} FROM projects WHERE id = ? AND archived_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(Project::try_from)
    .transpose()
}

pub async fn list_live(conn: &mut SqliteConnection) -> Result<Vec<Project>, sqlx::Error> {
    sqlx::query_as::<_, ProjectRow>(&format!(
        "SELECT {COLUMNS} FROM projects WHERE archived_at IS NULL ORDER BY created_at, id"
    ))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Project::try_from)
    .collect()
}

/// Every project with the time it was deleted, if it was (backups carry them all).
pub async fn list_all(
    conn: &mut SqliteConnection,
) -> Result<Vec<(Project, Option<Timestamp>)>, sqlx::Error> {
    #[derive(FromRow)]
    struct WithArchive {
        #[sqlx(flatten)]
        project: ProjectRow,
        archived_at: Option<String>,
    }
    sqlx::query_as::<_, WithArchive>(&format!(
        "SELECT {COLUMNS}, archived_at FROM projects ORDER BY created_at, id"
    ))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        let archived_at =
            crate::db::codec::parse_opt_time("archived_at", row.archived_at.as_deref())?;
        Ok((Project::try_from(row.project)?, archived_at))
    })
    .collect()
}

pub async fn live_name_for_repo(
    conn: &mut SqliteConnection,
    repo_path: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM projects WHERE repo_path = ? AND archived_at IS NULL")
        .bind(repo_path)
        .fetch_optional(conn)
        .await
}

pub async fn exists(conn: &mut SqliteConnection, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM projects WHERE id = ?")
        .bind(id)
        .fetch_one(conn)
        .await
        .map(|n| n > 0)
}

pub async fn slug_taken(conn: &mut SqliteConnection, slug: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM projects WHERE slug = ?")
        .bind(slug)
        .fetch_one(conn)
        .await
        .map(|n| n > 0)
}

pub async fn insert(conn: &mut SqliteConnection, project: &Project) -> Result<(), sqlx::Error> {
    restore(conn, project, None).await
}

/// Inserts a project as a backup describes it, deleted or not.
pub async fn restore(
    conn: &mut SqliteConnection,
    project: &Project,
    archived_at: Option<Timestamp>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO projects ({COLUMNS}, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(project.id.as_str())
    .bind(&project.name)
    .bind(&project.slug)
    .bind(&project.repo_path)
    .bind(&project.default_branch)
    .bind(&project.github_owner)
    .bind(&project.github_repo)
    .bind(&project.github_host)
    .bind(&project.default_agent)
    .bind(&project.worktree_base_path)
    .bind(i64::from(project.setup_timeout_seconds))
    .bind(project.created_at.to_string())
    .bind(project.updated_at.to_string())
    .bind(archived_at.map(|t| t.to_string()))
    .execute(conn)
    .await
    .map(drop)
}

pub async fn live_id_for_repo(
    conn: &mut SqliteConnection,
    repo_path: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM projects WHERE repo_path = ? AND archived_at IS NULL")
        .bind(repo_path)
        .fetch_optional(conn)
        .await
}

/// Writes the editable fields of a live project.
pub async fn update(conn: &mut SqliteConnection, project: &Project) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projects SET name = ?, default_branch = ?, github_owner = ?, github_repo = ?, \
         github_host = ?, default_agent = ?, setup_timeout_seconds = ?, updated_at = ? \
         WHERE id = ? AND archived_at IS NULL",
    )
    .bind(&project.name)
    .bind(&project.default_branch)
    .bind(&project.github_owner)
    .bind(&project.github_repo)
    .bind(&project.github_host)
    .bind(&project.default_agent)
    .bind(i64::from(project.setup_timeout_seconds))
    .bind(project.updated_at.to_string())
    .bind(project.id.as_str())
    .execute(conn)
    .await
    .map(drop)
}

pub async fn archive(
    conn: &mut SqliteConnection,
    id: &str,
    at: Timestamp,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE projects SET archived_at = ?, updated_at = ? WHERE id = ? AND archived_at IS NULL",
    )
    .bind(at.to_string())
    .bind(at.to_string())
    .bind(id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
