//! Child processes in their own process group, so that stopping one stops everything it started.

mod identity;
mod output;

pub use identity::ProcessIdentity;
use identity::Stat;
pub use output::pump_output;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// ff's own credentials. `main` reads them once at start and takes them out of the environment
/// before any thread or child exists; a child built by hand removes them again, so that no
/// agent, script, editor or terminal ff starts can act as ff or as the user on GitHub.
pub const SECRETS: [&str; 2] = ["FF_TOKEN", "FF_GITHUB_TOKEN"];

/// `bash -c <script>` in `cwd`, leading a new process group, output piped, no stdin.
pub fn shell(script: &str, cwd: &Path) -> Command {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    command
}

/// Sends `signal` to every process of the group; false when the group no longer exists.
pub fn signal_group(pgid: u32, signal: Signal) -> bool {
    i32::try_from(pgid).is_ok_and(|pgid| killpg(Pid::from_raw(pgid), signal).is_ok())
}

/// Whether any process of the group can still run. Exited-but-unreaped members (zombies) do not
/// count: once orphaned, their reaping is up to whatever init the machine has.
pub fn group_alive(pgid: u32) -> bool {
    let Ok(raw) = i32::try_from(pgid) else {
        return false;
    };
    killpg(Pid::from_raw(raw), None).is_ok() && live_members(|_, group| group == raw)
}

/// Whether the process exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    nix::sys::signal::kill(Pid::from_raw(raw), None).is_ok() && live_members(|p, _| p == raw)
}

/// Sends `signal` to every live process of the session `sid`, whatever its process group;
/// false when none is left.
#[cfg(target_os = "linux")]
pub fn signal_session(sid: u32, signal: Signal) -> bool {
    let Ok(sid) = i32::try_from(sid) else {
        return false;
    };
    let members = session_members(sid);
    for pid in &members {
        let _ = nix::sys::signal::kill(Pid::from_raw(*pid), signal);
    }
    !members.is_empty()
}

/// Elsewhere a session's leader's group is what can be found.
#[cfg(not(target_os = "linux"))]
pub fn signal_session(sid: u32, signal: Signal) -> bool {
    signal_group(sid, signal)
}

/// Whether any process of the session `sid` can still run.
#[cfg(target_os = "linux")]
pub fn session_alive(sid: u32) -> bool {
    i32::try_from(sid).is_ok_and(|sid| !session_members(sid).is_empty())
}

#[cfg(not(target_os = "linux"))]
pub fn session_alive(sid: u32) -> bool {
    group_alive(sid)
}

/// The live (non-zombie) processes of a session.
#[cfg(target_os = "linux")]
fn session_members(sid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| Stat::read(pid).is_some_and(|stat| !stat.exited() && stat.session == sid))
        .collect()
}

/// A terminal's end: SIGHUP (what closing a terminal window sends; interactive shells ignore
/// SIGTERM) and SIGTERM to every process of the session; once the leader has exited, or `grace`
/// has passed, SIGKILL to whatever is left of it.
pub async fn terminate_session(sid: u32, grace: Duration, leader_exited: impl Future<Output = ()>) {
    signal_session(sid, Signal::SIGHUP);
    signal_session(sid, Signal::SIGTERM);
    let _ = tokio::time::timeout(grace, leader_exited).await;
    if session_alive(sid) {
        signal_session(sid, Signal::SIGKILL);
    }
}

/// Whether a running (non-zombie) process matches `wanted(pid, process group)`.
#[cfg(target_os = "linux")]
fn live_members(wanted: impl Fn(i32, i32) -> bool) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries.flatten().any(|entry| {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            return false;
        };
        Stat::read(pid).is_some_and(|stat| !stat.exited() && wanted(pid, stat.group))
    })
}

/// Elsewhere the signal check alone has to do.
#[cfg(not(target_os = "linux"))]
fn live_members(_: impl Fn(i32, i32) -> bool) -> bool {
    true
}

/// SIGTERM to the whole group; once the leader has exited, or `grace` has passed, SIGKILL to
/// whatever is left of the group (stragglers that ignore SIGTERM, or outlive their parent).
pub async fn terminate_group(pgid: u32, grace: Duration, leader_exited: impl Future<Output = ()>) {
    signal_group(pgid, Signal::SIGTERM);
    let _ = tokio::time::timeout(grace, leader_exited).await;
    if group_alive(pgid) {
        signal_group(pgid, Signal::SIGKILL);
    }
}

/// Resolves once no process of the group is left (for groups that are not our children).
pub async fn group_gone(pgid: u32) {
    while group_alive(pgid) {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn terminating_a_group_takes_its_grandchildren_along() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = shell("sleep 300 & echo $!; wait", dir.path())
            .spawn()
            .unwrap();
        let mut output = pump_output(&mut child);
        let grandchild: i32 = output.recv().await.unwrap().trim().parse().unwrap();
        let pgid = child.id().unwrap();
        assert!(group_alive(pgid));

        terminate_group(pgid, Duration::from_secs(2), async {
            child.wait().await.unwrap();
        })
        .await;
        assert!(!group_alive(pgid), "group survived");
        assert!(
            !process_alive(grandchild as u32),
            "grandchild {grandchild} survived"
        );
    }

    #[tokio::test]
    async fn a_process_ignoring_sigterm_is_killed_after_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = shell("trap '' TERM; echo ready; sleep 300", dir.path())
            .spawn()
            .unwrap();
        let mut output = pump_output(&mut child);
        assert_eq!(output.recv().await.unwrap(), "ready\n");
        let pgid = child.id().unwrap();
        let started = std::time::Instant::now();
        terminate_group(pgid, Duration::from_millis(300), async {
            child.wait().await.unwrap();
        })
        .await;
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "SIGKILL came before the grace"
        );
        assert!(!child.wait().await.unwrap().success());
        group_gone(pgid).await;
    }
}
