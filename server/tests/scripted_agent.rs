//! The scripted ACP agent (`ff-scripted-agent`), driven the way ff drives agents: its own
//! process on piped stdio, the crate's client side on top, handlers that hand requests to the
//! test instead of blocking the dispatch loop.

use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::schema::{
    CancelNotification, ClientCapabilities, ContentBlock, ContentChunk, FileSystemCapabilities,
    InitializeRequest, InitializeResponse, LoadSessionRequest, NewSessionRequest,
    NewSessionResponse, PermissionOptionKind, PromptRequest, PromptResponse, ReadTextFileRequest,
    ReadTextFileResponse, RequestId, RequestPermissionOutcome, RequestPermissionRequest,
    RequestPermissionResponse, SelectedPermissionOutcome, SessionConfigKind,
    SessionConfigOptionValue, SessionId, SessionNotification, SessionUpdate,
    SetSessionConfigOptionRequest, SetSessionModeRequest, StopReason, TextContent,
    WriteTextFileRequest, WriteTextFileResponse,
};
use agent_client_protocol::v1::{ConnectionTo, Responder};
use agent_client_protocol::{is_incoming_transport_closed, on_receive_notification};
use agent_client_protocol::{on_receive_request, Agent, ByteStreams, Client, Error};
use serde_json::{json, Value};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

const WAIT: Duration = Duration::from_secs(10);

type PermissionCall = (
    RequestPermissionRequest,
    Responder<RequestPermissionResponse>,
);

#[derive(Debug, PartialEq)]
enum FsCall {
    Read(PathBuf),
    Write(PathBuf, String),
}

/// A directory holding the script, the log, the state and a cwd for sessions.
struct Setup {
    dir: TempDir,
}

impl Setup {
    fn new(script: Option<Value>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if let Some(script) = script {
            std::fs::write(dir.path().join("script.json"), script.to_string()).unwrap();
        }
        std::fs::create_dir(dir.path().join("work")).unwrap();
        Self { dir }
    }

    fn cwd(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ff-scripted-agent"));
        let script = self.dir.path().join("script.json");
        if script.exists() {
            command.env("FF_SCRIPTED_AGENT_SCRIPT", script);
        }
        command
            .env("FF_SCRIPTED_AGENT_LOG", self.dir.path().join("log.jsonl"))
            .env("FF_SCRIPTED_AGENT_STATE", self.dir.path().join("state"))
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Every event logged so far.
    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("log.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    fn events_named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|event| event["event"] == name)
            .collect()
    }

    /// Waits for an event the agent logs from a task of its own.
    async fn wait_for_event(&self, name: &str) -> Value {
        within(async {
            loop {
                if let Some(event) = self.events_named(name).pop() {
                    return event;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
    }

    /// Starts the agent and connects the client to it.
    async fn start(&self) -> Running {
        let mut child = self.command().spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (updates_tx, updates) = mpsc::unbounded_channel();
        let (permissions_tx, permissions) = mpsc::unbounded_channel();
        let (fs_tx, fs) = mpsc::unbounded_channel();
        let write_tx = fs_tx.clone();
        let (cx_tx, cx_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let client = Client
            .v1()
            .name("scripted-agent-test")
            .on_receive_notification(
                async move |notification: SessionNotification, _cx| {
                    updates_tx.send(notification).unwrap();
                    Ok(())
                },
                on_receive_notification!(),
            )
            // Answered later by the test, as ff answers after a click: the handler returns at
            // once so the dispatch loop keeps going.
            .on_receive_request(
                async move |request: RequestPermissionRequest, responder, _cx| {
                    permissions_tx.send((request, responder)).unwrap();
                    Ok(())
                },
                on_receive_request!(),
            )
            .on_receive_request(
                async move |request: ReadTextFileRequest, responder, _cx| {
                    fs_tx.send(FsCall::Read(request.path.clone())).unwrap();
                    match std::fs::read_to_string(&request.path) {
                        Ok(content) => responder.respond(ReadTextFileResponse::new(content)),
                        Err(e) => responder.respond_with_error(Error::new(
                            -32002,
                            format!("cannot read {}: {e}", request.path.display()),
                        )),
                    }
                },
                on_receive_request!(),
            )
            .on_receive_request(
                async move |request: WriteTextFileRequest, responder, _cx| {
                    write_tx
                        .send(FsCall::Write(request.path.clone(), request.content.clone()))
                        .unwrap();
                    std::fs::create_dir_all(request.path.parent().unwrap()).unwrap();
                    std::fs::write(&request.path, &request.content).unwrap();
                    responder.respond(WriteTextFileResponse::new())
                },
                on_receive_request!(),
            );
        let transport = ByteStreams::new(stdin.compat_write(), stdout.compat());
        let connection = tokio::spawn(client.connect_with(transport, async move |cx| {
            cx_tx.send(cx.clone()).unwrap();
            // Until the agent's stdout closes, or the test closes its stdin.
            tokio::select! {
                () = cx.incoming_closed() => {}
                _ = stop_rx => {}
            }
            Ok(())
        }));
        let cx = within(cx_rx).await.unwrap();
        Running {
            child,
            cx,
            updates,
            permissions,
            fs,
            stop: Some(stop_tx),
            connection,
        }
    }
}

struct Running {
    child: Child,
    cx: ConnectionTo<Agent>,
    updates: mpsc::UnboundedReceiver<SessionNotification>,
    permissions: mpsc::UnboundedReceiver<PermissionCall>,
    fs: mpsc::UnboundedReceiver<FsCall>,
    stop: Option<oneshot::Sender<()>>,
    connection: JoinHandle<Result<(), Error>>,
}

impl Running {
    async fn initialize(&self) -> InitializeResponse {
        let capabilities = ClientCapabilities::new().fs(FileSystemCapabilities::new()
            .read_text_file(true)
            .write_text_file(true));
        within(
            self.cx
                .send_request(
                    InitializeRequest::new(ProtocolVersion::V1).client_capabilities(capabilities),
                )
                .block_task(),
        )
        .await
        .unwrap()
    }

    async fn new_session(&self, cwd: &Path) -> NewSessionResponse {
        within(
            self.cx
                .send_request(NewSessionRequest::new(cwd))
                .block_task(),
        )
        .await
        .unwrap()
    }

    /// Sends a prompt; the turn runs while the test answers the agent's requests.
    fn prompt(&self, session: &SessionId, text: &str) -> JoinHandle<Result<PromptResponse, Error>> {
        let request = PromptRequest::new(
            session.clone(),
            vec![ContentBlock::Text(TextContent::new(text))],
        );
        tokio::spawn(self.cx.send_request(request).block_task())
    }

    async fn next_update(&mut self) -> SessionUpdate {
        within(self.updates.recv()).await.unwrap().update
    }

    /// Every update already received.
    fn received(&mut self) -> Vec<SessionUpdate> {
        std::iter::from_fn(|| self.updates.try_recv().ok())
            .map(|notification| notification.update)
            .collect()
    }

    async fn next_permission(&mut self) -> PermissionCall {
        within(self.permissions.recv()).await.unwrap()
    }

    /// Closes the agent's stdin, as ff does when it stops an agent.
    async fn close(mut self) -> ExitStatus {
        self.stop.take().unwrap().send(()).unwrap();
        within(self.connection).await.unwrap().unwrap();
        within(self.child.wait()).await.unwrap()
    }
}

async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future).await.expect("timed out")
}

async fn finished(prompt: JoinHandle<Result<PromptResponse, Error>>) -> Result<StopReason, Error> {
    within(prompt)
        .await
        .unwrap()
        .map(|response| response.stop_reason)
}

fn text_of(update: &SessionUpdate) -> Option<&str> {
    match update {
        SessionUpdate::AgentMessageChunk(ContentChunk {
            content: ContentBlock::Text(text),
            ..
        }) => Some(&text.text),
        _ => None,
    }
}

fn texts(updates: &[SessionUpdate]) -> Vec<&str> {
    updates.iter().filter_map(text_of).collect()
}

fn kind(update: &SessionUpdate) -> String {
    serde_json::to_value(update).unwrap()["sessionUpdate"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn answer(responder: Responder<RequestPermissionResponse>, option: &'static str) {
    responder
        .respond(RequestPermissionResponse::new(
            RequestPermissionOutcome::Selected(SelectedPermissionOutcome::new(option)),
        ))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_turn_after_the_handshake_and_modes_and_models_echoed() {
    let setup = Setup::new(None);
    let mut agent = setup.start().await;

    let init = agent.initialize().await;
    assert_eq!(init.protocol_version, ProtocolVersion::V1);
    assert!(init.agent_capabilities.load_session);
    let session = agent.new_session(&setup.cwd()).await;
    let modes = session.modes.unwrap();
    assert_eq!(&*modes.current_mode_id.0, "default");
    let mode_ids: Vec<&str> = modes.available_modes.iter().map(|m| &*m.id.0).collect();
    assert_eq!(mode_ids, ["default", "plan"]);
    let options = session.config_options.unwrap();
    assert_eq!(&*options[0].id.0, "model");
    let SessionConfigKind::Select(select) = &options[0].kind else {
        panic!("the model option is a select: {:?}", options[0]);
    };
    assert_eq!(&*select.current_value.0, "scripted-fast");
    let id = session.session_id;

    within(
        agent
            .cx
            .send_request(SetSessionModeRequest::new(id.clone(), "plan"))
            .block_task(),
    )
    .await
    .unwrap();
    let SessionUpdate::CurrentModeUpdate(mode) = agent.next_update().await else {
        panic!("the mode change is echoed");
    };
    assert_eq!(&*mode.current_mode_id.0, "plan");
    let set = within(
        agent
            .cx
            .send_request(SetSessionConfigOptionRequest::new(
                id.clone(),
                "model",
                SessionConfigOptionValue::value_id("scripted-smart"),
            ))
            .block_task(),
    )
    .await
    .unwrap();
    let SessionConfigKind::Select(select) = &set.config_options[0].kind else {
        panic!("the model option is a select");
    };
    assert_eq!(&*select.current_value.0, "scripted-smart");
    let update = agent.next_update().await;
    assert_eq!(kind(&update), "config_option_update");

    let prompt = agent.prompt(&id, "Hello\nthere");
    assert_eq!(finished(prompt).await.unwrap(), StopReason::EndTurn);
    assert_eq!(texts(&agent.received()), ["ok"]);

    let prompt = &setup.events_named("session/prompt")[0];
    assert_eq!(prompt["text"], "Hello\nthere");
    assert_eq!(prompt["scripted"], false);
    assert_eq!(setup.events_named("session/set_mode")[0]["modeId"], "plan");
    assert_eq!(
        setup.events_named("session/set_config_option")[0]["value"],
        "scripted-smart"
    );
    let initialize = &setup.events_named("initialize")[0];
    assert_eq!(
        initialize["clientCapabilities"]["fs"],
        json!({"readTextFile": true, "writeTextFile": true})
    );

    assert!(agent.close().await.success());
    assert_eq!(setup.events_named("exit")[0]["reason"], "stdin closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_before_and_after_their_tool_call_allowed_and_rejected() {
    let setup = Setup::new(Some(json!({"turns": [
        {"steps": [
            // As Codex does: the request comes before the tool call.
            {"permission": {"toolCall": {"toolCallId": "t1", "title": "Run ls"}}},
            {"toolCall": {"toolCallId": "t1", "title": "Run ls", "kind": "execute"}},
            {"toolCallUpdate": {"toolCallId": "t1", "status": "completed"}},
            {"text": "listed"}
        ]},
        {"steps": [
            // As Claude does: the tool call, then the request.
            {"toolCall": {"toolCallId": "t2", "title": "Write a.txt", "kind": "edit",
                "content": [{"type": "diff", "path": "/w/a.txt", "oldText": null, "newText": "hi"}]}},
            {"permission": {"toolCall": {"toolCallId": "t2"}, "onReject": {"stop": "refusal"}}},
            {"text": "never"}
        ]}
    ]})));
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;

    let prompt = agent.prompt(&id, "list");
    let (request, responder) = agent.next_permission().await;
    assert_eq!(&*request.tool_call.tool_call_id.0, "t1");
    let options: Vec<(&str, PermissionOptionKind)> = request
        .options
        .iter()
        .map(|option| (&*option.option_id.0, option.kind))
        .collect();
    assert_eq!(
        options,
        [
            ("allow", PermissionOptionKind::AllowOnce),
            ("allow_always", PermissionOptionKind::AllowAlways),
            ("reject", PermissionOptionKind::RejectOnce),
        ]
    );
    // The crate picks the ids of the agent's requests: UUID strings, as Codex sends.
    assert!(
        matches!(responder.id(), RequestId::Str(_)),
        "{:?}",
        responder.id()
    );
    assert!(agent.received().is_empty(), "nothing before the answer");
    answer(responder, "allow");
    assert_eq!(finished(prompt).await.unwrap(), StopReason::EndTurn);
    let updates = agent.received();
    let kinds: Vec<String> = updates.iter().map(kind).collect();
    assert_eq!(
        kinds,
        ["tool_call", "tool_call_update", "agent_message_chunk"]
    );
    assert_eq!(texts(&updates), ["listed"]);

    let prompt = agent.prompt(&id, "write");
    let (request, responder) = agent.next_permission().await;
    assert_eq!(&*request.tool_call.tool_call_id.0, "t2");
    let SessionUpdate::ToolCall(call) = agent.next_update().await else {
        panic!("the tool call comes first");
    };
    assert_eq!(&*call.tool_call_id.0, "t2");
    answer(responder, "reject");
    assert_eq!(finished(prompt).await.unwrap(), StopReason::Refusal);
    assert!(texts(&agent.received()).is_empty(), "the turn stopped");

    let outcomes: Vec<(Value, Value)> = setup
        .events_named("permission")
        .into_iter()
        .map(|event| (event["toolCallId"].clone(), event["optionId"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (json!("t1"), json!("allow")),
            (json!("t2"), json!("reject"))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_requests_reach_the_client_with_their_paths_and_edits_are_the_agents_own() {
    let setup = Setup::new(Some(json!({"turns": [{"steps": [
        {"readFile": {"path": "notes.txt", "line": 1, "limit": 5}},
        {"readFile": {"path": "/nonexistent/secret.txt"}},
        {"writeFile": {"path": "out/new.txt", "content": "hello"}},
        {"edit": {"path": "src/own.txt", "content": "by the agent"}}
    ]}]})));
    std::fs::write(setup.cwd().join("notes.txt"), "twelve bytes").unwrap();
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;

    let prompt = agent.prompt(&id, "files");
    assert_eq!(finished(prompt).await.unwrap(), StopReason::EndTurn);

    let calls: Vec<FsCall> = std::iter::from_fn(|| agent.fs.try_recv().ok()).collect();
    assert_eq!(
        calls,
        [
            FsCall::Read(setup.cwd().join("notes.txt")),
            FsCall::Read(PathBuf::from("/nonexistent/secret.txt")),
            FsCall::Write(setup.cwd().join("out/new.txt"), "hello".to_owned()),
        ]
    );
    let updates = agent.received();
    let texts = texts(&updates);
    assert_eq!(texts[0], "read ok: 12 bytes");
    assert!(
        texts[1].starts_with("read failed: cannot read /nonexistent/secret.txt"),
        "{}",
        texts[1]
    );
    assert_eq!(texts[2], "write ok: 5 bytes");
    assert_eq!(texts.len(), 3, "an edit emits nothing");
    assert_eq!(
        std::fs::read_to_string(setup.cwd().join("out/new.txt")).unwrap(),
        "hello"
    );
    assert_eq!(
        std::fs::read_to_string(setup.cwd().join("src/own.txt")).unwrap(),
        "by the agent"
    );

    let reads = setup.events_named("fs/read_text_file");
    assert_eq!(reads[0]["content"], "twelve bytes");
    assert_eq!(reads[1]["ok"], false);
    assert_eq!(reads[1]["error"]["code"], -32002);
    assert_eq!(setup.events_named("fs/write_text_file")[0]["ok"], true);
    assert_eq!(setup.events_named("edit")[0]["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_turn_fails_the_prompt_and_exits_with_its_code() {
    let setup = Setup::new(Some(json!({"turns": [{"steps": [
        {"text": "before"},
        {"crash": {"code": 3}},
        {"text": "never"}
    ]}]})));
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;

    let prompt = agent.prompt(&id, "crash");
    let error = finished(prompt).await.unwrap_err();
    assert!(is_incoming_transport_closed(&error), "{error:?}");
    assert_eq!(within(agent.child.wait()).await.unwrap().code(), Some(3));
    // What was sent before the crash was written before the exit.
    assert_eq!(texts(&agent.received()), ["before"]);
    assert_eq!(setup.events_named("exit")[0]["code"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_ends_a_hang_and_an_open_permission_request() {
    let setup = Setup::new(Some(json!({"turns": [
        {"steps": [{"text": "hanging"}, {"hang": {}}]},
        {"steps": [{"permission": {"toolCall": {"toolCallId": "t1"}}}, {"text": "never"}]}
    ]})));
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;

    let prompt = agent.prompt(&id, "hang");
    assert_eq!(text_of(&agent.next_update().await), Some("hanging"));
    agent
        .cx
        .send_notification(CancelNotification::new(id.clone()))
        .unwrap();
    assert_eq!(finished(prompt).await.unwrap(), StopReason::Cancelled);
    assert_eq!(setup.events_named("session/cancel")[0]["turnRunning"], true);

    let prompt = agent.prompt(&id, "ask");
    let (_, responder) = agent.next_permission().await;
    agent
        .cx
        .send_notification(CancelNotification::new(id.clone()))
        .unwrap();
    assert_eq!(finished(prompt).await.unwrap(), StopReason::Cancelled);
    // The agent withdraws its request ($/cancel_request); the client answers it cancelled.
    within(responder.cancellation().cancelled()).await;
    responder
        .respond(RequestPermissionResponse::new(
            RequestPermissionOutcome::Cancelled,
        ))
        .unwrap();
    assert_eq!(
        setup.wait_for_event("permission").await["outcome"],
        "cancelled"
    );
    assert!(texts(&agent.received()).is_empty());

    let prompt = agent.prompt(&id, "still there?");
    assert_eq!(finished(prompt).await.unwrap(), StopReason::EndTurn);
    assert_eq!(texts(&agent.received()), ["ok"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_ten_thousand_chunks_arrives_whole_and_in_order() {
    let setup = Setup::new(Some(json!({"turns": [{"steps": [
        {"text": "start"},
        {"flood": {"count": 10000, "text": "chunk {n}"}},
        {"text": "end"}
    ]}]})));
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;

    let prompt = agent.prompt(&id, "flood");
    assert_eq!(finished(prompt).await.unwrap(), StopReason::EndTurn);
    let updates = agent.received();
    let texts = texts(&updates);
    let expected: Vec<String> = std::iter::once("start".to_owned())
        .chain((0..10_000).map(|n| format!("chunk {n}")))
        .chain(std::iter::once("end".to_owned()))
        .collect();
    assert_eq!(texts, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_chunks_carry_the_time_they_were_written_at_their_interval() {
    let setup = Setup::new(Some(json!({"turns": [{"steps": [
        {"timed": {"count": 5, "intervalMs": 40}}
    ]}]})));
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0;
    let prompt = agent.prompt(&id, "time it");
    assert_eq!(finished(prompt).await.unwrap(), StopReason::EndTurn);
    let stamps: Vec<f64> = texts(&agent.received())
        .iter()
        .map(|text| {
            let inner = text.strip_prefix('⟦').and_then(|t| t.strip_suffix('⟧'));
            inner.unwrap_or_else(|| panic!("{text:?}")).parse().unwrap()
        })
        .collect();
    assert_eq!(stamps.len(), 5);
    assert!(stamps[0] >= before - 1.0, "{stamps:?} after {before}");
    for pair in stamps.windows(2) {
        let gap = pair[1] - pair[0];
        assert!((30.0..200.0).contains(&gap), "{stamps:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_step_fails_the_prompt_and_the_agent_keeps_running() {
    let setup = Setup::new(Some(json!({"turns": [
        {"steps": [{"text": "thinking"}, {"error": {"code": -32603, "message": "API Error: rate limit exceeded"}}]},
        {"steps": [{"text": "recovered"}], "stopReason": "max_tokens"}
    ]})));
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;

    let error = finished(agent.prompt(&id, "one")).await.unwrap_err();
    assert_eq!(error.code.value(), -32603);
    assert_eq!(error.message, "API Error: rate limit exceeded");
    assert_eq!(texts(&agent.received()), ["thinking"]);

    let stop = finished(agent.prompt(&id, "two")).await.unwrap();
    assert_eq!(stop, StopReason::MaxTokens);
    assert_eq!(texts(&agent.received()), ["recovered"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_load_after_a_restart_goes_on_with_the_next_turn() {
    let setup = Setup::new(Some(json!({"turns": [
        {"steps": [{"text": "first"}]},
        {"steps": [{"text": "second"}]}
    ]})));
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;
    finished(agent.prompt(&id, "one")).await.unwrap();
    assert_eq!(texts(&agent.received()), ["first"]);
    assert!(agent.close().await.success());

    let mut agent = setup.start().await;
    let init = agent.initialize().await;
    assert!(init.agent_capabilities.load_session);
    let loaded = within(
        agent
            .cx
            .send_request(LoadSessionRequest::new(id.clone(), setup.cwd()))
            .block_task(),
    )
    .await
    .unwrap();
    assert_eq!(&*loaded.modes.unwrap().current_mode_id.0, "default");
    assert!(agent.received().is_empty(), "nothing is replayed");
    finished(agent.prompt(&id, "two")).await.unwrap();
    assert_eq!(texts(&agent.received()), ["second"]);

    let unknown = within(
        agent
            .cx
            .send_request(LoadSessionRequest::new("no-such-session", setup.cwd()))
            .block_task(),
    )
    .await;
    assert!(unknown.is_err());
    let pids: Vec<Value> = setup
        .events_named("session/prompt")
        .into_iter()
        .map(|event| event["pid"].clone())
        .collect();
    assert_ne!(pids[0], pids[1], "two processes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stable_update_kind_is_produced() {
    let setup = Setup::new(Some(json!({"startDelayMs": 20, "turns": [{"steps": [
        {"userText": "what the user said"},
        {"text": "answer"},
        {"thought": "hmm"},
        {"toolCall": {"toolCallId": "t1", "title": "Write", "kind": "edit", "status": "pending",
            "content": [
                {"type": "diff", "path": "/w/a.txt", "oldText": "a", "newText": "b"},
                {"type": "content", "content": {"type": "text", "text": "output"}}
            ],
            "locations": [{"path": "/w/a.txt", "line": 3}], "rawInput": {"file_path": "/w/a.txt"}}},
        {"toolCallUpdate": {"toolCallId": "t1", "status": "completed",
            "rawOutput": {"stdout": "https://github.com/o/r/pull/7"}}},
        {"plan": {"entries": [{"content": "Write tests", "priority": "high", "status": "in_progress"}]}},
        {"availableCommands": {"availableCommands": [{"name": "review", "description": "Review"}]}},
        {"currentMode": {"currentModeId": "plan"}},
        {"configOption": {"configOptions": []}},
        {"sessionInfo": {"title": "Fix the login"}},
        {"usage": {"used": 1200, "size": 200_000, "cost": {"amount": 0.12, "currency": "USD"}}},
        {"notice": {"severity": "warning", "title": "Slow down"}},
        {"compaction": {"compactionId": "c1", "status": "completed"}},
        {"compactionSummary": {"compactionId": "c1", "content": {"type": "text", "text": "summary"}}},
        {"sleep": {"ms": 1}}
    ], "stopReason": "max_turn_requests"}]})));
    let mut agent = setup.start().await;
    agent.initialize().await;
    let id = agent.new_session(&setup.cwd()).await.session_id;

    let stop = finished(agent.prompt(&id, "everything")).await.unwrap();
    assert_eq!(stop, StopReason::MaxTurnRequests);
    let updates = agent.received();
    let kinds: Vec<String> = updates.iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "user_message_chunk",
            "agent_message_chunk",
            "agent_thought_chunk",
            "tool_call",
            "tool_call_update",
            "plan",
            "available_commands_update",
            "current_mode_update",
            "config_option_update",
            "session_info_update",
            "usage_update",
            "notice",
            "compaction_update",
            "compaction_summary_chunk",
        ]
    );
    let SessionUpdate::ToolCall(call) = &updates[3] else {
        unreachable!()
    };
    assert_eq!(call.content.len(), 2);
    assert_eq!(call.locations[0].line, Some(3));
    let SessionUpdate::UsageUpdate(usage) = &updates[10] else {
        unreachable!()
    };
    assert_eq!(usage.cost.as_ref().unwrap().currency, "USD");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_script_exits_2_naming_the_problem() {
    let setup = Setup::new(Some(
        json!({"turns": [{"steps": [{"text": "fine"}, {"explode": {}}]}]}),
    ));
    let output = within(setup.command().output()).await.unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("turns[0].steps[1]"), "{stderr}");
    assert!(stderr.contains("explode"), "{stderr}");
}
