//! Issues as a source of workspaces (github.md §3): the open issues of a project's repository
//! for the create dialog, cached per query, and the first prompt built from one issue.

use super::{queries, Github};
use crate::error::{DomainError, DomainResult};
use ff_core::github::{issue_prompt, IssueAnswer, IssueSummary, IssuesAnswer};
use ff_core::ids::ProjectId;
use serde::Deserialize;
use serde_json::json;
use std::time::Instant;

/// Whose issues the dialog lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assignee {
    /// Assigned to the token's user.
    Me,
    Any,
}

impl Github {
    /// Open issues of the project's repository, newest first, that match `filter` (a number or
    /// words of the title). GitHub is asked at most once a minute per project and assignee.
    pub async fn issues(
        &self,
        project: &ProjectId,
        assignee: Assignee,
        filter: Option<&str>,
    ) -> DomainResult<Vec<IssueSummary>> {
        let key = (project.clone(), assignee);
        let cached = {
            let cache = self.inner.issues.lock().expect("issues cache");
            cache
                .get(&key)
                .filter(|(at, _)| at.elapsed() < self.inner.config.issues_cache)
                .map(|(_, list)| list.clone())
        };
        let list = match cached {
            Some(list) => list,
            None => {
                let (_, repo) = self.repository(project).await?;
                let mut variables = json!({"owner": repo.owner, "name": repo.repo});
                // "Any" leaves the variable out: GitHub reads an explicit null as "nobody".
                if assignee == Assignee::Me {
                    variables["assignee"] = json!(self.login(&repo.host).await?);
                }
                let (answer, _) = self
                    .query::<IssuesAnswer>(&repo.host, queries::ISSUES, &variables)
                    .await?;
                let repository = answer.repository.ok_or_else(|| {
                    DomainError::Upstream(format!(
                        "{repo} is not there (or the token cannot see it)"
                    ))
                })?;
                let list: Vec<IssueSummary> = repository
                    .issues
                    .nodes
                    .iter()
                    .map(IssueSummary::from)
                    .collect();
                self.inner
                    .issues
                    .lock()
                    .expect("issues cache")
                    .insert(key, (Instant::now(), list.clone()));
                list
            }
        };
        Ok(match filter {
            Some(filter) => list.into_iter().filter(|i| i.matches(filter)).collect(),
            None => list,
        })
    }

    /// The first prompt of a workspace created from issue `number` (sessions.md §4): its title,
    /// body and URL, the body fenced and labelled as untrusted data.
    pub async fn issue_prompt(&self, project: &ProjectId, number: u64) -> DomainResult<String> {
        let (_, repo) = self.repository(project).await?;
        let variables = json!({"owner": repo.owner, "name": repo.repo, "number": number});
        let (answer, _) = self
            .query::<IssueAnswer>(&repo.host, queries::ISSUE, &variables)
            .await?;
        let issue = answer
            .repository
            .and_then(|r| r.issue)
            .ok_or_else(|| DomainError::NotFound(format!("{repo} has no issue #{number}")))?;
        Ok(issue_prompt(&issue))
    }
}
