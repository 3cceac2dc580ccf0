//! A workspace's first session: when `workspaces` reports a workspace READY, `sessions` starts
//! its first session with the prompt it was created with, handed out once; a workspace made from
//! a GitHub issue gets the issue (read by `github`, fenced) as that prompt. The reads and writes
//! of the workspace's row go through `flows::neighbours`; the issue through this bridge.

use crate::error::DomainResult;
use crate::github::Github;
use crate::sessions::Issues;
use ff_core::ids::ProjectId;
use futures_util::future::BoxFuture;

pub struct IssuePrompt {
    github: Github,
}

impl IssuePrompt {
    pub fn new(github: Github) -> Self {
        Self { github }
    }
}

impl Issues for IssuePrompt {
    fn issue_prompt<'a>(
        &'a self,
        project: &'a ProjectId,
        number: u64,
    ) -> BoxFuture<'a, DomainResult<String>> {
        Box::pin(self.github.issue_prompt(project, number))
    }
}
