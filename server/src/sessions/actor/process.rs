//! The agent process's life: started (handshake bounded by a timeout), stopped on purpose, or
//! gone by itself; the row says which.

use super::{Actor, Live};
use crate::clock;
use crate::error::{DomainError, DomainResult};
use crate::sessions::acp::{AgentProcess, Handshake, Launch};
use crate::sessions::store::{self};
use crate::settings;
use ff_core::entry::LastExit;
use ff_core::enums::{SessionProcessState, SessionRuntimePhase, SessionStatus};

impl Actor {
    pub(super) fn begin_start(&mut self) -> DomainResult<()> {
        let Some(worktree) = self.worktree.clone() else {
            return Err(DomainError::Conflict(
                "the workspace has no worktree".into(),
            ));
        };
        let shared = self.shared.clone();
        let agent = self.record.row.agent.clone();
        let resume = self.record.provider_session_id.clone();
        let session = self.record.row.session_id.clone();
        let grantee = crate::auth::agents::Grantee {
            session: session.clone(),
            workspace: self.record.workspace_id.clone(),
        };
        self.starting_since = clock::now();
        self.runtime.phase = SessionRuntimePhase::Starting;
        self.runtime.error = None;
        self.process_state = SessionProcessState::Unknown;
        self.report(false);
        self.starting = Some(Box::pin(async move {
            let settings = settings::load(&shared.db)
                .await
                .map_err(|e| e.to_string())?;
            let spec = shared.agents.spec(&settings, &agent).ok_or_else(|| {
                format!(
                    "The agent {agent:?} is no longer configured; choose another one in settings"
                )
            })?;
            let program = shared.agents.resolve(&spec).ok_or_else(|| spec.missing())?;
            let (grant, offer) = shared.grants.grant(grantee).unzip();
            let (process, events) = AgentProcess::spawn(Launch {
                program: &program,
                args: &spec.server.args,
                env: &spec.server.env,
                worktree: &worktree,
                max_line_bytes: shared.config.max_line_bytes,
                stop_grace: shared.config.stop_grace,
            })
            .await
            .map_err(|e| format!("{} could not start: {e}", spec.name))?;
            // Recorded before the handshake: an agent caught in it when ff is killed is still
            // found, and stopped, at the next start.
            let recorded = async {
                let mut conn = shared.db.acquire().await?;
                store::set_process(
                    &mut conn,
                    session.as_str(),
                    process.identity.as_ref(),
                    None,
                    None,
                    clock::now(),
                )
                .await
            };
            if let Err(e) = recorded.await {
                tracing::error!(session = %session, "cannot record the agent's process: {e}");
            }
            match tokio::time::timeout(
                shared.config.handshake_timeout,
                process.handshake(resume.as_deref(), offer.as_ref()),
            )
            .await
            {
                Ok(Ok(handshake)) => Ok((
                    Live {
                        provider_session_id: handshake.session_id.clone(),
                        process,
                        events,
                        _grant: grant,
                    },
                    handshake,
                )),
                Ok(Err(e)) => {
                    process.stop(shared.config.stop_grace).await;
                    Err(e)
                }
                Err(_) => {
                    let stderr = process.stderr_tail();
                    process.stop(shared.config.stop_grace).await;
                    Err(format!(
                        "{} did not answer within {} s{}",
                        spec.name,
                        shared.config.handshake_timeout.as_secs(),
                        last_line(&stderr)
                            .map(|l| format!(" ({l})"))
                            .unwrap_or_default()
                    ))
                }
            }
        }));
        Ok(())
    }

    pub(super) async fn started(&mut self, started: Result<(Live, Handshake), String>) {
        match started {
            Ok((live, handshake)) => {
                let now = clock::now();
                let resumed = match (&self.record.provider_session_id, handshake.loaded) {
                    (Some(_), true) => Some("The agent resumed its earlier session"),
                    (Some(_), false) => Some(
                        "The agent could not resume its earlier session: it starts a new one (this transcript is kept)",
                    ),
                    (None, _) => None,
                };
                if let Some(text) = resumed {
                    let change = self.transcript.notice(text, now);
                    self.emit(vec![change]);
                }
                let result = async {
                    let mut conn = self.shared.db.acquire().await?;
                    store::set_process(
                        &mut conn,
                        self.record.row.session_id.as_str(),
                        live.process.identity.as_ref(),
                        Some(&handshake.session_id),
                        Some(&handshake.offered),
                        now,
                    )
                    .await?;
                    store::set_config(
                        &mut conn,
                        self.record.row.session_id.as_str(),
                        handshake.model.as_deref(),
                        handshake.mode.as_deref(),
                        now,
                    )
                    .await?;
                    let from = self.record.row.status;
                    if from != SessionStatus::Running {
                        store::set_status(
                            &mut conn,
                            self.record.row.session_id.as_str(),
                            from,
                            SessionStatus::Running,
                            now,
                        )
                        .await?;
                    }
                    Ok::<_, sqlx::Error>(())
                }
                .await;
                if let Err(e) = result {
                    tracing::error!(session = %self.record.row.session_id, "cannot record the agent's start: {e}");
                }
                self.record.provider_session_id = Some(handshake.session_id);
                self.record.offered = handshake.offered;
                self.record.process = live.process.identity.clone();
                self.record.row.status = SessionStatus::Running;
                self.record.row.updated_at = now;
                if handshake.model.is_some() {
                    self.record.row.model = handshake.model;
                }
                if handshake.mode.is_some() {
                    self.record.mode = handshake.mode;
                }
                self.agent = Some(live);
                self.process_state = SessionProcessState::Alive;
                self.runtime.phase = SessionRuntimePhase::Idle;
                self.runtime.last_exit = None;
                self.report(false);
            }
            Err(message) => {
                tracing::warn!(session = %self.record.row.session_id, "the agent did not start: {message}");
                // The process recorded before the handshake is stopped: the row forgets it.
                let forgotten = async {
                    let mut conn = self.shared.db.acquire().await?;
                    store::set_process(
                        &mut conn,
                        self.record.row.session_id.as_str(),
                        None,
                        None,
                        None,
                        clock::now(),
                    )
                    .await
                };
                if let Err(e) = forgotten.await {
                    tracing::error!(session = %self.record.row.session_id, "cannot record that the agent stopped: {e}");
                }
                self.slot = None;
                self.process_state = SessionProcessState::Stopped;
                self.runtime.phase = SessionRuntimePhase::Error;
                self.runtime.error = Some(message.clone());
                self.fail_head(&message);
                let change = self.transcript.error(&message, clock::now());
                self.emit(vec![change]);
                self.report(true);
            }
        }
    }

    /// Stops the agent process (deliberately): the turn is cancelled, queued messages dropped.
    pub(super) async fn stop(&mut self) {
        self.abandon_config("the agent was stopped");
        let dropped = self.queue.len();
        self.queue.clear();
        self.slot_wait = None;
        self.slot = None;
        self.starting = None;
        self.retry_at = None;
        self.runtime.queued_behind = None;
        self.runtime.paused_until = None;
        if self.turn.is_some() {
            self.cancel_turn();
        }
        let mut changes = Vec::new();
        self.cancel_pending(&mut changes);
        if let Some(live) = self.agent.take() {
            self.runtime.phase = SessionRuntimePhase::Stopping;
            self.report(false);
            live.process.stop(self.shared.config.stop_grace).await;
        }
        let stopped_turn = self.turn.take().is_some();
        if stopped_turn {
            changes.extend(self.transcript.close_open_tools("cancelled"));
            changes.push(self.transcript.stop("cancelled", clock::now()));
        }
        if dropped > 0 {
            // Nothing accepted is dropped without a word.
            let text = match dropped {
                1 => "The agent was stopped: 1 queued message was not sent".to_owned(),
                n => format!("The agent was stopped: {n} queued messages were not sent"),
            };
            changes.push(self.transcript.notice(&text, clock::now()));
        }
        self.emit(changes);
        // The turn's last items are written before anyone hears that it ended.
        self.flush().await;
        self.settle_stopped(SessionStatus::Idle).await;
        self.runtime.phase = SessionRuntimePhase::Idle;
        self.runtime.working = false;
        self.process_state = SessionProcessState::Stopped;
        self.report(true);
        // A deliberate stop ends the turn as done, not as a death (D§6.5).
        if stopped_turn {
            self.turn_outcome(true);
        }
    }

    /// The agent is gone: the row no longer names its process, and says how it ended.
    pub(super) async fn settle_stopped(&mut self, status: SessionStatus) {
        let now = clock::now();
        let id = self.record.row.session_id.as_str().to_owned();
        let from = self.record.row.status;
        let result = async {
            let mut conn = self.shared.db.acquire().await?;
            store::set_process(&mut conn, &id, None, None, None, now).await?;
            if from != status {
                store::set_status(&mut conn, &id, from, status, now).await?;
            }
            Ok::<_, sqlx::Error>(())
        }
        .await;
        match result {
            Ok(()) => {
                self.record.row.status = status;
                self.record.row.updated_at = now;
            }
            Err(e) => tracing::error!(session = %id, "cannot record that the agent stopped: {e}"),
        }
        self.record.process = None;
    }

    /// The agent ended by itself: it exited with `code`, or (`lost`) its connection ended while
    /// it lived on and its processes were stopped for it.
    pub(super) async fn exited(&mut self, code: Option<i32>, lost: Option<String>) {
        let Some(live) = self.agent.take() else {
            return;
        };
        let stderr = live.process.stderr_tail();
        drop(live);
        self.abandon_config("the agent exited");
        let unexpected = code != Some(0) || lost.is_some();
        let now = clock::now();
        self.runtime.last_exit = Some(LastExit {
            code,
            timestamp: now,
            unexpected,
        });
        self.process_state = SessionProcessState::Stopped;
        let mut changes = Vec::new();
        self.cancel_pending(&mut changes);
        let turn_failed = self.turn.is_some();
        if let Some(turn) = self.turn.take() {
            self.runtime.working = false;
            changes.extend(self.transcript.close_open_tools("failed"));
            let message = match (&lost, last_line(&stderr)) {
                (Some(why), _) => lost_connection(why),
                (None, Some(line)) => format!("The agent exited during the turn ({line})"),
                (None, None) => format!(
                    "The agent exited during the turn (exit code {})",
                    code.map_or("none".to_owned(), |c| c.to_string())
                ),
            };
            changes.push(self.transcript.error(&message, now));
            self.runtime.error = Some(message);
            drop(turn);
        } else if unexpected {
            let message = match &lost {
                Some(why) => lost_connection(why),
                None => format!(
                    "The agent exited unexpectedly (exit code {})",
                    code.map_or("none".to_owned(), |c| c.to_string())
                ),
            };
            changes.push(self.transcript.error(&message, now));
            self.runtime.error = Some(message);
        }
        self.runtime.phase = if unexpected {
            SessionRuntimePhase::Error
        } else {
            SessionRuntimePhase::Idle
        };
        // The row says how it ended before anyone hears that it did.
        let status = if unexpected {
            SessionStatus::Failed
        } else {
            SessionStatus::Completed
        };
        self.settle_stopped(status).await;
        self.emit(changes);
        self.flush().await;
        if turn_failed {
            self.turn_outcome(false);
        }
        self.last_activity = now;
        self.report(true);
    }
}

pub(super) fn last_line(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(300).collect())
}

fn lost_connection(why: &str) -> String {
    format!(
        "The connection to the agent was lost: {why}. Its processes were stopped; the next message starts it again"
    )
}
