//! Polling a repository (github.md §2): every live workspace in one summary request of at most
//! 50 aliases, which serves both sync (known PRs) and discovery (branches without one); then
//! compare-and-swap writes and `PrSnapshotUpdated` for what changed.

use super::queries::{summary_batch, Alias, MAX_ALIASES};
use super::store::{self, Counts, PrRecord, Stored, Watched};
use super::{repository_of, Github, Observed, Unavailable};
use crate::clock;
use crate::db;
use crate::error::{DomainError, DomainResult};
use crate::events::DomainEvent;
use ff_core::enums::{PrState, WorkspaceStatus};
use ff_core::github::{
    GithubRepo, PrUrl, PullRequestSummary, RepositoryCandidates, RepositoryPullRequest,
};
use ff_core::ids::{ProjectId, WorkspaceId};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What GitHub says about a PR, laid over what was stored. `previous.conflict` stands while
/// GitHub is still computing mergeability.
pub fn observe(previous: &PrRecord, summary: &PullRequestSummary) -> PrRecord {
    PrRecord {
        url: Some(summary.url.clone()),
        number: Some(summary.number),
        state: summary.pr_state(),
        review: summary.review_decision.as_ref().and_then(|d| d.known()),
        ci: summary.ci_status(),
        conflict: summary.has_merge_conflict(previous.conflict),
        head_oid: Some(summary.head_ref_oid.clone()),
        github_updated_at: Some(summary.updated_at),
        counts: Some(Counts {
            reviews: summary.reviews.map_or(0, |c| c.total_count),
            comments: summary.comments.total_count,
            threads: summary.review_threads.total_count,
        }),
        synced_at: previous.synced_at,
    }
}

/// One alias's data, or why it has none (the alias failed alone; others are unaffected).
fn alias_data<T: DeserializeOwned>(
    answer: &super::transport::Answer,
    key: &str,
) -> Result<Option<T>, String> {
    if let Some(error) = answer.error_for(key) {
        return Err(format!(
            "{}{}",
            error
                .kind
                .as_deref()
                .map(|k| format!("{k}: "))
                .unwrap_or_default(),
            error.message
        ));
    }
    let value = answer.data.get(key).cloned().unwrap_or(Value::Null);
    serde_json::from_value::<Option<T>>(value).map_err(|e| format!("unexpected answer: {e}"))
}

impl Github {
    /// Every repository's poll, each skipped while its previous one is still running.
    pub(super) async fn poll_all(&self) {
        let projects = match self.live_repositories().await {
            Ok(projects) => projects,
            Err(e) => return tracing::error!("cannot list the projects to poll: {e}"),
        };
        for (project, _) in projects {
            if !self
                .inner
                .in_flight
                .lock()
                .expect("in-flight set")
                .insert(project.clone())
            {
                continue;
            }
            let this = self.clone();
            self.inner.tasks.spawn(async move {
                if let Err(e) = this.poll(&project, None).await {
                    tracing::debug!(%project, "poll skipped or failed: {e}");
                }
                this.inner
                    .in_flight
                    .lock()
                    .expect("in-flight set")
                    .remove(&project);
            });
        }
    }

    pub(super) async fn live_repositories(&self) -> DomainResult<Vec<(ProjectId, GithubRepo)>> {
        let projects =
            crate::projects::store::list_live(&mut *self.inner.db.acquire().await?).await?;
        Ok(projects
            .iter()
            .filter_map(|p| Some((p.id.clone(), repository_of(p)?)))
            .collect())
    }

    /// Reads the PRs of `project`'s live workspaces (or only `only`'s) and records what changed.
    pub(super) async fn poll(
        &self,
        project: &ProjectId,
        only: Option<&WorkspaceId>,
    ) -> DomainResult<()> {
        let (_, repo) = self.repository(project).await?;
        let _one_at_a_time = self.inner.repositories.lock(project.as_str()).await;
        let watched = store::watched(&mut *self.inner.db.acquire().await?, project, only).await?;
        let plan: Vec<(Alias, Watched)> = watched
            .into_iter()
            .filter_map(|w| {
                let pr = &w.pr.record;
                let alias = match (pr.number, &w.branch) {
                    // A merged PR cannot change any more, unless asked explicitly.
                    (Some(_), _) if pr.state == PrState::Merged && only.is_none() => return None,
                    (Some(number), _) => Alias::Known(number),
                    (None, Some(branch)) if pr.url.is_none() => Alias::Branch(branch.clone()),
                    _ => return None,
                };
                Some((alias, w))
            })
            .collect();
        for batch in plan.chunks(MAX_ALIASES) {
            let discovered = self.summaries(&repo, batch).await?;
            if !discovered.is_empty() {
                // The discovered PRs, read whole right away: they show within this poll.
                self.summaries(&repo, &discovered).await?;
            }
        }
        Ok(())
    }

    /// One summary request; applies the known PRs and returns the discovered ones as `Known`
    /// aliases to read next.
    async fn summaries(
        &self,
        repo: &GithubRepo,
        batch: &[(Alias, Watched)],
    ) -> Result<Vec<(Alias, Watched)>, Unavailable> {
        let aliases: Vec<Alias> = batch.iter().map(|(a, _)| a.clone()).collect();
        let (query, variables) = summary_batch(repo.owner.as_str(), repo.repo.as_str(), &aliases);
        let answer = self.request(&repo.host, &query, &variables).await?;
        let mut seen = Vec::new();
        let mut discovered = Vec::new();
        for (i, (alias, watched)) in batch.iter().enumerate() {
            let key = alias.key(i);
            let id = &watched.workspace_id;
            match alias {
                Alias::Known(number) => match alias_data::<RepositoryPullRequest>(&answer, &key) {
                    Ok(Some(RepositoryPullRequest {
                        pull_request: Some(summary),
                    })) => seen.push((watched, summary)),
                    Ok(_) => {
                        tracing::warn!(workspace = %id, "PR #{number} of {repo} is not there; keeping what is known")
                    }
                    Err(why) => {
                        tracing::warn!(workspace = %id, "PR #{number} of {repo} could not be read, keeping what is known: {why}")
                    }
                },
                Alias::Branch(branch) => match alias_data::<RepositoryCandidates>(&answer, &key) {
                    Ok(Some(candidates)) => {
                        if let Some(found) =
                            candidates.discovered(repo.owner.as_str(), watched.created_at)
                        {
                            tracing::info!(workspace = %id, "discovered PR #{} for branch {branch}", found.number);
                            discovered.push((Alias::Known(found.number), watched.clone()));
                        }
                    }
                    Ok(None) => {
                        tracing::warn!(workspace = %id, "{repo} is not there; cannot look for a PR of {branch}")
                    }
                    Err(why) => {
                        tracing::warn!(workspace = %id, "cannot look for a PR of {branch}: {why}")
                    }
                },
            }
        }
        if let Err(e) = self.apply(&seen).await {
            tracing::error!("cannot record PR summaries: {e}");
        }
        Ok(discovered)
    }

    /// Writes what changed (compare-and-swap on each row as read before the request) in one
    /// transaction, then publishes one event per changed workspace.
    async fn apply(&self, seen: &[(&Watched, PullRequestSummary)]) -> Result<(), sqlx::Error> {
        let now = clock::now();
        let mut read_anew = Vec::new();
        {
            let mut observed = self.inner.observed.lock().expect("observed PRs");
            for (watched, summary) in seen {
                let previous = observed.insert(
                    watched.workspace_id.clone(),
                    Observed {
                        summary: summary.clone(),
                        checked_at: now,
                    },
                );
                if previous.is_none_or(|p| p.summary != *summary) {
                    read_anew.push(watched.workspace_id.clone());
                }
            }
        }
        let mut tx = db::begin_write(&self.inner.db).await?;
        let mut changed = Vec::new();
        for (watched, summary) in seen {
            let previous = &watched.pr.record;
            let mut next = observe(previous, summary);
            if next.same_observation(previous) {
                continue;
            }
            next.synced_at = Some(now);
            if store::write(&mut tx, watched.workspace_id.as_str(), &watched.pr, &next).await? {
                changed.push((watched.workspace_id.clone(), next));
            } else {
                tracing::debug!(workspace = %watched.workspace_id, "the PR row changed meanwhile; the next poll looks again");
            }
        }
        tx.commit().await?;
        for (workspace_id, record) in changed {
            tracing::info!(workspace = %workspace_id, state = %record.state, ci = %record.ci, "PR snapshot updated");
            self.inner.bus.publish(DomainEvent::PrSnapshotUpdated {
                workspace_id,
                pr: record.info(),
            });
        }
        for workspace_id in read_anew {
            self.inner
                .bus
                .publish(DomainEvent::PullRequestRead { workspace_id });
        }
        Ok(())
    }

    /// `POST /api/workspaces/{id}/pr/refresh`: this workspace's PR now, within the budget.
    pub async fn refresh(&self, id: &WorkspaceId) -> DomainResult<ff_core::github::PrView> {
        let workspace = self.workspace(id).await?;
        let project = &workspace.workspace.project_id;
        let (_, repo) = self.repository(project).await?;
        self.admit(&repo.host).await?;
        self.poll(project, Some(id)).await?;
        self.pr_view(id).await
    }

    /// `POST /api/workspaces/{id}/pr`: attaches a PR of the project's repository by hand, then
    /// reads it. Nothing is written when the URL is refused.
    pub async fn attach(
        &self,
        id: &WorkspaceId,
        url: &str,
    ) -> DomainResult<ff_core::github::PrView> {
        let pr = PrUrl::parse(url)
            .map_err(|e| DomainError::invalid("url", format!("url {:?} {e}", shorten(url))))?;
        let (project, repo) = self.live_workspace_repository(id).await?;
        if !pr.repo().same_repository(&repo) {
            return Err(DomainError::invalid(
                "url",
                format!("{pr} is not a pull request of this project's repository {repo}"),
            ));
        }
        self.attach_url(id, &project, &pr, true).await?;
        if let Err(e) = self.poll(&project, Some(id)).await {
            tracing::warn!(workspace = %id, "attached {pr}, but cannot read it yet: {e}");
        }
        self.pr_view(id).await
    }

    /// An agent's tool output named a PR (`PullRequestSeen`): attached at once when it belongs
    /// to the project's repository and the workspace has no other PR.
    pub(super) async fn seen(&self, id: &WorkspaceId, url: &str) -> DomainResult<()> {
        let pr = PrUrl::parse(url).map_err(|e| DomainError::invalid("url", e.to_string()))?;
        let (project, repo) = self.live_workspace_repository(id).await?;
        if !pr.repo().same_repository(&repo) {
            tracing::debug!(workspace = %id, "{pr} is not of {repo}; not attached");
            return Ok(());
        }
        if self.attach_url(id, &project, &pr, false).await? {
            self.poll(&project, Some(id)).await?;
        }
        Ok(())
    }

    async fn live_workspace_repository(
        &self,
        id: &WorkspaceId,
    ) -> DomainResult<(ProjectId, GithubRepo)> {
        let workspace = self.workspace(id).await?.workspace;
        if workspace.status.is_hidden() {
            return Err(DomainError::Conflict(format!(
                "the workspace is {}; a PR can no longer be attached",
                workspace.status
            )));
        }
        debug_assert_ne!(workspace.status, WorkspaceStatus::Archived);
        let (_, repo) = self.repository(&workspace.project_id).await?;
        Ok((workspace.project_id, repo))
    }

    /// Records `pr` as the workspace's PR; `replace` lets it take the place of another one.
    /// False when it was already attached, or another one is and `replace` is off.
    pub(super) async fn attach_url(
        &self,
        id: &WorkspaceId,
        project: &ProjectId,
        pr: &PrUrl,
        replace: bool,
    ) -> DomainResult<bool> {
        let _one_at_a_time = self.inner.repositories.lock(project.as_str()).await;
        let mut tx = db::begin_write(&self.inner.db).await?;
        let read: Stored = store::get(&mut tx, id.as_str()).await?;
        if read.record.number == Some(pr.number()) {
            return Ok(false);
        }
        if read.record.number.is_some() && !replace {
            return Ok(false);
        }
        let next = PrRecord {
            url: Some(pr.as_str().to_owned()),
            number: Some(pr.number()),
            synced_at: Some(clock::now()),
            ..PrRecord::empty()
        };
        if !store::write(&mut tx, id.as_str(), &read, &next).await? {
            return Err(DomainError::Conflict(
                "the PR changed meanwhile; try again".into(),
            ));
        }
        tx.commit().await?;
        self.inner.observed.lock().expect("observed PRs").remove(id);
        tracing::info!(workspace = %id, "attached {pr}");
        self.inner.bus.publish(DomainEvent::PrSnapshotUpdated {
            workspace_id: id.clone(),
            pr: next.info(),
        });
        Ok(true)
    }
}

/// A URL from the user, cut for an error message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
