//! Fake model APIs on loopback for the real agent adapters: the Anthropic Messages API (for
//! claude-agent-acp) and the OpenAI Responses API (for codex-acp), answering from a script the
//! test writes, and recording every request for assertions. Also the environments that point
//! each adapter at them, and where `npm ci` in end2end/ put the adapters.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Which fake API a reply or a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST /v1/messages`, spoken by claude-agent-acp.
    Anthropic,
    /// `POST /v1/responses`, spoken by codex-acp.
    OpenAi,
}

/// What the fake answers to the next model request of one API.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Assistant text, one delta per chunk with `delay` before each.
    Text {
        chunks: Vec<String>,
        delay: Duration,
    },
    /// A tool call: Anthropic `tool_use` or Responses `function_call`, with `input` as its
    /// arguments. The adapter runs it and sends the result in its next request.
    Tool { name: String, input: Value },
    /// HTTP 500 with the API's error body.
    ServerError { message: String },
    /// HTTP 429 with `retry-after`.
    RateLimited { retry_after_secs: u64 },
    /// Never answers (until the adapter gives up on the request).
    Hang,
}

impl Reply {
    pub fn text(text: &str) -> Self {
        Self::streamed([text], Duration::ZERO)
    }

    /// Text that arrives as these deltas, `delay` apart.
    pub fn streamed<'a>(chunks: impl IntoIterator<Item = &'a str>, delay: Duration) -> Self {
        Self::Text {
            chunks: chunks.into_iter().map(str::to_owned).collect(),
            delay,
        }
    }

    pub fn tool(name: &str, input: Value) -> Self {
        Self::Tool {
            name: name.to_owned(),
            input,
        }
    }

    /// Claude Code's `Write` tool.
    pub fn write(file_path: &Path, content: &str) -> Self {
        Self::tool(
            "Write",
            json!({ "file_path": file_path, "content": content }),
        )
    }

    /// Claude Code's `Bash` tool.
    pub fn bash(command: &str) -> Self {
        Self::tool(
            "Bash",
            json!({ "command": command, "description": "Run a command" }),
        )
    }

    /// Codex's shell tool (`exec_command` with a `cmd` string in Codex core 0.137).
    pub fn exec_command(cmd: &str) -> Self {
        Self::tool("exec_command", json!({ "cmd": cmd }))
    }

    /// `exec_command` asking to run outside the sandbox: under `on-request` Codex asks first,
    /// and once allowed runs it unsandboxed (so it works where bubblewrap is missing).
    pub fn escalated_exec_command(cmd: &str, justification: &str) -> Self {
        Self::tool(
            "exec_command",
            json!({
                "cmd": cmd,
                "sandbox_permissions": "require_escalated",
                "justification": justification,
            }),
        )
    }

    pub fn server_error(message: &str) -> Self {
        Self::ServerError {
            message: message.to_owned(),
        }
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    /// Path and query, e.g. `/v1/messages?beta=true`.
    pub path: String,
    pub headers: HeaderMap,
    /// The JSON body, `Null` when there was none, a string when it was not JSON.
    pub body: Value,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether this is a model turn (not a connectivity check or token count) of `api`.
    pub fn is_model_request(&self, api: Api) -> bool {
        let path = self.path.split('?').next().unwrap_or_default();
        self.method == Method::POST
            && match api {
                Api::Anthropic => path == "/v1/messages",
                Api::OpenAi => path == "/v1/responses",
            }
    }

    /// The tool names the adapter declared to the model.
    pub fn tool_names(&self) -> Vec<&str> {
        self.body["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|tool| tool["name"].as_str())
            .collect()
    }
}

#[derive(Default)]
struct Scenario {
    anthropic: VecDeque<Reply>,
    openai: VecDeque<Reply>,
    requests: Vec<Recorded>,
    /// Numbers the ids of messages, tool calls and responses.
    served: u64,
}

type Shared = Arc<Mutex<Scenario>>;

/// Both fake APIs on one loopback port; stopped when dropped.
pub struct FakeModels {
    pub url: String,
    scenario: Shared,
    server: JoinHandle<()>,
}

impl FakeModels {
    pub async fn start() -> Self {
        let scenario = Shared::default();
        let app = Router::new().fallback(handle).with_state(scenario.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake models serve");
        });
        Self {
            url,
            scenario,
            server,
        }
    }

    /// Queues replies for the next model requests of `api`, after those already queued. A
    /// request with nothing queued gets a 500 saying so.
    pub fn script(&self, api: Api, replies: impl IntoIterator<Item = Reply>) {
        let mut scenario = self.scenario.lock().unwrap();
        let queue = match api {
            Api::Anthropic => &mut scenario.anthropic,
            Api::OpenAi => &mut scenario.openai,
        };
        queue.extend(replies);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.scenario.lock().unwrap().requests.clone()
    }

    /// The model requests of `api` so far.
    pub fn model_requests(&self, api: Api) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.is_model_request(api))
            .collect()
    }

    /// Waits (at most 20 s) until `api` has received `count` model requests; returns them all.
    pub async fn wait_for_model_requests(&self, api: Api, count: usize) -> Vec<Recorded> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let requests = self.model_requests(api);
            if requests.len() >= count {
                return requests;
            }
            assert!(
                Instant::now() < deadline,
                "{api:?} got {} model requests, expected {count}",
                requests.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FakeModels {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(State(scenario): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    let recorded = Recorded {
        method: parts.method,
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
        headers: parts.headers,
        body,
        at: Instant::now(),
    };
    let (reply, serial) = {
        let mut scenario = scenario.lock().unwrap();
        scenario.requests.push(recorded.clone());
        scenario.served += 1;
        let serial = scenario.served;
        let reply = if recorded.is_model_request(Api::Anthropic) {
            Some((Api::Anthropic, scenario.anthropic.pop_front()))
        } else if recorded.is_model_request(Api::OpenAi) {
            Some((Api::OpenAi, scenario.openai.pop_front()))
        } else {
            None
        };
        (reply, serial)
    };
    let body = &recorded.body;
    match reply {
        Some((api, None)) => error(api, 500, "no scripted reply left in the fake model API"),
        Some((api, Some(reply))) => answer(api, reply, body, serial).await,
        None if recorded.method == Method::POST
            && recorded.path.starts_with("/v1/messages/count_tokens") =>
        {
            // Roughly four characters a token, like the real tokenizer on English text.
            let tokens = body.to_string().len() / 4;
            axum::Json(json!({ "input_tokens": tokens })).into_response()
        }
        // Claude's connectivity check (`HEAD /`) and anything unexpected: recorded, not found.
        None => error(Api::Anthropic, 404, "not found"),
    }
}

async fn answer(api: Api, reply: Reply, request: &Value, serial: u64) -> Response {
    let model = request["model"].as_str().unwrap_or("fake-model").to_owned();
    match reply {
        Reply::ServerError { message } => error(api, 500, &message),
        Reply::RateLimited { retry_after_secs } => {
            let mut response = error(api, 429, "rate limited by the fake model API");
            response
                .headers_mut()
                .insert("retry-after", retry_after_secs.into());
            response
        }
        Reply::Hang => std::future::pending().await,
        reply if api == Api::Anthropic && request["stream"] != true => {
            axum::Json(anthropic_message(&reply, &model, serial)).into_response()
        }
        reply => {
            let events = match api {
                Api::Anthropic => anthropic_events(&reply, &model, serial),
                Api::OpenAi => responses_events(&reply, &model, serial),
            };
            event_stream(events)
        }
    }
}

/// The error body each API sends, with its status.
fn error(api: Api, status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).expect("a valid status");
    let body = match api {
        Api::Anthropic => {
            let kind = match status.as_u16() {
                404 => "not_found_error",
                429 => "rate_limit_error",
                _ => "api_error",
            };
            json!({ "type": "error", "error": { "type": kind, "message": message } })
        }
        Api::OpenAi => {
            let (kind, code) = match status.as_u16() {
                429 => ("requests", json!("rate_limit_exceeded")),
                _ => ("server_error", Value::Null),
            };
            json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })
        }
    };
    (status, axum::Json(body)).into_response()
}

/// One server-sent event to write after `delay`.
struct Event {
    delay: Duration,
    name: &'static str,
    data: Value,
}

fn event(name: &'static str, data: Value) -> Event {
    Event {
        delay: Duration::ZERO,
        name,
        data,
    }
}

fn event_stream(events: Vec<Event>) -> Response {
    let stream = futures_util::stream::unfold(events.into_iter(), |mut events| async move {
        let event = events.next()?;
        if !event.delay.is_zero() {
            tokio::time::sleep(event.delay).await;
        }
        let frame = format!("event: {}\ndata: {}\n\n", event.name, event.data);
        Some((Ok::<_, Infallible>(Bytes::from(frame)), events))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

/// Splits a tool call's JSON the way the APIs stream it: in pieces, on character boundaries.
fn json_pieces(input: &Value) -> Vec<String> {
    let text = input.to_string();
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(24).map(|c| c.iter().collect()).collect()
}

fn usage(input_tokens: u64, output_tokens: u64) -> Value {
    json!({
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    })
}

/// A non-streaming Messages API answer.
fn anthropic_message(reply: &Reply, model: &str, serial: u64) -> Value {
    let (content, stop_reason) = match reply {
        Reply::Tool { name, input } => (
            json!([{ "type": "tool_use", "id": format!("toolu_fake{serial}"), "name": name, "input": input }]),
            "tool_use",
        ),
        Reply::Text { chunks, .. } => (
            json!([{ "type": "text", "text": chunks.concat() }]),
            "end_turn",
        ),
        _ => unreachable!("errors and hangs are answered before"),
    };
    json!({
        "id": format!("msg_fake{serial}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": usage(100, 10),
    })
}

/// The Messages API streaming sequence for one reply.
fn anthropic_events(reply: &Reply, model: &str, serial: u64) -> Vec<Event> {
    let mut events = vec![
        event(
            "message_start",
            json!({ "type": "message_start", "message": {
                "id": format!("msg_fake{serial}"), "type": "message", "role": "assistant",
                "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": usage(100, 1),
            }}),
        ),
        event("ping", json!({ "type": "ping" })),
    ];
    let (block, deltas, stop_reason) = match reply {
        Reply::Text { chunks, delay } => (
            json!({ "type": "text", "text": "" }),
            chunks
                .iter()
                .map(|text| Event {
                    delay: *delay,
                    ..delta(json!({ "type": "text_delta", "text": text }))
                })
                .collect::<Vec<_>>(),
            "end_turn",
        ),
        Reply::Tool { name, input } => (
            json!({ "type": "tool_use", "id": format!("toolu_fake{serial}"), "name": name, "input": {} }),
            json_pieces(input)
                .into_iter()
                .map(|piece| delta(json!({ "type": "input_json_delta", "partial_json": piece })))
                .collect(),
            "tool_use",
        ),
        _ => unreachable!("errors and hangs are answered before"),
    };
    let output_tokens = deltas.len();
    events.push(event(
        "content_block_start",
        json!({ "type": "content_block_start", "index": 0, "content_block": block }),
    ));
    events.extend(deltas);
    events.push(event(
        "content_block_stop",
        json!({ "type": "content_block_stop", "index": 0 }),
    ));
    events.push(event(
        "message_delta",
        json!({ "type": "message_delta",
                "delta": { "stop_reason": stop_reason, "stop_sequence": null },
                "usage": { "output_tokens": output_tokens } }),
    ));
    events.push(event("message_stop", json!({ "type": "message_stop" })));
    events
}

fn delta(delta: Value) -> Event {
    event(
        "content_block_delta",
        json!({ "type": "content_block_delta", "index": 0, "delta": delta }),
    )
}

/// The Responses API streaming sequence for one reply.
fn responses_events(reply: &Reply, model: &str, serial: u64) -> Vec<Event> {
    let response_id = format!("resp_fake{serial}");
    let response = |status: &str, output: Value| {
        json!({
            "id": response_id, "object": "response", "created_at": 1_700_000_000,
            "status": status, "model": model, "output": output,
        })
    };
    let mut body = vec![
        (
            "response.created",
            json!({ "response": response("in_progress", json!([])) }),
        ),
        (
            "response.in_progress",
            json!({ "response": response("in_progress", json!([])) }),
        ),
    ];
    let mut delays = vec![Duration::ZERO; body.len()];
    let item = match reply {
        Reply::Text { chunks, delay } => {
            let item_id = format!("msg_fake{serial}");
            let text = chunks.concat();
            let part = json!({ "type": "output_text", "text": text, "annotations": [] });
            let done = json!({ "id": item_id, "type": "message", "status": "completed",
                               "role": "assistant", "content": [part] });
            body.push((
                "response.output_item.added",
                json!({ "output_index": 0, "item": { "id": item_id, "type": "message",
                        "status": "in_progress", "role": "assistant", "content": [] } }),
            ));
            body.push((
                "response.content_part.added",
                json!({ "item_id": item_id, "output_index": 0, "content_index": 0,
                        "part": { "type": "output_text", "text": "", "annotations": [] } }),
            ));
            delays.resize(body.len(), Duration::ZERO);
            for chunk in chunks {
                body.push((
                    "response.output_text.delta",
                    json!({ "item_id": item_id, "output_index": 0, "content_index": 0,
                            "delta": chunk }),
                ));
                delays.push(*delay);
            }
            body.push((
                "response.output_text.done",
                json!({ "item_id": item_id, "output_index": 0, "content_index": 0, "text": text }),
            ));
            body.push((
                "response.content_part.done",
                json!({ "item_id": item_id, "output_index": 0, "content_index": 0, "part": part }),
            ));
            done
        }
        Reply::Tool { name, input } => {
            let item_id = format!("fc_fake{serial}");
            let call_id = format!("call_fake{serial}");
            let arguments = input.to_string();
            body.push((
                "response.output_item.added",
                json!({ "output_index": 0, "item": { "id": item_id, "type": "function_call",
                        "status": "in_progress", "name": name, "call_id": call_id,
                        "arguments": "" } }),
            ));
            for piece in json_pieces(input) {
                body.push((
                    "response.function_call_arguments.delta",
                    json!({ "item_id": item_id, "output_index": 0, "delta": piece }),
                ));
            }
            body.push((
                "response.function_call_arguments.done",
                json!({ "item_id": item_id, "output_index": 0, "arguments": arguments }),
            ));
            json!({ "id": item_id, "type": "function_call", "status": "completed",
                    "name": name, "call_id": call_id, "arguments": arguments })
        }
        _ => unreachable!("errors and hangs are answered before"),
    };
    body.push((
        "response.output_item.done",
        json!({ "output_index": 0, "item": item }),
    ));
    let mut completed = response("completed", json!([item]));
    completed["usage"] = json!({
        "input_tokens": 100, "input_tokens_details": { "cached_tokens": 0 },
        "output_tokens": 10, "output_tokens_details": { "reasoning_tokens": 0 },
        "total_tokens": 110,
    });
    body.push(("response.completed", json!({ "response": completed })));
    delays.resize(body.len(), Duration::ZERO);
    body.into_iter()
        .zip(delays)
        .enumerate()
        .map(|(sequence, ((name, mut data), delay))| {
            data["type"] = json!(name);
            data["sequence_number"] = json!(sequence);
            Event { delay, name, data }
        })
        .collect()
}

/// The end2end/ directory, whose `node_modules` holds the adapters.
fn end2end() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end")
}

/// A program and its arguments.
pub struct AdapterCommand {
    pub program: PathBuf,
    pub args: Vec<PathBuf>,
}

fn installed(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed ({} is missing): run `npm ci` in end2end/",
        path.display()
    );
    path
}

/// `node …/claude-agent-acp/dist/index.js`.
pub fn claude_command() -> AdapterCommand {
    let script = installed(
        end2end().join("node_modules/@zed-industries/claude-agent-acp/dist/index.js"),
        "@zed-industries/claude-agent-acp",
    );
    AdapterCommand {
        program: "node".into(),
        args: vec![script],
    }
}

/// The codex-acp binary of this platform's package (what its `bin/codex-acp.js` would run).
pub fn codex_command() -> AdapterCommand {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        os => os,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        arch => arch,
    };
    let package = format!("@zed-industries/codex-acp-{os}-{arch}");
    AdapterCommand {
        program: installed(
            end2end().join(format!("node_modules/{package}/bin/codex-acp")),
            &package,
        ),
        args: Vec::new(),
    }
}

/// The whole environment of one adapter run (nothing inherited but `PATH`), and the fresh
/// home directory it points into.
pub struct AgentEnv {
    pub vars: Vec<(String, String)>,
    pub home: tempfile::TempDir,
}

impl AgentEnv {
    fn new(vars: &[(&str, &str)]) -> (Self, PathBuf) {
        let home = tempfile::tempdir().expect("agent home");
        let path = home.path().to_path_buf();
        let mut env = Self {
            vars: vec![
                ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
                ("HOME".into(), path.display().to_string()),
            ],
            home,
        };
        env.vars.extend(
            vars.iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        (env, path)
    }
}

/// claude-agent-acp talking to `fake`'s Messages API with a fresh config dir (A§2): one retry,
/// so errors surface in seconds, and none of Claude Code's own traffic.
pub fn claude_env(fake: &FakeModels) -> AgentEnv {
    let (mut env, home) = AgentEnv::new(&[
        ("ANTHROPIC_BASE_URL", &fake.url),
        ("ANTHROPIC_API_KEY", "sk-ant-fake"),
        ("CLAUDE_CODE_MAX_RETRIES", "1"),
        ("DISABLE_TELEMETRY", "1"),
        ("DISABLE_AUTOUPDATER", "1"),
        ("DISABLE_ERROR_REPORTING", "1"),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
        // As root with IS_SANDBOX set (these machines set it), the adapter asks Claude Code for
        // bypass permissions, which refuses to start as root: the session never opens. Empty
        // counts as unset for the adapter.
        ("IS_SANDBOX", ""),
    ]);
    let config = home.join(".claude");
    std::fs::create_dir(&config).expect("claude config dir");
    env.vars
        .push(("CLAUDE_CONFIG_DIR".into(), config.display().to_string()));
    env
}

/// Codex's `approval_policy`.
#[derive(Debug, Clone, Copy)]
pub enum CodexApproval {
    /// Asks only when the model requests escalation (or the sandbox refuses).
    OnRequest,
    /// Asks before every command that is not known to be safe.
    Untrusted,
}

/// The variable holding the fake provider's API key.
const CODEX_KEY_VAR: &str = "FF_FAKE_OPENAI_KEY";

/// codex-acp talking to `fake`'s Responses API: a fresh `CODEX_HOME` whose `config.toml` adds
/// the provider `fake` (A§3), without retries or websockets.
pub fn codex_env(fake: &FakeModels, approval: CodexApproval) -> AgentEnv {
    let (mut env, home) = AgentEnv::new(&[(CODEX_KEY_VAR, "sk-fake")]);
    let codex_home = home.join(".codex");
    std::fs::create_dir(&codex_home).expect("codex home");
    let approval = match approval {
        CodexApproval::OnRequest => "on-request",
        CodexApproval::Untrusted => "untrusted",
    };
    let config = format!(
        r#"model = "gpt-5.4"
model_provider = "fake"
approval_policy = "{approval}"
sandbox_mode = "workspace-write"

[model_providers.fake]
name = "fake"
base_url = "{url}/v1"
env_key = "{CODEX_KEY_VAR}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = false
"#,
        url = fake.url
    );
    std::fs::write(codex_home.join("config.toml"), config).expect("codex config");
    env.vars
        .push(("CODEX_HOME".into(), codex_home.display().to_string()));
    env
}
