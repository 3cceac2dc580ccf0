//! The snapshot entry (snapshot.md §2): raw fields by field group, metadata, derived fields.

use crate::derive::Derived;
use crate::enums::*;
use crate::ids::{ProjectId, Timestamp, WorkspaceId};
use crate::overlaps::Overlap;
use crate::transcript::{Cost, Usage};
use serde::{Deserialize, Serialize};

/// Diff statistics of a worktree against its merge base (R§7.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitStats {
    pub total: u32,
    pub additions: u32,
    pub deletions: u32,
    pub has_uncommitted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastExit {
    pub code: Option<i32>,
    pub timestamp: Timestamp,
    pub unexpected: bool,
}

/// One agent session of a workspace (R§2.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub session_id: String,
    pub name: Option<String>,
    pub workflow: Option<String>,
    pub model: Option<String>,
    pub provider: Option<SessionProvider>,
    pub persisted_status: SessionStatus,
    pub runtime_phase: SessionRuntimePhase,
    pub process_state: SessionProcessState,
    pub activity: SessionActivity,
    pub updated_at: Timestamp,
    pub last_exit: Option<LastExit>,
    pub error_message: Option<String>,
    /// The configured agent the session runs (any ACP agent, not only the known providers).
    pub agent: Option<String>,
    /// Context window and cost, when the agent reports them.
    pub usage: Option<Usage>,
    /// Turns of other sessions ahead of this one for a free agent slot.
    pub queued_behind: Option<u32>,
    /// What the session waits on (a slot, its agent's start or answer, a rate limit).
    #[serde(default)]
    pub waiting: Option<crate::sessions::Waiting>,
}

impl SessionSummary {
    pub(crate) fn is_working(&self) -> bool {
        self.activity == SessionActivity::Working
            || self.runtime_phase == SessionRuntimePhase::Running
    }

    fn is_fixer(&self) -> bool {
        self.workflow.as_deref() == Some(crate::sessions::RATCHET_WORKFLOW)
    }

    fn is_starting(&self) -> bool {
        matches!(
            self.runtime_phase,
            SessionRuntimePhase::Starting | SessionRuntimePhase::Loading
        )
    }

    fn has_runtime_error(&self) -> bool {
        self.runtime_phase == SessionRuntimePhase::Error
            || self.last_exit.as_ref().is_some_and(|exit| exit.unexpected)
    }
}

/// The sessions of a workspace, always sorted by session id: equality ignores the order in which
/// a writer listed them (R§3.2 HEAD), by construction rather than by a special comparison.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<SessionSummary>")]
pub struct SessionSummaries(Vec<SessionSummary>);

impl From<Vec<SessionSummary>> for SessionSummaries {
    fn from(mut sessions: Vec<SessionSummary>) -> Self {
        sessions.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        Self(sessions)
    }
}

impl SessionSummaries {
    pub fn as_slice(&self) -> &[SessionSummary] {
        &self.0
    }

    /// The card's words for what the workspace's sessions wait on, the longest wait first.
    pub fn waits(&self) -> Vec<String> {
        let mut waits: Vec<&crate::sessions::Waiting> =
            self.0.iter().filter_map(|s| s.waiting.as_ref()).collect();
        waits.sort_by_key(|w| w.since);
        waits
            .into_iter()
            .map(crate::sessions::Waiting::words)
            .collect()
    }

    pub fn any_starting(&self) -> bool {
        self.0.iter().any(SessionSummary::is_starting)
    }

    /// Some session is working and every working one is a ratchet fixer.
    pub fn only_fixers_working(&self) -> bool {
        let mut working = self.0.iter().filter(|s| s.is_working()).peekable();
        working.peek().is_some() && working.all(SessionSummary::is_fixer)
    }

    pub fn any_runtime_error(&self) -> bool {
        self.0.iter().any(SessionSummary::has_runtime_error)
    }

    /// What the sessions cost so far, one sum per currency (sorted by currency).
    pub fn costs(&self) -> Vec<Cost> {
        let mut sums: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        for cost in self
            .0
            .iter()
            .filter_map(|s| s.usage.as_ref()?.cost.as_ref())
        {
            *sums.entry(&cost.currency).or_default() += cost.micros;
        }
        sums.into_iter()
            .map(|(currency, micros)| Cost {
                micros,
                currency: currency.to_owned(),
            })
            .collect()
    }
}

/// The workspace that created this one through ff's MCP server (issue 19 §1): the card says
/// "child of …" and links to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentLink {
    pub id: WorkspaceId,
    pub name: String,
}

/// The raw (written, not derived) fields of an entry. Field order follows the groups of R§3.1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawFields {
    // workspace
    pub project_id: ProjectId,
    pub name: String,
    pub status: WorkspaceStatus,
    pub created_at: Option<Timestamp>,
    pub branch_name: Option<String>,
    pub has_had_sessions: bool,
    /// Absent from the JSON for a workspace no other created, as in frames before children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentLink>,
    // pr
    pub pr_url: Option<String>,
    pub pr_number: Option<u64>,
    pub pr_state: PrState,
    pub pr_ci_status: CiStatus,
    pub pr_review_state: Option<ReviewDecision>,
    pub pr_updated_at: Option<Timestamp>,
    pub has_merge_conflict: bool,
    // session
    pub is_working: bool,
    pub pending_request_type: Option<PendingRequestType>,
    pub session_summaries: SessionSummaries,
    // ratchet
    pub ratchet_enabled: bool,
    pub ratchet_dispatch_outcome: Option<RatchetDispatchOutcome>,
    pub ratchet_dispatch_retry_count: u32,
    pub ratchet_dispatch_stalled: bool,
    // runScript
    pub run_script_status: RunScriptStatus,
    // reconciliation
    pub git_stats: Option<GitStats>,
    pub last_activity_at: Option<Timestamp>,
    /// Other live workspaces of the project that change some of the same paths (review.md §3).
    pub overlaps: Vec<Overlap>,
}

impl RawFields {
    /// The defaults of snapshot.md §2 for a workspace seen for the first time.
    pub fn new(project_id: ProjectId) -> Self {
        Self {
            project_id,
            name: String::new(),
            status: WorkspaceStatus::New,
            created_at: None,
            branch_name: None,
            has_had_sessions: false,
            parent: None,
            pr_url: None,
            pr_number: None,
            pr_state: PrState::None,
            pr_ci_status: CiStatus::Unknown,
            pr_review_state: None,
            pr_updated_at: None,
            has_merge_conflict: false,
            is_working: false,
            pending_request_type: None,
            session_summaries: SessionSummaries::default(),
            ratchet_enabled: false,
            ratchet_dispatch_outcome: None,
            ratchet_dispatch_retry_count: 0,
            ratchet_dispatch_stalled: false,
            run_script_status: RunScriptStatus::Idle,
            git_stats: None,
            last_activity_at: None,
            overlaps: Vec::new(),
        }
    }
}

/// Epoch milliseconds of the last accepted write per field group (R§3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldTimestamps {
    pub workspace: i64,
    pub pr: i64,
    pub session: i64,
    pub ratchet: i64,
    pub run_script: i64,
    pub reconciliation: i64,
}

impl FieldTimestamps {
    pub fn get(&self, group: FieldGroup) -> i64 {
        match group {
            FieldGroup::Workspace => self.workspace,
            FieldGroup::Pr => self.pr,
            FieldGroup::Session => self.session,
            FieldGroup::Ratchet => self.ratchet,
            FieldGroup::RunScript => self.run_script,
            FieldGroup::Reconciliation => self.reconciliation,
        }
    }

    pub(crate) fn slot(&mut self, group: FieldGroup) -> &mut i64 {
        match group {
            FieldGroup::Workspace => &mut self.workspace,
            FieldGroup::Pr => &mut self.pr,
            FieldGroup::Session => &mut self.session,
            FieldGroup::Ratchet => &mut self.ratchet,
            FieldGroup::RunScript => &mut self.run_script,
            FieldGroup::Reconciliation => &mut self.reconciliation,
        }
    }
}

/// One workspace as every view shows it. Serialized flat, in camelCase (api.md §3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub workspace_id: WorkspaceId,
    /// +1 per emitted change; 0 until the store first emits the entry.
    pub version: u64,
    pub computed_at: Option<Timestamp>,
    /// Which writer(s) produced the last emitted change, joined with `+`.
    pub source: String,
    pub field_timestamps: FieldTimestamps,
    #[serde(flatten)]
    pub raw: RawFields,
    #[serde(flatten)]
    pub derived: Derived,
}

impl Entry {
    /// A fresh entry with the defaults of snapshot.md §2 and its derived fields computed.
    pub fn new(workspace_id: WorkspaceId, project_id: ProjectId) -> Self {
        let raw = RawFields::new(project_id);
        Self {
            workspace_id,
            version: 0,
            computed_at: None,
            source: String::new(),
            field_timestamps: FieldTimestamps::default(),
            derived: Derived::of(&raw),
            raw,
        }
    }

    /// The order of a project's entries everywhere (store, board, list): newest first, then id,
    /// so that every reader sees the same deterministic order.
    pub fn project_order(a: &Self, b: &Self) -> std::cmp::Ordering {
        b.raw
            .created_at
            .cmp(&a.raw.created_at)
            .then_with(|| a.workspace_id.cmp(&b.workspace_id))
    }
}
