//! Opening a PR from a workspace (github.md §4): push its branch to `origin` with git, then
//! `createPullRequest` against the project's default branch, then attach it.

use super::{queries, Github, Unavailable};
use crate::error::{DomainError, DomainResult};
use ff_core::enums::WorkspaceStatus;
use ff_core::github::{CreatePr, CreatePullRequestAnswer, PrUrl, PrView, RepositoryIdAnswer};
use ff_core::ids::WorkspaceId;
use serde_json::json;
use std::path::Path;

/// GitHub's own limits on a PR's title and body.
const TITLE_MAX_CHARS: usize = 256;
const BODY_MAX_CHARS: usize = 65_536;

impl Github {
    pub async fn create_pr(&self, id: &WorkspaceId, request: CreatePr) -> DomainResult<PrView> {
        let title = match request.title.as_deref().map(str::trim) {
            Some("") => return Err(DomainError::invalid("title", "title must not be empty")),
            Some(t) if t.chars().count() > TITLE_MAX_CHARS => {
                return Err(DomainError::invalid(
                    "title",
                    format!("title must be at most {TITLE_MAX_CHARS} characters"),
                ))
            }
            other => other.map(str::to_owned),
        };
        if request
            .body
            .as_ref()
            .is_some_and(|b| b.chars().count() > BODY_MAX_CHARS)
        {
            return Err(DomainError::invalid(
                "body",
                format!("body must be at most {BODY_MAX_CHARS} characters"),
            ));
        }
        // Two clicks must not open two PRs: the second waits, then finds the first attached.
        let _one_at_a_time = self.inner.repositories.lock(&format!("create:{id}")).await;
        let workspace = &self.workspace(id).await?;
        if workspace.status != WorkspaceStatus::Ready {
            return Err(DomainError::Conflict(format!(
                "only a ready workspace can open a PR; this one is {}",
                workspace.status
            )));
        }
        let (Some(branch), Some(worktree)) = (&workspace.branch_name, &workspace.worktree_path)
        else {
            return Err(DomainError::Conflict(
                "the workspace has no branch yet".into(),
            ));
        };
        let (project, repo) = self.repository(&workspace.project_id).await?;
        let stored = super::store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await?;
        let closed = stored.record.state == ff_core::enums::PrState::Closed;
        if let Some(url) = stored
            .record
            .url
            .filter(|_| stored.record.number.is_some() && !closed)
        {
            return Err(DomainError::Conflict(format!(
                "a pull request is already attached: {url}"
            )));
        }
        // Nothing is pushed when GitHub cannot be asked afterwards.
        self.admit(&repo.host).await?;
        self.inner
            .git
            .push(Path::new(worktree), &["-u", "origin", branch.as_str()])
            .await
            .map_err(|e| {
                let said = e.stderr();
                DomainError::Upstream(if said.is_empty() {
                    format!("cannot push branch {branch} to origin: {e}")
                } else {
                    format!("cannot push branch {branch} to origin: {said}")
                })
            })?;
        let variables = json!({"owner": repo.owner, "name": repo.repo});
        let (answer, _) = self
            .query::<RepositoryIdAnswer>(&repo.host, queries::REPOSITORY_ID, &variables)
            .await?;
        let repository = answer.repository.ok_or_else(|| {
            DomainError::Upstream(format!("{repo} is not there (or the token cannot see it)"))
        })?;
        let body = request.body.unwrap_or_else(|| default_body(workspace));
        let variables = json!({
            "repositoryId": repository.id,
            "baseRefName": project.default_branch,
            "headRefName": branch,
            "title": title.unwrap_or_else(|| workspace.name.clone()),
            "body": body,
            "draft": request.draft.unwrap_or(false),
        });
        let answer = self
            .request(&repo.host, queries::CREATE_PULL_REQUEST, &variables)
            .await?;
        if let Some(error) = answer.errors.first() {
            return Err(DomainError::Upstream(format!(
                "GitHub did not open the pull request: {}",
                error.message
            )));
        }
        let created: CreatePullRequestAnswer =
            serde_json::from_value(serde_json::Value::Object(answer.data)).map_err(|e| {
                Unavailable::Failed(super::transport::Failure::Malformed(e.to_string()))
            })?;
        let pr = created
            .create_pull_request
            .and_then(|p| p.pull_request)
            .ok_or_else(|| DomainError::Upstream("GitHub opened no pull request".into()))?;
        let url = PrUrl::parse(&pr.url).map_err(|e| {
            DomainError::Upstream(format!(
                "GitHub answered with an odd PR URL {:?}: {e}",
                pr.url
            ))
        })?;
        tracing::info!(workspace = %id, "opened {url}");
        self.attach_url(id, &workspace.project_id, &url, false)
            .await?;
        if let Err(e) = self.poll(&workspace.project_id, Some(id)).await {
            tracing::warn!(workspace = %id, "opened {url}, but cannot read it yet: {e}");
        }
        self.pr_view(id).await
    }
}

/// The workspace's description and the issue it came from.
fn default_body(workspace: &ff_core::api::Workspace) -> String {
    let mut parts = Vec::new();
    if let Some(description) = workspace
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        parts.push(description.trim().to_owned());
    }
    if let Some(issue) = &workspace.github_issue_url {
        parts.push(format!("Resolves {issue}"));
    }
    parts.join("\n\n")
}
