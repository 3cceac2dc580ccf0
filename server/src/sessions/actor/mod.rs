//! One session's actor: the only owner of its state. Commands from the API, events from the
//! agent, the end of a turn, a free agent slot and the transcript's write timer all arrive here
//! and are handled one at a time, so a session's queue, runtime, pending request, transcript
//! and stream never disagree. Its parts, one concern a file: the queue and the agent slots
//! (`queue`), turns and permission requests (`turn`), the transcript's writes and what the
//! session publishes (`flush`), and the agent process's life (`process`).

mod calls;
mod flush;
mod process;
mod queue;
mod turn;

use calls::PendingConfig;

use super::acp::{AgentEvent, AgentProcess, Handshake, TurnError};
use super::board::Board;
use super::store::SessionRecord;
use super::stream::{Farewell, Hub, Sent};
use super::transcript::Transcript;
use super::SessionsConfig;
use crate::clock;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::events::EventBus;
use agent_client_protocol::v1::schema::RequestPermissionResponse;
use agent_client_protocol::v1::Responder;
use ff_core::chat::ChatFrame;
use ff_core::enums::SessionProcessState;
use ff_core::ids::{MessageId, Timestamp, WorkspaceId};
use ff_core::sessions::{
    MessageAccepted, MessageText, PendingRequest, QueuedMessage, Runtime, Session, SessionConfig,
};
use ff_core::transcript::{Item, Usage};
use ff_core::wire::Cursor;
use futures_util::future::BoxFuture;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch, OwnedSemaphorePermit};
use tokio::time::Instant;

/// Busy or rate-limited agents are retried after this, doubling up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
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
    /// Stop and end the actor (the session was deleted, its workspace archived, or ff stops);
    /// with a farewell, its sockets are closed with it.
    Close {
        farewell: Option<Farewell>,
        reply: Reply<()>,
    },
    /// The workspace is going away (archive began): the agent stops, and messages and starts
    /// are refused with `why` until the workspace is ready again.
    Retire { why: String, reply: Reply<()> },
    /// The workspace became ready: messages queued while it was set up can go.
    Worktree(PathBuf),
}

/// The start of a live stream: frames to send first, then the live ones after `last`.
pub struct Attachment {
    pub initial: Vec<Arc<Sent>>,
    pub last: u64,
    pub live: broadcast::Receiver<Arc<Sent>>,
    /// Resolves when the stream ends for good, with how to close the socket.
    pub ended: BoxFuture<'static, Farewell>,
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
    /// Credentials for ff's MCP server, one per running agent.
    pub grants: crate::auth::agents::AgentGrants,
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
    /// The agent's MCP credential: revoked when the process is dropped.
    _grant: Option<crate::auth::agents::Grant>,
}

struct Turn {
    message: QueuedMessage,
    ended: BoxFuture<'static, Result<String, TurnError>>,
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
    TurnEnded(Result<String, TurnError>),
    Configured(Result<(), String>),
    Slot(OwnedSemaphorePermit),
    LineMoved,
    Retry,
    Flush,
}

pub struct Actor {
    shared: Arc<Shared>,
    record: SessionRecord,
    worktree: Option<PathBuf>,
    /// Why messages and starts are refused (the workspace is being archived, or was).
    refusing: Option<String>,
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
    /// A model or mode change sent to the agent and not answered yet.
    configuring: Option<PendingConfig>,
    slot_wait: Option<BoxFuture<'static, OwnedSemaphorePermit>>,
    slot: Option<OwnedSemaphorePermit>,
    line: watch::Receiver<u64>,
    retry_at: Option<Instant>,
    /// When the session joined the slot line, its agent began to start, and its pause began:
    /// read only while it waits so (`waiting`).
    line_since: Timestamp,
    starting_since: Timestamp,
    paused_since: Timestamp,
    backoff: Duration,
    /// Rate-limited retries of the head message so far.
    rate_limit_retries: u32,
    flush_at: Option<Instant>,
}

impl Actor {
    /// Spawns the actor of `record`, whose transcript's last written item is `last_seq`.
    pub fn spawn(
        shared: Arc<Shared>,
        record: SessionRecord,
        worktree: Option<PathBuf>,
        refusing: Option<String>,
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
            refusing,
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
            configuring: None,
            slot_wait: None,
            slot: None,
            retry_at: None,
            line_since: now,
            starting_since: now,
            paused_since: now,
            backoff: FIRST_BACKOFF,
            rate_limit_retries: 0,
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
                answer = PendingConfig::answered(&mut self.configuring) => Step::Configured(answer),
                slot = optional(&mut self.slot_wait) => Step::Slot(slot),
                _ = self.line.changed(), if self.slot_wait.is_some() => Step::LineMoved,
                () = sleep_until(self.retry_at) => Step::Retry,
                () = sleep_until(self.flush_at) => Step::Flush,
            };
            match step {
                Step::Command(None) => break,
                Step::Command(Some(Command::Close { farewell, reply })) => {
                    self.stop().await;
                    self.flush().await;
                    if let Some(farewell) = farewell {
                        self.hub.end(farewell);
                    }
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
                Step::Configured(answer) => self.configured(answer).await,
                Step::Slot(slot) => {
                    self.slot_wait = None;
                    self.slot = Some(slot);
                    self.runtime.queued_behind = None;
                }
                Step::LineMoved => {
                    let place = self.shared.slots.ahead_of(&self.record.row.session_id);
                    if place.is_some() && place != self.runtime.queued_behind {
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

    async fn command(&mut self, command: Command) {
        match command {
            Command::Enqueue { text, reply } => {
                let result = match &self.refusing {
                    Some(why) => Err(DomainError::Conflict(why.clone())),
                    None => self.enqueue(text),
                };
                let _ = reply.send(result);
            }
            Command::CancelMessage { message, reply } => {
                let found = self.queue.iter().position(|m| m.id == message);
                let result = match found {
                    Some(position) => {
                        self.queue.remove(position);
                        if self.queue.is_empty() && self.turn.is_none() {
                            self.leave_line();
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
                let result = if let Some(why) = &self.refusing {
                    Err(DomainError::Conflict(why.clone()))
                } else if self.agent.is_some() || self.starting.is_some() {
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
            Command::Configure { config, reply } => self.configure(config, reply).await,
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
            Command::Worktree(path) => {
                self.worktree = Some(path);
                self.refusing = None;
            }
            Command::Retire { why, reply } => {
                self.refusing = Some(why);
                self.stop().await;
                let _ = reply.send(Ok(()));
            }
            Command::Close { .. } => unreachable!("handled by the loop"),
        }
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

async fn turn_end(turn: &mut Option<Turn>) -> Result<String, TurnError> {
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
