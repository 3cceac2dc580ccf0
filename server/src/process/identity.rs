//! Who a recorded process is: its pid, when it started and during which boot. After a restart,
//! or a reboot, a recorded pid may belong to the user's editor or shell; ff signals a recorded
//! group only while it is still the very process it started (domain.md §3).

use super::group_alive;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: u32,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    start_ticks: u64,
    boot_id: String,
}

impl ProcessIdentity {
    /// The identity of a running process; `None` when it is gone, or where the system does not
    /// say when a process started (then nothing recorded is ever signalled after a restart).
    pub fn of(pid: u32) -> Option<Self> {
        let stat = Stat::read(pid)?;
        Some(Self {
            pid,
            start_ticks: stat.start_ticks,
            boot_id: boot_id()?.to_owned(),
        })
    }

    /// The recorded process group, if it is still the one ff started: same boot, and either its
    /// leader is this very process, or the leader has exited while members of its group live on
    /// (the kernel does not reuse a group's id while the group exists).
    pub fn live_group(&self) -> Option<u32> {
        if boot_id() != Some(self.boot_id.as_str()) {
            return None;
        }
        let ours = match Stat::read(self.pid) {
            Some(stat) if !stat.exited() => stat.start_ticks == self.start_ticks,
            _ => true,
        };
        (ours && group_alive(self.pid)).then_some(self.pid)
    }

    /// The recorded session, if it is still the one ff started (a terminal's shell leads its
    /// own session; job control puts what it runs in other groups of that session).
    pub fn live_session(&self) -> Option<u32> {
        if boot_id() != Some(self.boot_id.as_str()) {
            return None;
        }
        let ours = match Stat::read(self.pid) {
            Some(stat) if !stat.exited() => stat.start_ticks == self.start_ticks,
            _ => true,
        };
        (ours && super::session_alive(self.pid)).then_some(self.pid)
    }
}

/// Stored as `pid:start_ticks:boot_id`.
impl fmt::Display for ProcessIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.pid, self.start_ticks, self.boot_id)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a process identity: {0:?}")]
pub struct BadIdentity(String);

impl FromStr for ProcessIdentity {
    type Err = BadIdentity;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadIdentity(text.to_owned());
        let mut parts = text.splitn(3, ':');
        let pid = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let start_ticks = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let boot_id = parts.next().filter(|b| !b.is_empty()).ok_or_else(bad)?;
        Ok(Self {
            pid,
            start_ticks,
            boot_id: boot_id.to_owned(),
        })
    }
}

/// This boot's id; `None` where the system has none.
fn boot_id() -> Option<&'static str> {
    static BOOT_ID: OnceLock<Option<String>> = OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty())
        })
        .as_deref()
}

/// The fields of `/proc/<pid>/stat` ff reads.
pub(super) struct Stat {
    pub state: char,
    pub group: i32,
    pub session: i32,
    pub start_ticks: u64,
}

impl Stat {
    pub fn read(pid: impl fmt::Display) -> Option<Self> {
        Self::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// "pid (comm) state ppid pgrp … starttime …"; comm may itself hold spaces and parentheses.
    fn parse(stat: &str) -> Option<Self> {
        let (_, rest) = stat.rsplit_once(')')?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(Self {
            state: fields.first()?.chars().next()?,
            group: fields.get(2)?.parse().ok()?,
            session: fields.get(3)?.parse().ok()?,
            // Field 22 of the whole line is the 20th after the comm.
            start_ticks: fields.get(19)?.parse().ok()?,
        })
    }

    /// A zombie or dead process only waits to be reaped.
    pub fn exited(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        let line = "4242 (a (b) c) S 1 4240 4240 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 2";
        let stat = Stat::parse(line).unwrap();
        assert_eq!(
            (stat.state, stat.group, stat.session, stat.start_ticks),
            ('S', 4240, 4240, 987654)
        );
        assert!(Stat::parse("garbage").is_none());
    }

    #[test]
    fn identities_round_trip_through_text() {
        let me = ProcessIdentity::of(std::process::id()).expect("this process has an identity");
        assert_eq!(me.to_string().parse::<ProcessIdentity>().unwrap(), me);
        for bad in ["", "12", "12:x:boot", "12:34:", "-1:2:b"] {
            assert!(bad.parse::<ProcessIdentity>().is_err(), "{bad:?} parsed");
        }
    }

    #[tokio::test]
    async fn a_recorded_group_is_live_only_while_it_is_the_same_process() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = super::super::shell("sleep 300", dir.path())
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let recorded = ProcessIdentity::of(pid).unwrap();
        assert_eq!(recorded.live_group(), Some(pid));

        let other_start = ProcessIdentity {
            start_ticks: recorded.start_ticks + 1,
            ..recorded.clone()
        };
        assert_eq!(other_start.live_group(), None, "a pid reused by a stranger");
        let other_boot = ProcessIdentity {
            boot_id: "another-boot".into(),
            ..recorded.clone()
        };
        assert_eq!(
            other_boot.live_group(),
            None,
            "a pid recorded before a reboot"
        );

        child.kill().await.unwrap();
        child.wait().await.unwrap();
        assert_eq!(recorded.live_group(), None);
    }
}
