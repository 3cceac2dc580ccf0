//! Projects: local git repositories that workspaces are created from (domain.md §2).

pub mod store;

use crate::clock;
use crate::db::{self, Db};
use crate::error::{DomainError, DomainResult};
use crate::git::inspect::{inspect, InspectError};
use crate::git::ssh::SshLookup;
use ff_core::api::{AddProject, PatchProject, Project};
use ff_core::create::DisplayName;
use ff_core::github::{is_ssh_remote, GithubRepo, Host, Owner, RepoName, GITHUB_COM};
use ff_core::ids::ProjectId;
use ff_core::naming::{slug_candidates, slugify, title_from_dir};
use ff_core::refname::BranchName;
use futures_util::future::BoxFuture;
use sqlx::SqliteConnection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const SETUP_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 1..=3600;
const DEFAULT_SETUP_TIMEOUT_SECONDS: u32 = 300;
const INSPECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_SLUG_ATTEMPTS: usize = 100;

/// What removing a project needs of the workspaces, without using that domain (a bridge the
/// flow `flows::remove_project` implements): how many live workspaces it has, read in the
/// removal's own transaction so that none is created meanwhile.
pub trait LiveWorkspaces: Send + Sync {
    fn count<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        project: &'a str,
    ) -> BoxFuture<'a, Result<i64, sqlx::Error>>;
}

#[derive(Clone)]
pub struct Projects {
    db: Db,
    worktree_dir: PathBuf,
    ssh: SshLookup,
    workspaces: Arc<dyn LiveWorkspaces>,
}

impl Projects {
    pub fn new(
        db: Db,
        worktree_dir: PathBuf,
        ssh: SshLookup,
        workspaces: Arc<dyn LiveWorkspaces>,
    ) -> Self {
        Self {
            db,
            worktree_dir,
            ssh,
            workspaces,
        }
    }

    pub async fn list(&self) -> DomainResult<Vec<Project>> {
        Ok(store::list_live(&mut *self.db.acquire().await?).await?)
    }

    pub async fn get(&self, id: &ProjectId) -> DomainResult<Project> {
        store::get_live(&mut *self.db.acquire().await?, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))
    }

    pub async fn add(&self, request: AddProject) -> DomainResult<Project> {
        let requested = repo_path(&request.repo_path)?;
        let name = request
            .name
            .as_deref()
            .map(|n| DisplayName::parse("name", n))
            .transpose()?;
        let facts = tokio::time::timeout(
            INSPECT_TIMEOUT,
            tokio::task::spawn_blocking(move || inspect(&requested)),
        )
        .await
        .map_err(|_| DomainError::invalid("repoPath", "reading the repository took too long"))?
        .map_err(|e| DomainError::Internal(format!("repository inspection failed: {e}")))?
        .map_err(|e: InspectError| DomainError::invalid("repoPath", e.to_string()))?;
        // Symlinked and relative spellings of one repository are one project.
        let root = facts.root.canonicalize().unwrap_or(facts.root);
        let root_text = root
            .to_str()
            .ok_or_else(|| DomainError::invalid("repoPath", "repoPath must be valid UTF-8"))?
            .to_owned();
        let dir_name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Any host: a GitHub Enterprise remote names its repository like github.com does. An
        // SSH remote's host may be an alias of the user's SSH configuration.
        let mut origin = facts
            .origin_url
            .as_deref()
            .and_then(|url| GithubRepo::from_remote(url).ok());
        if let (Some(repo), Some(url)) = (&mut origin, facts.origin_url.as_deref()) {
            if is_ssh_remote(url) {
                repo.host = self.ssh.resolve(&repo.host).await;
            }
        }

        let mut tx = db::begin_write(&self.db).await?;
        if let Some(existing) = store::live_name_for_repo(&mut tx, &root_text).await? {
            return Err(DomainError::Conflict(format!(
                "{root_text} is already added as project \"{existing}\""
            )));
        }
        let base_slug = slugify(&dir_name).unwrap_or_else(|| "project".to_owned());
        let mut slug = None;
        for (n, candidate) in slug_candidates(&base_slug)
            .take(MAX_SLUG_ATTEMPTS)
            .enumerate()
        {
            if !store::slug_taken(&mut tx, &candidate).await? {
                slug = Some((n, candidate));
                break;
            }
        }
        let (suffix, slug) = slug.ok_or_else(|| {
            DomainError::Conflict(format!("too many projects are named like {base_slug}"))
        })?;
        let name = match name {
            Some(name) => name.as_str().to_owned(),
            None => {
                let title = Some(title_from_dir(&dir_name)).filter(|t| !t.is_empty());
                let title = title.unwrap_or_else(|| slug.clone());
                if suffix == 0 {
                    title
                } else {
                    format!("{title} {}", suffix + 1)
                }
            }
        };
        let now = clock::now();
        let project = Project {
            id: ProjectId::new(clock::new_id()),
            name,
            worktree_base_path: self.worktree_dir.join(&slug).to_string_lossy().into_owned(),
            slug,
            repo_path: root_text,
            default_branch: facts.default_branch,
            github_owner: origin.as_ref().map(|r| r.owner.to_string()),
            github_repo: origin.as_ref().map(|r| r.repo.to_string()),
            github_host: origin
                .as_ref()
                .map(|r| r.host.to_string())
                .filter(|h| h != GITHUB_COM),
            default_agent: None,
            setup_timeout_seconds: DEFAULT_SETUP_TIMEOUT_SECONDS,
            created_at: now,
            updated_at: now,
        };
        store::insert(&mut tx, &project).await?;
        tx.commit().await?;
        tracing::info!(project = %project.id, repo = %project.repo_path, "project added");
        Ok(project)
    }

    pub async fn patch(&self, id: &ProjectId, patch: PatchProject) -> DomainResult<Project> {
        let name = patch
            .name
            .as_deref()
            .map(|n| DisplayName::parse("name", n))
            .transpose()?;
        let default_branch = patch
            .default_branch
            .as_deref()
            .map(|b| {
                BranchName::parse(b).map_err(|e| {
                    DomainError::invalid(
                        "defaultBranch",
                        format!("defaultBranch {b:?} is not a valid git branch name: it {e}"),
                    )
                })
            })
            .transpose()?;
        if let Some(seconds) = patch.setup_timeout_seconds {
            if !SETUP_TIMEOUT_RANGE.contains(&seconds) {
                return Err(DomainError::invalid(
                    "setupTimeoutSeconds",
                    format!("setupTimeoutSeconds must be between 1 and 3600, got {seconds}"),
                ));
            }
        }
        let mut tx = db::begin_write(&self.db).await?;
        let mut project = store::get_live(&mut tx, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        let before = project.clone();
        github_repository(&mut project, &patch)?;
        if let Some(agent) = &patch.default_agent {
            if let Some(name) = agent {
                let settings = crate::settings::get(&mut tx).await?;
                if !settings.knows_agent(name) {
                    return Err(DomainError::invalid(
                        "defaultAgent",
                        format!("defaultAgent {name:?} is not a configured agent"),
                    ));
                }
            }
            project.default_agent = agent.clone();
        }
        if let Some(name) = name {
            project.name = name.as_str().to_owned();
        }
        if let Some(branch) = default_branch {
            project.default_branch = branch.as_str().to_owned();
        }
        if let Some(seconds) = patch.setup_timeout_seconds {
            project.setup_timeout_seconds = seconds;
        }
        if project == before {
            return Ok(project);
        }
        project.updated_at = clock::now();
        store::update(&mut tx, &project).await?;
        tx.commit().await?;
        Ok(project)
    }

    /// Removes a project from ff. Its repository and branches are untouched.
    pub async fn delete(&self, id: &ProjectId) -> DomainResult<()> {
        let mut tx = db::begin_write(&self.db).await?;
        store::get_live(&mut tx, id.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(id))?;
        let live = self.workspaces.count(&mut tx, id.as_str()).await?;
        if live > 0 {
            return Err(DomainError::Conflict(format!(
                "the project still has {live} live workspace(s); archive them first"
            )));
        }
        store::archive(&mut tx, id.as_str(), clock::now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Applies `githubOwner`, `githubRepo` and `githubHost` (each absent: unchanged; null:
/// cleared), checked with GitHub's own rules. Owner and repository are set or cleared together.
fn github_repository(project: &mut Project, patch: &PatchProject) -> DomainResult<()> {
    fn pick(patched: &Option<Option<String>>, current: &Option<String>) -> Option<String> {
        match patched {
            Some(value) => value.as_deref().map(str::trim).map(str::to_owned),
            None => current.clone(),
        }
    }
    let owner = pick(&patch.github_owner, &project.github_owner);
    let repo = pick(&patch.github_repo, &project.github_repo);
    let host = pick(&patch.github_host, &project.github_host);
    if let Some(owner) = &owner {
        Owner::parse(owner)
            .map_err(|e| DomainError::invalid("githubOwner", format!("githubOwner: {e}")))?;
    }
    if let Some(repo) = &repo {
        RepoName::parse(repo)
            .map_err(|e| DomainError::invalid("githubRepo", format!("githubRepo: {e}")))?;
    }
    let host = host
        .map(|h| {
            Host::parse(&h)
                .map(|h| h.to_string())
                .map_err(|e| DomainError::invalid("githubHost", format!("githubHost: {e}")))
        })
        .transpose()?
        // github.com is the default, stored as none.
        .filter(|h| h != GITHUB_COM);
    match (&owner, &repo) {
        (Some(_), None) => {
            return Err(DomainError::invalid(
                "githubRepo",
                "githubRepo is needed with githubOwner",
            ))
        }
        (None, Some(_)) => {
            return Err(DomainError::invalid(
                "githubOwner",
                "githubOwner is needed with githubRepo",
            ))
        }
        _ => {}
    }
    project.github_owner = owner;
    project.github_repo = repo;
    project.github_host = host;
    Ok(())
}

/// The requested repository path: absolute, `~/` expanded.
fn repo_path(text: &str) -> DomainResult<PathBuf> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::invalid(
            "repoPath",
            "repoPath must not be empty",
        ));
    }
    let path = match text.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|home| Path::new(&home).join(rest))
            .ok_or_else(|| {
                DomainError::invalid("repoPath", "repoPath uses ~ but HOME is not set")
            })?,
        None => PathBuf::from(text),
    };
    if !path.is_absolute() {
        return Err(DomainError::invalid(
            "repoPath",
            format!("repoPath must be an absolute path, got {text:?}"),
        ));
    }
    Ok(path)
}
