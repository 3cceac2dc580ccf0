//! Dispatching a fixer (D§6.4): the prompt with everything it needs, sent through the one path
//! for fixers (`acquire_and_dispatch`), then recorded, compare-and-swap on what the check read.

use super::prompt::{self, FailingCheck, PullRequest};
use super::{replies, store, Ratchet};
use crate::error::{DomainError, DomainResult};
use crate::{clock, db};
use ff_core::enums::CiStatus;
use ff_core::github::Observation;
use ff_core::ids::WorkspaceId;
use ff_core::ratchet::{review_feedback, RatchetDispatch, ReviewPolicy, TriggerReason};
use ff_core::sessions::Dispatched;

/// Failing jobs whose logs go into one prompt; the rest are named with their links.
const LOGS_FETCHED: usize = 5;

/// What the ratchet decided to dispatch, and on what.
pub(super) struct Trigger<'a> {
    pub observation: &'a Observation,
    pub policy: ReviewPolicy<'a>,
    pub key: &'a str,
    pub retry: u32,
    pub reason: TriggerReason,
}

impl Ratchet {
    /// Starts (or adopts) the fixer; says what happened for the workspace page.
    pub(super) async fn dispatch(
        &self,
        id: &WorkspaceId,
        trigger: &Trigger<'_>,
        read: &store::Bookkeeping,
    ) -> DomainResult<String> {
        let text = self.prompt(trigger).await;
        let dispatched = self.inner.fixing.dispatch(id, &text).await?;
        let now = clock::now();
        let mut tx = db::begin_write(&self.inner.db).await?;
        let (recorded, said, session) = match dispatched {
            Dispatched::Started { session } => {
                let dispatch = RatchetDispatch {
                    at: now,
                    key: trigger.key.to_owned(),
                    session_id: session.clone(),
                    reason: trigger.reason.to_string(),
                    retry: trigger.retry,
                    outcome: None,
                };
                let recorded =
                    store::record_dispatch(&mut tx, id.as_str(), read, &dispatch, now).await?;
                if recorded {
                    // The threads it was given, for the replies when it ends.
                    let feedback = review_feedback(&trigger.observation.pr, trigger.policy);
                    let threads = replies::given_threads(&feedback);
                    let head = &trigger.observation.head_oid;
                    replies::record_given(&mut tx, id, &session, now, head, &threads).await?;
                }
                let said = match trigger.retry {
                    0 => format!("Fixer dispatched: {}", trigger.reason),
                    n => format!("Fixer dispatched again (retry {n}): {}", trigger.reason),
                };
                (recorded, said, session)
            }
            Dispatched::AlreadyActive { session } => {
                let adopted = store::adopt(&mut tx, id.as_str(), read, &session, now).await?;
                let said = "A fixer of this workspace was at work already; it carries on".into();
                (adopted, said, session)
            }
            Dispatched::Skipped { reason } => return Err(DomainError::Conflict(reason)),
        };
        let book = store::get(&mut tx, id.as_str()).await?;
        tx.commit().await?;
        if !recorded {
            // Turned off, or another path moved the bookkeeping while the prompt was built.
            self.stop_fixer(&session).await;
            return Err(DomainError::Conflict(
                "the ratchet changed while the fixer started; the fixer was stopped".into(),
            ));
        }
        tracing::info!(workspace = %id, %session, key = trigger.key, retry = trigger.retry, "fixer dispatched");
        self.dispatch_changed(id, &book);
        // A fixer that was done before its dispatch was recorded is settled by the next check.
        self.request(id);
        Ok(said)
    }

    /// The fixer's first message (ratchet.md §3).
    async fn prompt(&self, trigger: &Trigger<'_>) -> String {
        let observation = trigger.observation;
        let pr = &observation.pr;
        let mut checks = Vec::with_capacity(observation.failing.len());
        for (n, failing) in observation.failing.iter().enumerate() {
            let log = match failing.job_id {
                Some(_) if n >= LOGS_FETCHED => Err(format!(
                    "only the first {LOGS_FETCHED} failing jobs' logs are included"
                )),
                Some(job) => self.inner.fixing.job_log(&observation.repo, job).await,
                None => Err("it is not a GitHub Actions job".into()),
            };
            checks.push(FailingCheck {
                name: failing.name.clone(),
                conclusion: failing.conclusion.clone(),
                url: failing.url.clone(),
                log,
            });
        }
        let feedback = review_feedback(pr, trigger.policy);
        let reasons: Vec<TriggerReason> = [
            (pr.ci_status == CiStatus::Failure).then_some(TriggerReason::CiFailure),
            pr.has_merge_conflict
                .then_some(TriggerReason::MergeConflict),
            (pr.changes_requested() || !feedback.is_empty())
                .then_some(TriggerReason::ReviewFeedback),
        ]
        .into_iter()
        .flatten()
        .collect();
        prompt::render(&prompt::Input {
            pr: &PullRequest {
                number: pr.number,
                url: observation.url.to_string(),
                head: observation.head.clone(),
                base: pr.base_branch.clone(),
                default_branch: observation.default_branch.clone(),
            },
            reasons: if reasons.is_empty() {
                std::slice::from_ref(&trigger.reason)
            } else {
                &reasons
            },
            checks: &checks,
            feedback: &feedback,
            conflict: pr.has_merge_conflict,
        })
    }
}
