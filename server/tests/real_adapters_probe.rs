//! The fake model APIs of `common::fake_models`, proved against the real adapters a user would
//! install (A§2, A§3): each scenario spawns claude-agent-acp or codex-acp from end2end/'s
//! node_modules in a fresh git repository, drives it with the `agent-client-protocol` client,
//! and checks what the adapter did over ACP, on disk and at the fake model API.

mod common;

use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::schema::{
    CancelNotification, ClientCapabilities, ContentBlock, FileSystemCapabilities,
    InitializeRequest, InitializeResponse, NewSessionRequest, NewSessionResponse,
    PermissionOptionKind, PromptRequest, PromptResponse, RequestPermissionOutcome,
    RequestPermissionRequest, RequestPermissionResponse, SelectedPermissionOutcome,
    SessionNotification, SessionUpdate, StopReason, TextContent, ToolCallStatus, ToolKind,
};
use agent_client_protocol::v1::{ConnectionTo, Responder};
use agent_client_protocol::{Agent, ByteStreams, Client, JsonRpcRequest, RawJsonRpcId};
use common::fake_models::{
    claude_command, claude_env, codex_command, codex_env, AdapterCommand, AgentEnv, Api,
    CodexApproval, FakeModels, Reply,
};
use common::repo::TestRepo;
use ff_server::process::{group_gone, signal_group, terminate_group};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

/// Longest wait for any one answer or update; a whole scenario stays well under 30 s.
const PATIENCE: Duration = Duration::from_secs(20);

/// A `session/update` as the crate decoded it, and serialized back for easy assertions (the
/// typed structs leave out defaults, such as a tool call's `pending` status).
struct Update {
    at: Instant,
    update: SessionUpdate,
    json: Value,
}

/// A `session/request_permission`, with the responder the test answers it through.
struct Permission {
    request: RequestPermissionRequest,
    responder: Responder<RequestPermissionResponse>,
}

impl Permission {
    fn options(&self) -> Vec<(&str, PermissionOptionKind)> {
        self.request
            .options
            .iter()
            .map(|option| (&*option.option_id.0, option.kind))
            .collect()
    }

    fn tool_call_id(&self) -> String {
        self.request.tool_call.tool_call_id.0.to_string()
    }

    fn choose(self, option_id: &str) {
        self.answer(RequestPermissionOutcome::Selected(
            SelectedPermissionOutcome::new(option_id.to_owned()),
        ));
    }

    fn answer(self, outcome: RequestPermissionOutcome) {
        self.responder
            .respond(RequestPermissionResponse::new(outcome))
            .expect("the answer is sent");
    }
}

enum Event {
    Update(Box<Update>),
    Permission(Box<Permission>),
}

type Prompt = JoinHandle<agent_client_protocol::Result<PromptResponse>>;

/// One adapter process and the ACP client connection to it.
struct Adapter {
    name: &'static str,
    connection: ConnectionTo<Agent>,
    events: mpsc::UnboundedReceiver<Event>,
    close: Option<oneshot::Sender<()>>,
    child: Child,
    pgid: u32,
    stderr: Arc<Mutex<String>>,
    stopped: bool,
    _env: AgentEnv,
}

impl Adapter {
    /// Spawns the adapter leading its own process group in `cwd`, with exactly `env`.
    async fn spawn(name: &'static str, command: AdapterCommand, env: AgentEnv, cwd: &Path) -> Self {
        let mut child = tokio::process::Command::new(&command.program)
            .args(&command.args)
            .current_dir(cwd)
            .env_clear()
            .envs(env.vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let pgid = child.id().expect("a running child");
        let stderr = Arc::new(Mutex::new(String::new()));
        tokio::spawn(keep(child.stderr.take().expect("piped"), stderr.clone()));
        let transport = ByteStreams::new(
            child.stdin.take().expect("piped").compat_write(),
            child.stdout.take().expect("piped").compat(),
        );

        let (sender, events) = mpsc::unbounded_channel();
        let updates = sender.clone();
        let (connected, connection) = oneshot::channel();
        let (close, closed) = oneshot::channel::<()>();
        tokio::spawn(
            Client
                .v1()
                .name("ff-probe")
                .on_receive_notification(
                    async move |notification: SessionNotification, _| {
                        let update = Update {
                            at: Instant::now(),
                            json: serde_json::to_value(&notification.update).expect("serializes"),
                            update: notification.update,
                        };
                        let _ = updates.send(Event::Update(Box::new(update)));
                        Ok(())
                    },
                    agent_client_protocol::on_receive_notification!(),
                )
                .on_receive_request(
                    // Handlers hold the dispatch loop: the responder goes to the test's task,
                    // which answers while later messages keep flowing.
                    async move |request: RequestPermissionRequest, responder, _| {
                        let permission = Permission { request, responder };
                        let _ = sender.send(Event::Permission(Box::new(permission)));
                        Ok(())
                    },
                    agent_client_protocol::on_receive_request!(),
                )
                .connect_with(transport, async move |connection| {
                    let _ = connected.send(connection);
                    let _ = closed.await;
                    Ok(())
                }),
        );
        Self {
            name,
            connection: connection.await.expect("the connection starts"),
            events,
            close: Some(close),
            child,
            pgid,
            stderr,
            stopped: false,
            _env: env,
        }
    }

    /// Fails the test with what the adapter wrote on stderr.
    fn fail(&self, what: &str) -> ! {
        let stderr = self.stderr.lock().unwrap();
        panic!("{}: {what}; its stderr:\n{stderr}", self.name)
    }

    async fn request<R: JsonRpcRequest>(&self, request: R) -> R::Response {
        let method = request.method().to_owned();
        match tokio::time::timeout(PATIENCE, self.connection.send_request(request).block_task())
            .await
        {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => self.fail(&format!("{method} failed: {error:?}")),
            Err(_) => self.fail(&format!("no answer to {method}")),
        }
    }

    async fn initialize(&self) -> InitializeResponse {
        let capabilities = ClientCapabilities::new().fs(FileSystemCapabilities::new()
            .read_text_file(true)
            .write_text_file(true));
        let response = self
            .request(InitializeRequest::new(ProtocolVersion::V1).client_capabilities(capabilities))
            .await;
        assert_eq!(response.protocol_version, ProtocolVersion::V1);
        response
    }

    async fn new_session(&self, cwd: &Path) -> NewSessionResponse {
        self.request(NewSessionRequest::new(cwd)).await
    }

    /// Starts a turn; its answer comes once the agent has finished it.
    fn prompt(&self, session: &NewSessionResponse, text: &str) -> Prompt {
        let request = PromptRequest::new(
            session.session_id.clone(),
            vec![ContentBlock::Text(TextContent::new(text))],
        );
        tokio::spawn(self.connection.send_request(request).block_task())
    }

    fn cancel(&self, session: &NewSessionResponse) {
        self.connection
            .send_notification(CancelNotification::new(session.session_id.clone()))
            .expect("session/cancel is sent");
    }

    async fn next_event(&mut self, waiting_for: &str) -> Event {
        match tokio::time::timeout(PATIENCE, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => self.fail(&format!("connection ended waiting for {waiting_for}")),
            Err(_) => self.fail(&format!("nothing came while waiting for {waiting_for}")),
        }
    }

    /// The updates up to the next permission request, and that request.
    async fn until_permission(&mut self) -> (Vec<Update>, Permission) {
        let mut updates = Vec::new();
        loop {
            match self.next_event("a permission request").await {
                Event::Update(update) => updates.push(*update),
                Event::Permission(permission) => return (updates, *permission),
            }
        }
    }

    /// The updates until the turn in flight ends, and how it ended.
    async fn finish(
        &mut self,
        mut prompt: Prompt,
    ) -> (Vec<Update>, agent_client_protocol::Result<PromptResponse>) {
        let mut updates = Vec::new();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let result = loop {
            tokio::select! {
                result = &mut prompt => break result.expect("the prompt task"),
                event = self.events.recv() => match event {
                    Some(Event::Update(update)) => updates.push(*update),
                    Some(Event::Permission(p)) => {
                        self.fail(&format!("unexpected permission request {:?}", p.request))
                    }
                    None => self.fail("connection ended during the turn"),
                },
                () = tokio::time::sleep_until(deadline) => self.fail("the turn never ended"),
            }
        };
        // Updates sent before the answer are already queued.
        while let Ok(Event::Update(update)) = self.events.try_recv() {
            updates.push(*update);
        }
        (updates, result)
    }

    /// Closes the connection (and so stdin), then SIGTERM to the whole group and SIGKILL after
    /// 5 s; returns how long the group took to go.
    async fn stop(mut self) -> Duration {
        if let Some(close) = self.close.take() {
            let _ = close.send(());
        }
        let started = Instant::now();
        let child = &mut self.child;
        terminate_group(self.pgid, Duration::from_secs(5), async {
            let _ = child.wait().await;
        })
        .await;
        if tokio::time::timeout(Duration::from_secs(5), group_gone(self.pgid))
            .await
            .is_err()
        {
            self.fail("its process group outlived SIGKILL");
        }
        self.stopped = true;
        started.elapsed()
    }
}

/// A scenario that fails half-way still takes the adapter's whole group down.
impl Drop for Adapter {
    fn drop(&mut self) {
        if !self.stopped {
            signal_group(self.pgid, Signal::SIGKILL);
        }
    }
}

/// Keeps what the adapter writes on stderr, for failure messages.
async fn keep(mut stderr: tokio::process::ChildStderr, into: Arc<Mutex<String>>) {
    let mut buffer = vec![0; 8192];
    while let Ok(n) = stderr.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        into.lock()
            .unwrap()
            .push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
}

fn kind(update: &Update) -> &str {
    update.json["sessionUpdate"].as_str().unwrap_or_default()
}

/// The agent's message text of a turn.
fn agent_text(updates: &[Update]) -> String {
    updates
        .iter()
        .filter(|u| kind(u) == "agent_message_chunk")
        .filter_map(|u| u.json["content"]["text"].as_str())
        .collect()
}

/// The `tool_call` and `tool_call_update`s of one tool call, in order.
fn tool_updates<'a>(updates: &'a [Update], id: &str) -> Vec<&'a Value> {
    updates
        .iter()
        .filter(|u| u.json["toolCallId"] == id)
        .map(|u| &u.json)
        .collect()
}

/// The content blocks of the last message of a Messages API request.
fn last_message(request: &common::fake_models::Recorded) -> &Vec<Value> {
    let messages = request.body["messages"].as_array().expect("messages");
    messages
        .last()
        .and_then(|m| m["content"].as_array())
        .expect("the last message has content blocks")
}

async fn claude(fake: &FakeModels, repo: &TestRepo) -> (Adapter, NewSessionResponse) {
    let adapter = Adapter::spawn(
        "claude-agent-acp",
        claude_command(),
        claude_env(fake),
        &repo.path,
    )
    .await;
    adapter.initialize().await;
    let session = adapter.new_session(&repo.path).await;
    (adapter, session)
}

async fn codex(
    fake: &FakeModels,
    repo: &TestRepo,
    approval: CodexApproval,
) -> (Adapter, NewSessionResponse) {
    let adapter = Adapter::spawn(
        "codex-acp",
        codex_command(),
        codex_env(fake, approval),
        &repo.path,
    )
    .await;
    adapter.initialize().await;
    let session = adapter.new_session(&repo.path).await;
    (adapter, session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_streams_a_text_turn() {
    let fake = FakeModels::start().await;
    let chunks = ["Hello", " from", " the", " fake", " model."];
    fake.script(
        Api::Anthropic,
        [Reply::streamed(chunks, Duration::from_millis(150))],
    );
    let repo = TestRepo::new();
    let started = Instant::now();
    let mut adapter = Adapter::spawn(
        "claude-agent-acp",
        claude_command(),
        claude_env(&fake),
        &repo.path,
    )
    .await;
    let init = adapter.initialize().await;
    let initialized = started.elapsed();
    let info = init.agent_info.as_ref().expect("agent info");
    assert_eq!(
        (info.name.as_str(), info.version.as_str()),
        ("@zed-industries/claude-agent-acp", "0.23.1")
    );
    assert!(init.agent_capabilities.load_session);
    assert!(init.auth_methods.is_empty());
    let session = adapter.new_session(&repo.path).await;
    let session_ready = started.elapsed();
    let modes: Vec<&str> = session
        .modes
        .as_ref()
        .expect("modes")
        .available_modes
        .iter()
        .map(|m| &*m.id.0)
        .collect();
    for mode in ["default", "acceptEdits", "plan", "dontAsk"] {
        assert!(modes.contains(&mode), "mode {mode} missing from {modes:?}");
    }

    let turn = Instant::now();
    let prompt = adapter.prompt(&session, "Say hello");
    let (updates, result) = adapter.finish(prompt).await;
    let turn = turn.elapsed();
    assert_eq!(result.expect("the turn").stop_reason, StopReason::EndTurn);
    assert_eq!(agent_text(&updates), chunks.concat());
    // Each delta is forwarded as it arrives, not buffered to the end of the reply.
    let arrived: Vec<&Update> = updates
        .iter()
        .filter(|u| kind(u) == "agent_message_chunk" && u.json["content"]["text"] != "")
        .collect();
    assert_eq!(arrived.len(), chunks.len());
    let spread = arrived[arrived.len() - 1].at - arrived[0].at;
    assert!(
        spread >= Duration::from_millis(300),
        "chunks came {spread:?} apart"
    );
    assert!(updates.iter().any(|u| kind(u) == "usage_update"));

    let requests = fake.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("HEAD", "/")
    );
    let turns = fake.model_requests(Api::Anthropic);
    assert_eq!(turns.len(), 1);
    let request = &turns[0];
    assert_eq!(request.path, "/v1/messages?beta=true");
    assert_eq!(request.header("x-api-key"), Some("sk-ant-fake"));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.body["stream"], true);
    assert_eq!(request.body["model"], "claude-sonnet-4-6");
    for tool in ["Bash", "Write", "Edit", "Read"] {
        assert!(request.tool_names().contains(&tool), "{tool} not declared");
    }
    assert!(last_message(request)
        .iter()
        .any(|block| block["text"] == "Say hello"));

    let stopped = adapter.stop().await;
    eprintln!(
        "claude: initialize {initialized:?}, session/new at {session_ready:?}, turn {turn:?}, \
         chunks over {spread:?}, group gone {stopped:?} after SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_writes_a_file_once_allowed() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    let target = repo.path.join("hello.txt");
    fake.script(
        Api::Anthropic,
        [
            Reply::write(&target, "hi from the fake\n"),
            Reply::text("Wrote hello.txt."),
        ],
    );
    let (mut adapter, session) = claude(&fake, &repo).await;
    let prompt = adapter.prompt(&session, "Create hello.txt");

    let (before, permission) = adapter.until_permission().await;
    let id = permission.tool_call_id();
    // Announced first as a pending edit, then filled in with its input, diff and location.
    let announced = tool_updates(&before, &id);
    assert_eq!(announced[0]["sessionUpdate"], "tool_call");
    let call = before
        .iter()
        .find_map(|u| match &u.update {
            SessionUpdate::ToolCall(call) if *call.tool_call_id.0 == *id => Some(call),
            _ => None,
        })
        .expect("a tool_call");
    assert_eq!(
        (call.status, call.kind),
        (ToolCallStatus::Pending, ToolKind::Edit)
    );
    let filled = announced.last().expect("an update with the input");
    assert_eq!(filled["content"][0]["type"], "diff");
    assert_eq!(filled["content"][0]["newText"], "hi from the fake\n");
    assert_eq!(
        filled["locations"][0]["path"],
        target.to_str().expect("utf-8")
    );
    assert_eq!(
        permission.options(),
        [
            ("allow_always", PermissionOptionKind::AllowAlways),
            ("allow", PermissionOptionKind::AllowOnce),
            ("reject", PermissionOptionKind::RejectOnce),
        ]
    );
    assert!(matches!(
        permission.responder.raw_id(),
        RawJsonRpcId::Number(_)
    ));
    assert!(!target.exists(), "written before the answer");
    permission.choose("allow");

    let (after, result) = adapter.finish(prompt).await;
    assert_eq!(result.expect("the turn").stop_reason, StopReason::EndTurn);
    // The agent writes the file itself: no fs/write_text_file reaches the client.
    assert_eq!(
        std::fs::read_to_string(&target).expect("the file"),
        "hi from the fake\n"
    );
    let done = tool_updates(&after, &id);
    assert_eq!(done.last().expect("a final update")["status"], "completed");
    assert_eq!(agent_text(&after), "Wrote hello.txt.");

    let turns = fake.model_requests(Api::Anthropic);
    assert_eq!(turns.len(), 2);
    let result = &last_message(&turns[1])[0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], id);
    assert!(result["content"]
        .as_str()
        .is_some_and(|c| c.starts_with("File created successfully")));
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_runs_a_command_once_allowed() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    fake.script(
        Api::Anthropic,
        [Reply::bash("echo ran > ran.txt"), Reply::text("Ran it.")],
    );
    let (mut adapter, session) = claude(&fake, &repo).await;
    let prompt = adapter.prompt(&session, "Run the command");
    let (before, permission) = adapter.until_permission().await;
    let id = permission.tool_call_id();
    // First a generic "Terminal" call, then the command as its title.
    let announced = tool_updates(&before, &id);
    assert_eq!(
        (&announced[0]["sessionUpdate"], &announced[0]["title"]),
        (&Value::from("tool_call"), &Value::from("Terminal"))
    );
    assert_eq!(announced[0]["kind"], "execute");
    assert_eq!(
        permission.request.tool_call.fields.title.as_deref(),
        Some("echo ran > ran.txt")
    );
    assert_eq!(
        permission.options(),
        [
            ("allow_always", PermissionOptionKind::AllowAlways),
            ("allow", PermissionOptionKind::AllowOnce),
            ("reject", PermissionOptionKind::RejectOnce),
        ]
    );
    permission.choose("allow");

    let (after, result) = adapter.finish(prompt).await;
    assert_eq!(result.expect("the turn").stop_reason, StopReason::EndTurn);
    // Run by the agent itself in the session's cwd, not through the client's terminal.
    assert_eq!(
        std::fs::read_to_string(repo.path.join("ran.txt")).expect("the output file"),
        "ran\n"
    );
    let done = tool_updates(&after, &id);
    let done = done.last().expect("a final update");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["rawOutput"], "(Bash completed with no output)");
    let turns = fake.model_requests(Api::Anthropic);
    let result = &last_message(&turns[1])[0];
    assert_eq!(
        (&result["tool_use_id"], &result["is_error"]),
        (&Value::from(id), &Value::from(false))
    );
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_fails_a_rejected_tool_call_and_ends_the_turn() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    let target = repo.path.join("hello.txt");
    fake.script(
        Api::Anthropic,
        [
            Reply::write(&target, "never\n"),
            Reply::text("Understood, not writing it."),
        ],
    );
    let (mut adapter, session) = claude(&fake, &repo).await;
    let prompt = adapter.prompt(&session, "Create hello.txt");
    let (_, permission) = adapter.until_permission().await;
    let id = permission.tool_call_id();
    permission.choose("reject");

    let (after, result) = adapter.finish(prompt).await;
    assert_eq!(result.expect("the turn").stop_reason, StopReason::EndTurn);
    assert!(!target.exists());
    let failed = tool_updates(&after, &id)[0];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["rawOutput"], "User refused permission to run tool");
    assert_eq!(agent_text(&after), "Understood, not writing it.");
    // The refusal goes back to the model as an error result.
    let turns = fake.model_requests(Api::Anthropic);
    assert_eq!(turns.len(), 2);
    let result = &last_message(&turns[1])[0];
    assert_eq!(result["tool_use_id"], id);
    assert_eq!(result["is_error"], true);
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_cancel_with_a_permission_open_ends_the_turn_cancelled() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    let target = repo.path.join("hello.txt");
    fake.script(Api::Anthropic, [Reply::write(&target, "never\n")]);
    let (mut adapter, session) = claude(&fake, &repo).await;
    let prompt = adapter.prompt(&session, "Create hello.txt");
    let (_, permission) = adapter.until_permission().await;

    let cancelled = Instant::now();
    adapter.cancel(&session);
    // The turn ends without waiting for the permission's answer.
    let (after, result) = adapter.finish(prompt).await;
    let took = cancelled.elapsed();
    assert_eq!(result.expect("the turn").stop_reason, StopReason::Cancelled);
    assert!(took < Duration::from_secs(2), "cancelled after {took:?}");
    // Nothing closes the tool call: it stays pending unless the client marks it.
    assert!(tool_updates(&after, &permission.tool_call_id()).is_empty());
    permission.answer(RequestPermissionOutcome::Cancelled);
    assert!(!target.exists());
    assert_eq!(fake.model_requests(Api::Anthropic).len(), 1);
    adapter.stop().await;
    eprintln!("claude: cancel with a permission open answered in {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_cancel_while_the_model_hangs_ends_the_turn_cancelled() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    fake.script(Api::Anthropic, [Reply::Hang]);
    let (mut adapter, session) = claude(&fake, &repo).await;
    let prompt = adapter.prompt(&session, "Think forever");
    fake.wait_for_model_requests(Api::Anthropic, 1).await;

    let cancelled = Instant::now();
    adapter.cancel(&session);
    let (_, result) = adapter.finish(prompt).await;
    assert_eq!(result.expect("the turn").stop_reason, StopReason::Cancelled);
    let took = cancelled.elapsed();
    assert!(took < Duration::from_secs(2), "cancelled after {took:?}");
    assert_eq!(fake.model_requests(Api::Anthropic).len(), 1);
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_fails_the_prompt_on_a_model_api_error() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    // CLAUDE_CODE_MAX_RETRIES=1: the first attempt and one retry.
    fake.script(
        Api::Anthropic,
        [
            Reply::server_error("the fake is overloaded"),
            Reply::server_error("the fake is overloaded"),
        ],
    );
    let (mut adapter, session) = claude(&fake, &repo).await;
    let prompt = adapter.prompt(&session, "Say hello");
    let (_, result) = adapter.finish(prompt).await;
    let error = result.expect_err("the prompt fails");
    assert_eq!(i32::from(error.code), -32603);
    assert!(
        error.message.contains("API Error: 500")
            && error.message.contains("the fake is overloaded"),
        "{error:?}"
    );
    assert_eq!(fake.model_requests(Api::Anthropic).len(), 2);
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_waits_out_a_rate_limit_and_retries() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    fake.script(
        Api::Anthropic,
        [
            Reply::RateLimited {
                retry_after_secs: 2,
            },
            Reply::text("After the wait."),
        ],
    );
    let (mut adapter, session) = claude(&fake, &repo).await;
    let prompt = adapter.prompt(&session, "Say hello");
    let (updates, result) = adapter.finish(prompt).await;
    assert_eq!(result.expect("the turn").stop_reason, StopReason::EndTurn);
    assert_eq!(agent_text(&updates), "After the wait.");
    let turns = fake.model_requests(Api::Anthropic);
    assert_eq!(turns.len(), 2);
    let waited = turns[1].at - turns[0].at;
    assert!(
        waited >= Duration::from_millis(1900),
        "retried after {waited:?}"
    );
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_streams_a_text_turn() {
    let fake = FakeModels::start().await;
    let chunks = ["Hello", " from", " codex."];
    fake.script(
        Api::OpenAi,
        [Reply::streamed(chunks, Duration::from_millis(150))],
    );
    let repo = TestRepo::new();
    let started = Instant::now();
    let mut adapter = Adapter::spawn(
        "codex-acp",
        codex_command(),
        codex_env(&fake, CodexApproval::OnRequest),
        &repo.path,
    )
    .await;
    let init = adapter.initialize().await;
    let info = init.agent_info.as_ref().expect("agent info");
    assert_eq!(
        (info.name.as_str(), info.version.as_str()),
        ("codex-acp", "0.16.0")
    );
    let auth: Vec<&str> = init.auth_methods.iter().map(|m| &*m.id().0).collect();
    assert_eq!(auth, ["chatgpt", "codex-api-key", "openai-api-key"]);
    let session = adapter.new_session(&repo.path).await;
    let session_ready = started.elapsed();
    let modes: Vec<&str> = session
        .modes
        .as_ref()
        .expect("modes")
        .available_modes
        .iter()
        .map(|m| &*m.id.0)
        .collect();
    assert_eq!(modes, ["read-only", "auto", "full-access"]);

    let turn = Instant::now();
    let prompt = adapter.prompt(&session, "Say hello");
    let (updates, result) = adapter.finish(prompt).await;
    let turn = turn.elapsed();
    assert_eq!(result.expect("the turn").stop_reason, StopReason::EndTurn);
    assert_eq!(agent_text(&updates), chunks.concat());
    assert!(updates.iter().any(|u| kind(u) == "usage_update"));

    let turns = fake.model_requests(Api::OpenAi);
    assert_eq!(fake.requests().len(), turns.len(), "only model requests");
    assert_eq!(turns.len(), 1);
    let request = &turns[0];
    assert_eq!(request.path, "/v1/responses");
    assert_eq!(request.header("authorization"), Some("Bearer sk-fake"));
    assert_eq!(request.body["stream"], true);
    assert_eq!(request.body["model"], "gpt-5.4");
    for tool in ["exec_command", "apply_patch"] {
        assert!(request.tool_names().contains(&tool), "{tool} not declared");
    }
    let input = request.body["input"].as_array().expect("input items");
    assert_eq!(
        input.last().expect("the prompt")["content"][0]["text"],
        "Say hello"
    );
    let stopped = adapter.stop().await;
    eprintln!("codex: session/new at {session_ready:?}, turn {turn:?}, group gone {stopped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_asks_with_a_string_id_before_announcing_the_tool_call() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    // Escalated, so that once allowed it runs outside the sandbox: an allowed plain command under
    // `untrusted` sometimes runs sandboxed, which fails where bubblewrap is missing.
    fake.script(
        Api::OpenAi,
        [
            Reply::escalated_exec_command("echo made > codex-made.txt", "May I make a file?"),
            Reply::text("Done."),
        ],
    );
    let (mut adapter, session) = codex(&fake, &repo, CodexApproval::OnRequest).await;
    let prompt = adapter.prompt(&session, "Make a file");

    let (before, permission) = adapter.until_permission().await;
    let id = permission.tool_call_id();
    assert!(
        tool_updates(&before, &id).is_empty(),
        "the tool call came before its permission request"
    );
    assert!(matches!(
        permission.responder.raw_id(),
        RawJsonRpcId::Str(_)
    ));
    assert_eq!(
        permission.options(),
        [
            ("approved", PermissionOptionKind::AllowOnce),
            (
                "approved-execpolicy-amendment",
                PermissionOptionKind::AllowAlways
            ),
            ("abort", PermissionOptionKind::RejectOnce),
        ]
    );
    let fields = &permission.request.tool_call.fields;
    assert_eq!(fields.title.as_deref(), Some("echo made > codex-made.txt"));
    assert_eq!(
        fields.raw_input.as_ref().map(|input| &input["reason"]),
        Some(&Value::from("May I make a file?"))
    );
    permission.choose("approved");

    let (after, result) = adapter.finish(prompt).await;
    assert_eq!(result.expect("the turn").stop_reason, StopReason::EndTurn);
    assert_eq!(
        std::fs::read_to_string(repo.path.join("codex-made.txt")).expect("the file"),
        "made\n"
    );
    let call = tool_updates(&after, &id);
    assert_eq!(call[0]["sessionUpdate"], "tool_call");
    assert_eq!(call[0]["kind"], "execute");
    assert_eq!(call.last().expect("a final update")["status"], "completed");
    assert_eq!(agent_text(&after), "Done.");

    let turns = fake.model_requests(Api::OpenAi);
    assert_eq!(turns.len(), 2);
    let input = turns[1].body["input"].as_array().expect("input items");
    let output = input.last().expect("the tool output");
    assert_eq!(output["type"], "function_call_output");
    assert_eq!(output["call_id"], id);
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_ends_the_turn_cancelled_when_a_command_is_refused() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    fake.script(
        Api::OpenAi,
        [Reply::exec_command("echo made > codex-made.txt")],
    );
    let (mut adapter, session) = codex(&fake, &repo, CodexApproval::Untrusted).await;
    let prompt = adapter.prompt(&session, "Make a file");
    let (_, permission) = adapter.until_permission().await;
    let id = permission.tool_call_id();
    permission.choose("abort");

    // Unlike Claude, the refusal ends the turn at once; the model is not asked again.
    let (after, result) = adapter.finish(prompt).await;
    assert_eq!(result.expect("the turn").stop_reason, StopReason::Cancelled);
    assert!(tool_updates(&after, &id).is_empty());
    assert!(!repo.path.join("codex-made.txt").exists());
    assert_eq!(fake.model_requests(Api::OpenAi).len(), 1);
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_fails_the_prompt_on_a_model_api_error() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    fake.script(Api::OpenAi, [Reply::server_error("the fake is overloaded")]);
    let (mut adapter, session) = codex(&fake, &repo, CodexApproval::OnRequest).await;
    let prompt = adapter.prompt(&session, "Say hello");
    let (_, result) = adapter.finish(prompt).await;
    let error = result.expect_err("the prompt fails");
    assert_eq!(i32::from(error.code), -32603);
    assert_eq!(
        error.data.as_ref().map(|d| &d["codex_error_info"]),
        Some(&Value::from("internal_server_error")),
        "{error:?}"
    );
    assert_eq!(fake.model_requests(Api::OpenAi).len(), 1);
    adapter.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_cancel_while_the_model_hangs_ends_the_turn_cancelled() {
    let fake = FakeModels::start().await;
    let repo = TestRepo::new();
    fake.script(Api::OpenAi, [Reply::Hang]);
    let (mut adapter, session) = codex(&fake, &repo, CodexApproval::OnRequest).await;
    let prompt = adapter.prompt(&session, "Think forever");
    fake.wait_for_model_requests(Api::OpenAi, 1).await;

    let cancelled = Instant::now();
    adapter.cancel(&session);
    let (_, result) = adapter.finish(prompt).await;
    assert_eq!(result.expect("the turn").stop_reason, StopReason::Cancelled);
    let took = cancelled.elapsed();
    assert!(took < Duration::from_secs(2), "cancelled after {took:?}");
    adapter.stop().await;
}
