//! The create-workspace command of api.md §2: the wire shape, and its parse into domain types.
//!
//! Serde decides whether the body is well-formed (missing or ill-typed fields, unknown fields,
//! an unknown source: `BAD_REQUEST`); [`CreateWorkspaceRequest::parse`] decides whether it is
//! acceptable (`VALIDATION_FAILED`). Past that point nothing needs checking again.

use crate::enums::WorkspaceCreationSource;
use crate::github::IssueUrl;
use crate::ids::ScheduleId;
use crate::refname::{BranchName, RefNameError};
use crate::sessions::{validate_agent_name, MessageText};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const NAME_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;

/// The request body, exactly as api.md §2 spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "source",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum CreateWorkspaceRequest {
    Manual {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_branch: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ratchet_enabled: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial_prompt: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    ResumeBranch {
        branch_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ratchet_enabled: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial_prompt: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    GithubIssue {
        issue_number: u64,
        issue_url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ratchet_enabled: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial_prompt: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
}

/// A name people read (a workspace or a project): trimmed, 1 to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &'static str, text: &str) -> Result<Self, FieldError> {
        let trimmed = text.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err(FieldError::new(field, format!("{field} must not be empty")));
        }
        if chars > NAME_MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("{field} is {chars} characters long; the limit is {NAME_MAX_CHARS}"),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A default name taken from other input, cut to the limit instead of refused; `None` when
    /// nothing is left once trimmed (git accepts branches made only of Unicode spaces).
    fn defaulted(text: &str) -> Option<Self> {
        let name: String = text.trim().chars().take(NAME_MAX_CHARS).collect();
        (!name.is_empty()).then_some(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A GitHub issue whose URL and number agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRef {
    pub number: u64,
    pub url: IssueUrl,
}

impl IssueRef {
    pub fn parse(number: u64, url: &str) -> Result<Self, FieldError> {
        if number == 0 {
            return Err(FieldError::new(
                "issueNumber",
                "issueNumber must be a positive integer",
            ));
        }
        let fail =
            |why: &dyn fmt::Display| FieldError::new("issueUrl", format!("issueUrl {url:?} {why}"));
        let parsed = IssueUrl::parse(url).map_err(|e| fail(&e))?;
        if parsed.number() != number {
            return Err(fail(&format!("does not point at issue #{number}")));
        }
        Ok(Self {
            number,
            url: parsed,
        })
    }
}

/// Where a new workspace's branch comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkspaceSource {
    /// A new branch from `base_branch`, or from the project's default branch.
    Manual {
        base_branch: Option<BranchName>,
    },
    /// An existing local or origin-only branch, checked out as it is.
    ResumeBranch {
        branch: BranchName,
    },
    GithubIssue(IssueRef),
    /// A run of a scheduled task: a new branch from the project's default branch. Only the
    /// server starts these; the create request has no such source.
    Scheduled {
        schedule: ScheduleId,
    },
}

impl WorkspaceSource {
    pub fn kind(&self) -> WorkspaceCreationSource {
        match self {
            Self::Manual { .. } => WorkspaceCreationSource::Manual,
            Self::ResumeBranch { .. } => WorkspaceCreationSource::ResumeBranch,
            Self::GithubIssue(_) => WorkspaceCreationSource::GithubIssue,
            Self::Scheduled { .. } => WorkspaceCreationSource::Scheduled,
        }
    }
}

/// A validated create-workspace command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateWorkspace {
    pub name: DisplayName,
    pub description: Option<String>,
    /// `None`: use the settings' default.
    pub ratchet_enabled: Option<bool>,
    pub source: WorkspaceSource,
    /// The first agent session starts with it once the workspace is READY (sessions.md §4).
    pub initial_prompt: Option<MessageText>,
    /// The agent of the workspace's sessions; `None`: the project's or the user's default.
    pub agent: Option<String>,
}

/// A well-formed request whose value is not acceptable; `field` is its camelCase name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

fn branch(field: &'static str, text: &str) -> Result<BranchName, FieldError> {
    BranchName::parse(text).map_err(|e: RefNameError| {
        FieldError::new(
            field,
            format!("{field} {text:?} is not a valid git branch name: it {e}"),
        )
    })
}

fn description(text: Option<String>) -> Result<Option<String>, FieldError> {
    let Some(text) = text else { return Ok(None) };
    let trimmed = text.trim();
    let chars = trimmed.chars().count();
    if chars > DESCRIPTION_MAX_CHARS {
        return Err(FieldError::new(
            "description",
            format!("description is {chars} characters long; the limit is {DESCRIPTION_MAX_CHARS}"),
        ));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

impl CreateWorkspaceRequest {
    /// Parses the request into a command, or names the first offending field. Whether `agent`
    /// names a configured agent is the server's to check: core does not know the settings.
    pub fn parse(self) -> Result<CreateWorkspace, FieldError> {
        let (initial_prompt, agent) = match &self {
            Self::Manual {
                initial_prompt,
                agent,
                ..
            }
            | Self::ResumeBranch {
                initial_prompt,
                agent,
                ..
            }
            | Self::GithubIssue {
                initial_prompt,
                agent,
                ..
            } => (initial_prompt.clone(), agent.clone()),
        };
        let initial_prompt = initial_prompt
            .map(|p| MessageText::parse("initialPrompt", &p))
            .transpose()?;
        if let Some(agent) = &agent {
            validate_agent_name(agent).map_err(|e| FieldError::new("agent", e.message))?;
        }
        let mut command = self.parse_source()?;
        command.initial_prompt = initial_prompt;
        command.agent = agent;
        Ok(command)
    }

    fn parse_source(self) -> Result<CreateWorkspace, FieldError> {
        match self {
            Self::Manual {
                name,
                description: desc,
                base_branch,
                ratchet_enabled,
                ..
            } => Ok(CreateWorkspace {
                name: DisplayName::parse("name", &name)?,
                description: description(desc)?,
                ratchet_enabled,
                source: WorkspaceSource::Manual {
                    base_branch: base_branch.map(|b| branch("baseBranch", &b)).transpose()?,
                },
                initial_prompt: None,
                agent: None,
            }),
            Self::ResumeBranch {
                branch_name,
                name,
                description: desc,
                ratchet_enabled,
                ..
            } => {
                let branch = branch("branchName", &branch_name)?;
                let name = match name {
                    Some(name) => DisplayName::parse("name", &name)?,
                    None => DisplayName::defaulted(branch.as_str()).ok_or_else(|| {
                        FieldError::new(
                            "name",
                            format!("name is required: branchName {branch_name:?} is blank"),
                        )
                    })?,
                };
                Ok(CreateWorkspace {
                    name,
                    description: description(desc)?,
                    ratchet_enabled,
                    source: WorkspaceSource::ResumeBranch { branch },
                    initial_prompt: None,
                    agent: None,
                })
            }
            Self::GithubIssue {
                issue_number,
                issue_url,
                name,
                ratchet_enabled,
                ..
            } => {
                let issue = IssueRef::parse(issue_number, &issue_url)?;
                let name = match name {
                    Some(name) => DisplayName::parse("name", &name)?,
                    None => DisplayName(format!("Issue #{issue_number}")),
                };
                Ok(CreateWorkspace {
                    name,
                    description: None,
                    ratchet_enabled,
                    source: WorkspaceSource::GithubIssue(issue),
                    initial_prompt: None,
                    agent: None,
                })
            }
        }
    }
}
