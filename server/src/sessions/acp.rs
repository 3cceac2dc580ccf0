//! One agent process and ff's ACP client connection to it (sessions.md §1): spawned in the
//! worktree as its own process group, its pipes wrapped for the `agent-client-protocol` crate,
//! the handshake bounded by a timeout. Updates and permission requests flow out as events;
//! file system requests are answered here, inside the worktree only.
//!
//! ff reads the agent's stdout itself (`lines`): lines are capped, and `session/update`
//! notifications, nearly all of an agent's output, go straight to the session's bounded event
//! queue, so a flooding agent waits on the pipe instead of growing ff. Everything else goes on
//! to the crate only when that queue has room. An agent whose output ends while it lives on has
//! lost its connection: its group is stopped and the session told why.

use super::fs;
use super::lines;
use super::store::Offered;
use crate::auth::agents::McpOffer;
use crate::process::{group_alive, signal_group, terminate_group, ProcessIdentity};
use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::schema::{
    CancelNotification, ClientCapabilities, ContentBlock, EnvVariable, FileSystemCapabilities,
    HttpHeader, InitializeRequest, LoadSessionRequest, McpServer, McpServerHttp, McpServerStdio,
    NewSessionRequest, PromptRequest, ReadTextFileRequest, ReadTextFileResponse,
    RequestPermissionRequest, RequestPermissionResponse, SessionConfigOptionValue,
    SessionNotification, SetSessionConfigOptionRequest, SetSessionModeRequest, TextContent,
    WriteTextFileRequest, WriteTextFileResponse,
};
use agent_client_protocol::v1::{ConnectionTo, Responder};
use agent_client_protocol::{on_receive_request, Agent, Client, Lines};
use futures_util::StreamExt;
use futures_util::{FutureExt, TryFutureExt};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// Agent stderr kept for error messages (the newest part).
const STDERR_KEEP: usize = 16 * 1024;
/// Updates queued towards the session before the agent's dispatch waits (backpressure).
const EVENT_QUEUE: usize = 1024;
/// How long the output an agent wrote before it exited may take to arrive.
const OUTPUT_AFTER_EXIT: Duration = Duration::from_secs(2);
/// The buffer ff reads an agent's stdout through.
const READ_BUFFER: usize = 64 * 1024;
/// Longest an update waits for a permission request read before it to reach the session.
const ORDER_WAIT: Duration = Duration::from_secs(1);

/// What the agent sends ff, in order.
pub enum AgentEvent {
    /// A `session/update` of the session it names, as its JSON (ff maps it into its own
    /// transcript types).
    Update { session_id: String, update: Value },
    /// A `session/request_permission`, answered through its responder (perhaps much later).
    Permission {
        request: Value,
        responder: Box<Responder<RequestPermissionResponse>>,
    },
    /// The process ended (its exit code, when it had one).
    Exited(Option<i32>),
    /// The connection ended while the process lived on (its output closed or could not be
    /// read): the process group was stopped. Says why.
    Lost(String),
}

/// How to start an agent.
pub struct Launch<'a> {
    pub program: &'a Path,
    pub args: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    pub worktree: &'a Path,
    /// Longest line read from the agent.
    pub max_line_bytes: usize,
    /// SIGTERM to SIGKILL when a process whose connection was lost is stopped.
    pub stop_grace: Duration,
}

/// A running agent process with its connection.
pub struct AgentProcess {
    connection: ConnectionTo<Agent>,
    pgid: u32,
    pub identity: Option<ProcessIdentity>,
    close: Option<oneshot::Sender<()>>,
    exited: tokio::sync::watch::Receiver<bool>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    worktree: PathBuf,
}

/// Why a turn did not end with a stop reason.
#[derive(Clone, Debug)]
pub struct TurnError {
    pub message: String,
    /// The agent's error says, in its structured data, that the model API is rate limited.
    pub rate_limited: bool,
}

impl TurnError {
    /// An error of ff's own (a timeout), not the agent's.
    pub fn ff(message: String) -> Self {
        Self {
            message,
            rate_limited: false,
        }
    }
}

/// One change `configure` asks the agent for.
pub enum ConfigChange {
    /// `session/set_config_option`: the option's id and the chosen value.
    Option { option: String, value: String },
    /// `session/set_mode`, for agents that offer modes without a config option.
    Mode(String),
}

/// What the handshake learned.
pub struct Handshake {
    pub session_id: String,
    pub offered: Offered,
    pub model: Option<String>,
    pub mode: Option<String>,
    /// The session was resumed with `session/load` (else it is new).
    pub loaded: bool,
}

impl AgentProcess {
    /// Spawns the agent and connects to it; `events` receives what it sends.
    pub async fn spawn(launch: Launch<'_>) -> std::io::Result<(Self, mpsc::Receiver<AgentEvent>)> {
        let mut child = tokio::process::Command::new(launch.program)
            .args(launch.args)
            .current_dir(launch.worktree)
            .envs(launch.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let pgid = child.id().unwrap_or_default();
        let identity = ProcessIdentity::of(pgid);
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            tokio::spawn(keep_stderr(pipe, stderr.clone()));
        }
        let (stdin, stdout) = match (child.stdin.take(), child.stdout.take()) {
            (Some(stdin), Some(stdout)) => (stdin, stdout),
            _ => return Err(std::io::Error::other("the agent's pipes are missing")),
        };
        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        let (connected_tx, connected) = oneshot::channel();
        let (close, closed) = oneshot::channel::<()>();
        let worktree = launch.worktree.to_owned();
        // ff's reader says when the agent's output ended, and why.
        let (output_end, output_ended) = oneshot::channel();
        let lines = lines::lines(
            tokio::io::BufReader::with_capacity(READ_BUFFER, stdout),
            launch.max_line_bytes,
            format!("pgid {pgid}"),
            move |why| {
                let _ = output_end.send(why);
            },
        );
        let order = Arc::new(Order::default());
        let transport = Lines::new(
            writer(stdin),
            route(lines, events_tx.clone(), order.clone()),
        );
        let permissions = events_tx.clone();
        let forwarded = order.clone();
        let (read_root, write_root) = (worktree.clone(), worktree.clone());
        let client = Client
            .v1()
            .name("ff")
            .on_receive_request(
                // The responder goes to the session, which may answer minutes later: a handler
                // that waited would hold the whole connection.
                async move |request: RequestPermissionRequest, responder, _| {
                    let request = serde_json::to_value(&request).unwrap_or_default();
                    let _ = permissions
                        .send(AgentEvent::Permission {
                            request,
                            responder: Box::new(responder),
                        })
                        .await;
                    forwarded.permission_forwarded();
                    Ok(())
                },
                on_receive_request!(),
            )
            .on_receive_request(
                async move |request: ReadTextFileRequest, responder, _| match fs::read(
                    &read_root,
                    &request.path,
                    request.line,
                    request.limit,
                )
                .await
                {
                    Ok(content) => responder.respond(ReadTextFileResponse::new(content)),
                    Err(message) => responder.respond_with_error(fs_error(message)),
                },
                on_receive_request!(),
            )
            .on_receive_request(
                async move |request: WriteTextFileRequest, responder, _| match fs::write(
                    &write_root,
                    &request.path,
                    &request.content,
                )
                .await
                {
                    Ok(()) => responder.respond(WriteTextFileResponse::new()),
                    Err(message) => responder.respond_with_error(fs_error(message)),
                },
                on_receive_request!(),
            );
        tokio::spawn(client.connect_with(transport, async move |connection| {
            let _ = connected_tx.send(connection.clone());
            tokio::select! {
                () = connection.incoming_closed() => {}
                _ = closed => {}
            }
            // Returning drops the transport, which closes the agent's stdin.
            Ok(())
        }));
        // The connection handle is handed out before the closure awaits anything.
        let connected = tokio::time::timeout(Duration::from_secs(5), connected)
            .await
            .ok()
            .and_then(Result::ok);
        let (exited_tx, exited) = tokio::sync::watch::channel(false);
        let grace = launch.stop_grace;
        tokio::spawn(async move {
            let event = watch_connection(child, pgid, output_ended, grace).await;
            let _ = exited_tx.send(true);
            let _ = events_tx.send(event).await;
        });
        let connection =
            connected.ok_or_else(|| std::io::Error::other("the ACP connection did not start"))?;
        let process = Self {
            connection,
            pgid,
            identity,
            close: Some(close),
            exited,
            stderr,
            worktree,
        };
        Ok((process, events))
    }

    /// `initialize`, then `session/load` when the agent supports it and there is a session to
    /// resume, else `session/new`. A failed load falls back to a new session.
    /// With `mcp`, the session is given ff's MCP server: over HTTP when the agent says it can,
    /// else through `ff mcp-bridge` on stdio, which every ACP agent supports.
    pub async fn handshake(
        &self,
        resume: Option<&str>,
        mcp: Option<&McpOffer>,
    ) -> Result<Handshake, String> {
        let capabilities = ClientCapabilities::new().fs(FileSystemCapabilities::new()
            .read_text_file(true)
            .write_text_file(true));
        let init = self
            .connection
            .send_request(
                InitializeRequest::new(ProtocolVersion::V1).client_capabilities(capabilities),
            )
            .block_task()
            .await
            .map_err(|e| self.failure("initialize", &e))?;
        let can_load = serde_json::to_value(&init.agent_capabilities)
            .ok()
            .and_then(|c| c.get("loadSession").and_then(Value::as_bool))
            .unwrap_or(false);
        let mcp_servers: Vec<McpServer> = mcp
            .map(|offer| mcp_server(offer, init.agent_capabilities.mcp_capabilities.http))
            .into_iter()
            .collect();
        if let (Some(id), true) = (resume, can_load) {
            let loaded = self
                .connection
                .send_request(
                    LoadSessionRequest::new(id.to_owned(), self.worktree.clone())
                        .mcp_servers(mcp_servers.clone()),
                )
                .block_task()
                .await;
            match loaded {
                Ok(response) => {
                    let json = serde_json::to_value(&response).unwrap_or_default();
                    return Ok(handshake(id.to_owned(), &json, true));
                }
                Err(e) => {
                    tracing::info!(
                        "session/load of {id} failed, starting a new session: {}",
                        e.message
                    );
                }
            }
        }
        let created = self
            .connection
            .send_request(NewSessionRequest::new(self.worktree.clone()).mcp_servers(mcp_servers))
            .block_task()
            .await
            .map_err(|e| self.failure("session/new", &e))?;
        let json = serde_json::to_value(&created).unwrap_or_default();
        Ok(handshake(created.session_id.0.to_string(), &json, false))
    }

    /// Sends a prompt; the returned future resolves with the stop reason when the turn ends.
    pub fn prompt(
        &self,
        session_id: &str,
        text: &str,
    ) -> impl std::future::Future<Output = Result<String, TurnError>> + Send + 'static {
        let request = PromptRequest::new(
            session_id.to_owned(),
            vec![ContentBlock::Text(TextContent::new(text))],
        );
        let sent = self.connection.send_request(request).block_task();
        let stderr = self.stderr.clone();
        async move {
            match sent.await {
                Ok(response) => Ok(serde_json::to_value(response.stop_reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "end_turn".to_owned())),
                Err(e) => Err(TurnError {
                    rate_limited: ff_core::sessions::is_rate_limit(e.data.as_ref()),
                    message: describe(&e, &stderr),
                }),
            }
        }
    }

    pub fn cancel(&self, session_id: &str) {
        if let Err(e) = self
            .connection
            .send_notification(CancelNotification::new(session_id.to_owned()))
        {
            tracing::debug!("cannot send session/cancel: {}", e.message);
        }
    }

    /// Changes the session's model or mode, one request after the other, each answered within
    /// `limit`. The future is the caller's to poll: the session's actor goes on with its work
    /// meanwhile and handles the answer, or the silence, as one more message.
    pub fn configure(
        &self,
        session_id: &str,
        changes: Vec<ConfigChange>,
        limit: Duration,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send + 'static {
        let connection = self.connection.clone();
        let stderr = self.stderr.clone();
        let session_id = session_id.to_owned();
        async move {
            for change in changes {
                let (method, sent) = match change {
                    ConfigChange::Option { option, value } => (
                        "session/set_config_option",
                        connection
                            .send_request(SetSessionConfigOptionRequest::new(
                                session_id.clone(),
                                option,
                                SessionConfigOptionValue::value_id(value),
                            ))
                            .block_task()
                            .map_ok(drop)
                            .boxed(),
                    ),
                    ConfigChange::Mode(mode) => (
                        "session/set_mode",
                        connection
                            .send_request(SetSessionModeRequest::new(session_id.clone(), mode))
                            .block_task()
                            .map_ok(drop)
                            .boxed(),
                    ),
                };
                match tokio::time::timeout(limit, sent).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(describe(&e, &stderr)),
                    Err(_) => {
                        return Err(format!(
                            "the agent did not answer {method} within {} s",
                            limit.as_secs_f64()
                        ))
                    }
                }
            }
            Ok(())
        }
    }

    /// Closes stdin, then SIGTERM to the whole group, SIGKILL after `grace` (sessions.md §1;
    /// the real adapters do not exit on a closed stdin, and they start children of their own).
    pub async fn stop(mut self, grace: Duration) {
        if let Some(close) = self.close.take() {
            let _ = close.send(());
        }
        let mut exited = self.exited.clone();
        terminate_group(self.pgid, grace, async move {
            let _ = exited.wait_for(|gone| *gone).await;
        })
        .await;
    }

    /// The agent's own words on stderr, for a failure message.
    pub fn stderr_tail(&self) -> String {
        stderr_text(&self.stderr)
    }

    fn failure(&self, step: &str, error: &agent_client_protocol::Error) -> String {
        format!(
            "The agent failed at {step}: {}",
            describe(error, &self.stderr)
        )
    }
}

/// How the agent ended: its process exited (what it wrote before is delivered first, and a child
/// of its own that keeps the pipe open cannot hold the news back for long), or its output ended
/// while it lived on, and then its group is stopped.
async fn watch_connection(
    mut child: tokio::process::Child,
    pgid: u32,
    mut output_ended: oneshot::Receiver<lines::End>,
    grace: Duration,
) -> AgentEvent {
    tokio::select! {
        status = child.wait() => {
            let _ = tokio::time::timeout(OUTPUT_AFTER_EXIT, output_ended).await;
            AgentEvent::Exited(status.ok().and_then(|s| s.code()))
        }
        end = &mut output_ended => {
            // An agent that exits closes its output first: it has a moment to finish exiting.
            if let Ok(status) = tokio::time::timeout(OUTPUT_AFTER_EXIT, child.wait()).await {
                return AgentEvent::Exited(status.ok().and_then(|s| s.code()));
            }
            let why = match end {
                Ok(lines::End::Failed(e)) => format!("its output could not be read ({e})"),
                _ => "it closed its output but kept running".to_owned(),
            };
            tracing::warn!(pgid, "the agent's connection was lost: {why}; stopping its processes");
            terminate_group(pgid, grace, async {
                let _ = child.wait().await;
            })
            .await;
            AgentEvent::Lost(why)
        }
    }
}

/// ff's writes to the agent's stdin: one JSON-RPC message a line.
fn writer(
    stdin: tokio::process::ChildStdin,
) -> impl futures_util::Sink<String, Error = std::io::Error> + Send + 'static {
    futures_util::sink::unfold(stdin, |mut stdin, line: String| async move {
        stdin.write_all(line.as_bytes()).await?;
        stdin.write_all(b"\n").await?;
        stdin.flush().await?;
        Ok(stdin)
    })
}

/// Keeps a permission request, which goes through the crate, ahead of the updates read after it,
/// which do not.
#[derive(Default)]
struct Order {
    handed: std::sync::atomic::AtomicU64,
    forwarded: tokio::sync::watch::Sender<u64>,
}

impl Order {
    fn permission_handed(&self) {
        self.handed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn permission_forwarded(&self) {
        self.forwarded.send_modify(|n| *n += 1);
    }

    /// Waits until every permission request handed to the crate reached the session (a request
    /// the crate refused never does: after `ORDER_WAIT` it is given up on).
    async fn settled(&self) {
        let handed = self.handed.load(std::sync::atomic::Ordering::SeqCst);
        let mut forwarded = self.forwarded.subscribe();
        if tokio::time::timeout(ORDER_WAIT, forwarded.wait_for(|n| *n >= handed))
            .await
            .is_err()
        {
            self.forwarded.send_modify(|n| *n = (*n).max(handed));
        }
    }
}

/// What the crate gets of the agent's lines: `session/update` notifications go to the session's
/// event queue from here, awaiting its room (the agent is slowed, nothing is dropped); every
/// other line goes on once that queue has room, so the crate's own queue stays short.
fn route(
    lines: impl futures_util::Stream<Item = std::io::Result<String>> + Send + 'static,
    events: mpsc::Sender<AgentEvent>,
    order: Arc<Order>,
) -> impl futures_util::Stream<Item = std::io::Result<String>> + Send + 'static {
    futures_util::stream::unfold(
        (Box::pin(lines), events, order),
        |(mut lines, events, order)| async move {
            loop {
                let line = match lines.next().await? {
                    Ok(line) => line,
                    Err(e) => return Some((Err(e), (lines, events, order))),
                };
                match classify(&line) {
                    Line::Update { session_id, update } => {
                        order.settled().await;
                        let _ = events.send(AgentEvent::Update { session_id, update }).await;
                    }
                    other => {
                        drop(events.reserve().await);
                        if other == Line::PermissionRequest {
                            order.permission_handed();
                        }
                        return Some((Ok(line), (lines, events, order)));
                    }
                }
            }
        },
    )
}

#[derive(PartialEq)]
enum Line {
    Update { session_id: String, update: Value },
    PermissionRequest,
    Other,
}

fn classify(line: &str) -> Line {
    let Ok(mut message) = serde_json::from_str::<Value>(line) else {
        return Line::Other;
    };
    match message["method"].as_str() {
        Some("session/update") if message.get("id").is_none() => {
            match serde_json::from_value::<SessionNotification>(message["params"].take()) {
                Ok(notification) => Line::Update {
                    session_id: notification.session_id.0.to_string(),
                    update: serde_json::to_value(&notification.update).unwrap_or_default(),
                },
                Err(e) => {
                    tracing::warn!("protocol error: a session/update the agent sent is malformed ({e}); it was skipped");
                    Line::Other
                }
            }
        }
        Some("session/request_permission") => Line::PermissionRequest,
        _ => Line::Other,
    }
}

/// A process that was never stopped deliberately (ff is going away): nothing of it survives.
impl Drop for AgentProcess {
    fn drop(&mut self) {
        if self.close.is_some() && group_alive(self.pgid) {
            signal_group(self.pgid, Signal::SIGKILL);
        }
    }
}

fn handshake(session_id: String, response: &Value, loaded: bool) -> Handshake {
    let mut offered = Offered::default();
    let mut model = None;
    let mut mode = response["modes"]["currentModeId"]
        .as_str()
        .map(str::to_owned);
    if let Some(modes) = response["modes"]["availableModes"].as_array() {
        offered.modes = modes.iter().filter_map(choice).collect();
    }
    for option in response["configOptions"].as_array().into_iter().flatten() {
        let category = option["category"].as_str().unwrap_or_default();
        let id = option["id"].as_str().map(str::to_owned);
        let current = option["currentValue"].as_str().map(str::to_owned);
        let values = select_options(&option["options"]);
        match category {
            "model" => {
                offered.model_option = id;
                offered.models = values;
                model = current;
            }
            "mode" => {
                offered.mode_option = id;
                offered.modes = values;
                mode = current.or(mode);
            }
            _ => {}
        }
    }
    Handshake {
        session_id,
        offered,
        model,
        mode,
        loaded,
    }
}

fn choice(value: &Value) -> Option<ff_core::sessions::Choice> {
    let id = value["id"].as_str().or_else(|| value["value"].as_str())?;
    Some(ff_core::sessions::Choice {
        id: id.to_owned(),
        name: value["name"].as_str().unwrap_or(id).to_owned(),
    })
}

/// A select option list, flat or grouped.
fn select_options(options: &Value) -> Vec<ff_core::sessions::Choice> {
    options
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|option| match option["options"].as_array() {
            Some(group) => group.iter().filter_map(choice).collect::<Vec<_>>(),
            None => choice(option).into_iter().collect(),
        })
        .collect()
}

fn fs_error(message: String) -> agent_client_protocol::Error {
    agent_client_protocol::Error::new(-32602, message)
}

/// An agent's error as a person reads it: its message, its details, and when the agent said
/// nothing useful, the end of its stderr.
fn describe(error: &agent_client_protocol::Error, stderr: &Mutex<VecDeque<u8>>) -> String {
    let mut text = error.message.clone();
    if let Some(data) = &error.data {
        let detail = match data {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| data.to_string()),
            other => other.to_string(),
        };
        if !text.contains(&detail) {
            text = format!("{text}: {detail}");
        }
    }
    if agent_client_protocol::is_incoming_transport_closed(error) {
        let tail = stderr_text(stderr);
        let tail = tail.trim();
        if !tail.is_empty() {
            let last: Vec<&str> = tail.lines().rev().take(5).collect();
            text = format!(
                "the connection to the agent ended ({})",
                last.into_iter().rev().collect::<Vec<_>>().join(" / ")
            );
        } else {
            text = "the connection to the agent ended".to_owned();
        }
    }
    text
}

fn stderr_text(stderr: &Mutex<VecDeque<u8>>) -> String {
    let bytes: Vec<u8> = stderr
        .lock()
        .expect("agent stderr")
        .iter()
        .copied()
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn keep_stderr(mut pipe: tokio::process::ChildStderr, keep: Arc<Mutex<VecDeque<u8>>>) {
    let mut buffer = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        tracing::debug!(target: "ff_server::agent_stderr", "{}", String::from_utf8_lossy(&buffer[..n]).trim_end());
        let mut kept = keep.lock().expect("agent stderr");
        kept.extend(&buffer[..n]);
        let over = kept.len().saturating_sub(STDERR_KEEP);
        kept.drain(..over);
    }
}

/// The name agents show for ff's tools (`mcp__ff__create_workspace` in Claude Code).
const MCP_SERVER_NAME: &str = "ff";

/// ff's MCP server as `session/new` offers it: the credential in a header for HTTP, in the
/// bridge's environment for stdio (never on a command line, where `ps` would show it).
fn mcp_server(offer: &McpOffer, http: bool) -> McpServer {
    if http {
        McpServer::Http(
            McpServerHttp::new(MCP_SERVER_NAME, offer.url.clone()).headers(vec![HttpHeader::new(
                "Authorization",
                format!("Bearer {}", offer.credential),
            )]),
        )
    } else {
        McpServer::Stdio(
            McpServerStdio::new(MCP_SERVER_NAME, offer.bridge.clone())
                .args(vec!["mcp-bridge".to_owned()])
                .env(vec![
                    EnvVariable::new(crate::auth::agents::URL_ENV, offer.url.clone()),
                    EnvVariable::new(
                        crate::auth::agents::CREDENTIAL_ENV,
                        offer.credential.clone(),
                    ),
                ]),
        )
    }
}
