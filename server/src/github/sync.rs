//! Polling a repository (github.md §2): every live workspace in one summary request of at most
//! 50 aliases, which serves both sync (known PRs) and discovery (branches without one, or whose
//! PR was closed); then compare-and-swap writes and `PrSnapshotUpdated` for what changed. And
//! attaching a PR: by hand, or the one an agent's tool call says it opened, each only once
//! GitHub has confirmed it.

use super::queries::{summary_batch, Alias, MAX_ALIASES};
use super::store::{self, Counts, PrRecord, Stored, Watched};
use super::transport::Failure;
use super::{repository_of, Github, Observed, Unavailable};
use crate::clock;
use crate::db;
use crate::error::{DomainError, DomainResult};
use crate::events::DomainEvent;
use ff_core::enums::{PrState, WorkspaceStatus};
use ff_core::github::{
    Discovery, GithubRepo, PrUrl, PullRequestState, PullRequestSummary, RepositoryCandidates,
    RepositoryPullRequest,
};
use ff_core::ids::{ProjectId, WorkspaceId};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What GitHub says about a PR, laid over what was stored. `previous.conflict` stands while
/// GitHub is still computing mergeability.
pub fn observe(previous: &PrRecord, summary: &PullRequestSummary) -> PrRecord {
    PrRecord {
        url: Some(summary.url.clone()),
        number: Some(summary.number),
        state: summary.pr_state(),
        review: summary.review_decision.as_ref().and_then(|d| d.known()),
        ci: summary.ci_status(),
        // The stored mark stands while GitHub computes, for the same PR only.
        conflict: summary
            .has_merge_conflict(previous.conflict && previous.number == Some(summary.number)),
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
            let Some(running) = self.inner.in_flight.start(&project) else {
                continue;
            };
            let this = self.clone();
            self.inner.tasks.spawn(async move {
                let _running = running;
                if let Err(e) = this.poll(&project, None).await {
                    tracing::debug!(%project, "poll skipped or failed: {e}");
                }
            });
        }
    }

    /// Every live project's repository on a GitHub host (no other host is ever sent a request).
    pub(super) async fn live_repositories(&self) -> DomainResult<Vec<(ProjectId, GithubRepo)>> {
        let mut github = Vec::new();
        for (project, repo) in self.named_repositories().await? {
            if self.is_github(&repo.host).await {
                github.push((project, repo));
            }
        }
        Ok(github)
    }

    /// Every live project's repository as its origin (or the user) names it, on any host.
    pub(super) async fn named_repositories(&self) -> DomainResult<Vec<(ProjectId, GithubRepo)>> {
        let projects = self.inner.directory.live_projects().await?;
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
        let (record, repo) = self.repository(project).await?;
        let clone = PathBuf::from(&record.repo_path);
        let _one_at_a_time = self.inner.repositories.lock(project.as_str()).await;
        let watched = store::watched(&mut *self.inner.db.acquire().await?, project, only).await?;
        let plan: Vec<(Alias, Watched)> = watched
            .into_iter()
            .filter_map(|w| {
                let pr = &w.pr.record;
                let alias = match (pr.number, &w.branch) {
                    // A merged PR cannot change any more, unless asked explicitly.
                    (Some(_), _) if pr.state == PrState::Merged && only.is_none() => return None,
                    // A PR closed without merging does not end discovery: a newer PR of the
                    // branch replaces it (and the branch's PRs show it if it is reopened).
                    (Some(_), Some(branch)) if pr.state == PrState::Closed && only.is_none() => {
                        Alias::Branch(branch.clone())
                    }
                    (Some(number), _) => Alias::Known(number),
                    (None, Some(branch)) if pr.url.is_none() => Alias::Branch(branch.clone()),
                    _ => return None,
                };
                Some((alias, w))
            })
            .collect();
        for batch in plan.chunks(MAX_ALIASES) {
            let discovered = self.summaries(&repo, &clone, batch).await?;
            if !discovered.is_empty() {
                // The discovered PRs, read whole right away: they show within this poll.
                self.summaries(&repo, &clone, &discovered).await?;
            }
        }
        Ok(())
    }

    /// Which of `oids` are commits of the project's clone.
    async fn known_commits(&self, clone: &Path, oids: Vec<String>) -> Vec<bool> {
        if oids.is_empty() {
            return Vec::new();
        }
        let count = oids.len();
        let path = clone.to_owned();
        let lookup = self
            .inner
            .git
            .read(clone, "looking up the PRs' head commits", move || {
                Ok(crate::git::inspect::known_commits(&path, &oids))
            })
            .await;
        lookup.unwrap_or_else(|e| {
            tracing::warn!("cannot tell which commits the clone has ({e}); none is taken as known");
            vec![false; count]
        })
    }

    /// PR `number` of `repo` as GitHub has it now; `None` when it has no such PR (or the token
    /// cannot see it).
    async fn read_summary(
        &self,
        repo: &GithubRepo,
        number: u64,
    ) -> Result<Option<PullRequestSummary>, Unavailable> {
        let alias = Alias::Known(number);
        let key = alias.key(0);
        let (query, variables) = summary_batch(repo.owner.as_str(), repo.repo.as_str(), &[alias]);
        let answer = self.request(&repo.host, &query, &variables).await?;
        if answer
            .error_for(&key)
            .is_some_and(|e| e.kind.as_deref() == Some("NOT_FOUND"))
        {
            return Ok(None);
        }
        alias_data::<RepositoryPullRequest>(&answer, &key)
            .map(|found| found.and_then(|r| r.pull_request))
            .map_err(|why| Unavailable::Failed(Failure::Refused(why)))
    }

    /// One summary request; applies the known PRs and returns the discovered ones as `Known`
    /// aliases to read next.
    async fn summaries(
        &self,
        repo: &GithubRepo,
        clone: &Path,
        batch: &[(Alias, Watched)],
    ) -> Result<Vec<(Alias, Watched)>, Unavailable> {
        let aliases: Vec<Alias> = batch.iter().map(|(a, _)| a.clone()).collect();
        let (query, variables) = summary_batch(repo.owner.as_str(), repo.repo.as_str(), &aliases);
        let answer = self.request(&repo.host, &query, &variables).await?;
        let mut seen = Vec::new();
        let mut candidates_of = Vec::new();
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
                        let rule = if watched.resumed {
                            Discovery::Resumed
                        } else {
                            Discovery::Since(watched.created_at)
                        };
                        let eligible: Vec<_> = candidates
                            .eligible(repo.owner.as_str(), rule)
                            .into_iter()
                            .cloned()
                            .collect();
                        if !eligible.is_empty() {
                            candidates_of.push((watched, eligible));
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
        // Of each branch's eligible PRs, the newest whose head commit this clone has: a
        // same-named branch pushed from another clone is not this workspace's.
        let oids: Vec<String> = candidates_of
            .iter()
            .flat_map(|(_, eligible)| eligible.iter().map(|c| c.head_ref_oid.clone()))
            .collect();
        let mut known = self.known_commits(clone, oids).await.into_iter();
        let mut discovered = Vec::new();
        for (watched, eligible) in candidates_of {
            let flags: Vec<bool> = known.by_ref().take(eligible.len()).collect();
            let found = eligible
                .into_iter()
                .zip(flags)
                .find_map(|(candidate, known)| known.then_some(candidate));
            let Some(found) = found else { continue };
            let current = watched.pr.record.number;
            if current == Some(found.number) && found.state == PullRequestState::Closed {
                continue;
            }
            tracing::info!(workspace = %watched.workspace_id, "discovered PR #{} for branch {}", found.number, found.head_ref_name);
            discovered.push((Alias::Known(found.number), watched.clone()));
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
        let project = &workspace.project_id;
        let (_, repo) = self.repository(project).await?;
        self.admit(&repo.host).await?;
        self.poll(project, Some(id)).await?;
        self.pr_view(id).await
    }

    /// `POST /api/workspaces/{id}/pr`: attaches a PR of the project's repository by hand, once
    /// GitHub confirmed it exists, then reads it. Nothing is written when it is refused.
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
        if self.read_summary(&repo, pr.number()).await?.is_none() {
            return Err(DomainError::invalid(
                "url",
                format!(
                    "{repo} has no pull request #{} (or the token cannot see it)",
                    pr.number()
                ),
            ));
        }
        self.attach_url(id, &project, &pr, true).await?;
        if let Err(e) = self.poll(&project, Some(id)).await {
            tracing::warn!(workspace = %id, "attached {pr}, but cannot read it yet: {e}");
        }
        self.pr_view(id).await
    }

    /// A tool call that opens PRs named this one (`PullRequestSeen`): attached when GitHub says
    /// its head is this workspace's branch in the project's own repository (never a fork), with
    /// a head commit this clone has, and the workspace has no PR or only a closed one.
    pub(super) async fn seen(&self, id: &WorkspaceId, url: &str) -> DomainResult<()> {
        let pr = PrUrl::parse(url).map_err(|e| DomainError::invalid("url", e.to_string()))?;
        let (project, repo) = self.live_workspace_repository(id).await?;
        if !pr.repo().same_repository(&repo) {
            tracing::info!(workspace = %id, "{pr} is not of {repo}; not attached");
            return Ok(());
        }
        let Some(branch) = self.workspace(id).await?.branch_name else {
            return Ok(());
        };
        let stored = store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await?;
        let taken = stored.record.number.is_some() && stored.record.state != PrState::Closed;
        if taken || stored.record.number == Some(pr.number()) {
            return Ok(());
        }
        let Some(summary) = self.read_summary(&repo, pr.number()).await? else {
            tracing::info!(workspace = %id, "{pr} is not on GitHub; not attached");
            return Ok(());
        };
        if let Some(why) = summary.not_of_branch(repo.owner.as_str(), &branch) {
            tracing::info!(workspace = %id, "{why}; not attached");
            return Ok(());
        }
        let clone = PathBuf::from(self.project(&project).await?.repo_path);
        let known = self
            .known_commits(&clone, vec![summary.head_ref_oid.clone()])
            .await;
        if known != [true] {
            tracing::info!(workspace = %id, "the head commit of {pr} is not in this clone; not attached");
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
        let workspace = self.workspace(id).await?;
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

    /// Records `pr` as the workspace's PR; `replace` lets it take the place of another one (a
    /// closed one always gives way). False when it was already attached, or another one is
    /// and may not be replaced.
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
        if read.record.number.is_some() && !replace && read.record.state != PrState::Closed {
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
