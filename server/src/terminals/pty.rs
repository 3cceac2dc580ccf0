//! Starting a shell on a new PTY: it leads its own session (so its own process group), with the
//! PTY as its controlling terminal, in the worktree.

use crate::process::SECRETS;
use pty_process::{Pty, Size};
use std::path::Path;
use tokio::process::Child;

pub struct Shell {
    pub pty: Pty,
    pub child: Child,
    pub pid: u32,
}

/// `shell` in `cwd` on a PTY of `cols` × `rows`.
pub fn spawn(shell: &Path, cwd: &Path, cols: u16, rows: u16) -> std::io::Result<Shell> {
    let (pty, pts) = pty_process::open().map_err(std::io::Error::other)?;
    pty.resize(Size::new(rows, cols))
        .map_err(std::io::Error::other)?;
    let mut command = pty_process::Command::new(shell)
        .current_dir(cwd)
        // Shells take $PWD as the logical directory when it names the one they start in.
        .env("PWD", cwd)
        .env("TERM", "xterm-256color")
        .env("COLORTERM", "truecolor");
    // The shell is the user's, not a client of ff: it gets no credential of ff's.
    for key in SECRETS {
        command = command.env_remove(key);
    }
    let child = command.spawn(pts).map_err(std::io::Error::other)?;
    let pid = child
        .id()
        .ok_or_else(|| std::io::Error::other("the shell exited at once"))?;
    Ok(Shell { pty, child, pid })
}
