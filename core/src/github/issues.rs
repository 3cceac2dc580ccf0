//! Open issues of a repository as issues.graphql selects them (the GITHUB_ISSUE source).

use super::answer::{Actor, Nodes, RateLimit};
use crate::ids::Timestamp;
use serde::{Deserialize, Serialize};

/// The `data` of `query Issues`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuesAnswer {
    pub rate_limit: Option<RateLimit>,
    pub repository: Option<IssuesRepository>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuesRepository {
    pub issues: Nodes<Issue>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub number: u64,
    pub title: String,
    /// Written by anyone who can open an issue: untrusted text.
    pub body: String,
    pub url: String,
    pub created_at: Timestamp,
    pub author: Option<Actor>,
    /// `assignees(first: 5)`
    pub assignees: Nodes<Actor>,
    /// `labels(first: 10)`; GitHub declares the connection nullable.
    pub labels: Option<Nodes<Label>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub name: String,
}
