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

/// The `data` of `query Issue` (one issue, with the same fields as the list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueAnswer {
    pub rate_limit: Option<RateLimit>,
    pub repository: Option<IssueRepository>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRepository {
    pub issue: Option<Issue>,
}

/// One open issue as `GET /api/projects/{id}/github/issues` lists it for the create dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueSummary {
    pub number: u64,
    pub title: String,
    pub url: String,
    pub author: String,
    pub labels: Vec<String>,
    pub created_at: Timestamp,
}

impl From<&Issue> for IssueSummary {
    fn from(issue: &Issue) -> Self {
        Self {
            number: issue.number,
            title: issue.title.clone(),
            url: issue.url.clone(),
            author: super::answer::login_or_ghost(issue.author.as_ref()).to_owned(),
            labels: issue
                .labels
                .iter()
                .flat_map(|l| &l.nodes)
                .map(|l| l.name.clone())
                .collect(),
            created_at: issue.created_at,
        }
    }
}

impl IssueSummary {
    /// Whether the dialog's filter text finds this issue: its number, or words of its title.
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.trim().trim_start_matches('#');
        if filter.is_empty() {
            return true;
        }
        if filter.parse::<u64>() == Ok(self.number) {
            return true;
        }
        let title = self.title.to_lowercase();
        filter
            .to_lowercase()
            .split_whitespace()
            .all(|word| title.contains(word))
    }
}
