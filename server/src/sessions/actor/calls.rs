//! Requests ff sends the agent outside a turn (a model or mode change): the actor never waits on
//! the agent. It sends the request, records it as pending, and handles the answer, or the
//! silence past the request timeout, as one more message; meanwhile Stop, Cancel, reads and
//! archive go on, and the agent's updates keep being read.

use super::{Actor, Reply};
use crate::clock;
use crate::error::{DomainError, DomainResult};
use crate::sessions::acp::ConfigChange;
use crate::sessions::store;
use ff_core::ids::Timestamp;
use ff_core::sessions::SessionConfig;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;

/// A model or mode change the agent has not answered yet.
pub struct PendingConfig {
    config: SessionConfig,
    /// The request the agent has not answered (the last sent), and since when.
    request: &'static str,
    since: Timestamp,
    reply: Reply<()>,
    answer: BoxFuture<'static, Result<(), String>>,
}

impl PendingConfig {
    pub fn request(&self) -> &'static str {
        self.request
    }

    pub fn since(&self) -> Timestamp {
        self.since
    }

    /// Resolves with the agent's answer (or the timeout's verdict).
    pub async fn answered(pending: &mut Option<Self>) -> Result<(), String> {
        match pending {
            Some(pending) => (&mut pending.answer).await,
            None => std::future::pending().await,
        }
    }
}

impl Actor {
    pub(super) async fn configure(&mut self, config: SessionConfig, reply: Reply<()>) {
        if let Err(e) = self.check_config(&config) {
            let _ = reply.send(Err(e));
            return;
        }
        if self.configuring.is_some() {
            let _ = reply.send(Err(DomainError::Conflict(
                "a model or mode change is still waiting for the agent's answer; try again when it is settled".into(),
            )));
            return;
        }
        let Some(live) = &self.agent else {
            // No agent: the choice is recorded and the next agent starts with it.
            let result = self.apply_config(config).await;
            let _ = reply.send(result);
            return;
        };
        let offered = &self.record.offered;
        let mut changes = Vec::new();
        if let (Some(model), Some(option)) = (&config.model, &offered.model_option) {
            changes.push(ConfigChange::Option {
                option: option.clone(),
                value: model.clone(),
            });
        }
        if let Some(mode) = &config.mode {
            changes.push(match &offered.mode_option {
                Some(option) => ConfigChange::Option {
                    option: option.clone(),
                    value: mode.clone(),
                },
                None => ConfigChange::Mode(mode.clone()),
            });
        }
        let request = match changes.last() {
            Some(ConfigChange::Mode(_)) => "session/set_mode",
            _ => "session/set_config_option",
        };
        let answer = live
            .process
            .configure(
                &live.provider_session_id,
                changes,
                self.shared.config.request_timeout,
            )
            .boxed();
        self.configuring = Some(PendingConfig {
            config,
            request,
            since: clock::now(),
            reply,
            answer,
        });
        self.report(false);
    }

    /// The agent answered the pending change (or did not, in time).
    pub(super) async fn configured(&mut self, answer: Result<(), String>) {
        let Some(pending) = self.configuring.take() else {
            return;
        };
        let result = match answer {
            Ok(()) => self.apply_config(pending.config).await,
            Err(e) => Err(DomainError::Upstream(format!(
                "the agent did not take the change: {e}"
            ))),
        };
        let _ = pending.reply.send(result);
        self.report(false);
    }

    /// The agent is gone: a change it was asked for gets its answer from ff.
    pub(super) fn abandon_config(&mut self, why: &str) {
        if let Some(pending) = self.configuring.take() {
            let _ = pending.reply.send(Err(DomainError::Conflict(format!(
                "the model or mode change was not made: {why}"
            ))));
        }
    }

    fn check_config(&self, config: &SessionConfig) -> DomainResult<()> {
        let offered = &self.record.offered;
        if let Some(model) = &config.model {
            if !offered.models.iter().any(|m| &m.id == model) {
                return Err(DomainError::invalid(
                    "model",
                    format!("model {model:?} is not one the agent offers"),
                ));
            }
        }
        if let Some(mode) = &config.mode {
            if !offered.modes.iter().any(|m| &m.id == mode) {
                return Err(DomainError::invalid(
                    "mode",
                    format!("mode {mode:?} is not one the agent offers"),
                ));
            }
        }
        Ok(())
    }

    async fn apply_config(&mut self, config: SessionConfig) -> DomainResult<()> {
        let now = clock::now();
        store::set_config(
            &mut *self.shared.db.acquire().await?,
            self.record.row.session_id.as_str(),
            config.model.as_deref(),
            config.mode.as_deref(),
            now,
        )
        .await?;
        self.record.row.updated_at = now;
        if config.model.is_some() {
            self.record.row.model = config.model.clone();
        }
        if config.mode.is_some() {
            self.record.mode = config.mode.clone();
        }
        let change = self.transcript.config(config.mode, config.model, now);
        self.emit(vec![change]);
        self.report(false);
        Ok(())
    }
}
