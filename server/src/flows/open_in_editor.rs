//! Opening a worktree, or a file in it, with the user's custom editor command (issue 18 §2): the
//! workspace's worktree (the workspaces domain) and the command (the settings) meet here. The
//! command runs on ff's machine with the path as one argument, never through a shell, in its
//! own process group (a signal to ff's group does not reach the editor), without ff's secrets.
//! URL-scheme editors need no server: the browser follows their link.

use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::process::SECRETS;
use crate::settings;
use crate::workspaces::Workspaces;
use ff_core::editor::{command_argv, Editor, OpenRequest};
use ff_core::ids::WorkspaceId;
use ff_core::review::path::ReviewPath;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// How long a started command is watched: one that fails at once (a bad flag, a missing
/// library) is reported; one still running then is the editor, left to the user.
const SPAWN_CHECK: Duration = Duration::from_millis(300);

#[derive(Clone)]
pub struct OpenInEditor {
    db: Db,
    workspaces: Workspaces,
}

impl OpenInEditor {
    pub fn new(db: Db, workspaces: Workspaces) -> Self {
        Self { db, workspaces }
    }

    pub async fn open(&self, id: &WorkspaceId, request: OpenRequest) -> DomainResult<()> {
        let file = request
            .path
            .as_deref()
            .map(ReviewPath::parse)
            .transpose()
            .map_err(|e| invalid("path", format!("path: {e}")))?;
        if request.line == Some(0) {
            return Err(invalid("line", "line counts from 1".into()));
        }
        let workspace = self.workspaces.detail(id).await?.workspace;
        let worktree = workspace
            .worktree_path
            .map(PathBuf::from)
            .ok_or_else(|| DomainError::Conflict("the workspace has no worktree".into()))?;
        let editor = settings::load(&self.db).await?.editor;
        if editor.editor != Editor::Custom {
            return Err(DomainError::Conflict(format!(
                "the editor setting is {}: the page opens its link, ff runs only a custom command",
                editor.editor.as_str()
            )));
        }
        let command = editor
            .custom_command
            .ok_or_else(|| invalid("editor.customCommand", "customCommand is not set".into()))?;
        let target = match &file {
            Some(file) => worktree.join(file.as_str()),
            None => worktree.clone(),
        };
        if !target.exists() {
            return Err(invalid(
                "path",
                format!("path: {:?} is not in the worktree", target.display()),
            ));
        }
        let argv = command_argv(&command, &target.to_string_lossy())
            .map_err(|e| invalid("editor.customCommand", format!("customCommand: {e}")))?;
        run(&argv, &worktree).await
    }
}

async fn run(argv: &[String], cwd: &std::path::Path) -> DomainResult<()> {
    let mut command = tokio::process::Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .current_dir(cwd)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for key in SECRETS {
        command.env_remove(key);
    }
    let mut child = command.spawn().map_err(|e| {
        invalid(
            "editor.customCommand",
            format!("customCommand: cannot start {:?}: {e}", argv[0]),
        )
    })?;
    match tokio::time::timeout(SPAWN_CHECK, child.wait()).await {
        Ok(Ok(status)) if !status.success() => Err(invalid(
            "editor.customCommand",
            format!("customCommand: {:?} exited at once ({status})", argv[0]),
        )),
        Ok(Err(e)) => Err(DomainError::Internal(format!(
            "cannot watch the editor command: {e}"
        ))),
        // Exited well (a launcher handing over to a running editor), or still running: dropped
        // without a kill, the child keeps running and tokio reaps it when it ends.
        _ => Ok(()),
    }
}

fn invalid(field: &'static str, message: String) -> DomainError {
    DomainError::Invalid { field, message }
}
