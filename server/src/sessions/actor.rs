//! One session's actor: the only owner of its state. Commands from the API, events from the
//! agent, the end of a turn, a free agent slot and the transcript's write timer all arrive here
//! and are handled one at a time, so a session's queue, runtime, pending request, transcript
//! and stream never disagree.

use super::acp::{AgentEvent, AgentProcess, Handshake, Launch};
use super::board::Board;
use super::store::{self, SessionRecord};
use super::stream::{Hub, Sent, Start};
use super::transcript::{Change, Transcript};
use super::SessionsConfig;
use crate::clock;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use crate::settings;
use agent_client_protocol::v1::schema::{
    RequestPermissionOutcome, RequestPermissionResponse, SelectedPermissionOutcome,
};
use agent_client_protocol::v1::Responder;
use ff_core::chat::ChatFrame;
use ff_core::entry::LastExit;
use ff_core::enums::{SessionProcessState, SessionRuntimePhase, SessionStatus};
use ff_core::github::created_pull_requests;
use ff_core::ids::{MessageId, Timestamp, WorkspaceId};
use ff_core::permission::{self, Request};
use ff_core::sessions::{
    MessageAccepted, MessageState, MessageText, PendingRequest, QueuedMessage, Runtime,
    RuntimeFacts, Session, SessionConfig, MAX_QUEUED_MESSAGES, RATCHET_WORKFLOW,
};
use ff_core::transcript::{
    Cost, DecidedBy, Item, PermissionOption, PermissionRecord, ToolCall, Usage,
};
use ff_core::wire::Cursor;
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch, OwnedSemaphorePermit};
use tokio::time::Instant;

/// Transcript items written at most this long after they changed (sessions.md §2).
const FLUSH_AFTER: Duration = Duration::from_millis(250);
/// Items of a baseline frame; older ones page in over HTTP.
pub const BASELINE_ITEMS: u32 = 200;
/// Busy or rate-limited agents are retried after this, doubling up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const RATE_LIMIT_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

type Reply<T> = oneshot::Sender<DomainResult<T>>;

pub enum Command {
    Enqueue {
        text: MessageText,
        reply: Reply<MessageAccepted>,
    },
    CancelMessage {
        message: MessageId,
        reply: Reply<()>,
    },
    /// Start the agent without sending anything.
    Start { reply: Reply<()> },
    /// Cancel the turn in flight (the composer's Stop).
    Cancel { reply: Reply<()> },
    /// Stop the agent process; queued messages are dropped.
    Stop { reply: Reply<()> },
    Answer {
        request_id: String,
        option_id: String,
        reply: Reply<()>,
    },
    Configure {
        config: SessionConfig,
        reply: Reply<()>,
    },
    Attach {
        since: Option<Cursor>,
        reply: oneshot::Sender<DomainResult<Attachment>>,
    },
    /// The frame a page renders first; its socket then resumes after it with `since`.
    Baseline { reply: Reply<ChatFrame> },
    /// A page of the transcript: the oldest items after `after`, or with `before` the newest
    /// items below it (older items for a reader that holds the recent ones).
    Items {
        after: u64,
        before: Option<u64>,
        limit: u32,
        reply: Reply<Vec<Item>>,
    },
    /// Stop and end the actor (the session was deleted, its workspace archived, or ff stops).
    Close { reply: Reply<()> },
    /// The workspace became ready: messages queued while it was set up can go.
    Worktree(PathBuf),
}

/// The start of a live stream: frames to send first, then the live ones after `last`.
pub struct Attachment {
    pub initial: Vec<Arc<Sent>>,
    pub last: u64,
    pub live: broadcast::Receiver<Arc<Sent>>,
}

/// What the rest of ff holds of a running actor.
#[derive(Clone)]
pub struct ActorHandle {
    pub commands: mpsc::Sender<Command>,
    pub view: watch::Receiver<Arc<Session>>,
    pub workspace_id: WorkspaceId,
}

/// Everything actors share.
pub struct Shared {
    pub db: Db,
    pub metrics: crate::metrics::Metrics,
    pub bus: EventBus,
    pub config: SessionsConfig,
    pub agents: super::agents::Agents,
    pub slots: Arc<super::slots::Slots>,
    pub board: Arc<Board>,
}

/// An open permission request, with the responder the agent waits on.
struct OpenRequest {
    view: PendingRequest,
    responder: Responder<RequestPermissionResponse>,
}

struct Live {
    process: AgentProcess,
    events: mpsc::Receiver<AgentEvent>,
    provider_session_id: String,
}

struct Turn {
    message: QueuedMessage,
    ended: BoxFuture<'static, Result<String, String>>,
    cancelled: bool,
    _slot: OwnedSemaphorePermit,
    _counted: Counted,
}

/// A turn in flight counts in `ff_agent_turns_running` for exactly as long as it exists.
struct Counted(prometheus::IntGauge);

impl Counted {
    fn new(gauge: &prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.dec();
    }
}

type Starting = BoxFuture<'static, Result<(Live, Handshake), String>>;

/// One step of the actor's loop.
enum Step {
    Command(Option<Command>),
    Agent(Option<AgentEvent>),
    Started(Box<Result<(Live, Handshake), String>>),
    TurnEnded(Result<String, String>),
    Slot(OwnedSemaphorePermit),
    LineMoved,
    Retry,
    Flush,
}

pub struct Actor {
    shared: Arc<Shared>,
    record: SessionRecord,
    worktree: Option<PathBuf>,
    commands: mpsc::Receiver<Command>,
    view: watch::Sender<Arc<Session>>,
    hub: Arc<Hub>,
    transcript: Transcript,
    runtime: Runtime,
    process_state: SessionProcessState,
    last_activity: Timestamp,
    usage: Option<Usage>,
    queue: VecDeque<QueuedMessage>,
    pending: VecDeque<OpenRequest>,
    agent: Option<Live>,
    starting: Option<Starting>,
    turn: Option<Turn>,
    slot_wait: Option<BoxFuture<'static, OwnedSemaphorePermit>>,
    slot: Option<OwnedSemaphorePermit>,
    line: watch::Receiver<u64>,
    retry_at: Option<Instant>,
    backoff: Duration,
    flush_at: Option<Instant>,
}

impl Actor {
    /// Spawns the actor of `record`, whose transcript's last written item is `last_seq`.
    pub fn spawn(
        shared: Arc<Shared>,
        record: SessionRecord,
        worktree: Option<PathBuf>,
        last_seq: u64,
        hub: Arc<Hub>,
        tasks: &tokio_util::task::TaskTracker,
    ) -> ActorHandle {
        let (commands_tx, commands) = mpsc::channel(64);
        let now = clock::now();
        let mut actor = Self {
            line: shared.slots.watch(),
            shared,
            worktree,
            commands,
            view: watch::channel(Arc::new(placeholder(&record))).0,
            hub,
            transcript: Transcript::after(last_seq),
            runtime: Runtime::default(),
            process_state: SessionProcessState::Stopped,
            last_activity: record.row.updated_at.max(now),
            usage: None,
            queue: VecDeque::new(),
            pending: VecDeque::new(),
            agent: None,
            starting: None,
            turn: None,
            slot_wait: None,
            slot: None,
            retry_at: None,
            backoff: FIRST_BACKOFF,
            flush_at: None,
            record,
        };
        actor.refresh_view();
        let handle = ActorHandle {
            commands: commands_tx,
            view: actor.view.subscribe(),
            workspace_id: actor.record.workspace_id.clone(),
        };
        tasks.spawn(actor.run());
        handle
    }

    async fn run(mut self) {
        self.report(false);
        loop {
            let step = tokio::select! {
                command = self.commands.recv() => Step::Command(command),
                event = next_event(&mut self.agent) => Step::Agent(event),
                started = optional(&mut self.starting) => Step::Started(Box::new(started)),
                ended = turn_end(&mut self.turn) => Step::TurnEnded(ended),
                slot = optional(&mut self.slot_wait) => Step::Slot(slot),
                _ = self.line.changed(), if self.slot_wait.is_some() => Step::LineMoved,
                () = sleep_until(self.retry_at) => Step::Retry,
                () = sleep_until(self.flush_at) => Step::Flush,
            };
            match step {
                Step::Command(None) => break,
                Step::Command(Some(Command::Close { reply })) => {
                    self.stop().await;
                    self.flush().await;
                    self.shared
                        .board
                        .forget(&self.record.workspace_id, &self.record.row.session_id);
                    let _ = reply.send(Ok(()));
                    return;
                }
                Step::Command(Some(command)) => self.command(command).await,
                Step::Agent(Some(event)) => self.agent_event(event).await,
                Step::Agent(None) => {}
                Step::Started(started) => {
                    self.starting = None;
                    self.started(*started).await;
                }
                Step::TurnEnded(ended) => self.turn_ended(ended).await,
                Step::Slot(slot) => {
                    self.slot_wait = None;
                    self.slot = Some(slot);
                    self.runtime.queued_behind = None;
                }
                Step::LineMoved => {
                    let place = self.shared.slots.ahead_of(&self.record.row.session_id);
                    if place != self.runtime.queued_behind {
                        self.runtime.queued_behind = place;
                        self.report(false);
                    }
                }
                Step::Retry => {
                    self.retry_at = None;
                    self.runtime.paused_until = None;
                    self.report(false);
                }
                Step::Flush => self.flush().await,
            }
            self.dispatch().await;
        }
        self.stop().await;
        self.flush().await;
    }

    // ---------------------------------------------------------------- commands

    async fn command(&mut self, command: Command) {
        match command {
            Command::Enqueue { text, reply } => {
                let _ = reply.send(self.enqueue(text));
            }
            Command::CancelMessage { message, reply } => {
                let found = self.queue.iter().position(|m| m.id == message);
                let result = match found {
                    Some(position) => {
                        self.queue.remove(position);
                        if self.queue.is_empty() && self.turn.is_none() {
                            // Nothing left to send: the slot and its place in line go back.
                            self.slot_wait = None;
                            self.slot = None;
                            self.runtime.queued_behind = None;
                        }
                        self.report(false);
                        Ok(())
                    }
                    None => Err(DomainError::NotFound(format!(
                        "message {message} is not queued in this session (it was dispatched or never existed)"
                    ))),
                };
                let _ = reply.send(result);
            }
            Command::Start { reply } => {
                let result = if self.agent.is_some() || self.starting.is_some() {
                    Ok(())
                } else {
                    self.begin_start()
                };
                let _ = reply.send(result);
            }
            Command::Cancel { reply } => {
                self.cancel_turn();
                let _ = reply.send(Ok(()));
            }
            Command::Stop { reply } => {
                self.stop().await;
                let _ = reply.send(Ok(()));
            }
            Command::Answer {
                request_id,
                option_id,
                reply,
            } => {
                let _ = reply.send(self.answer(&request_id, &option_id));
            }
            Command::Configure { config, reply } => {
                let result = self.configure(config).await;
                let _ = reply.send(result);
            }
            Command::Attach { since, reply } => {
                let _ = reply.send(self.attach(since).await);
            }
            Command::Baseline { reply } => {
                let seq = self.hub.seq();
                let _ = reply.send(self.baseline(seq).await);
            }
            Command::Items {
                after,
                before,
                limit,
                reply,
            } => {
                let _ = reply.send(self.items(after, before, limit).await);
            }
            Command::Worktree(path) => self.worktree = Some(path),
            Command::Close { .. } => unreachable!("handled by the loop"),
        }
    }

    fn enqueue(&mut self, text: MessageText) -> DomainResult<MessageAccepted> {
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

    fn answer(&mut self, request_id: &str, option_id: &str) -> DomainResult<()> {
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

    async fn configure(&mut self, config: SessionConfig) -> DomainResult<()> {
        let offered = self.record.offered.clone();
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
        if let Some(live) = &self.agent {
            let session = live.provider_session_id.clone();
            if let (Some(model), Some(option)) = (&config.model, &offered.model_option) {
                live.process
                    .set_option(&session, option, model)
                    .await
                    .map_err(|e| {
                        DomainError::Conflict(format!("the agent refused the model: {e}"))
                    })?;
            }
            if let Some(mode) = &config.mode {
                let result = match &offered.mode_option {
                    Some(option) => live.process.set_option(&session, option, mode).await,
                    None => live.process.set_mode(&session, mode).await,
                };
                result.map_err(|e| {
                    DomainError::Conflict(format!("the agent refused the mode: {e}"))
                })?;
            }
        }
        store::set_config(
            &mut *self.shared.db.acquire().await?,
            self.record.row.session_id.as_str(),
            config.model.as_deref(),
            config.mode.as_deref(),
            clock::now(),
        )
        .await?;
        if config.model.is_some() {
            self.record.row.model = config.model.clone();
        }
        if config.mode.is_some() {
            self.record.mode = config.mode.clone();
        }
        let change = self
            .transcript
            .config(config.mode, config.model, clock::now());
        self.emit(vec![change]);
        self.report(false);
        Ok(())
    }

    async fn attach(&mut self, since: Option<Cursor>) -> DomainResult<Attachment> {
        // Handled by the actor, so no frame is published between the baseline and the stream.
        let (start, live) = self.hub.attach(since.as_ref());
        match start {
            Start::Replay(frames) => Ok(Attachment {
                last: frames
                    .last()
                    .map_or_else(|| since.map_or(0, |c| c.seq), |f| f.seq),
                initial: frames,
                live,
            }),
            Start::Baseline { seq } => {
                let frame = self.baseline(seq).await?;
                let json: Arc<str> = serde_json::to_string(&frame)
                    .map_err(|e| DomainError::Internal(e.to_string()))?
                    .into();
                Ok(Attachment {
                    initial: vec![Arc::new(Sent { seq, json })],
                    last: seq,
                    live,
                })
            }
        }
    }

    /// The session and its recent items as a stream at `seq` starts from them.
    async fn baseline(&mut self, seq: u64) -> DomainResult<ChatFrame> {
        let mut items = store::last_items(
            &mut *self.shared.db.acquire().await?,
            self.record.row.session_id.as_str(),
            BASELINE_ITEMS,
        )
        .await?;
        let has_earlier = items.first().is_some_and(|i| i.seq > 1);
        merge_unwritten(&mut items, self.transcript.unwritten_after(0));
        Ok(ChatFrame::Items {
            epoch: self.hub.epoch().clone(),
            seq,
            session: Box::new((**self.view.borrow()).clone()),
            items,
            has_earlier,
        })
    }

    async fn items(
        &mut self,
        after: u64,
        before: Option<u64>,
        limit: u32,
    ) -> DomainResult<Vec<Item>> {
        let id = self.record.row.session_id.as_str();
        let mut conn = self.shared.db.acquire().await?;
        let mut items = match before {
            None => store::items_after(&mut conn, id, after, limit).await?,
            Some(before) => store::items_before(&mut conn, id, after, before, limit).await?,
        };
        drop(conn);
        let unwritten = self
            .transcript
            .unwritten_after(after)
            .into_iter()
            .filter(|item| before.is_none_or(|before| item.seq < before))
            .collect();
        merge_unwritten(&mut items, unwritten);
        let limit = limit as usize;
        match before {
            None => items.truncate(limit),
            // The page nearest to `before`.
            Some(_) => items = items.split_off(items.len().saturating_sub(limit)),
        }
        Ok(items)
    }

    // ---------------------------------------------------------------- dispatch

    /// Moves the queue along: waits for a slot, starts the agent, sends the next message.
    async fn dispatch(&mut self) {
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

    fn begin_start(&mut self) -> DomainResult<()> {
        let Some(worktree) = self.worktree.clone() else {
            return Err(DomainError::Conflict(
                "the workspace has no worktree".into(),
            ));
        };
        let shared = self.shared.clone();
        let agent = self.record.row.agent.clone();
        let resume = self.record.provider_session_id.clone();
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
            let (process, events) = AgentProcess::spawn(Launch {
                program: &program,
                args: &spec.server.args,
                env: &spec.server.env,
                worktree: &worktree,
            })
            .await
            .map_err(|e| format!("{} could not start: {e}", spec.name))?;
            match tokio::time::timeout(
                shared.config.handshake_timeout,
                process.handshake(resume.as_deref()),
            )
            .await
            {
                Ok(Ok(handshake)) => Ok((
                    Live {
                        provider_session_id: handshake.session_id.clone(),
                        process,
                        events,
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

    async fn started(&mut self, started: Result<(Live, Handshake), String>) {
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

    async fn begin_turn(&mut self) {
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
                        Err(format!(
                            "The turn took longer than {}; it was cancelled",
                            humane(limit)
                        ))
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

    async fn turn_ended(&mut self, ended: Result<String, String>) {
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
        let completed = match &ended {
            Ok(_) => Some(true),
            Err(message) if is_busy(message) || is_rate_limited(message) => None,
            Err(_) => Some(false),
        };
        match ended {
            Ok(reason) => {
                self.backoff = FIRST_BACKOFF;
                if reason == "cancelled" || turn.cancelled {
                    changes.extend(self.transcript.close_open_tools("cancelled"));
                }
                if let Some(usage) = self.usage.clone() {
                    changes.push(self.transcript.usage(usage, now));
                }
                changes.push(self.transcript.stop(&reason, now));
                self.runtime.phase = SessionRuntimePhase::Idle;
            }
            Err(message) if is_busy(&message) || is_rate_limited(&message) => {
                // Not the message's fault: it goes back to the head of the queue.
                let wait = if is_rate_limited(&message) {
                    self.backoff.max(RATE_LIMIT_BACKOFF)
                } else {
                    self.backoff
                };
                self.backoff = (wait * 2).min(MAX_BACKOFF);
                self.retry_at = Some(Instant::now() + wait);
                self.runtime.paused_until = Timestamp::from_millis(
                    now.millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
                );
                self.runtime.phase = SessionRuntimePhase::Idle;
                changes.push(self.transcript.notice(
                    &format!("{message} — trying again in {}", humane(wait)),
                    now,
                ));
                self.queue.push_front(turn.message);
            }
            Err(message) => {
                if let Some(live) = &self.agent {
                    // A turn that timed out may still run in the agent: it must end there too.
                    live.process.cancel(&live.provider_session_id);
                }
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

    fn turn_outcome(&self, completed: bool) {
        self.shared.bus.publish(DomainEvent::SessionTurnEnded {
            workspace_id: self.record.workspace_id.clone(),
            session_id: self.record.row.session_id.clone(),
            workflow: self.record.row.workflow.clone(),
            completed,
        });
    }

    /// The head message cannot be sent (the agent will not start): it fails, the rest waits.
    /// Its turn failed before it began, which a fixer's dispatch must hear as a death.
    fn fail_head(&mut self, why: &str) {
        if let Some(message) = self.queue.pop_front() {
            tracing::info!(session = %self.record.row.session_id, message = %message.id, "message failed: {why}");
            self.turn_outcome(false);
        }
    }

    fn cancel_turn(&mut self) {
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

    fn cancel_pending(&mut self, changes: &mut Vec<Change>) {
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

    /// Stops the agent process (deliberately): the turn is cancelled, queued messages dropped.
    async fn stop(&mut self) {
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
        self.emit(changes);
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
    async fn settle_stopped(&mut self, status: SessionStatus) {
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
            Ok(()) => self.record.row.status = status,
            Err(e) => tracing::error!(session = %id, "cannot record that the agent stopped: {e}"),
        }
        self.record.process = None;
    }

    // ---------------------------------------------------------------- agent events

    async fn agent_event(&mut self, event: AgentEvent) {
        let now = clock::now();
        match event {
            AgentEvent::Update(update) => {
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
            AgentEvent::Exited(code) => self.exited(code).await,
        }
    }

    async fn permission(
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

    fn decide(&mut self, open: OpenRequest, option: Option<String>, by: DecidedBy) {
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
    fn locations_inside(&self, tool_call: &Value) -> bool {
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
                .all(|path| super::fs::is_inside(worktree, std::path::Path::new(path)))
    }

    fn options_changed(&mut self, update: &Value) {
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
                body: ff_core::transcript::ItemBody::Tool(tool),
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

    async fn exited(&mut self, code: Option<i32>) {
        let Some(live) = self.agent.take() else {
            return;
        };
        let stderr = live.process.stderr_tail();
        drop(live);
        let unexpected = code != Some(0);
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
            let message = match last_line(&stderr) {
                Some(line) => format!("The agent exited during the turn ({line})"),
                None => format!(
                    "The agent exited during the turn (exit code {})",
                    code.map_or("none".to_owned(), |c| c.to_string())
                ),
            };
            changes.push(self.transcript.error(&message, now));
            self.runtime.error = Some(message);
            drop(turn);
        } else if unexpected {
            let message = format!(
                "The agent exited unexpectedly (exit code {})",
                code.map_or("none".to_owned(), |c| c.to_string())
            );
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

    // ---------------------------------------------------------------- output

    /// Sends transcript changes to the live stream and schedules their write.
    fn emit(&mut self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        for change in changes {
            match change {
                Change::Item(item) => self.hub.publish(|epoch, seq| ChatFrame::Item {
                    epoch,
                    seq,
                    item: Box::new(item),
                }),
                Change::Append {
                    seq: item_seq,
                    text,
                } => self.hub.publish(|epoch, seq| ChatFrame::Append {
                    epoch,
                    seq,
                    item_seq,
                    text,
                }),
            }
        }
        if self.flush_at.is_none() {
            self.flush_at = Some(Instant::now() + FLUSH_AFTER);
        }
    }

    /// Writes every changed item in one transaction.
    async fn flush(&mut self) {
        self.flush_at = None;
        if !self.transcript.has_dirty() {
            return;
        }
        let items = self.transcript.take_dirty();
        let refs: Vec<&Item> = items.iter().collect();
        let result = async {
            let mut tx = crate::db::begin_write(&self.shared.db).await?;
            store::upsert_items(&mut tx, self.record.row.session_id.as_str(), &refs).await?;
            tx.commit().await
        }
        .await;
        match result {
            Ok(()) => {
                self.shared.metrics.transcript_writes.inc();
                self.shared
                    .metrics
                    .transcript_items
                    .inc_by(items.len() as u64);
            }
            Err(e) => {
                tracing::error!(session = %self.record.row.session_id, items = items.len(), "cannot write the transcript: {e}");
            }
        }
    }

    fn refresh_view(&mut self) {
        let session = Session {
            id: self.record.row.session_id.clone(),
            workspace_id: self.record.workspace_id.clone(),
            agent: self.record.row.agent.clone(),
            name: self.record.row.name.clone(),
            workflow: self.record.row.workflow.clone(),
            model: self.record.row.model.clone(),
            mode: self.record.mode.clone(),
            status: self.record.row.status,
            created_at: self.record.created_at,
            updated_at: self.last_activity,
            runtime: self.runtime.clone(),
            queue: self.queue.iter().cloned().collect(),
            pending_request: self.pending.front().map(|r| r.view.clone()),
            models: self.record.offered.models.clone(),
            modes: self.record.offered.modes.clone(),
            usage: self.usage.clone(),
        };
        self.view.send_replace(Arc::new(session));
    }

    /// Publishes the session's state: its view, its frame, and its part of the workspace's
    /// session group.
    fn report(&mut self, moves_card: bool) {
        self.refresh_view();
        let session = self.view.borrow().clone();
        self.hub.publish(|epoch, seq| ChatFrame::Session {
            epoch,
            seq,
            session: Box::new((*session).clone()),
        });
        let facts = RuntimeFacts {
            runtime: self.runtime.clone(),
            process_state: self.process_state,
            updated_at: self.last_activity,
            usage: self.usage.clone(),
            pending: self.pending.iter().map(|r| r.view.request_type).min(),
        };
        self.shared.board.report(
            &self.record.workspace_id,
            self.record.row.clone(),
            facts,
            moves_card,
        );
    }
}

fn placeholder(record: &SessionRecord) -> Session {
    Session {
        id: record.row.session_id.clone(),
        workspace_id: record.workspace_id.clone(),
        agent: record.row.agent.clone(),
        name: record.row.name.clone(),
        workflow: record.row.workflow.clone(),
        model: record.row.model.clone(),
        mode: record.mode.clone(),
        status: record.row.status,
        created_at: record.created_at,
        updated_at: record.row.updated_at,
        runtime: Runtime::default(),
        queue: Vec::new(),
        pending_request: None,
        models: record.offered.models.clone(),
        modes: record.offered.modes.clone(),
        usage: None,
    }
}

/// Items from the database with those not written yet laid over them (newer versions win).
fn merge_unwritten(items: &mut Vec<Item>, unwritten: Vec<Item>) {
    for item in unwritten {
        match items.binary_search_by_key(&item.seq, |i| i.seq) {
            Ok(position) => items[position] = item,
            Err(position) => items.insert(position, item),
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

fn is_busy(message: &str) -> bool {
    message.contains("already in progress")
}

/// What model APIs and agents say when they are rate limited.
fn is_rate_limited(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "rate limit",
        "rate_limit",
        "too many requests",
        "429",
        "overloaded",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

fn last_line(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(300).collect())
}

fn humane(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s if s > 0 => format!("{s} s"),
        _ => format!("{} ms", duration.as_millis()),
    }
}

async fn next_event(agent: &mut Option<Live>) -> Option<AgentEvent> {
    match agent {
        Some(live) => live.events.recv().await,
        None => std::future::pending().await,
    }
}

async fn optional<T>(future: &mut Option<BoxFuture<'static, T>>) -> T {
    match future {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

async fn turn_end(turn: &mut Option<Turn>) -> Result<String, String> {
    match turn {
        Some(turn) => (&mut turn.ended).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_that_are_not_the_messages_fault_are_recognised() {
        assert!(is_busy("A turn is already in progress for this session"));
        for limited in [
            "Internal error: API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}}",
            "exceeded retry limit, last status: 429 Too Many Requests",
            "Overloaded",
        ] {
            assert!(is_rate_limited(limited), "{limited}");
        }
        assert!(!is_rate_limited(
            "Internal error: API Error: 500 {\"message\": \"boom\"}"
        ));
        assert_eq!(humane(Duration::from_secs(4 * 3600)), "4 h");
        assert_eq!(humane(Duration::from_millis(300)), "300 ms");
    }
}
