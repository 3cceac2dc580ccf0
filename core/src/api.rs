//! HTTP bodies that the server writes and the browser app reads (api.md §1–§2).

use serde::{Deserialize, Serialize};

/// The body of `GET /healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// The machine-readable class of an error (api.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadRequest,
    ValidationFailed,
    NotFound,
    Conflict,
    /// No token, or not ff's current one.
    Unauthorized,
    Forbidden,
    PayloadTooLarge,
    TooManyRequests,
    /// A remote ff depends on (GitHub, or git's `origin`) refused or failed.
    UpstreamFailed,
    Internal,
}

/// `{"error": {"code": "…", "message": "…"}}`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_specified_shape() {
        let body = ErrorBody::new(ErrorCode::ValidationFailed, "name must not be empty");
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"VALIDATION_FAILED","message":"name must not be empty"}}"#
        );
    }
}

pub use resources::*;

/// The resources of api.md §2, as the server sends them.
mod resources {
    use crate::enums::*;
    use crate::ids::{ProjectId, ScheduleId, Timestamp, WorkspaceId};
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Project {
        pub id: ProjectId,
        pub name: String,
        pub slug: String,
        pub repo_path: String,
        pub default_branch: String,
        pub github_owner: Option<String>,
        pub github_repo: Option<String>,
        /// `github.com` or a GitHub Enterprise host; `null` means github.com.
        pub github_host: Option<String>,
        /// The agent of the project's sessions when the workspace names none; `null`: the
        /// user's default.
        #[serde(default)]
        pub default_agent: Option<String>,
        pub worktree_base_path: String,
        pub setup_timeout_seconds: u32,
        pub created_at: Timestamp,
        pub updated_at: Timestamp,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Workspace {
        pub id: WorkspaceId,
        pub project_id: ProjectId,
        pub name: String,
        pub description: Option<String>,
        pub status: WorkspaceStatus,
        pub creation_source: WorkspaceCreationSource,
        pub branch_name: Option<String>,
        pub worktree_path: Option<String>,
        pub init_error_message: Option<String>,
        pub init_started_at: Option<Timestamp>,
        pub init_completed_at: Option<Timestamp>,
        pub init_retry_count: u32,
        pub github_issue_number: Option<u64>,
        pub github_issue_url: Option<String>,
        /// The scheduled task whose run made it (source `SCHEDULED`; `null` once the task is
        /// deleted).
        #[serde(default)]
        pub schedule_id: Option<ScheduleId>,
        pub ratchet_enabled: bool,
        pub has_had_sessions: bool,
        pub created_at: Timestamp,
        pub updated_at: Timestamp,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RunScriptInfo {
        pub status: RunScriptStatus,
        pub pid: Option<u32>,
        pub port: Option<u16>,
        pub started_at: Option<Timestamp>,
        pub command: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PrInfo {
        pub pr_url: Option<String>,
        pub pr_number: Option<u64>,
        pub pr_state: PrState,
        pub pr_ci_status: CiStatus,
        pub pr_review_state: Option<ReviewDecision>,
        pub pr_has_merge_conflict: bool,
        pub pr_updated_at: Option<Timestamp>,
    }

    /// One workspace with everything its detail page shows.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct WorkspaceDetail {
        #[serde(flatten)]
        pub workspace: Workspace,
        #[serde(flatten)]
        pub pr: PrInfo,
        pub init_output: String,
        pub run_script: RunScriptInfo,
        /// Why the last archive attempt was rolled back, if it was.
        pub archive_error: Option<super::ErrorDetail>,
        /// What the archive kept outside git, and where (ignored files moved aside).
        pub archive_note: Option<String>,
        /// The workspace whose agent created this one through ff's MCP tools.
        #[serde(default)]
        pub parent: Option<WorkspaceLink>,
        /// The workspaces this one's agents created, oldest first, with their status.
        #[serde(default)]
        pub children: Vec<WorkspaceLink>,
    }

    /// Another workspace, named where a page links to it.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct WorkspaceLink {
        pub id: WorkspaceId,
        pub name: String,
        pub status: WorkspaceStatus,
    }

    /// What archiving a workspace does with its live children (issue 19 §1).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum ChildrenOnArchive {
        /// Each is archived too, through the normal archive that commits its work first.
        Archive,
        /// They stay, without a parent.
        Detach,
    }

    /// `POST /api/workspaces/{id}/archive`'s optional body. A workspace with live children is
    /// archived only once `children` says what becomes of them.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct ArchiveRequest {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub children: Option<ChildrenOnArchive>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct AddProject {
        pub repo_path: String,
        #[serde(default)]
        pub name: Option<String>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct PatchProject {
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub default_branch: Option<String>,
        #[serde(default)]
        pub setup_timeout_seconds: Option<u32>,
        /// Absent: unchanged; `null`: cleared.
        #[serde(default, with = "serde_with::rust::double_option")]
        pub github_owner: Option<Option<String>>,
        #[serde(default, with = "serde_with::rust::double_option")]
        pub github_repo: Option<Option<String>>,
        #[serde(default, with = "serde_with::rust::double_option")]
        pub github_host: Option<Option<String>>,
        #[serde(default, with = "serde_with::rust::double_option")]
        pub default_agent: Option<Option<String>>,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct RatchetToggle {
        pub enabled: bool,
    }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ImportCounts {
        pub projects: u64,
        pub workspaces: u64,
        #[serde(default)]
        pub schedules: u64,
    }
}
