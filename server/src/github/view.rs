//! What the API reads: a workspace's PR with its checks and details (github.md §4), and how ff
//! stands with each host.

use super::store;
use super::{queries, Github};
use crate::clock;
use crate::error::DomainResult;
use ff_core::github::{
    check_lines, DetailsAnswer, HostStatus, PrDetailsView, PrView, PullRequestDetails,
    RollupContext,
};
use ff_core::ids::{ProjectId, WorkspaceId};
use serde_json::json;
use std::sync::Arc;

impl Github {
    /// The stored snapshot, the head commit's checks from the latest summary, and the details
    /// (fetched only when the PR changed since they were last read).
    pub async fn pr_view(&self, id: &WorkspaceId) -> DomainResult<PrView> {
        self.workspace(id).await?;
        let stored = store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await?;
        let observed = self
            .inner
            .observed
            .lock()
            .expect("observed PRs")
            .get(id)
            .cloned();
        let (details, details_error) = match self.details(id).await {
            Ok(details) => (details, None),
            Err(e) => (self.cached_details(id), Some(e.to_string())),
        };
        Ok(PrView {
            pr: stored.record.info(),
            head_oid: stored.record.head_oid,
            checked_at: observed.as_ref().map(|o| o.checked_at),
            checks: observed
                .as_ref()
                .map(|o| check_lines(o.summary.head_checks().unwrap_or_default()))
                .unwrap_or_default(),
            details,
            details_error,
        })
    }

    fn cached_details(&self, id: &WorkspaceId) -> Option<PrDetailsView> {
        let cache = self.inner.details.lock().expect("details cache");
        let (_, details) = cache.get(id)?;
        Some(PrDetailsView::new(details, &self.head_checks(id)))
    }

    /// The head commit's checks as the latest poll read them.
    fn head_checks(&self, id: &WorkspaceId) -> Vec<RollupContext> {
        self.inner
            .observed
            .lock()
            .expect("observed PRs")
            .get(id)
            .and_then(|o| o.summary.head_checks().map(<[RollupContext]>::to_vec))
            .unwrap_or_default()
    }

    /// A PR's reviews, unresolved threads and failing checks. `None` without a PR.
    pub async fn details(&self, id: &WorkspaceId) -> DomainResult<Option<PrDetailsView>> {
        let details = self.raw_details(id).await?;
        Ok(details.map(|d| PrDetailsView::new(&d, &self.head_checks(id))))
    }

    /// The PR's reviews, conversation and review threads as GitHub answered them: from the
    /// cache while GitHub's `updatedAt` of the PR is unchanged, otherwise read now.
    pub(super) async fn raw_details(
        &self,
        id: &WorkspaceId,
    ) -> DomainResult<Option<Arc<PullRequestDetails>>> {
        let workspace = self.workspace(id).await?.workspace;
        let stored = store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await?;
        let Some(number) = stored.record.number else {
            return Ok(None);
        };
        let updated = stored.record.github_updated_at;
        if let Some(updated) = updated {
            let cache = self.inner.details.lock().expect("details cache");
            if let Some((at, details)) = cache.get(id) {
                if *at == updated {
                    return Ok(Some(details.clone()));
                }
            }
        }
        let (_, repo) = self.repository(&workspace.project_id).await?;
        let variables = json!({"owner": repo.owner, "name": repo.repo, "number": number});
        let (answer, _) = self
            .query::<DetailsAnswer>(&repo.host, queries::DETAILS, &variables)
            .await?;
        let Some(details) = answer.repository.and_then(|r| r.pull_request) else {
            return Err(crate::error::DomainError::Upstream(format!(
                "PR #{number} of {repo} is not there"
            )));
        };
        let details = Arc::new(details);
        if let Some(updated) = updated {
            self.inner
                .details
                .lock()
                .expect("details cache")
                .insert(id.clone(), (updated, details.clone()));
        }
        Ok(Some(details))
    }

    /// `GET /api/github/status`: every host a live project uses. A host without a working
    /// token is looked at again (the user may have just logged in).
    pub async fn status(&self) -> DomainResult<Vec<HostStatus>> {
        let mut hosts: Vec<_> = self
            .live_repositories()
            .await?
            .into_iter()
            .map(|(_, repo)| repo.host)
            .collect();
        hosts.sort();
        hosts.dedup();
        let mut statuses = Vec::with_capacity(hosts.len());
        for host in hosts {
            statuses.push(self.host_status(&host).await);
        }
        Ok(statuses)
    }

    /// The status of the project's host; `None` when the project has no GitHub repository.
    pub async fn project_status(&self, project: &ProjectId) -> DomainResult<Option<HostStatus>> {
        let project = self.project(project).await?;
        Ok(match super::repository_of(&project) {
            Some(repo) => Some(self.host_status(&repo.host).await),
            None => None,
        })
    }

    async fn host_status(&self, host: &ff_core::github::Host) -> HostStatus {
        self.know_host(host, true).await;
        let hosts = self.inner.hosts.lock().await;
        hosts
            .get(host.as_str())
            .expect("known above")
            .budget
            .status(&self.limits(), clock::now())
    }
}
