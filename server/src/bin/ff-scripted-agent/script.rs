//! The script file (`FF_SCRIPTED_AGENT_SCRIPT`): what each `session/prompt` does.
//!
//! ```json
//! { "startDelayMs": 0, "outlivesClient": false, "turns": [ { "steps": [ ... ] } ] }
//! ```
//!
//! `mcpHttp` (default false) advertises MCP over HTTP. `startDelayMs` (default 0) delays the agent before it reads its first message.
//! `ignoresSigterm` makes it survive SIGTERM. `unanswered` lists requests the agent takes and never answers (`"session/set_mode"`,
//! `"session/set_config_option"`, `"session/new"`), as a hung agent would; each is logged.
//! `outlivesClient` keeps the process running after its stdin closes, as a stuck agent would
//! (until it is killed). Each prompt
//! consumes the next turn, across sessions and restarts; past the last turn (or without a
//! script) a prompt gets the reply "ok" and `end_turn`. A turn runs its steps in order and ends
//! with `stopReason` (default `end_turn`: also `max_tokens`, `max_turn_requests`, `refusal`,
//! `cancelled`), unless a step ends it first. `session/cancel` ends a running turn at once with
//! `cancelled`.
//!
//! Each step is an object with one key. The `session/update` steps take the ACP object of that
//! update as it is on the wire, without its `sessionUpdate` tag:
//!
//! - `{"text": "Hello"}`: `agent_message_chunk`; `{"thought": "…"}`: `agent_thought_chunk`;
//!   `{"userText": "…"}`: `user_message_chunk`.
//! - `{"toolCall": {"toolCallId": "t1", "title": "Write a.txt", "kind": "edit", "status":
//!   "pending", "content": [{"type": "diff", "path": "/w/a.txt", "oldText": null, "newText":
//!   "hi"}, {"type": "content", "content": {"type": "text", "text": "…"}}], "locations":
//!   [{"path": "/w/a.txt", "line": 1}], "rawInput": {"file_path": "/w/a.txt"}}}`
//! - `{"toolCallUpdate": {"toolCallId": "t1", "status": "completed", "rawOutput": {"stdout":
//!   "https://github.com/o/r/pull/7"}, "content": [...]}}` (only the fields that change)
//! - `{"plan": {"entries": [{"content": "Write tests", "priority": "high", "status":
//!   "in_progress"}]}}`
//! - `{"availableCommands": {"availableCommands": [{"name": "review", "description": "…"}]}}`
//! - `{"currentMode": {"currentModeId": "plan"}}`
//! - `{"configOption": {"configOptions": [ /* SessionConfigOption objects */ ]}}`
//! - `{"sessionInfo": {"title": "Fix the login"}}`
//! - `{"usage": {"used": 1200, "size": 200000, "cost": {"amount": 0.12, "currency": "USD"}}}`
//! - `{"notice": {"severity": "warning", "title": "Rate limited", "description": "…"}}`
//! - `{"compaction": {"compactionId": "c1", "status": "completed"}}`
//! - `{"compactionSummary": {"compactionId": "c1", "content": {"type": "text", "text": "…"}}}`
//!
//! The other steps:
//!
//! - `{"permission": {"toolCall": {"toolCallId": "t1", "title": "Run ls"}, "options": [...],
//!   "onReject": "stop", "onCancel": {"stop": "refusal"}}}`: `session/request_permission`;
//!   waits for the answer and logs it. `options` defaults to `allow` (`allow_once`),
//!   `allow_always` (`allow_always`) and `reject` (`reject_once`). `onReject` (an option of a
//!   reject kind was chosen) and `onCancel` (the answer was `cancelled`, or an error) are
//!   absent to go on with the next step, `"stop"` to end the turn (with `end_turn` after a
//!   reject, `cancelled` after a cancel) or `{"stop": "<stop reason>"}`.
//! - `{"readFile": {"path": "src/a.txt", "line": 1, "limit": 10}}`: `fs/read_text_file`;
//!   `{"writeFile": {"path": "out.txt", "content": "…"}}`: `fs/write_text_file`. A relative path
//!   is joined to the session's cwd. The result is logged and streamed as a text chunk: `read ok:
//!   <n> bytes`, `read failed: <message>`, `write ok: <n> bytes`, `write failed: <message>`.
//! - `{"edit": {"path": "src/a.txt", "content": "…"}}`: the agent writes the file itself
//!   (relative to the session's cwd, parents created), as the Claude adapter does; it emits
//!   nothing.
//! - `{"sleep": {"ms": 200}}`; `{"hang": {}}`: never finishes (until `session/cancel`);
//!   `{"waitFile": {"path": "/tmp/go"}}`: waits until that file exists (a test lets the turn
//!   go on when it has changed the world around it).
//! - `{"crash": {"code": 3}}`: exits the process with that code once everything sent before it
//!   is written.
//! - `{"flood": {"count": 10000, "text": "chunk {n} "}}`: that many `agent_message_chunk`s at
//!   once; `{n}` in the text becomes the chunk's index (from 0).
//! - `{"timed": {"count": 200, "intervalMs": 20}}`: that many `agent_message_chunk`s,
//!   `intervalMs` apart, each `⟦<ms>⟧` with the wall-clock time (milliseconds since the Unix
//!   epoch, to the microsecond) at which it was handed to stdout: for latency benchmarks.
//! - `{"error": {"code": -32603, "message": "rate limit exceeded", "data": {"status": 429}}}`:
//!   the prompt fails with that JSON-RPC error (`data` optional); the agent keeps running.
//! - `{"raw": {"bytes": [255, 10]}}`: those bytes on stdout as they are (not JSON-RPC);
//!   `{"raw": {"long": {"len": 20000000, "newline": true}}}`: that many `x`, then a newline
//!   unless `newline` is false; `{"raw": "close"}`: closes stdout while the process goes on.
//!   In order with the updates sent before.
//! - `{"foreignText": "…"}`: an `agent_message_chunk` naming another session id.

use agent_client_protocol::v1::schema::{
    AvailableCommandsUpdate, CompactionSummaryChunk, CompactionUpdate, ConfigOptionUpdate,
    CurrentModeUpdate, Notice, PermissionOption, PermissionOptionKind, Plan, SessionInfoUpdate,
    StopReason, ToolCall, ToolCallUpdate, UsageUpdate,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Script {
    #[serde(default)]
    pub start_delay_ms: u64,
    #[serde(default)]
    pub outlives_client: bool,
    #[serde(default)]
    pub unanswered: Vec<String>,
    /// Ignores SIGTERM (only SIGKILL ends it), as a stuck agent would.
    #[serde(default)]
    pub ignores_sigterm: bool,
    #[serde(default)]
    pub turns: Vec<Turn>,
    /// Advertises `mcpCapabilities.http`, as the Claude adapter does (else ff offers its MCP
    /// server over stdio); `session/new` logs the MCP servers it was given either way.
    #[serde(default)]
    pub mcp_http: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Turn {
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default = "end_turn")]
    pub stop_reason: StopReason,
}

impl Turn {
    /// What a prompt gets when the script has no turn for it.
    pub fn unscripted() -> Self {
        Self {
            steps: vec![Step::Text("ok".to_owned())],
            stop_reason: StopReason::EndTurn,
        }
    }
}

fn end_turn() -> StopReason {
    StopReason::EndTurn
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Step {
    Text(String),
    Thought(String),
    UserText(String),
    ToolCall(ToolCall),
    ToolCallUpdate(ToolCallUpdate),
    Plan(Plan),
    AvailableCommands(AvailableCommandsUpdate),
    CurrentMode(CurrentModeUpdate),
    ConfigOption(ConfigOptionUpdate),
    SessionInfo(SessionInfoUpdate),
    Usage(UsageUpdate),
    Notice(Notice),
    Compaction(CompactionUpdate),
    CompactionSummary(CompactionSummaryChunk),
    Permission(Permission),
    ReadFile {
        path: PathBuf,
        line: Option<u32>,
        limit: Option<u32>,
    },
    WriteFile {
        path: PathBuf,
        content: String,
    },
    Edit {
        path: PathBuf,
        content: String,
    },
    Sleep {
        ms: u64,
    },
    Hang {},
    WaitFile {
        path: PathBuf,
    },
    Crash {
        code: i32,
    },
    Flood {
        count: u64,
        text: String,
    },
    #[serde(rename_all = "camelCase")]
    Timed {
        count: u64,
        interval_ms: u64,
    },
    Error {
        code: i32,
        message: String,
        #[serde(default)]
        data: Option<serde_json::Value>,
    },
    Raw(crate::stdio::Raw),
    ForeignText(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Permission {
    pub tool_call: ToolCallUpdate,
    #[serde(default = "default_options")]
    pub options: Vec<PermissionOption>,
    pub on_reject: Option<Stop>,
    pub on_cancel: Option<Stop>,
}

/// Ends the turn: `"stop"` with the default stop reason, or `{"stop": "<reason>"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    Default(StopWord),
    With { stop: StopReason },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopWord {
    Stop,
}

impl Stop {
    pub fn reason(&self, default: StopReason) -> StopReason {
        match self {
            Stop::Default(StopWord::Stop) => default,
            Stop::With { stop } => *stop,
        }
    }
}

/// The options the Claude adapter offers.
fn default_options() -> Vec<PermissionOption> {
    vec![
        PermissionOption::new("allow", "Allow", PermissionOptionKind::AllowOnce),
        PermissionOption::new(
            "allow_always",
            "Always allow",
            PermissionOptionKind::AllowAlways,
        ),
        PermissionOption::new("reject", "Reject", PermissionOptionKind::RejectOnce),
    ]
}

/// Reads and checks the script; the error names the file and the place in it.
pub fn load(path: &Path) -> Result<Script, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the script {}: {e}", path.display()))?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        format!(
            "bad script {}: at {}: {}",
            path.display(),
            e.path(),
            e.inner()
        )
    })
}
