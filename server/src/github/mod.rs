//! GitHub (github.md): the live PR snapshot of every workspace from one batched GraphQL query per
//! repository and poll, PR creation, issues as a source, and how ff stands with each host. The
//! only writer of `workspace_pr`; it publishes `PrSnapshotUpdated` after each commit that
//! changed something, and listens on the bus for its own triggers.

mod auth;
mod budget;
mod create;
mod endpoint;
mod issues;
mod logs;
mod observation;
mod queries;
mod replies;
pub mod store;
mod sync;
mod transport;
mod triggers;
mod view;

use crate::clock;
use crate::config::GithubConfig;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::events::EventBus;
use crate::git::Git;
use crate::locks::{InFlight, KeyedLocks};
use budget::{HostBudget, Limits, Refusal};
use ff_core::api::{Project, Workspace};
use ff_core::github::{
    GithubRepo, Host, HostStatus, IssueSummary, PullRequestDetails, PullRequestSummary, GITHUB_COM,
};
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use transport::{Answer, Failure, Transport};

pub use ff_core::github::Observation;
pub use issues::Assignee;

/// What GitHub needs of the projects and workspaces (a repository's origin, a workspace's branch
/// and worktree), without using those domains: a bridge implemented above them
/// (`flows::neighbours`).
pub trait Directory: Send + Sync {
    /// A live project; `None` when there is none.
    fn project<'a>(
        &'a self,
        id: &'a ProjectId,
    ) -> BoxFuture<'a, Result<Option<Project>, sqlx::Error>>;
    fn live_projects(&self) -> BoxFuture<'_, Result<Vec<Project>, sqlx::Error>>;
    /// A workspace as its owner records it; `None` when there is none.
    fn workspace<'a>(
        &'a self,
        id: &'a WorkspaceId,
    ) -> BoxFuture<'a, Result<Option<Workspace>, sqlx::Error>>;
}

pub use replies::{ThreadState, ThreadsToReply};

#[derive(Clone)]
pub struct Github {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: EventBus,
    git: Git,
    config: GithubConfig,
    directory: Arc<dyn Directory>,
    transport: Transport,
    /// What ff knows of each host. Never held while waiting on anything outside ff.
    hosts: tokio::sync::Mutex<HashMap<String, Known>>,
    /// One token resolution (`gh auth token`) per host at a time, outside `hosts`.
    resolving: KeyedLocks,
    /// Hosts whose token a status read asked to resolve in the background.
    resolving_for_status: InFlight<String>,
    /// The latest summary of each workspace's PR, and when it was read.
    observed: Mutex<HashMap<WorkspaceId, Observed>>,
    /// Details per workspace, valid while GitHub's `updatedAt` of the PR is the same.
    details: Mutex<HashMap<WorkspaceId, (Timestamp, Arc<PullRequestDetails>)>>,
    /// Why the last background read of a workspace's details failed.
    details_errors: Mutex<HashMap<WorkspaceId, String>>,
    details_in_flight: InFlight<WorkspaceId>,
    issues: Mutex<HashMap<(ProjectId, Assignee), IssueList>>,
    logs: Mutex<logs::LogCache>,
    /// One poll (or attach, or creation) of a repository at a time.
    repositories: KeyedLocks,
    in_flight: InFlight<ProjectId>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

/// A project's open issues for one assignee, and when GitHub was asked.
type IssueList = (Instant, Vec<IssueSummary>);

struct Known {
    budget: HostBudget,
    resolved_at: Instant,
    asked_login: bool,
}

#[derive(Clone)]
struct Observed {
    summary: PullRequestSummary,
    checked_at: Timestamp,
}

/// Why a request to GitHub did not happen or did not work.
#[derive(Debug, thiserror::Error)]
enum Unavailable {
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Failed(Failure),
}

impl From<Unavailable> for DomainError {
    fn from(e: Unavailable) -> Self {
        match e {
            Unavailable::Refused(r @ Refusal::NotConnected(_)) => Self::Conflict(r.to_string()),
            Unavailable::Refused(r @ Refusal::Paused { .. }) => Self::TooManyRetries(r.to_string()),
            other => Self::Upstream(other.to_string()),
        }
    }
}

/// An answer's `data` as one typed document.
fn typed<T: DeserializeOwned>(answer: Answer) -> Result<(T, Answer), Unavailable> {
    let data = serde_json::from_value(Value::Object(answer.data.clone()))
        .map_err(|e| Unavailable::Failed(Failure::Malformed(format!("unexpected answer: {e}"))))?;
    Ok((data, answer))
}

/// A project's GitHub repository, if it has one.
pub fn repository_of(project: &Project) -> Option<GithubRepo> {
    let (owner, repo) = (
        project.github_owner.as_deref()?,
        project.github_repo.as_deref()?,
    );
    let host = project.github_host.as_deref().unwrap_or(GITHUB_COM);
    match GithubRepo::parse(host, owner, repo) {
        Ok(repo) => Some(repo),
        Err(e) => {
            tracing::warn!(project = %project.id, "the project's GitHub repository is unusable: {e}");
            None
        }
    }
}

impl Github {
    /// Subscribes to the bus at once (so no trigger is missed) and starts polling.
    pub fn start(
        db: Db,
        bus: EventBus,
        git: Git,
        config: GithubConfig,
        directory: Arc<dyn Directory>,
    ) -> Self {
        let events = bus.subscribe();
        let github = Self {
            inner: Arc::new(Inner {
                db,
                bus,
                git,
                config,
                directory,
                transport: Transport::new(),
                hosts: tokio::sync::Mutex::default(),
                resolving: KeyedLocks::default(),
                resolving_for_status: InFlight::default(),
                observed: Mutex::default(),
                details: Mutex::default(),
                details_errors: Mutex::default(),
                details_in_flight: InFlight::default(),
                issues: Mutex::default(),
                logs: Mutex::default(),
                repositories: KeyedLocks::default(),
                in_flight: InFlight::default(),
                tasks: TaskTracker::new(),
                shutdown: CancellationToken::new(),
            }),
        };
        github
            .inner
            .tasks
            .spawn(github.clone().run_triggers(events));
        github
    }

    /// Stops the triggers and waits for requests in flight (each has its timeout).
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    fn limits(&self) -> Limits {
        let c = &self.inner.config;
        Limits {
            reserve_percent: c.reserve_percent,
            backoff_first: c.backoff_first,
            backoff_max: c.backoff_max,
        }
    }

    /// Whether `host`'s token must be looked for: it was never resolved, or (`recheck`) it does
    /// not work and was last looked at a while ago.
    async fn needs_resolving(&self, host: &Host, recheck: bool) -> bool {
        let hosts = self.inner.hosts.lock().await;
        match hosts.get(host.as_str()) {
            None => true,
            Some(known) => {
                recheck
                    && !known.budget.connected()
                    && known.resolved_at.elapsed() >= self.inner.config.credentials_recheck
            }
        }
    }

    /// Makes sure `host` is known, resolving its token on first use; `recheck` looks again at a
    /// host that has no working token. The resolution (which may run `gh`) holds no lock that
    /// a reader needs, and ends at shutdown.
    async fn know_host(&self, host: &Host, recheck: bool) {
        if !self.needs_resolving(host, recheck).await {
            return;
        }
        let _one_at_a_time = self.inner.resolving.lock(host.as_str()).await;
        if !self.needs_resolving(host, recheck).await {
            return;
        }
        let credentials = tokio::select! {
            () = self.inner.shutdown.cancelled() => return,
            credentials = auth::resolve(host, &self.inner.config) => credentials,
        };
        if let Err(why) = &credentials {
            tracing::info!("{why}");
        }
        let mut hosts = self.inner.hosts.lock().await;
        match hosts.get_mut(host.as_str()) {
            Some(known) => {
                known.budget.set_credentials(credentials);
                known.resolved_at = Instant::now();
            }
            None => {
                hosts.insert(
                    host.to_string(),
                    Known {
                        budget: HostBudget::new(host.to_string(), credentials),
                        resolved_at: Instant::now(),
                        asked_login: false,
                    },
                );
            }
        }
    }

    /// Whether a request to `host` may go now (without sending one).
    async fn admit(&self, host: &Host) -> Result<(), Unavailable> {
        self.know_host(host, true).await;
        let hosts = self.inner.hosts.lock().await;
        let known = hosts.get(host.as_str()).expect("known above");
        known
            .budget
            .admit(&self.limits(), clock::now())
            .map(drop)
            .map_err(Unavailable::Refused)
    }

    /// One GraphQL request to `host` within its budget; the first that works also asks, once,
    /// whose token it is.
    async fn request(
        &self,
        host: &Host,
        query: &str,
        variables: &Value,
    ) -> Result<Answer, Unavailable> {
        let answer = self.send(host, query, variables).await?;
        let ask_login = {
            let mut hosts = self.inner.hosts.lock().await;
            let known = hosts.get_mut(host.as_str()).expect("known by send");
            let ask = !known.asked_login;
            known.asked_login = true;
            ask
        };
        if ask_login {
            let this = self.clone();
            let host = host.clone();
            self.inner
                .tasks
                .spawn(async move { this.learn_login(&host).await });
        }
        Ok(answer)
    }

    /// One GraphQL request to `host` within its budget; the outcome is recorded on the host.
    async fn send(
        &self,
        host: &Host,
        query: &str,
        variables: &Value,
    ) -> Result<Answer, Unavailable> {
        let token = self.token(host).await?;
        let config = &self.inner.config;
        let url = endpoint::graphql_url(host, config.api_url.as_deref());
        let limits = (config.request_timeout, config.max_answer_bytes);
        let result = tokio::select! {
            () = self.inner.shutdown.cancelled() => {
                return Err(Unavailable::Failed(Failure::Server("ff is shutting down".into())));
            }
            result = self.inner.transport.graphql(&url, &token, limits, query, variables) => result,
        };
        let mut hosts = self.inner.hosts.lock().await;
        let known = hosts.get_mut(host.as_str()).expect("known above");
        match &result {
            Ok(answer) => known.budget.succeeded(answer.rate.clone()),
            Err(failure) => {
                tracing::warn!(%host, "{failure}");
                known.budget.failed(failure, &self.limits(), clock::now());
            }
        }
        result.map_err(Unavailable::Failed)
    }

    /// The host's token, when a request may go now.
    async fn token(&self, host: &Host) -> Result<String, Unavailable> {
        self.know_host(host, false).await;
        let hosts = self.inner.hosts.lock().await;
        let known = hosts.get(host.as_str()).expect("known above");
        Ok(known
            .budget
            .admit(&self.limits(), clock::now())
            .map_err(Unavailable::Refused)?
            .token
            .clone())
    }

    /// A request whose answer is one typed document (`data` as a whole).
    async fn query<T: DeserializeOwned>(
        &self,
        host: &Host,
        query: &str,
        variables: &Value,
    ) -> Result<(T, Answer), Unavailable> {
        typed(self.request(host, query, variables).await?)
    }

    /// The token's login ("assigned to me", the status route); asked once per host.
    async fn learn_login(&self, host: &Host) {
        let answer = self.send(host, queries::VIEWER, &Value::Null).await;
        match answer.and_then(typed::<ff_core::github::ViewerAnswer>) {
            Ok((viewer, _)) => {
                let mut hosts = self.inner.hosts.lock().await;
                if let Some(known) = hosts.get_mut(host.as_str()) {
                    known.budget.login = Some(viewer.viewer.login);
                }
            }
            Err(e) => {
                tracing::warn!(%host, "cannot tell whose token this is: {e}");
                let mut hosts = self.inner.hosts.lock().await;
                if let Some(known) = hosts.get_mut(host.as_str()) {
                    known.asked_login = false;
                }
            }
        }
    }

    async fn login(&self, host: &Host) -> Result<String, Unavailable> {
        {
            let hosts = self.inner.hosts.lock().await;
            if let Some(login) = hosts
                .get(host.as_str())
                .and_then(|k| k.budget.login.clone())
            {
                return Ok(login);
            }
        }
        let (viewer, _) = typed::<ff_core::github::ViewerAnswer>(
            self.send(host, queries::VIEWER, &Value::Null).await?,
        )?;
        let mut hosts = self.inner.hosts.lock().await;
        if let Some(known) = hosts.get_mut(host.as_str()) {
            known.budget.login = Some(viewer.viewer.login.clone());
            known.asked_login = true;
        }
        Ok(viewer.viewer.login)
    }

    async fn project(&self, id: &ProjectId) -> DomainResult<Project> {
        self.inner
            .directory
            .project(id)
            .await?
            .ok_or_else(|| DomainError::not_found(id))
    }

    /// Whether `host` runs GitHub as far as the user said: github.com, a host listed with
    /// `--github-hosts`, in `GH_HOST` or on /settings, or any host when `--github-api-url`
    /// names the API. A token is never sent anywhere else.
    async fn is_github(&self, host: &Host) -> bool {
        let config = &self.inner.config;
        let gh_host = (config.env)("GH_HOST")
            .and_then(|h| Host::parse(h.trim()).ok())
            .is_some_and(|h| h == *host);
        if config.api_url.is_some()
            || host.as_str() == GITHUB_COM
            || config.hosts.contains(host)
            || gh_host
        {
            return true;
        }
        match crate::settings::load(&self.inner.db).await {
            Ok(settings) => settings.github_hosts.iter().any(|h| h == host.as_str()),
            Err(e) => {
                tracing::warn!("cannot read the GitHub hosts of the settings: {e}");
                false
            }
        }
    }

    /// A live project's repository, or why GitHub cannot be used for it.
    async fn repository(&self, id: &ProjectId) -> DomainResult<(Project, GithubRepo)> {
        let project = self.project(id).await?;
        let repo = repository_of(&project).ok_or_else(|| {
            DomainError::Conflict(format!(
                "project \"{}\" has no GitHub repository: its origin remote names none; set \
                 githubOwner and githubRepo (and githubHost for Enterprise) on the project",
                project.name
            ))
        })?;
        if !self.is_github(&repo.host).await {
            return Err(DomainError::Conflict(
                HostStatus::not_github(repo.host.to_string())
                    .message
                    .unwrap_or_default(),
            ));
        }
        Ok((project, repo))
    }

    async fn workspace(&self, id: &WorkspaceId) -> DomainResult<Workspace> {
        self.inner
            .directory
            .workspace(id)
            .await?
            .ok_or_else(|| DomainError::not_found(id))
    }
}
