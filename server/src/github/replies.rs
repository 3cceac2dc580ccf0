//! Replies on the review threads a ratchet fixer addressed (issue 19 §3): the threads read fresh
//! when its turn ends, then `addPullRequestReviewThreadReply`, `resolveReviewThread` and
//! `requestReviews`. Each mutation goes through the host's budget like any request, and counts
//! on it (mutations state no `rateLimit`).

use super::{queries, store, Github};
use crate::error::{DomainError, DomainResult};
use ff_core::github::GithubRepo;
use ff_core::ids::WorkspaceId;
use serde::Deserialize;
use serde_json::{json, Value};

/// What GitHub counts for one mutation against the primary limit.
const MUTATION_POINTS: u32 = 1;

/// A workspace's PR as replying on its threads needs it.
#[derive(Clone, Debug)]
pub struct ThreadsToReply {
    /// The PR's node id (`requestReviews` names it).
    pub pr_id: String,
    /// The PR's head commit now.
    pub head_oid: String,
    pub threads: Vec<ThreadState>,
    /// Node ids of the users whose latest review asks for changes, the token's own left out.
    pub changes_requested_by: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ThreadState {
    pub id: String,
    pub resolved: bool,
    /// The bodies of the token's own comments in the thread (its latest 20 comments).
    pub own_comments: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    repository: Option<Repository>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Repository {
    pull_request: Option<PullRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PullRequest {
    id: String,
    head_ref_oid: String,
    review_threads: Nodes<Thread>,
    latest_opinionated_reviews: Option<Nodes<Review>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Nodes<T> {
    #[serde(default)]
    nodes: Option<Vec<Option<T>>>,
}

impl<T> Nodes<T> {
    fn into_vec(self) -> Vec<T> {
        self.nodes
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Thread {
    id: String,
    is_resolved: bool,
    comments: Nodes<Comment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Comment {
    viewer_did_author: bool,
    body: String,
}

#[derive(Deserialize)]
struct Review {
    state: String,
    author: Option<Author>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Author {
    login: String,
    /// Only a `User` has one here: bots and apps are not asked to review again.
    #[serde(default)]
    id: Option<String>,
}

impl Github {
    /// The workspace's PR, read now; `None` when it has none.
    pub async fn threads_to_reply(&self, id: &WorkspaceId) -> DomainResult<Option<ThreadsToReply>> {
        let Some((repo, number)) = self.pr_of(id).await? else {
            return Ok(None);
        };
        let host = repo.host.clone();
        let variables = json!({"owner": repo.owner, "name": repo.repo, "number": number});
        let (answer, raw) = self
            .query::<Answer>(&host, queries::REVIEW_THREADS, &variables)
            .await?;
        if let Some(error) = raw.errors.first() {
            return Err(DomainError::Upstream(format!(
                "GitHub did not read PR #{number}'s review threads: {}",
                error.message
            )));
        }
        let Some(pr) = answer.repository.and_then(|r| r.pull_request) else {
            return Ok(None);
        };
        let me = self.login(&host).await?;
        let changes_requested_by = pr
            .latest_opinionated_reviews
            .map(Nodes::into_vec)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.state == "CHANGES_REQUESTED")
            .filter_map(|r| r.author)
            .filter(|a| !a.login.eq_ignore_ascii_case(&me))
            .filter_map(|a| a.id)
            .collect();
        Ok(Some(ThreadsToReply {
            pr_id: pr.id,
            head_oid: pr.head_ref_oid,
            threads: pr
                .review_threads
                .into_vec()
                .into_iter()
                .map(|t| ThreadState {
                    id: t.id,
                    resolved: t.is_resolved,
                    own_comments: t
                        .comments
                        .into_vec()
                        .into_iter()
                        .filter(|c| c.viewer_did_author)
                        .map(|c| c.body)
                        .collect(),
                })
                .collect(),
            changes_requested_by,
        }))
    }

    pub async fn reply_to_thread(
        &self,
        id: &WorkspaceId,
        thread: &str,
        body: &str,
    ) -> DomainResult<()> {
        let variables = json!({"threadId": thread, "body": body});
        self.mutate(id, queries::REPLY_TO_REVIEW_THREAD, &variables)
            .await
    }

    pub async fn resolve_thread(&self, id: &WorkspaceId, thread: &str) -> DomainResult<()> {
        let variables = json!({ "threadId": thread });
        self.mutate(id, queries::RESOLVE_REVIEW_THREAD, &variables)
            .await
    }

    /// Asks `users` (node ids) to review the PR `pr` again, besides whoever is asked already.
    pub async fn request_reviews(
        &self,
        id: &WorkspaceId,
        pr: &str,
        users: &[String],
    ) -> DomainResult<()> {
        let variables = json!({"pullRequestId": pr, "userIds": users});
        self.mutate(id, queries::REQUEST_REVIEWS, &variables).await
    }

    /// The repository and number of the workspace's PR.
    async fn pr_of(&self, id: &WorkspaceId) -> DomainResult<Option<(GithubRepo, u64)>> {
        let workspace = self.workspace(id).await?;
        let (_, repo) = self.repository(&workspace.project_id).await?;
        let stored = store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await?;
        Ok(stored.record.number.map(|number| (repo, number)))
    }

    /// One mutation on the workspace's repository host; GitHub's own error is the error.
    async fn mutate(
        &self,
        id: &WorkspaceId,
        document: &str,
        variables: &Value,
    ) -> DomainResult<()> {
        let Some((GithubRepo { host, .. }, _)) = self.pr_of(id).await? else {
            return Err(DomainError::Conflict(
                "the workspace has no pull request".into(),
            ));
        };
        let answer = self.request(&host, document, variables).await?;
        {
            let mut hosts = self.inner.hosts.lock().await;
            if let Some(known) = hosts.get_mut(host.as_str()) {
                known.budget.spent(MUTATION_POINTS);
            }
        }
        match answer.errors.first() {
            Some(error) => Err(DomainError::Upstream(format!(
                "GitHub refused the change: {}",
                error.message
            ))),
            None => Ok(()),
        }
    }
}
