//! Runs one script turn: its steps in order, talking to the client on the turn's session.

use crate::event_log::EventLog;
use crate::script::{Permission, Step, Turn};
use crate::stdio;
use agent_client_protocol::v1::schema::{
    ContentBlock, ContentChunk, PermissionOptionKind, ReadTextFileRequest,
    RequestPermissionOutcome, RequestPermissionRequest, RequestPermissionResponse, SessionId,
    SessionNotification, SessionUpdate, StopReason, TextContent, WriteTextFileRequest,
};
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::{Client, Error, RequestCancellationHandle};
use serde_json::{json, Value};
use std::future::pending;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

pub struct TurnRunner {
    cx: ConnectionTo<Client>,
    session_id: SessionId,
    cwd: PathBuf,
    log: Arc<EventLog>,
}

impl TurnRunner {
    pub fn new(
        cx: ConnectionTo<Client>,
        session_id: SessionId,
        cwd: PathBuf,
        log: Arc<EventLog>,
    ) -> Self {
        Self {
            cx,
            session_id,
            cwd,
            log,
        }
    }

    /// The turn's stop reason, or the error its `session/prompt` fails with.
    pub async fn run(&self, turn: &Turn) -> Result<StopReason, Error> {
        for step in &turn.steps {
            if let Some(reason) = self.step(step).await? {
                return Ok(reason);
            }
        }
        Ok(turn.stop_reason)
    }

    /// Runs one step; `Some` ends the turn early with that stop reason.
    async fn step(&self, step: &Step) -> Result<Option<StopReason>, Error> {
        match step {
            Step::Text(text) => self.update(SessionUpdate::AgentMessageChunk(chunk(text)))?,
            Step::Thought(text) => self.update(SessionUpdate::AgentThoughtChunk(chunk(text)))?,
            Step::UserText(text) => self.update(SessionUpdate::UserMessageChunk(chunk(text)))?,
            Step::ToolCall(call) => self.update(SessionUpdate::ToolCall(call.clone()))?,
            Step::ToolCallUpdate(update) => {
                self.update(SessionUpdate::ToolCallUpdate(update.clone()))?;
            }
            Step::Plan(plan) => self.update(SessionUpdate::Plan(plan.clone()))?,
            Step::AvailableCommands(update) => {
                self.update(SessionUpdate::AvailableCommandsUpdate(update.clone()))?;
            }
            Step::CurrentMode(update) => {
                self.update(SessionUpdate::CurrentModeUpdate(update.clone()))?;
            }
            Step::ConfigOption(update) => {
                self.update(SessionUpdate::ConfigOptionUpdate(update.clone()))?;
            }
            Step::SessionInfo(update) => {
                self.update(SessionUpdate::SessionInfoUpdate(update.clone()))?;
            }
            Step::Usage(update) => self.update(SessionUpdate::UsageUpdate(update.clone()))?,
            Step::Notice(notice) => self.update(SessionUpdate::Notice(notice.clone()))?,
            Step::Compaction(update) => {
                self.update(SessionUpdate::CompactionUpdate(update.clone()))?;
            }
            Step::CompactionSummary(update) => {
                self.update(SessionUpdate::CompactionSummaryChunk(update.clone()))?;
            }
            Step::Permission(permission) => return self.permission(permission).await,
            Step::ReadFile { path, line, limit } => self.read_file(path, *line, *limit).await?,
            Step::WriteFile { path, content } => self.write_file(path, content).await?,
            Step::Edit { path, content } => self.edit(path, content).await,
            Step::Sleep { ms } => tokio::time::sleep(Duration::from_millis(*ms)).await,
            Step::Hang {} => pending::<()>().await,
            Step::WaitFile { path } => {
                while !tokio::fs::try_exists(path).await.unwrap_or(false) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            Step::Crash { code } => {
                eprintln!("ff-scripted-agent: crashing with code {code}");
                self.log
                    .write("exit", json!({"code": code, "reason": "crash step"}));
                match stdio::exit_after_output(&self.cx, *code).await {}
            }
            Step::Flood { count, text } => {
                for n in 0..*count {
                    let text = text.replace("{n}", &n.to_string());
                    self.update(SessionUpdate::AgentMessageChunk(chunk(&text)))?;
                }
            }
            Step::Timed { count, interval_ms } => {
                let mut ticks = tokio::time::interval(Duration::from_millis(*interval_ms));
                for _ in 0..*count {
                    ticks.tick().await;
                    let text = format!("⟦{:.3}⟧", epoch_millis());
                    self.update(SessionUpdate::AgentMessageChunk(chunk(&text)))?;
                }
            }
            Step::Error {
                code,
                message,
                data,
            } => {
                let error = Error::new(*code, message.clone());
                return Err(match data {
                    Some(data) => error.data(data.clone()),
                    None => error,
                });
            }
            Step::Raw(raw) => stdio::raw(&self.cx, raw)?,
            Step::ForeignText(text) => self.cx.send_notification(SessionNotification::new(
                SessionId::new(format!("{}-not", self.session_id)),
                SessionUpdate::AgentMessageChunk(chunk(text)),
            ))?,
        }
        Ok(None)
    }

    fn update(&self, update: SessionUpdate) -> Result<(), Error> {
        self.cx
            .send_notification(SessionNotification::new(self.session_id.clone(), update))
    }

    /// Asks the client and waits for its answer; the answer is logged whenever it comes, even
    /// after `session/cancel` has ended the turn.
    async fn permission(&self, step: &Permission) -> Result<Option<StopReason>, Error> {
        let request = self.cx.prepare_request(RequestPermissionRequest::new(
            self.session_id.clone(),
            step.tool_call.clone(),
            step.options.clone(),
        ));
        // session/cancel drops this turn while it waits: the open request is then cancelled
        // too, and the client answers it `cancelled`.
        let _cancel_when_abandoned = CancelOnDrop(request.cancellation_handle());
        let (answer_tx, answer_rx) = oneshot::channel();
        let log = Arc::clone(&self.log);
        let fields = json!({
            "sessionId": self.session_id,
            "toolCallId": step.tool_call.tool_call_id,
        });
        request.on_receiving_result(move |answer| async move {
            log.write("permission", merge(fields, permission_outcome(&answer)));
            // The turn may be gone (cancelled); the answer is logged all the same.
            let _ = answer_tx.send(answer);
            Ok(())
        })?;
        let answer = answer_rx.await.map_err(Error::into_internal_error)?;
        let rejected = match &answer {
            Ok(RequestPermissionResponse {
                outcome: RequestPermissionOutcome::Selected(selected),
                ..
            }) => Some(step.options.iter().any(|option| {
                option.option_id == selected.option_id
                    && matches!(
                        option.kind,
                        PermissionOptionKind::RejectOnce | PermissionOptionKind::RejectAlways
                    )
            })),
            _ => None,
        };
        Ok(match rejected {
            Some(false) => None,
            Some(true) => step
                .on_reject
                .as_ref()
                .map(|stop| stop.reason(StopReason::EndTurn)),
            None => step
                .on_cancel
                .as_ref()
                .map(|stop| stop.reason(StopReason::Cancelled)),
        })
    }

    async fn read_file(
        &self,
        path: &Path,
        line: Option<u32>,
        limit: Option<u32>,
    ) -> Result<(), Error> {
        let path = self.cwd.join(path);
        let request = ReadTextFileRequest::new(self.session_id.clone(), path.clone())
            .line(line)
            .limit(limit);
        let fields = json!({"sessionId": self.session_id, "path": path});
        let text = match self.cx.send_request(request).block_task().await {
            Ok(response) => {
                self.log.write(
                    "fs/read_text_file",
                    merge(fields, json!({"ok": true, "content": response.content})),
                );
                format!("read ok: {} bytes", response.content.len())
            }
            Err(e) => {
                self.log.write(
                    "fs/read_text_file",
                    merge(fields, json!({"ok": false, "error": e})),
                );
                format!("read failed: {}", e.message)
            }
        };
        self.update(SessionUpdate::AgentMessageChunk(chunk(&text)))
    }

    async fn write_file(&self, path: &Path, content: &str) -> Result<(), Error> {
        let path = self.cwd.join(path);
        let request = WriteTextFileRequest::new(self.session_id.clone(), path.clone(), content);
        let fields = json!({"sessionId": self.session_id, "path": path});
        let text = match self.cx.send_request(request).block_task().await {
            Ok(_) => {
                self.log
                    .write("fs/write_text_file", merge(fields, json!({"ok": true})));
                format!("write ok: {} bytes", content.len())
            }
            Err(e) => {
                self.log.write(
                    "fs/write_text_file",
                    merge(fields, json!({"ok": false, "error": e})),
                );
                format!("write failed: {}", e.message)
            }
        };
        self.update(SessionUpdate::AgentMessageChunk(chunk(&text)))
    }

    /// Writes the file itself, as the Claude adapter does after a permission.
    async fn edit(&self, path: &Path, content: &str) {
        let path = self.cwd.join(path);
        let written = async {
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::write(&path, content).await
        }
        .await;
        let outcome = match written {
            Ok(()) => json!({"ok": true}),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        };
        self.log.write(
            "edit",
            merge(json!({"sessionId": self.session_id, "path": path}), outcome),
        );
    }
}

/// Cancels a request nobody waits for any more; once it is answered this does nothing.
struct CancelOnDrop(RequestCancellationHandle);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        // Fails only when the connection is gone, and then there is nothing to cancel.
        let _ = self.0.cancel();
    }
}

/// Now, in milliseconds since the Unix epoch (with the microseconds as a fraction).
fn epoch_millis() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_micros() as f64 / 1000.0)
}

fn chunk(text: &str) -> ContentChunk {
    ContentChunk::new(ContentBlock::Text(TextContent::new(text)))
}

fn permission_outcome(answer: &Result<RequestPermissionResponse, Error>) -> Value {
    match answer {
        Ok(RequestPermissionResponse {
            outcome: RequestPermissionOutcome::Selected(selected),
            ..
        }) => json!({"outcome": "selected", "optionId": selected.option_id}),
        Ok(_) => json!({"outcome": "cancelled"}),
        Err(e) => json!({"outcome": "error", "error": e}),
    }
}

/// `base` with the members of `more` added; both are JSON objects.
fn merge(mut base: Value, more: Value) -> Value {
    if let (Value::Object(base), Value::Object(more)) = (&mut base, more) {
        base.extend(more);
    }
    base
}
