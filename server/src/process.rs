//! Child processes in their own process group, so that stopping one stops everything it started.

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

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
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // "pid (comm) state ppid pgrp …"; comm may itself contain spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("Z");
        let group = fields.nth(1).and_then(|g| g.parse().ok()).unwrap_or(-1);
        !matches!(state, "Z" | "X") && wanted(pid, group)
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

/// Forwards everything the child writes on stdout and stderr, as lossy UTF-8 chunks, until both
/// are closed.
pub fn pump_output(child: &mut Child) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel(64);
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(forward(stdout, sender.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward(stderr, sender));
    }
    receiver
}

async fn forward(mut reader: impl AsyncRead + Unpin, sender: mpsc::Sender<String>) {
    let mut buffer = vec![0u8; 8192];
    // Bytes of a character split across two reads wait for the rest of it.
    let mut carried: Vec<u8> = Vec::new();
    while let Ok(n) = reader.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        carried.extend_from_slice(&buffer[..n]);
        let complete = match std::str::from_utf8(&carried) {
            Ok(_) => carried.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => carried.len(),
        };
        let chunk = String::from_utf8_lossy(&carried[..complete]).into_owned();
        carried.drain(..complete);
        if !chunk.is_empty() && sender.send(chunk).await.is_err() {
            return;
        }
    }
    if !carried.is_empty() {
        let _ = sender
            .send(String::from_utf8_lossy(&carried).into_owned())
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn characters_split_across_reads_arrive_whole() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let (sender, mut received) = mpsc::channel(8);
        let forwarding = tokio::spawn(forward(reader, sender));
        use tokio::io::AsyncWriteExt;
        let text = "déjà vu ✓";
        let bytes = text.as_bytes();
        writer.write_all(&bytes[..2]).await.unwrap();
        writer.flush().await.unwrap();
        tokio::task::yield_now().await;
        writer.write_all(&bytes[2..]).await.unwrap();
        drop(writer);
        forwarding.await.unwrap();
        let mut all = String::new();
        while let Ok(chunk) = received.try_recv() {
            all.push_str(&chunk);
        }
        assert_eq!(all, text);
    }

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
