//! Git, two ways: the `git` command for everything that writes (worktrees, commits), always with
//! a timeout and separate arguments; libgit2 in-process for quick read-only inspection.

pub mod changes;
pub mod inspect;
pub mod scans;
pub mod ssh;
#[cfg(test)]
pub(crate) mod testing;

use crate::process::{group_alive, signal_group};
use nix::sys::signal::Signal;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

/// In-process reads ([`Git::read`]) running at once, per handle and its clones.
const READS: usize = 4;

#[derive(Clone, Debug)]
pub struct Git {
    program: PathBuf,
    timeout: Duration,
    reads: Arc<scans::Pool>,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` did not finish within {seconds} s")]
    Timeout { command: String, seconds: u64 },
    #[error("`{command}` failed: {stderr}")]
    Failed {
        command: String,
        code: Option<i32>,
        stderr: String,
    },
}

impl GitError {
    /// What git printed on failure (empty for spawn errors and timeouts).
    pub fn stderr(&self) -> &str {
        match self {
            Self::Failed { stderr, .. } => stderr,
            _ => "",
        }
    }
}

impl Git {
    pub fn new(timeout: Duration) -> Self {
        Self::with_program("git", timeout)
    }

    /// Tests point this at a stand-in program to exercise timeouts and failures.
    pub fn with_program(program: impl Into<PathBuf>, timeout: Duration) -> Self {
        Self {
            program: program.into(),
            timeout,
            reads: scans::Pool::new(READS),
        }
    }

    /// Reads `repository` in-process (libgit2) off the async runtime, within this handle's
    /// timeout. A read that never ends (libgit2 opens its files with a blocking `open`, so a
    /// FIFO an agent puts in their place holds it) is kept track of as a stuck scan: the same
    /// read of the same path is refused at once until it ends, so asking again gathers no hung
    /// threads.
    pub async fn read<T: Send + 'static>(
        &self,
        repository: &Path,
        what: &'static str,
        work: impl FnOnce() -> Result<T, git2::Error> + Send + 'static,
    ) -> Result<T, String> {
        let kind = scans::Kind::Read(what);
        scans::bounded(&self.reads, self.timeout, repository, kind, what, work).await
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `git <args>` in `dir` and returns its trimmed stdout.
    pub async fn run<I, S>(&self, dir: &Path, args: I) -> Result<String, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_with(dir, args, &[]).await
    }

    /// `git push <args>` that can never stop to ask anything: no terminal prompt for a
    /// password, and ssh in batch mode (no passphrase or host-key question), unless the user
    /// chose their own ssh command (`GIT_SSH_COMMAND`, `GIT_SSH` or `core.sshCommand`).
    pub async fn push(&self, dir: &Path, args: &[&str]) -> Result<String, GitError> {
        let own_ssh = ["GIT_SSH_COMMAND", "GIT_SSH"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|value| !value.is_empty()))
            || self
                .run(dir, ["config", "--get", "core.sshCommand"])
                .await
                .is_ok_and(|command| !command.trim().is_empty());
        let batch: &[(&str, &str)] = if own_ssh {
            &[]
        } else {
            &[("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")]
        };
        let args = std::iter::once("push").chain(args.iter().copied());
        self.run_with(dir, args, batch).await
    }

    async fn run_with<I, S>(
        &self,
        dir: &Path,
        args: I,
        env: &[(&str, &str)],
    ) -> Result<String, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let command = std::iter::once(OsStr::new("git"))
            .chain(args.iter().map(|a| a.as_os_str()))
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        let child = Command::new(&self.program)
            .args(&args)
            .current_dir(dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| GitError::Spawn {
                command: command.clone(),
                source,
            })?;
        let pgid = child.id();
        match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Err(_) => {
                // Hooks and helpers git started must not outlive it.
                if let Some(pgid) = pgid.filter(|&p| group_alive(p)) {
                    signal_group(pgid, Signal::SIGKILL);
                }
                Err(GitError::Timeout {
                    command,
                    seconds: self.timeout.as_secs(),
                })
            }
            Ok(Err(source)) => Err(GitError::Spawn { command, source }),
            Ok(Ok(output)) if output.status.success() => {
                Ok(String::from_utf8_lossy(&output.stdout)
                    .trim_end()
                    .to_owned())
            }
            Ok(Ok(output)) => Err(GitError::Failed {
                command,
                code: output.status.code(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            }),
        }
    }

    /// Whether `git <args>` exits 0; only spawn failures and timeouts are errors.
    pub async fn succeeds<I, S>(&self, dir: &Path, args: I) -> Result<bool, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        match self.run(dir, args).await {
            Ok(_) => Ok(true),
            Err(GitError::Failed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A FIFO where libgit2 looks for a loose object holds the lookup for good (an agent can
    /// write one into the repository its worktree shares): the read times out, and the same
    /// read of that path is refused at once until it ends, while another path is still read.
    #[tokio::test]
    async fn an_in_process_read_that_hangs_times_out_and_its_path_is_refused_until_it_ends() {
        let (_a, stuck) = testing::worktree(&[("a.txt", b"a\n")]);
        let (_b, other) = testing::worktree(&[("a.txt", b"a\n")]);
        let oid = "ab".repeat(20);
        let objects = stuck.join("../repo/.git/objects/ab");
        std::fs::create_dir_all(&objects).unwrap();
        let object = objects.join(&oid[2..]);
        let fifo = testing::Fifo::at(&object);
        let git = Git::new(Duration::from_millis(300));
        async fn lookup(git: &Git, tree: &Path, oid: &str) -> Result<Vec<bool>, String> {
            let (path, oids) = (tree.to_owned(), vec![oid.to_owned()]);
            git.read(tree, "looking up commits", move || {
                Ok(inspect::known_commits(&path, &oids))
            })
            .await
        }
        let err = lookup(&git, &stuck, &oid).await.unwrap_err();
        assert!(err.contains("took longer than 300 ms"), "{err}");
        assert_eq!(lookup(&git, &other, &oid).await, Ok(vec![false]));
        let err = lookup(&git, &stuck, &oid).await.unwrap_err();
        assert!(err.contains("has not ended"), "{err}");
        // Once the FIFO is gone and its reader let go, the path is read again.
        assert!(fifo.release(), "the first read still waits on the FIFO");
        std::fs::remove_file(&object).unwrap();
        let what = "the path stayed refused after its read ended";
        testing::eventually_ok(what, || lookup(&git, &stuck, &oid)).await;
    }

    #[tokio::test]
    async fn output_is_returned_and_failures_carry_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(Duration::from_secs(10));
        git.run(dir.path(), ["init", "-q"]).await.unwrap();
        let inside = git
            .run(dir.path(), ["rev-parse", "--is-inside-work-tree"])
            .await;
        assert_eq!(inside.unwrap(), "true");
        let err = git
            .run(dir.path(), ["rev-parse", "--verify", "no-such-ref"])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                GitError::Failed {
                    code: Some(128),
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("git rev-parse --verify no-such-ref"),
            "{err}"
        );
        assert!(!git
            .succeeds(dir.path(), ["rev-parse", "--verify", "HEAD"])
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_push_never_prompts_unless_the_user_chose_their_own_ssh() {
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        let fake = dir.path().join("git");
        // Records what a push was given, and answers `config` as an unconfigured git would.
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\nif [ \"$1\" = config ]; then [ -f \"$0.ssh\" ] && cat \"$0.ssh\" && exit 0; exit 1; fi\n\
                 echo \"$*|$GIT_TERMINAL_PROMPT|$GIT_SSH_COMMAND\" > {}\n",
                seen.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let git = Git::with_program(&fake, Duration::from_secs(10));
        git.push(dir.path(), &["-u", "origin", "feature"])
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&seen).unwrap().trim(),
            "push -u origin feature|0|ssh -o BatchMode=yes"
        );
        std::fs::write(dir.path().join("git.ssh"), "ssh -i ~/.ssh/work\n").unwrap();
        git.push(dir.path(), &["origin", "feature"]).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&seen).unwrap().trim(),
            "push origin feature|0|",
            "core.sshCommand is the user's own"
        );
    }

    #[tokio::test]
    async fn a_hung_git_times_out_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("slow-git");
        std::fs::write(
            &fake,
            "#!/bin/sh\nsleep 300 &\necho $! > \"$0.child\"\nwait\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let git = Git::with_program(&fake, Duration::from_millis(300));
        let err = git.run(dir.path(), ["status"]).await.unwrap_err();
        assert!(matches!(err, GitError::Timeout { .. }), "{err}");
        let child: u32 = std::fs::read_to_string(dir.path().join("slow-git.child"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // SIGKILL is delivered at once but takes effect asynchronously.
        let mut alive = true;
        for _ in 0..100 {
            alive = crate::process::process_alive(child);
            if !alive {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive, "the hung git's child {child} survived");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let git = Git::with_program("/nonexistent/git", Duration::from_secs(1));
        let err = git.run(Path::new("/"), ["status"]).await.unwrap_err();
        assert!(matches!(err, GitError::Spawn { .. }), "{err}");
    }
}
