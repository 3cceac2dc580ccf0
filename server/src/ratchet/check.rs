//! One check of one workspace (D§6.2): read, settle the fixer that ended, decide, act, record.

use super::dispatch::Trigger;
use super::{store, Ratchet};
use crate::error::{DomainError, DomainResult};
use crate::{clock, db, settings};
use ff_core::enums::{RatchetDispatchOutcome, SessionRuntimePhase, WorkspaceStatus};
use ff_core::github::Observation;
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::ratchet::{
    decide, Activity, CheckInput, Decision, GithubPrState, RatchetCheck, ReviewPolicy, Verdict,
};
use ff_core::sessions::{Session, RATCHET_WORKFLOW};

/// What the active fixer is doing, as far as the ratchet is concerned (D§6.3).
enum Fixer {
    Working,
    Ended(RatchetDispatchOutcome),
}

impl Ratchet {
    pub(super) async fn check(&self, id: &WorkspaceId) -> DomainResult<()> {
        let book = {
            let mut conn = self.inner.db.acquire().await?;
            let found = self.inner.fixing.workspace(&mut conn, id.as_str()).await?;
            let Some(workspace) = found else {
                return Ok(());
            };
            let book = store::get(&mut conn, id.as_str()).await?;
            if !book.enabled || workspace.status != WorkspaceStatus::Ready {
                return Ok(());
            }
            book
        };
        let observed = tokio::time::timeout(
            self.inner.config.check_timeout,
            self.inner.fixing.observation(id),
        )
        .await
        .unwrap_or_else(|_| {
            Err(DomainError::Upstream(format!(
                "GitHub did not answer within {} s",
                self.inner.config.check_timeout.as_secs()
            )))
        });
        let observation = match observed {
            Ok(Some(observation)) => observation,
            Ok(None) => return self.record(id, Verdict::Waiting, "No pull request").await,
            // Nothing is decided on what could not be read: the state stays, a later check
            // (the next poll, or the interval) tries again.
            Err(e) => {
                let reason = format!("Could not read the pull request: {e}");
                return self.record(id, Verdict::Failed, &reason).await;
            }
        };
        if observation.pr.state == GithubPrState::Merged {
            self.stop_fixers(id).await;
        }
        let (book, activity) = self.activity(id, book, &observation).await?;
        let settings = settings::load(&self.inner.db).await?;
        let policy = ReviewPolicy {
            self_login: Some(&observation.self_login),
            trigger: settings.ratchet_review_trigger,
        };
        let check = decide(CheckInput {
            pr: &observation.pr,
            bookkeeping: &book.decision_input(),
            activity,
            policy,
        });
        tracing::debug!(workspace = %id, decision = %check.decision, key = %check.key, "ratchet check");
        let said = check.decision.to_string();
        let (verdict, reason) = match check.decision {
            Decision::Completed => (Verdict::Completed, said),
            Decision::Waiting(_) => (Verdict::Waiting, said),
            Decision::FixerActive => (Verdict::FixerActive, said),
            Decision::MarkStalled(_) => {
                self.mark_stalled(id, &book).await?;
                (Verdict::Stalled, said)
            }
            Decision::Trigger {
                retry_count,
                reason,
            } => {
                let trigger = Trigger {
                    observation: &observation,
                    policy,
                    key: &check.key,
                    retry: retry_count,
                    reason,
                };
                match self.dispatch(id, &trigger, &book).await {
                    Ok(said) => (Verdict::Dispatched, said),
                    Err(e) => (Verdict::Failed, format!("The fixer could not start: {e}")),
                }
            }
        };
        self.record(id, verdict, &reason).await
    }

    /// The active fixer settled if it ended (D§6.3), and what the workspace's sessions are doing.
    async fn activity(
        &self,
        id: &WorkspaceId,
        mut book: store::Bookkeeping,
        observation: &Observation,
    ) -> DomainResult<(store::Bookkeeping, Activity)> {
        let mut activity = Activity::default();
        if let Some(fixer) = book
            .active_session
            .clone()
            .filter(|_| observation.pr.state == GithubPrState::Open)
        {
            match self.fixer(&fixer).await {
                Fixer::Working => activity.fixer_working = true,
                Fixer::Ended(outcome) => {
                    if self.settle(id, &fixer, outcome).await? {
                        if outcome == RatchetDispatchOutcome::Completed {
                            self.stop_fixer(&fixer).await;
                        }
                    } else {
                        activity.fixer_ended_during_check = true;
                    }
                    book = store::get(&mut *self.inner.db.acquire().await?, id.as_str()).await?;
                }
            }
        }
        let sessions = self.inner.fixing.sessions(id).await?;
        activity.other_session_working = sessions
            .iter()
            .any(|s| Some(&s.id) != book.active_session.as_ref() && busy(s));
        Ok((book, activity))
    }

    async fn fixer(&self, id: &SessionId) -> Fixer {
        match self.inner.fixing.session(id).await {
            Ok(session) if busy(&session) => Fixer::Working,
            Ok(session)
                if session.runtime.phase == SessionRuntimePhase::Error
                    || session
                        .runtime
                        .last_exit
                        .as_ref()
                        .is_some_and(|e| e.unexpected) =>
            {
                Fixer::Ended(RatchetDispatchOutcome::Died)
            }
            Ok(_) => Fixer::Ended(RatchetDispatchOutcome::Completed),
            // Deleted by a person: it will not finish.
            Err(_) => Fixer::Ended(RatchetDispatchOutcome::Died),
        }
    }

    /// The PR is merged (D§6.2 step 3): fixers have nothing left to do.
    async fn stop_fixers(&self, id: &WorkspaceId) {
        let sessions = match self.inner.fixing.sessions(id).await {
            Ok(sessions) => sessions,
            Err(e) => return tracing::warn!(workspace = %id, "cannot list the fixers: {e}"),
        };
        for fixer in sessions
            .iter()
            .filter(|s| s.workflow == RATCHET_WORKFLOW && busy(s))
        {
            tracing::info!(workspace = %id, session = %fixer.id, "PR merged: stopping its fixer");
            self.stop_fixer(&fixer.id).await;
        }
    }

    async fn mark_stalled(&self, id: &WorkspaceId, read: &store::Bookkeeping) -> DomainResult<()> {
        let mut tx = db::begin_write(&self.inner.db).await?;
        let flipped = store::mark_stalled(&mut tx, id.as_str(), read, clock::now()).await?;
        let book = store::get(&mut tx, id.as_str()).await?;
        tx.commit().await?;
        if flipped {
            tracing::info!(workspace = %id, "ratchet stalled: waiting on a person");
            self.dispatch_changed(id, &book);
        }
        Ok(())
    }

    /// The last decision, for the workspace page. No event: nothing on the board moves.
    async fn record(&self, id: &WorkspaceId, verdict: Verdict, reason: &str) -> DomainResult<()> {
        let check = RatchetCheck {
            at: clock::now(),
            verdict,
            reason: reason.to_owned(),
        };
        let mut tx = db::begin_write(&self.inner.db).await?;
        store::record_check(&mut tx, id.as_str(), &check).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A turn in flight or messages waiting for one.
fn busy(session: &Session) -> bool {
    session.runtime.working || !session.queue.is_empty()
}
