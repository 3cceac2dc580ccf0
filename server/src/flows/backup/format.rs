//! The backup document (domain.md §6), current and older versions, and the adapters between them.

use crate::settings::Settings;
use ff_core::enums::*;
use ff_core::ids::Timestamp;
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 4;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Document {
    pub meta: Meta,
    pub data: Data,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Meta {
    pub exported_at: Timestamp,
    pub app_version: String,
    pub schema_version: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Data {
    pub projects: Vec<ProjectBackup>,
    pub workspaces: Vec<WorkspaceBackup>,
    pub settings: Settings,
    /// Scheduled tasks with their runs (added in schema 3: absent in older documents).
    #[serde(default)]
    pub schedules: Vec<ScheduleBackup>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectBackup {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub repo_path: String,
    pub default_branch: String,
    pub github_owner: Option<String>,
    pub github_repo: Option<String>,
    /// A GitHub Enterprise host (added within schema 2: absent in older documents).
    #[serde(default)]
    pub github_host: Option<String>,
    /// Added within schema 2: absent in older documents.
    #[serde(default)]
    pub default_agent: Option<String>,
    pub worktree_base_path: String,
    pub setup_timeout_seconds: u32,
    pub archived_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A workspace with its side tables flattened under their own prefixes. Process state (pids,
/// ports, run-script status) is not durable and is not carried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceBackup {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: WorkspaceStatus,
    pub creation_source: WorkspaceCreationSource,
    pub base_branch: Option<String>,
    pub worktree_path: Option<String>,
    pub branch_name: Option<String>,
    pub is_auto_generated_branch: bool,
    pub init_error_message: Option<String>,
    pub init_output: String,
    pub init_started_at: Option<Timestamp>,
    pub init_completed_at: Option<Timestamp>,
    pub init_retry_count: u32,
    pub github_issue_number: Option<u64>,
    pub github_issue_url: Option<String>,
    pub has_had_sessions: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub pr_url: Option<String>,
    pub pr_number: Option<u64>,
    pub pr_state: PrState,
    pub pr_ci_status: CiStatus,
    pub pr_review_state: Option<ReviewDecision>,
    pub pr_has_merge_conflict: bool,
    pub pr_updated_at: Option<Timestamp>,
    pub ratchet_enabled: bool,
    pub ratchet_dispatch_outcome: Option<RatchetDispatchOutcome>,
    pub ratchet_dispatch_retry_count: u32,
    pub ratchet_dispatch_stalled: bool,
    pub run_script_command: Option<String>,
    pub run_script_cleanup_command: Option<String>,
    /// Where an archive kept ignored files (added within schema 2: absent in older documents).
    #[serde(default)]
    pub archive_note: Option<String>,
    /// The workspace's agent and its unused first prompt (added within schema 2).
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub initial_prompt: Option<String>,
    /// The scheduled task whose run made it (added in schema 3: absent in older documents).
    #[serde(default)]
    pub schedule_id: Option<String>,
    /// The workspace and the agent session that created it through ff's MCP server (added in
    /// schema 4: absent in older documents, where no workspace had a parent).
    #[serde(default)]
    pub parent_workspace_id: Option<String>,
    #[serde(default)]
    pub parent_session_id: Option<String>,
}

/// A scheduled task. Its next due time is not carried: an import computes it from the time of
/// the import, so that moving ff to another machine is not downtime to catch up on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleBackup {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub prompt: String,
    pub agent: Option<String>,
    pub cron: String,
    pub time_zone: String,
    pub enabled: bool,
    pub last_run_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub executions: Vec<ExecutionBackup>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionBackup {
    pub id: String,
    pub trigger: RunTrigger,
    pub due_at: Option<Timestamp>,
    pub status: ExecutionStatus,
    pub workspace_id: Option<String>,
    pub workspace_name: Option<String>,
    pub pr_url: Option<String>,
    pub pr_number: Option<u64>,
    pub error: Option<String>,
    pub started_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

/// Schema 1: before side tables and creation sources. Projects had no setup timeout, workspaces
/// no creation source, ratchet, run-script commands or review state, and a run script could be
/// recorded as `PAUSED`.
pub mod v1 {
    use super::*;

    #[derive(Clone, Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct Document {
        pub meta: super::Meta,
        pub data: Data,
    }

    #[derive(Clone, Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct Data {
        pub projects: Vec<Project>,
        pub workspaces: Vec<Workspace>,
    }

    #[derive(Clone, Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct Project {
        pub id: String,
        pub name: String,
        pub slug: String,
        pub repo_path: String,
        pub default_branch: String,
        pub github_owner: Option<String>,
        pub github_repo: Option<String>,
        pub worktree_base_path: String,
        pub created_at: Timestamp,
        pub updated_at: Timestamp,
    }

    #[derive(Clone, Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct Workspace {
        pub id: String,
        pub project_id: String,
        pub name: String,
        pub description: Option<String>,
        pub status: WorkspaceStatus,
        pub worktree_path: Option<String>,
        pub branch_name: Option<String>,
        pub init_error_message: Option<String>,
        pub init_started_at: Option<Timestamp>,
        pub init_completed_at: Option<Timestamp>,
        pub init_retry_count: u32,
        pub github_issue_number: Option<u64>,
        pub github_issue_url: Option<String>,
        pub pr_url: Option<String>,
        pub pr_number: Option<u64>,
        pub pr_state: PrState,
        pub pr_ci_status: CiStatus,
        pub pr_updated_at: Option<Timestamp>,
        /// Recorded but meaningless after a restore; `PAUSED` existed only in this version.
        pub run_script_status: String,
        pub has_had_sessions: bool,
        pub created_at: Timestamp,
        pub updated_at: Timestamp,
    }

    /// The explicit upgrade to the current schema: every new field gets the value a workspace
    /// of that time behaved as having.
    pub fn upgrade(old: Document) -> super::Document {
        super::Document {
            meta: super::Meta {
                schema_version: SCHEMA_VERSION,
                ..old.meta
            },
            data: super::Data {
                projects: old.data.projects.into_iter().map(project).collect(),
                workspaces: old.data.workspaces.into_iter().map(workspace).collect(),
                settings: Settings::default(),
                schedules: Vec::new(),
            },
        }
    }

    fn project(p: Project) -> ProjectBackup {
        ProjectBackup {
            id: p.id,
            name: p.name,
            slug: p.slug,
            repo_path: p.repo_path,
            default_branch: p.default_branch,
            github_owner: p.github_owner,
            github_repo: p.github_repo,
            github_host: None,
            default_agent: None,
            worktree_base_path: p.worktree_base_path,
            setup_timeout_seconds: 300,
            archived_at: None,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }

    fn workspace(w: Workspace) -> WorkspaceBackup {
        let creation_source = if w.github_issue_number.is_some() {
            WorkspaceCreationSource::GithubIssue
        } else {
            WorkspaceCreationSource::Manual
        };
        WorkspaceBackup {
            id: w.id,
            project_id: w.project_id,
            name: w.name,
            description: w.description,
            status: w.status,
            creation_source,
            base_branch: None,
            worktree_path: w.worktree_path,
            is_auto_generated_branch: false,
            branch_name: w.branch_name,
            init_error_message: w.init_error_message,
            init_output: String::new(),
            init_started_at: w.init_started_at,
            init_completed_at: w.init_completed_at,
            init_retry_count: w.init_retry_count,
            github_issue_number: w.github_issue_number,
            github_issue_url: w.github_issue_url,
            has_had_sessions: w.has_had_sessions,
            created_at: w.created_at,
            updated_at: w.updated_at,
            pr_url: w.pr_url,
            pr_number: w.pr_number,
            pr_state: w.pr_state,
            pr_ci_status: w.pr_ci_status,
            pr_review_state: None,
            pr_has_merge_conflict: false,
            pr_updated_at: w.pr_updated_at,
            ratchet_enabled: false,
            ratchet_dispatch_outcome: None,
            ratchet_dispatch_retry_count: 0,
            ratchet_dispatch_stalled: false,
            run_script_command: None,
            run_script_cleanup_command: None,
            archive_note: None,
            agent: None,
            initial_prompt: None,
            schedule_id: None,
            parent_workspace_id: None,
            parent_session_id: None,
        }
    }
}

/// Just enough of a document to know its version. Everything else is skipped unread, so
/// checking the version of a huge body allocates nothing.
#[derive(Deserialize)]
struct Probe {
    meta: ProbeMeta,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProbeMeta {
    schema_version: u64,
}

/// Reads a document of any supported schema version, naming the path of the first bad value.
/// The body is parsed twice, each time straight into typed values: never into an untyped JSON
/// tree, which costs many times the body's size.
pub fn parse(bytes: &[u8]) -> Result<Document, String> {
    let version = serde_json::from_slice::<Probe>(bytes)
        .map_err(|e| {
            if e.is_data() {
                format!("the backup has no readable meta.schemaVersion: {e}")
            } else {
                format!("the backup is not a JSON object: {e}")
            }
        })?
        .meta
        .schema_version;
    match version {
        1 => strict::<v1::Document>(bytes).map(v1::upgrade),
        2..SCHEMA_VERSION_U64 => strict::<Document>(bytes).map(restamp),
        SCHEMA_VERSION_U64 => strict::<Document>(bytes),
        other => Err(format!(
            "meta.schemaVersion {other} is not supported (this ff reads 1 to {SCHEMA_VERSION})"
        )),
    }
}

const SCHEMA_VERSION_U64: u64 = SCHEMA_VERSION as u64;

/// The upgrade of schemas 2 and later: each only added fields, which are `#[serde(default)]`
/// (read as absent: no scheduled tasks, no schedule or parent of a workspace), so such a
/// document reads as the current one and only its version changes.
fn restamp(old: Document) -> Document {
    Document {
        meta: Meta {
            schema_version: SCHEMA_VERSION,
            ..old.meta
        },
        data: old.data,
    }
}

fn strict<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let document = serde_path_to_error::deserialize(&mut json)
        .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
    json.end().map_err(|e| e.to_string())?;
    Ok(document)
}
