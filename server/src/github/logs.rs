//! The ends of failing GitHub Actions job logs for the fixer's prompt (ratchet.md §3), over REST
//! (GraphQL has no logs). A job id names one attempt of one job, whose log never changes, so a
//! log is fetched once and kept for the fixers that retry the same failure.

use super::endpoint;
use super::transport::Failure;
use super::{Github, Unavailable};
use crate::clock;
use crate::error::DomainResult;
use ff_core::github::GithubRepo;
use std::collections::VecDeque;
use std::sync::Arc;

/// Bytes kept of each log's end: more than the prompt quotes (150 lines, 64 KiB in all).
const TAIL_BYTES: usize = 256 * 1024;
/// Logs kept for retries, newest last.
const CACHED: usize = 32;

#[derive(Default)]
pub(super) struct LogCache(VecDeque<(u64, Arc<str>)>);

impl Github {
    /// The end of job `job_id`'s log. A log GitHub does not have (expired, or never written) is
    /// an error naming why.
    pub async fn job_log(&self, repo: &GithubRepo, job_id: u64) -> DomainResult<Arc<str>> {
        if let Some(log) = self.cached_log(job_id) {
            return Ok(log);
        }
        let token = self.token(&repo.host).await?;
        let config = &self.inner.config;
        let url = endpoint::job_log_url(repo, job_id, config.api_url.as_deref());
        let result = self
            .inner
            .transport
            .text_tail(&url, &token, config.request_timeout, TAIL_BYTES)
            .await;
        match result {
            Ok(text) => {
                let log: Arc<str> = text.into();
                let mut cache = self.inner.logs.lock().expect("log cache");
                if cache.0.len() == CACHED {
                    cache.0.pop_front();
                }
                cache.0.push_back((job_id, log.clone()));
                Ok(log)
            }
            // A missing log says nothing about the host.
            Err(failure @ Failure::Refused(_)) => Err(Unavailable::Failed(failure).into()),
            Err(failure) => {
                let mut hosts = self.inner.hosts.lock().await;
                if let Some(known) = hosts.get_mut(repo.host.as_str()) {
                    known.budget.failed(&failure, &self.limits(), clock::now());
                }
                Err(Unavailable::Failed(failure).into())
            }
        }
    }

    fn cached_log(&self, job_id: u64) -> Option<Arc<str>> {
        let cache = self.inner.logs.lock().expect("log cache");
        cache
            .0
            .iter()
            .find(|(id, _)| *id == job_id)
            .map(|(_, log)| log.clone())
    }
}
