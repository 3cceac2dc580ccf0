//! Turns and permission requests: a message becomes a prompt, the agent's updates and
//! requests land in the transcript, and the turn ends completed, failed or to be retried.

use super::{Actor, Counted, OpenRequest, Turn, FIRST_BACKOFF, MAX_BACKOFF};
use crate::clock;
use crate::error::{DomainError, DomainResult};
use crate::events::DomainEvent;
use crate::sessions::acp::AgentEvent;
use crate::sessions::acp::TurnError;
use crate::sessions::transcript::{Change, Transcript};
use crate::settings;
use agent_client_protocol::v1::schema::{
    RequestPermissionOutcome, RequestPermissionResponse, SelectedPermissionOutcome,
};
use agent_client_protocol::v1::Responder;
use ff_core::enums::SessionRuntimePhase;
use ff_core::github::created_pull_requests;
use ff_core::ids::Timestamp;
use ff_core::permission::{self, Request};
use ff_core::sessions::MAX_RATE_LIMIT_RETRIES;
use ff_core::sessions::{PendingRequest, RATCHET_WORKFLOW};
use ff_core::transcript::{
    Cost, DecidedBy, Item, ItemBody, PermissionOption, PermissionRecord, ToolCall, Usage,
};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

impl Actor {
    pub(super) fn answer(&mut self, request_id: &str, option_id: &str) -> DomainResult<()> {
        let Some(position) = self
            .pending
            .iter()
            .position(|r| r.view.request_id == request_id)
        else {
            return Err(DomainError::Conflict(format!(
                "permission request {request_id} is not open in this session (it was answered, cancelled, or belongs to another session)"
            )));
        };
        if !self.pending[position]
            .view
            .options
            .iter()
            .any(|o| o.option_id == option_id)
        {
            let known: Vec<&str> = self.pending[position]
                .view
                .options
                .iter()
                .map(|o| o.option_id.as_str())
                .collect();
            return Err(DomainError::invalid(
                "optionId",
                format!(
                    "optionId {option_id:?} is not an option of request {request_id} (its options: {})",
                    known.join(", ")
                ),
            ));
        }
        let open = self.pending.remove(position).expect("found above");
        self.decide(open, Some(option_id.to_owned()), DecidedBy::Person);
        self.report(true);
        Ok(())
    }

    pub(super) async fn begin_turn(&mut self) {
        if self.agent.is_none() || self.slot.is_none() || self.queue.is_empty() {
            return;
        }
        let (Some(slot), Some(message)) = (self.slot.take(), self.queue.pop_front()) else {
            return;
        };
        let now = clock::now();
        let change = self.transcript.user(&message.text, message.id.clone(), now);
        self.emit(vec![change]);
        self.flush().await;
        let Some(live) = &self.agent else { return };
        let prompt = live
            .process
            .prompt(&live.provider_session_id, &message.text);
        let limit = self.shared.config.turn_timeout;
        self.turn = Some(Turn {
            message,
            ended: Box::pin(async move {
                tokio::time::timeout(limit, prompt)
                    .await
                    .unwrap_or_else(|_| {
                        Err(TurnError::ff(format!(
                            "The turn took longer than {}; it was cancelled",
                            humane(limit)
                        )))
                    })
            }),
            cancelled: false,
            _slot: slot,
            _counted: Counted::new(&self.shared.metrics.turns_running),
        });
        self.runtime.working = true;
        self.runtime.phase = SessionRuntimePhase::Running;
        self.runtime.error = None;
        self.last_activity = now;
        self.report(true);
    }

    pub(super) async fn turn_ended(&mut self, ended: Result<String, TurnError>) {
        // The agent sent every update of the turn before its answer, but they wait in the event
        // queue: they belong to the turn, before its end.
        while let Some(event) = self
            .agent
            .as_mut()
            .and_then(|live| live.events.try_recv().ok())
        {
            self.agent_event(event).await;
        }
        let Some(turn) = self.turn.take() else { return };
        let now = clock::now();
        self.runtime.working = false;
        self.last_activity = now;
        let mut changes = Vec::new();
        // Not the message's fault: it goes back to the head of the queue, a bounded number of
        // times for a rate limit.
        let retry = match &ended {
            Err(e) if e.rate_limited && self.rate_limit_retries < MAX_RATE_LIMIT_RETRIES => true,
            Err(e) => is_busy(&e.message) && !e.rate_limited,
            Ok(_) => false,
        };
        let completed = match &ended {
            Ok(_) => Some(true),
            Err(_) if retry => None,
            Err(_) => Some(false),
        };
        match ended {
            Ok(reason) => {
                self.backoff = FIRST_BACKOFF;
                self.rate_limit_retries = 0;
                if reason == "cancelled" || turn.cancelled {
                    changes.extend(self.transcript.close_open_tools("cancelled"));
                }
                if let Some(usage) = self.usage.clone() {
                    changes.push(self.transcript.usage(usage, now));
                }
                changes.push(self.transcript.stop(&reason, now));
                self.runtime.phase = SessionRuntimePhase::Idle;
            }
            Err(error) if retry => {
                let wait = if error.rate_limited {
                    // Doubling from the configured first pause, retry after retry.
                    let wait = self.shared.config.rate_limit_backoff
                        * 2u32.saturating_pow(self.rate_limit_retries);
                    self.rate_limit_retries += 1;
                    wait.min(MAX_BACKOFF)
                } else {
                    let wait = self.backoff;
                    self.backoff = (wait * 2).min(MAX_BACKOFF);
                    wait
                };
                self.retry_at = Some(Instant::now() + wait);
                self.paused_since = now;
                self.runtime.paused_until = Timestamp::from_millis(
                    now.millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
                );
                self.runtime.phase = SessionRuntimePhase::Idle;
                changes.push(self.transcript.notice(
                    &format!("{} — trying again in {}", error.message, humane(wait)),
                    now,
                ));
                self.queue.push_front(turn.message);
            }
            Err(error) => {
                if let Some(live) = &self.agent {
                    // A turn that timed out may still run in the agent: it must end there too.
                    live.process.cancel(&live.provider_session_id);
                }
                let message = if error.rate_limited {
                    format!(
                        "The model API is still rate limited after {} retries; the message was not sent again ({})",
                        self.rate_limit_retries, error.message
                    )
                } else {
                    error.message
                };
                self.rate_limit_retries = 0;
                self.backoff = FIRST_BACKOFF;
                changes.extend(self.transcript.close_open_tools("failed"));
                changes.push(self.transcript.error(&message, now));
                self.runtime.error = Some(message);
                self.runtime.phase = if self.agent.is_some() {
                    SessionRuntimePhase::Error
                } else {
                    self.runtime.phase
                };
            }
        }
        self.cancel_pending(&mut changes);
        self.emit(changes);
        self.flush().await;
        self.report(true);
        if let Some(completed) = completed {
            self.turn_outcome(completed);
        }
    }

    pub(super) fn turn_outcome(&self, completed: bool) {
        self.shared.bus.publish(DomainEvent::SessionTurnEnded {
            workspace_id: self.record.workspace_id.clone(),
            session_id: self.record.row.session_id.clone(),
            workflow: self.record.row.workflow.clone(),
            completed,
        });
    }

    pub(super) fn cancel_turn(&mut self) {
        if let (Some(turn), Some(live)) = (&mut self.turn, &self.agent) {
            turn.cancelled = true;
            live.process.cancel(&live.provider_session_id);
        }
        // ACP: the client answers every open permission request of a cancelled turn.
        let mut changes = Vec::new();
        self.cancel_pending(&mut changes);
        self.emit(changes);
        self.report(true);
    }

    pub(super) fn cancel_pending(&mut self, changes: &mut Vec<Change>) {
        while let Some(open) = self.pending.pop_front() {
            let request_id = open.view.request_id.clone();
            let _ = open.responder.respond(RequestPermissionResponse::new(
                RequestPermissionOutcome::Cancelled,
            ));
            changes.extend(
                self.transcript
                    .decide(&request_id, None, DecidedBy::Cancelled),
            );
        }
    }

    pub(super) async fn agent_event(&mut self, event: AgentEvent) {
        let now = clock::now();
        match event {
            AgentEvent::Update { session_id, update } => {
                let ours = self
                    .agent
                    .as_ref()
                    .is_some_and(|live| live.provider_session_id == session_id);
                if !ours {
                    tracing::warn!(session = %self.record.row.session_id, named = %session_id, "ignored a session/update naming another session");
                    return;
                }
                let kind = update["sessionUpdate"].as_str().unwrap_or_default();
                match kind {
                    "usage_update" => {
                        self.usage = Some(usage(&update));
                        self.report(false);
                    }
                    "config_option_update" => self.options_changed(&update),
                    "current_mode_update" => {
                        if let Some(mode) = update["currentModeId"].as_str() {
                            self.record.mode = Some(mode.to_owned());
                            self.report(false);
                        }
                    }
                    _ => {}
                }
                let changes = self.transcript.update(&update, now);
                self.look_for_pull_requests(&changes);
                self.emit(changes);
            }
            AgentEvent::Permission { request, responder } => {
                self.permission(request, *responder, now).await;
            }
            AgentEvent::Exited(code) => self.exited(code, None).await,
            AgentEvent::Lost(why) => self.exited(None, Some(why)).await,
        }
    }

    pub(super) async fn permission(
        &mut self,
        request: Value,
        responder: Responder<RequestPermissionResponse>,
        now: Timestamp,
    ) {
        let tool_call = &request["toolCall"];
        let options: Vec<PermissionOption> = request["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| {
                Some(PermissionOption {
                    option_id: o["optionId"].as_str()?.to_owned(),
                    name: o["name"].as_str().unwrap_or_default().to_owned(),
                    kind: o["kind"].as_str().unwrap_or_default().to_owned(),
                })
            })
            .collect();
        let kind = tool_call["kind"].as_str().unwrap_or("other");
        let request_type = permission::classify(kind, tool_call.get("rawInput"));
        let mut changes: Vec<Change> = self
            .transcript
            .tool_from_request(tool_call, now)
            .into_iter()
            .collect();
        let title = tool_call["title"]
            .as_str()
            .unwrap_or("The agent asks for permission")
            .to_owned();
        let request_id = responder_id(&responder);
        let record = PermissionRecord {
            request_id: request_id.clone(),
            request_type,
            tool_call_id: tool_call["toolCallId"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            title,
            options: options.clone(),
            choice: None,
            decided_by: None,
        };
        changes.push(self.transcript.permission(record, now));
        let settings = settings::load(&self.shared.db).await.unwrap_or_default();
        let policy = if self.record.row.workflow == RATCHET_WORKFLOW {
            settings.ratchet_permission_policy
        } else {
            settings.permission_policy
        };
        let inside = self.locations_inside(tool_call);
        let automatic = permission::auto_answer(
            policy,
            Request {
                request_type,
                tool_kind: kind,
                inside_worktree: inside,
                options: &options,
            },
        )
        .map(str::to_owned);
        let open = OpenRequest {
            view: PendingRequest {
                request_id,
                request_type,
                tool_call: tool_view(tool_call),
                options,
            },
            responder,
        };
        self.emit(changes);
        match automatic {
            Some(option) => self.decide(open, Some(option), DecidedBy::Policy),
            None => {
                self.pending.push_back(open);
                self.last_activity = now;
                self.report(true);
            }
        }
    }

    pub(super) fn decide(&mut self, open: OpenRequest, option: Option<String>, by: DecidedBy) {
        let outcome = match &option {
            Some(id) => {
                RequestPermissionOutcome::Selected(SelectedPermissionOutcome::new(id.clone()))
            }
            None => RequestPermissionOutcome::Cancelled,
        };
        if let Err(e) = open
            .responder
            .respond(RequestPermissionResponse::new(outcome))
        {
            tracing::debug!(session = %self.record.row.session_id, "the agent is no longer waiting for the answer: {}", e.message);
        }
        let changes = self.transcript.decide(&open.view.request_id, option, by);
        self.emit(changes.into_iter().collect());
    }

    /// Every location of a tool call lies inside the worktree (and it names at least one).
    pub(super) fn locations_inside(&self, tool_call: &Value) -> bool {
        let Some(worktree) = &self.worktree else {
            return false;
        };
        let paths: Vec<&str> = tool_call["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["path"].as_str())
            .collect();
        !paths.is_empty()
            && paths
                .iter()
                .all(|path| crate::sessions::fs::is_inside(worktree, std::path::Path::new(path)))
    }

    pub(super) fn options_changed(&mut self, update: &Value) {
        for option in update["configOptions"].as_array().into_iter().flatten() {
            let current = option["currentValue"].as_str().map(str::to_owned);
            match option["category"].as_str() {
                Some("model") if current.is_some() => self.record.row.model = current,
                Some("mode") if current.is_some() => self.record.mode = current,
                _ => {}
            }
        }
        self.report(false);
    }

    /// A finished tool call that opens PRs names the PR it opened: the GitHub domain checks it.
    fn look_for_pull_requests(&self, changes: &[Change]) {
        let tools = changes.iter().filter_map(|change| match change {
            Change::Item(Item {
                body: ItemBody::Tool(tool),
                ..
            }) => Some(tool),
            _ => None,
        });
        for url in tools.flat_map(|tool| created_pull_requests(tool)) {
            self.shared.bus.publish(DomainEvent::PullRequestSeen {
                workspace_id: self.record.workspace_id.clone(),
                url: url.as_str().to_owned(),
            });
        }
    }
}

fn responder_id(responder: &Responder<RequestPermissionResponse>) -> String {
    match serde_json::to_value(responder.raw_id()) {
        Ok(Value::String(id)) => id,
        Ok(other) => other.to_string(),
        Err(_) => clock::new_id(),
    }
}

fn tool_view(tool_call: &Value) -> Option<ToolCall> {
    let mut transcript = Transcript::after(0);
    let changes = transcript.update(
        &{
            let mut update = tool_call.clone();
            update["sessionUpdate"] = Value::String("tool_call".into());
            update
        },
        clock::now(),
    );
    changes.into_iter().find_map(|change| match change {
        Change::Item(Item {
            body: ff_core::transcript::ItemBody::Tool(tool),
            ..
        }) => Some(*tool),
        _ => None,
    })
}

fn usage(update: &Value) -> Usage {
    Usage {
        used: update["used"].as_u64(),
        size: update["size"].as_u64(),
        cost: update["cost"]["amount"].as_f64().and_then(|amount| {
            Cost::from_amount(amount, update["cost"]["currency"].as_str().unwrap_or("USD"))
        }),
    }
}

pub(super) fn is_busy(message: &str) -> bool {
    message.contains("already in progress")
}

pub(super) fn humane(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s if s > 0 => format!("{s} s"),
        _ => format!("{} ms", duration.as_millis()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_agent_and_durations_read_as_people_say_them() {
        assert!(is_busy("A turn is already in progress for this session"));
        assert_eq!(humane(Duration::from_secs(4 * 3600)), "4 h");
        assert_eq!(humane(Duration::from_millis(300)), "300 ms");
    }
}
