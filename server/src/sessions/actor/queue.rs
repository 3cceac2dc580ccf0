//! The queue and the agent slots: messages wait in the session's queue, then for one of the
//! `--max-running-agents` slots, then for the agent to start.

use super::Actor;
use crate::clock;
use crate::error::{DomainError, DomainResult};
use ff_core::enums::SessionRuntimePhase;
use ff_core::ids::MessageId;
use ff_core::sessions::{
    MessageAccepted, MessageState, MessageText, QueuedMessage, Waiting, WaitingOn,
    MAX_QUEUED_MESSAGES,
};

impl Actor {
    pub(super) fn enqueue(&mut self, text: MessageText) -> DomainResult<MessageAccepted> {
        if self.queue.len() >= MAX_QUEUED_MESSAGES {
            return Err(DomainError::Conflict(format!(
                "this session already has {MAX_QUEUED_MESSAGES} messages waiting; wait for the agent or cancel some"
            )));
        }
        let message = QueuedMessage {
            id: MessageId::new(clock::new_id()),
            text: text.into_string(),
            queued_at: clock::now(),
        };
        let accepted = MessageAccepted {
            message_id: message.id.clone(),
            state: MessageState::Queued,
        };
        self.queue.push_back(message);
        self.report(false);
        Ok(accepted)
    }

    /// Moves the queue along: waits for a slot, starts the agent, sends the next message.
    pub(super) async fn dispatch(&mut self) {
        let ready = !self.queue.is_empty()
            && self.turn.is_none()
            && self.pending.is_empty()
            && self.retry_at.is_none()
            && self.worktree.is_some();
        if !ready {
            return;
        }
        if self.slot.is_none() {
            if self.slot_wait.is_none() {
                self.slot_wait = Some(Box::pin(
                    self.shared.slots.wait(&self.record.row.session_id),
                ));
                self.runtime.queued_behind =
                    self.shared.slots.ahead_of(&self.record.row.session_id);
                self.line_since = clock::now();
                self.runtime.phase = SessionRuntimePhase::Starting;
                self.report(false);
            }
            return;
        }
        if self.agent.is_none() {
            if self.starting.is_none() {
                if let Err(e) = self.begin_start() {
                    self.fail_head(&e.to_string());
                }
            }
            return;
        }
        self.begin_turn().await;
    }

    /// The head message cannot be sent (the agent will not start): it fails, the rest waits.
    /// Its turn failed before it began, which a fixer's dispatch must hear as a death.
    pub(super) fn fail_head(&mut self, why: &str) {
        if let Some(message) = self.queue.pop_front() {
            tracing::info!(session = %self.record.row.session_id, message = %message.id, "message failed: {why}");
            self.turn_outcome(false);
        }
    }

    /// Nothing is left to send: the slot and the place in line go back, and the session is
    /// where it was before it joined the line (waiting showed it as starting).
    pub(super) fn leave_line(&mut self) {
        self.slot_wait = None;
        self.slot = None;
        self.runtime.queued_behind = None;
        if self.runtime.phase == SessionRuntimePhase::Starting && self.starting.is_none() {
            self.runtime.phase = SessionRuntimePhase::Idle;
        }
    }

    /// What the session waits on now, if anything but the agent's work or a person.
    pub(super) fn waiting(&self) -> Option<Waiting> {
        let (on, since) = if let Some(pending) = &self.configuring {
            (
                WaitingOn::AgentAnswer {
                    request: pending.request().to_owned(),
                },
                pending.since(),
            )
        } else if self.starting.is_some() {
            (WaitingOn::AgentStart, self.starting_since)
        } else if self.slot_wait.is_some() {
            let ahead = self.runtime.queued_behind.unwrap_or(0);
            (WaitingOn::AgentSlot { ahead }, self.line_since)
        } else if let (Some(_), Some(until)) = (self.retry_at, self.runtime.paused_until) {
            (WaitingOn::RateLimit { until }, self.paused_since)
        } else {
            return None;
        };
        Some(Waiting { on, since })
    }
}
