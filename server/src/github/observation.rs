//! What the ratchet decides on (ratchet.md §2): the PR as the latest poll read it, its reviews
//! and threads when the decision needs them (cached while the PR is unchanged), and whose token
//! this is, so that the user's own feedback never triggers a fixer. No request of its own while
//! the poll keeps the PR fresh.

use super::{store, Github};
use crate::error::{DomainError, DomainResult};
use ff_core::enums::CiStatus;
use ff_core::github::{ratchet_observation, Observation, PrUrl, PullRequestState};
use ff_core::ids::WorkspaceId;

impl Github {
    /// `None` when the workspace has no PR.
    pub async fn observation(&self, id: &WorkspaceId) -> DomainResult<Option<Observation>> {
        let workspace = self.workspace(id).await?;
        let (project, repo) = self.repository(&workspace.project_id).await?;
        let stored = store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await?;
        let Some(number) = stored.record.number else {
            return Ok(None);
        };
        let summary = match self.observed_summary(id) {
            Some(summary) => summary,
            // Not read since ff started, or just attached: read it now.
            None => {
                self.poll(&workspace.project_id, Some(id)).await?;
                self.observed_summary(id).ok_or_else(|| {
                    DomainError::Upstream(format!("PR #{number} of {repo} could not be read"))
                })?
            }
        };
        let conflict = store::get(&mut *self.inner.db.acquire().await?, id.as_str())
            .await?
            .record
            .conflict;
        // Reviews matter only past the ratchet's CI gate (D§6.2 step 5.3).
        let decides_on_reviews = summary.state == PullRequestState::Open
            && !summary.merged
            && (matches!(summary.ci_status(), CiStatus::Success | CiStatus::Failure) || conflict);
        let details = if decides_on_reviews {
            self.raw_details(id).await?
        } else {
            None
        };
        let self_login = self.login(&repo.host).await?;
        Ok(Some(Observation {
            pr: ratchet_observation(&summary, details.as_deref(), conflict),
            failing: summary.failing_checks(),
            head: summary.head_ref_name.clone(),
            head_oid: summary.head_ref_oid.clone(),
            url: PrUrl::new(repo.clone(), number),
            repo,
            default_branch: project.default_branch,
            self_login,
        }))
    }

    fn observed_summary(&self, id: &WorkspaceId) -> Option<ff_core::github::PullRequestSummary> {
        let observed = self.inner.observed.lock().expect("observed PRs");
        observed.get(id).map(|o| o.summary.clone())
    }
}
