//! Archiving a workspace: `workspaces` moves it to ARCHIVING and, before its worktree goes, has
//! this flow stop everything else that runs in it: its agents (`sessions`), the shells of its
//! terminals (`terminals`) and its run script (`run_script`, whose cleanup script runs then);
//! once archived, the run script's buffered output is dropped. A run script that cannot be
//! stopped rolls the archive back with the reason.

use crate::error::DomainResult;
use crate::run_script::RunScripts;
use crate::sessions::Sessions;
use crate::terminals::Terminals;
use crate::workspaces::Occupants;
use ff_core::api::RunScriptInfo;
use ff_core::ids::WorkspaceId;
use futures_util::future::BoxFuture;

pub struct Archive {
    sessions: Sessions,
    terminals: Terminals,
    run_scripts: RunScripts,
}

impl Archive {
    pub fn new(sessions: Sessions, terminals: Terminals, run_scripts: RunScripts) -> Self {
        Self {
            sessions,
            terminals,
            run_scripts,
        }
    }
}

impl Occupants for Archive {
    fn stop<'a>(&'a self, id: &'a WorkspaceId) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.sessions.stop_workspace(id).await;
            self.terminals.end_workspace(id).await;
            self.run_scripts
                .stop(id)
                .await
                .map_err(|e| format!("Cannot stop the run script: {e}"))
        })
    }

    fn forget(&self, id: &WorkspaceId) {
        self.run_scripts.forget(id);
    }

    fn run_script<'a>(&'a self, id: &'a WorkspaceId) -> BoxFuture<'a, DomainResult<RunScriptInfo>> {
        Box::pin(self.run_scripts.status(id))
    }
}
