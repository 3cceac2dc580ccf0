//! What the API reads: a workspace's PR with its checks and details (github.md §4), and how ff
//! stands with each host.

use super::auth;
use super::budget::HostBudget;
use super::store;
use super::transport::Failure;
use super::{endpoint, queries, typed, Github, Known, Unavailable};
use crate::clock;
use crate::error::{DomainError, DomainResult};
use ff_core::github::{
    check_lines, DetailsAnswer, HostStatus, PrDetailsView, PrView, PullRequestDetails,
    RollupContext,
};
use ff_core::github::{Host, ViewerAnswer};
use ff_core::ids::{ProjectId, WorkspaceId};
use serde_json::json;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a read waits for a token lookup it started (`GH_TOKEN` is at hand at once; `gh` may
/// take seconds).
const FIRST_LOOK: Duration = Duration::from_millis(300);

impl Github {
    /// The stored snapshot, the head commit's checks from the latest summary, and the details
    /// as last read. It never waits on GitHub: details older than the PR are shown as they are
    /// and read again in the background (`detailsPending`).
    pub async fn pr_view(&self, id: &WorkspaceId) -> DomainResult<PrView> {
        self.view(id, true).await
    }

    /// The same view without reading stale details again: no request to GitHub at all (ff's
    /// agents ask through MCP, and must not spend the user's budget).
    pub async fn pr_view_stored(&self, id: &WorkspaceId) -> DomainResult<PrView> {
        self.view(id, false).await
    }

    async fn view(&self, id: &WorkspaceId, refresh: bool) -> DomainResult<PrView> {
        self.workspace(id).await?;
        let stored = store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await?;
        let observed = self
            .inner
            .observed
            .lock()
            .expect("observed PRs")
            .get(id)
            .cloned();
        let fresh = {
            let cache = self.inner.details.lock().expect("details cache");
            cache
                .get(id)
                .is_some_and(|(at, _)| Some(*at) == stored.record.github_updated_at)
        };
        let details_pending = stored.record.number.is_some() && !fresh;
        if details_pending && refresh {
            self.refresh_details(id);
        }
        let details = stored.record.number.and_then(|_| self.cached_details(id));
        let details_error = self
            .inner
            .details_errors
            .lock()
            .expect("details errors")
            .get(id)
            .cloned();
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
            details_pending,
        })
    }

    /// Reads the workspace's PR details in the background, once at a time per workspace.
    fn refresh_details(&self, id: &WorkspaceId) {
        let Some(running) = self.inner.details_in_flight.start(id) else {
            return;
        };
        let this = self.clone();
        let id = id.clone();
        self.inner.tasks.spawn(async move {
            let _running = running;
            let result = this.raw_details(&id).await;
            let mut errors = this.inner.details_errors.lock().expect("details errors");
            match result {
                Ok(_) => errors.remove(&id),
                Err(e) => errors.insert(id, e.to_string()),
            };
        });
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

    /// The PR's reviews, conversation and review threads as GitHub answered them: from the
    /// cache while GitHub's `updatedAt` of the PR is unchanged, otherwise read now.
    pub(super) async fn raw_details(
        &self,
        id: &WorkspaceId,
    ) -> DomainResult<Option<Arc<PullRequestDetails>>> {
        let workspace = self.workspace(id).await?;
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
            .named_repositories()
            .await?
            .into_iter()
            .map(|(_, repo)| repo.host)
            .collect();
        hosts.sort();
        hosts.dedup();
        let mut statuses = Vec::with_capacity(hosts.len());
        for host in hosts {
            statuses.push(if self.is_github(&host).await {
                self.host_status(&host).await
            } else {
                HostStatus::not_github(host.to_string())
            });
        }
        Ok(statuses)
    }

    /// The status of the project's host; `None` when the project has no GitHub repository.
    pub async fn project_status(&self, project: &ProjectId) -> DomainResult<Option<HostStatus>> {
        let project = self.project(project).await?;
        Ok(match super::repository_of(&project) {
            Some(repo) if self.is_github(&repo.host).await => {
                Some(self.host_status(&repo.host).await)
            }
            Some(repo) => Some(HostStatus::not_github(repo.host.to_string())),
            None => None,
        })
    }

    /// What is known of `host` now. A token still to be looked for is looked for in the
    /// background (`gh` may be slow): a read waits for it at most [`FIRST_LOOK`], so the first
    /// page of a project says how GitHub stands when the token is at hand, and a slow `gh` costs
    /// a page no more than that.
    async fn host_status(&self, host: &Host) -> HostStatus {
        if self.needs_resolving(host, true).await {
            if let Some(running) = self.inner.resolving_for_status.start(&host.to_string()) {
                let this = self.clone();
                let host = host.clone();
                let looking = self.inner.tasks.spawn(async move {
                    let _running = running;
                    this.know_host(&host, true).await;
                });
                // Whatever the outcome, the read goes on with what is known.
                let _ = tokio::time::timeout(FIRST_LOOK, looking).await;
            }
        }
        let hosts = self.inner.hosts.lock().await;
        match hosts.get(host.as_str()) {
            Some(known) => known.budget.status(&self.limits(), clock::now()),
            None => HostStatus::unknown(host.to_string()),
        }
    }

    /// `POST /api/github/hosts/{host}/retry` ("Try again"): looks for the token afresh and asks
    /// GitHub once whose it is, even if it was refused or the host is paused; answers with how
    /// the host stands after that. Until GitHub accepts it, a refused token stays refused for
    /// every other request.
    pub async fn retry(&self, host: &str) -> DomainResult<HostStatus> {
        let host = Host::parse(host.trim())
            .map_err(|e| DomainError::invalid("host", format!("host: {e}")))?;
        if !self.is_github(&host).await {
            return Err(DomainError::Conflict(
                HostStatus::not_github(host.to_string())
                    .message
                    .unwrap_or_default(),
            ));
        }
        let credentials = {
            let _one_at_a_time = self.inner.resolving.lock(host.as_str()).await;
            let credentials = auth::resolve(&host, &self.inner.config).await;
            let mut hosts = self.inner.hosts.lock().await;
            let known = hosts.entry(host.to_string()).or_insert_with(|| Known {
                budget: HostBudget::new(host.to_string(), credentials.clone()),
                resolved_at: Instant::now(),
                asked_login: false,
            });
            known.budget.set_credentials(credentials.clone());
            known.resolved_at = Instant::now();
            credentials
        };
        if let Ok(credentials) = credentials {
            let config = &self.inner.config;
            let url = endpoint::graphql_url(&host, config.api_url.as_deref());
            let limits = (config.request_timeout, config.max_answer_bytes);
            let answer = self
                .inner
                .transport
                .graphql(
                    &url,
                    &credentials.token,
                    limits,
                    queries::VIEWER,
                    &Value::Null,
                )
                .await;
            let mut hosts = self.inner.hosts.lock().await;
            if let Some(known) = hosts.get_mut(host.as_str()) {
                match answer
                    .map_err(Unavailable::Failed)
                    .and_then(typed::<ViewerAnswer>)
                {
                    Ok((viewer, answer)) => {
                        known.budget.retry(Ok(credentials));
                        known.budget.succeeded(answer.rate);
                        known.budget.login = Some(viewer.viewer.login);
                        known.asked_login = true;
                    }
                    Err(Unavailable::Failed(failure)) => {
                        tracing::warn!(%host, "Try again: {failure}");
                        if !matches!(failure, Failure::Unauthorized(_)) {
                            known.budget.retry(Ok(credentials));
                        }
                        known.budget.failed(&failure, &self.limits(), clock::now());
                    }
                    Err(Unavailable::Refused(refusal)) => {
                        tracing::warn!(%host, "Try again: {refusal}");
                    }
                }
            }
        }
        Ok(self.host_status(&host).await)
    }
}
