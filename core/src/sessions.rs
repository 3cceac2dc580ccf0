//! Agent sessions as the API shows them (sessions.md §6), the requests that drive them, and the
//! settings that configure agents. Requests are parsed into these types once, strictly.

use crate::create::FieldError;
use crate::editor::EditorSettings;
use crate::entry::{LastExit, SessionSummaries, SessionSummary};
use crate::enums::{PendingRequestType, SessionActivity, SessionRuntimePhase, SessionStatus};
use crate::ids::{MessageId, SessionId, Timestamp, WorkspaceId};
use crate::ratchet::ReviewTrigger;
use crate::transcript::{PermissionOption, ToolCall, Usage};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest chat message or initial prompt, in characters.
pub const MAX_MESSAGE_CHARS: usize = 100_000;
/// Messages waiting in one session's queue (D§4.5).
pub const MAX_QUEUED_MESSAGES: usize = 100;
/// Active (idle or running) sessions of one workspace (D§4.8).
pub const MAX_SESSIONS_PER_WORKSPACE: usize = 5;

/// The workflow of the sessions people start.
pub const USER_WORKFLOW: &str = "user";
/// The workflow of the sessions the ratchet starts to fix a pull request.
pub const RATCHET_WORKFLOW: &str = "ratchet";

/// What `acquire_and_dispatch` did (D§4.9): what the server's sessions did with a
/// prompt another part of ff sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dispatched {
    /// A session was created or reused, and the prompt queued in it.
    Started {
        session: SessionId,
    },
    /// A session of that workflow is working already; the prompt was not sent.
    AlreadyActive {
        session: SessionId,
    },
    Skipped {
        reason: String,
    },
}

/// Times a message is sent again after the model API said it is rate limited, before it fails.
pub const MAX_RATE_LIMIT_RETRIES: u32 = 5;

/// Whether an agent's JSON-RPC error says the model API is rate limited or overloaded. Only
/// structured signals count, never words in the message (a file named `429.log` is not a rate
/// limit): an HTTP status field of 429 or 529 in the error's data (or its `error` object), or
/// the provider's error type (`rate_limit_error`, `overloaded_error`, `rate_limit_exceeded`).
pub fn is_rate_limit(data: Option<&serde_json::Value>) -> bool {
    fn says_so(value: &serde_json::Value) -> bool {
        let status = ["status", "statusCode", "httpStatus", "status_code"]
            .iter()
            .filter_map(|key| value.get(*key))
            .any(|status| {
                status.as_u64().or_else(|| status.as_str()?.parse().ok()) == Some(429)
                    || status.as_u64().or_else(|| status.as_str()?.parse().ok()) == Some(529)
            });
        let kind = ["type", "code", "errorType"]
            .iter()
            .filter_map(|key| value.get(*key)?.as_str())
            .any(|kind| {
                matches!(
                    kind,
                    "rate_limit_error" | "overloaded_error" | "rate_limit_exceeded"
                )
            });
        status || kind
    }
    data.is_some_and(|data| says_so(data) || data.get("error").is_some_and(says_so))
}

/// A session row with everything live about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: SessionId,
    pub workspace_id: WorkspaceId,
    pub agent: String,
    pub name: String,
    /// [`USER_WORKFLOW`] or [`RATCHET_WORKFLOW`].
    pub workflow: String,
    pub model: Option<String>,
    pub mode: Option<String>,
    pub status: SessionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub runtime: Runtime,
    /// Messages waiting to be dispatched, oldest first.
    pub queue: Vec<QueuedMessage>,
    pub pending_request: Option<PendingRequest>,
    /// What the agent offers, as it last reported it.
    pub models: Vec<Choice>,
    pub modes: Vec<Choice>,
    pub usage: Option<Usage>,
}

impl Session {
    /// At work, or about to be: a turn running (a permission request waits inside one),
    /// messages waiting to be sent, or its agent starting or loading.
    pub fn is_busy(&self) -> bool {
        self.runtime.working
            || !self.queue.is_empty()
            || matches!(
                self.runtime.phase,
                SessionRuntimePhase::Starting | SessionRuntimePhase::Loading
            )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Runtime {
    pub phase: SessionRuntimePhase,
    /// A prompt is in flight.
    pub working: bool,
    /// Turns of other sessions ahead of this one for a free agent slot (`--max-running-agents`).
    pub queued_behind: Option<u32>,
    pub last_exit: Option<LastExit>,
    pub error: Option<String>,
    /// Dispatch paused until then (the model API said it is rate limited).
    pub paused_until: Option<Timestamp>,
    /// What the session waits on, when it is neither the agent's work nor a person.
    pub waiting: Option<Waiting>,
}

/// What a session waits on that is neither the agent's work nor a person's answer, and since
/// when: every such state shows on the card in words, so nothing looks "working" while stuck.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    pub on: WaitingOn,
    pub since: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum WaitingOn {
    /// A free agent slot (`--max-running-agents`), with this many sessions ahead.
    AgentSlot { ahead: u32 },
    /// The agent's process to start and finish its handshake.
    AgentStart,
    /// The agent's answer to a request ff sent it (a model or mode change).
    AgentAnswer { request: String },
    /// The model API's rate limit: the message is sent again then.
    RateLimit { until: Timestamp },
}

impl Waiting {
    /// The card's words: what is waited for and since when (times in UTC, as ff shows them).
    pub fn words(&self) -> String {
        let since = self.since.utc("%H:%M:%S");
        match &self.on {
            WaitingOn::AgentSlot { ahead: 0 } => {
                format!("Waiting for a free agent slot since {since}")
            }
            WaitingOn::AgentSlot { ahead } => {
                format!("Waiting for a free agent slot, {ahead} ahead, since {since}")
            }
            WaitingOn::AgentStart => format!("Waiting for the agent to start since {since}"),
            WaitingOn::AgentAnswer { request } => {
                format!("Waiting for the agent to answer {request} since {since}")
            }
            WaitingOn::RateLimit { until } => format!(
                "Rate limited since {since}; sending again at {}",
                until.utc("%H:%M:%S")
            ),
        }
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Self {
            phase: SessionRuntimePhase::Idle,
            working: false,
            queued_behind: None,
            last_exit: None,
            error: None,
            paused_until: None,
            waiting: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedMessage {
    pub id: MessageId,
    pub text: String,
    pub queued_at: Timestamp,
}

/// What became of a message the API accepted (D§4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageState {
    Queued,
    Dispatched,
    Committed,
    Rejected,
    Failed,
    Cancelled,
}

/// The answer to `POST /api/sessions/{id}/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAccepted {
    pub message_id: MessageId,
    pub state: MessageState,
}

/// The open permission request of a session, answered with one of its options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRequest {
    pub request_id: String,
    #[serde(rename = "type")]
    pub request_type: PendingRequestType,
    pub tool_call: Option<ToolCall>,
    pub options: Vec<PermissionOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub name: String,
}

/// `POST /api/workspaces/{id}/sessions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSession {
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Queued as the first message.
    #[serde(default)]
    pub prompt: Option<String>,
}

/// `POST /api/sessions/{id}/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub text: String,
}

/// `POST /api/sessions/{id}/permission`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PermissionAnswer {
    pub request_id: String,
    pub option_id: String,
}

/// `PUT /api/sessions/{id}/config`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionConfig {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
}

/// A chat message or prompt: not blank, at most [`MAX_MESSAGE_CHARS`] characters. Kept as sent
/// (only checked after trimming): leading indentation can matter to an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(field: &'static str, text: &str) -> Result<Self, FieldError> {
        if text.trim().is_empty() {
            return Err(FieldError::new(field, format!("{field} must not be empty")));
        }
        let chars = text.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(FieldError::new(
                field,
                format!(
                    "{field} is {chars} characters long; at most {MAX_MESSAGE_CHARS} are accepted"
                ),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Who decides on an agent's permission requests (sessions.md §2). Plan approvals and questions
/// always wait for a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PermissionPolicy {
    /// Every request waits for a person.
    #[default]
    Ask,
    /// File edits inside the worktree are allowed; commands ask.
    Edits,
    /// Everything is allowed once (never "always").
    All,
}

/// An agent server as ACP clients configure one (Zed's `agent_servers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentServer {
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

impl AgentServer {
    /// A command is an absolute path or a bare program name found on `PATH`: a relative path
    /// would mean something else in every worktree.
    pub fn validate(&self, name: &str) -> Result<(), FieldError> {
        let field = "agentServers";
        let command = self.command.trim();
        if command.is_empty() {
            return Err(FieldError::new(
                field,
                format!("agentServers.{name}.command must not be empty"),
            ));
        }
        if command.contains('/') && !command.starts_with('/') {
            return Err(FieldError::new(
                field,
                format!(
                    "agentServers.{name}.command {command:?} must be an absolute path or a bare program name"
                ),
            ));
        }
        if command != self.command || command.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                format!(
                    "agentServers.{name}.command {:?} has surrounding spaces or control characters",
                    self.command
                ),
            ));
        }
        for key in self.env.keys() {
            let valid = !key.is_empty()
                && !key.starts_with(|c: char| c.is_ascii_digit())
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(FieldError::new(
                    field,
                    format!("agentServers.{name}.env has an invalid variable name {key:?}"),
                ));
            }
        }
        Ok(())
    }
}

/// Agent names: what settings, sessions and `ff agents` use to refer to an agent server.
pub fn validate_agent_name(name: &str) -> Result<(), FieldError> {
    let valid = (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(FieldError::new(
            "agentServers",
            format!("agent name {name:?} must be 1–32 characters of a-z, 0-9, - and _"),
        ))
    }
}

/// An agent ff knows how to install (`ff agents install <name>`): the npm package and the exact
/// version it pins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltInAgent {
    pub name: &'static str,
    pub display_name: &'static str,
    pub command: &'static str,
    pub package: &'static str,
    pub version: &'static str,
}

pub const BUILT_IN_AGENTS: [BuiltInAgent; 2] = [
    BuiltInAgent {
        name: "claude",
        display_name: "Claude",
        command: "claude-agent-acp",
        package: "@zed-industries/claude-agent-acp",
        version: "0.23.1",
    },
    BuiltInAgent {
        name: "codex",
        display_name: "Codex",
        command: "codex-acp",
        package: "@zed-industries/codex-acp",
        version: "0.16.0",
    },
];

pub fn built_in_agent(name: &str) -> Option<&'static BuiltInAgent> {
    BUILT_IN_AGENTS.iter().find(|agent| agent.name == name)
}

/// The agent new sessions use when nothing else says.
pub const DEFAULT_AGENT: &str = "claude";

/// One configured agent as `GET /api/agents` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub name: String,
    pub command: String,
    pub args: Vec<String>,
    pub installed: bool,
    /// Where the command was found.
    pub path: Option<String>,
    pub version: Option<String>,
    pub built_in: bool,
    /// How to install it when it is missing (built-in agents only).
    pub install_hint: Option<String>,
}

/// Settings absent from an older document that are on by default.
fn on() -> bool {
    true
}

/// `GET /api/settings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub ratchet_enabled: bool,
    /// The user's own entries (built-ins are listed by `GET /api/agents`).
    pub agent_servers: BTreeMap<String, AgentServer>,
    pub default_agent: String,
    pub permission_policy: PermissionPolicy,
    pub ratchet_permission_policy: PermissionPolicy,
    pub ratchet_review_trigger: ReviewTrigger,
    /// GitHub Enterprise hosts besides github.com (and `--github-hosts`, `GH_HOST`).
    #[serde(default)]
    pub github_hosts: Vec<String>,
    /// Where "Open in editor" opens a worktree.
    #[serde(default)]
    pub editor: EditorSettings,
    /// The ratchet replies on the review threads a fixer addressed and asks for a new review.
    #[serde(default = "on")]
    pub ratchet_reply_to_review_threads: bool,
    /// The ratchet resolves the review threads a fixer addressed.
    #[serde(default = "on")]
    pub ratchet_resolve_threads: bool,
    /// Child workspaces one agent session may create through ff's MCP tools.
    #[serde(default = "default_max_children_per_session")]
    pub max_children_per_session: u32,
}

/// Child workspaces one agent session may create unless the settings say otherwise.
pub const DEFAULT_MAX_CHILDREN_PER_SESSION: u32 = 5;

/// The most a setting may allow one session: more children than anyone can follow.
pub const MAX_CHILDREN_PER_SESSION: u32 = 50;

pub fn default_max_children_per_session() -> u32 {
    DEFAULT_MAX_CHILDREN_PER_SESSION
}

/// `PATCH /api/settings`: absent fields stay; `agentServers` entries merge by name and `null`
/// removes a user entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default)]
    pub ratchet_enabled: Option<bool>,
    #[serde(default)]
    pub agent_servers: Option<BTreeMap<String, Option<AgentServer>>>,
    #[serde(default)]
    pub default_agent: Option<String>,
    #[serde(default)]
    pub permission_policy: Option<PermissionPolicy>,
    #[serde(default)]
    pub ratchet_permission_policy: Option<PermissionPolicy>,
    #[serde(default)]
    pub ratchet_review_trigger: Option<ReviewTrigger>,
    /// Replaces the list of GitHub Enterprise hosts.
    #[serde(default)]
    pub github_hosts: Option<Vec<String>>,
    /// Replaces the editor settings, checked whole.
    #[serde(default)]
    pub editor: Option<EditorSettings>,
    #[serde(default)]
    pub ratchet_reply_to_review_threads: Option<bool>,
    #[serde(default)]
    pub ratchet_resolve_threads: Option<bool>,
    /// Any integer, so that one out of range is refused naming the field, not as bad JSON.
    #[serde(default)]
    pub max_children_per_session: Option<i64>,
}

/// What a session's row says, as the snapshot summarises it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub session_id: SessionId,
    pub agent: String,
    pub name: String,
    pub workflow: String,
    pub model: Option<String>,
    pub status: SessionStatus,
    pub updated_at: Timestamp,
}

/// What only the running server knows about a session: its live runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeFacts {
    pub runtime: Runtime,
    pub process_state: crate::enums::SessionProcessState,
    /// The last time anything happened in the session (an update, a message, an exit).
    pub updated_at: Timestamp,
    pub usage: Option<Usage>,
    pub pending: Option<PendingRequestType>,
}

/// One summary of the snapshot's session group (R§2.5): the row, and the runtime when the
/// session is live in this process (else what a session at rest looks like).
pub fn summary(row: &SessionRow, runtime: Option<&RuntimeFacts>) -> SessionSummary {
    use crate::enums::{SessionProcessState, SessionProvider};
    let provider = match row.agent.as_str() {
        "claude" => Some(SessionProvider::Claude),
        "codex" => Some(SessionProvider::Codex),
        _ => None,
    };
    let (phase, process_state, working, updated_at) = match runtime {
        Some(facts) => (
            facts.runtime.phase,
            facts.process_state,
            facts.runtime.working,
            facts.updated_at.max(row.updated_at),
        ),
        None => (
            SessionRuntimePhase::Idle,
            SessionProcessState::Stopped,
            false,
            row.updated_at,
        ),
    };
    SessionSummary {
        session_id: row.session_id.to_string(),
        name: Some(row.name.clone()),
        workflow: Some(row.workflow.clone()),
        model: row.model.clone(),
        provider,
        persisted_status: row.status,
        runtime_phase: phase,
        process_state,
        activity: if working {
            SessionActivity::Working
        } else {
            SessionActivity::Idle
        },
        updated_at,
        last_exit: runtime.and_then(|f| f.runtime.last_exit.clone()),
        error_message: runtime.and_then(|f| f.runtime.error.clone()),
        agent: Some(row.agent.clone()),
        usage: runtime.and_then(|f| f.usage.clone()),
        queued_behind: runtime.and_then(|f| f.runtime.queued_behind),
        waiting: runtime.and_then(|f| f.runtime.waiting.clone()),
    }
}

/// The snapshot's session group of one workspace (snapshot.md §2, R§2.5), built by the same
/// function for the sessions domain's events and for reconciliation, so they cannot disagree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionGroup {
    pub is_working: bool,
    pub pending_request_type: Option<PendingRequestType>,
    pub summaries: SessionSummaries,
    pub last_activity_at: Option<Timestamp>,
}

impl SessionGroup {
    /// The group of a workspace's sessions: each row with its runtime, if it is live.
    pub fn from_sessions<'a>(
        sessions: impl IntoIterator<Item = (&'a SessionRow, Option<&'a RuntimeFacts>)>,
    ) -> Self {
        let mut pending = Vec::new();
        let summaries = sessions
            .into_iter()
            .map(|(row, runtime)| {
                pending.extend(runtime.and_then(|r| r.pending));
                summary(row, runtime)
            })
            .collect();
        Self::of(summaries, pending)
    }

    /// `pending` holds the type of every open request of the workspace's sessions; the most
    /// pressing one wins (R§7.4: plan approval, then question, then permission).
    pub fn of(
        summaries: Vec<SessionSummary>,
        pending: impl IntoIterator<Item = PendingRequestType>,
    ) -> Self {
        let is_working = summaries.iter().any(SessionSummary::is_working);
        let last_activity_at = summaries.iter().map(|s| s.updated_at).max();
        Self {
            is_working,
            pending_request_type: pending.into_iter().min(),
            summaries: summaries.into(),
            last_activity_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::{SessionProcessState, SessionProvider};
    use PendingRequestType::{PermissionRequest, PlanApproval, UserQuestion};

    fn summary(id: &str, phase: SessionRuntimePhase, at: i64) -> SessionSummary {
        SessionSummary {
            session_id: id.into(),
            name: None,
            workflow: Some(USER_WORKFLOW.into()),
            model: None,
            provider: Some(SessionProvider::Claude),
            persisted_status: SessionStatus::Idle,
            runtime_phase: phase,
            process_state: SessionProcessState::Alive,
            activity: if phase == SessionRuntimePhase::Running {
                SessionActivity::Working
            } else {
                SessionActivity::Idle
            },
            updated_at: Timestamp::from_millis(at).unwrap(),
            last_exit: None,
            error_message: None,
            agent: Some("claude".into()),
            usage: None,
            queued_behind: None,
            waiting: None,
        }
    }

    #[test]
    fn a_group_is_working_while_any_turn_runs_and_shows_the_most_pressing_request() {
        use SessionRuntimePhase::{Idle, Running, Starting};
        let cases = [
            (vec![], vec![], false, None, None),
            (vec![summary("a", Idle, 5)], vec![], false, None, Some(5)),
            (
                vec![summary("a", Idle, 5), summary("b", Running, 9)],
                vec![PermissionRequest],
                true,
                Some(PermissionRequest),
                Some(9),
            ),
            (
                vec![summary("a", Starting, 1)],
                vec![PermissionRequest, PlanApproval, UserQuestion],
                false,
                Some(PlanApproval),
                Some(1),
            ),
            (
                vec![summary("a", Idle, 1)],
                vec![PermissionRequest, UserQuestion],
                false,
                Some(UserQuestion),
                Some(1),
            ),
        ];
        for (summaries, pending, working, request, last) in cases {
            let group = SessionGroup::of(summaries, pending.clone());
            assert_eq!(group.is_working, working, "{pending:?}");
            assert_eq!(group.pending_request_type, request, "{pending:?}");
            assert_eq!(group.last_activity_at.map(Timestamp::millis), last);
        }
    }

    #[test]
    fn only_fixers_are_working_when_some_session_works_and_every_working_one_is_a_fixer() {
        use SessionRuntimePhase::{Idle, Running};
        let fixer = |id, phase| SessionSummary {
            workflow: Some(RATCHET_WORKFLOW.into()),
            ..summary(id, phase, 1)
        };
        let cases = [
            (vec![], false),
            (vec![fixer("f", Idle)], false),
            (vec![fixer("f", Running)], true),
            (vec![fixer("f", Running), summary("u", Idle, 1)], true),
            (vec![fixer("f", Running), summary("u", Running, 1)], false),
            (vec![fixer("f", Idle), summary("u", Running, 1)], false),
        ];
        for (summaries, expected) in cases {
            let group = SessionGroup::of(summaries.clone(), []);
            assert_eq!(
                group.summaries.only_fixers_working(),
                expected,
                "{summaries:?}"
            );
        }
    }

    #[test]
    fn every_wait_says_what_it_waits_for_and_since_when() {
        let at = |ms| Timestamp::from_millis(ms).unwrap();
        let since = at(1_764_000_000_000);
        let cases = [
            (
                WaitingOn::AgentSlot { ahead: 0 },
                "Waiting for a free agent slot since 16:00:00",
            ),
            (
                WaitingOn::AgentSlot { ahead: 3 },
                "Waiting for a free agent slot, 3 ahead, since 16:00:00",
            ),
            (
                WaitingOn::AgentStart,
                "Waiting for the agent to start since 16:00:00",
            ),
            (
                WaitingOn::AgentAnswer {
                    request: "session/set_mode".into(),
                },
                "Waiting for the agent to answer session/set_mode since 16:00:00",
            ),
            (
                WaitingOn::RateLimit {
                    until: at(1_764_000_030_000),
                },
                "Rate limited since 16:00:00; sending again at 16:00:30",
            ),
        ];
        for (on, words) in cases {
            assert_eq!(Waiting { on, since }.words(), words);
        }
    }

    #[test]
    fn rate_limits_are_recognised_from_structured_signals_only() {
        use serde_json::json;
        let cases = [
            (json!({"status": 429}), true),
            (json!({"statusCode": "429"}), true),
            (json!({"httpStatus": 529}), true),
            (
                json!({"error": {"type": "rate_limit_error", "message": "slow down"}}),
                true,
            ),
            (json!({"type": "overloaded_error"}), true),
            (json!({"code": "rate_limit_exceeded"}), true),
            (json!({"status": 500}), false),
            (
                json!({"message": "API Error: 429 Too Many Requests"}),
                false,
            ),
            (json!("429 overloaded"), false),
            (json!({"path": "tests/429_overloaded.log"}), false),
            (json!({"error": {"type": "invalid_request_error"}}), false),
        ];
        for (data, limited) in cases {
            assert_eq!(is_rate_limit(Some(&data)), limited, "{data}");
        }
        assert!(!is_rate_limit(None));
    }

    #[test]
    fn messages_are_not_blank_and_not_too_long() {
        assert!(MessageText::parse("text", "  fix it ").is_ok());
        for bad in ["", "   \n\t"] {
            let e = MessageText::parse("text", bad).unwrap_err();
            assert!(e.message.contains("must not be empty"), "{}", e.message);
        }
        let long = "é".repeat(MAX_MESSAGE_CHARS + 1);
        let e = MessageText::parse("text", &long).unwrap_err();
        assert!(e.message.contains("100001 characters"), "{}", e.message);
        assert!(MessageText::parse("text", &"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
    }

    #[test]
    fn agent_servers_need_a_usable_command_and_valid_env_names() {
        let server = |command: &str, env: &[&str]| AgentServer {
            command: command.into(),
            args: vec![],
            env: env.iter().map(|k| (k.to_string(), "v".into())).collect(),
        };
        for ok in ["gemini", "/opt/agents/opencode", "claude-agent-acp"] {
            assert!(server(ok, &["API_KEY"]).validate("x").is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "must not be empty"),
            ("  ", "must not be empty"),
            ("bin/agent", "absolute path or a bare program name"),
            ("./agent", "absolute path or a bare program name"),
            (" agent", "surrounding spaces"),
        ] {
            let e = server(bad, &[]).validate("x").unwrap_err();
            assert!(e.message.contains(why), "{bad:?}: {}", e.message);
        }
        for bad_key in ["", "1ABC", "A-B", "A B"] {
            assert!(
                server("agent", &[bad_key]).validate("x").is_err(),
                "{bad_key:?}"
            );
        }
    }

    #[test]
    fn agent_names() {
        for ok in ["claude", "codex", "gemini-cli", "my_agent2"] {
            assert!(validate_agent_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Claude", "-x", "has space", "x".repeat(33).as_str()] {
            assert!(validate_agent_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn requests_reject_unknown_fields() {
        assert!(serde_json::from_str::<SendMessage>(r#"{"text":"a","txt":"b"}"#).is_err());
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"defaultAgnt":"x"}"#).is_err());
        assert!(serde_json::from_str::<SettingsPatch>(
            r#"{"agentServers":{"g":{"command":"g","argz":[]}}}"#
        )
        .is_err());
        let removal: SettingsPatch =
            serde_json::from_str(r#"{"agentServers":{"gemini":null}}"#).unwrap();
        assert_eq!(removal.agent_servers.unwrap()["gemini"], None);
    }
}
