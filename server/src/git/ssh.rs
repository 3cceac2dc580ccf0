//! The host an SSH remote really names. `git@github-work:acme/app.git` goes wherever the user's
//! SSH configuration sends `github-work`; `ssh -G <alias>` prints the options ssh would use,
//! `hostname` among them, as gh resolves aliases. A child process with a timeout, never a shell.

use ff_core::github::Host;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// How to ask ssh (tests point `program` at a stand-in, or at ssh with their own `-F` file).
#[derive(Clone, Debug)]
pub struct SshLookup {
    pub program: PathBuf,
    pub timeout: Duration,
}

impl Default for SshLookup {
    fn default() -> Self {
        Self {
            program: PathBuf::from("ssh"),
            timeout: Duration::from_secs(5),
        }
    }
}

impl SshLookup {
    /// The host `alias` stands for; `alias` itself when ssh is missing, slow or says nothing
    /// usable (an alias nobody configured is a real host name).
    pub async fn resolve(&self, alias: &Host) -> Host {
        match self.hostname(alias).await {
            Ok(Some(host)) => host,
            Ok(None) => alias.clone(),
            Err(why) => {
                tracing::info!("cannot ask ssh which host {alias} is ({why}); taking it as it is");
                alias.clone()
            }
        }
    }

    async fn hostname(&self, alias: &Host) -> Result<Option<Host>, String> {
        let child = tokio::process::Command::new(&self.program)
            .args(["-G", alias.as_str()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| format!("`ssh -G` did not answer within {:?}", self.timeout))?
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!("`ssh -G` exited with {}", output.status));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text
            .lines()
            .find_map(|line| line.strip_prefix("hostname "))
            .and_then(|name| Host::parse(name.trim()).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn program(dir: &std::path::Path, script: &str) -> PathBuf {
        let path = dir.join("ssh");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[tokio::test]
    async fn aliases_resolve_through_ssh_and_anything_odd_keeps_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "Host github-work\n  HostName GitHub.com\n  User git\n",
        )
        .unwrap();
        let real = program(
            dir.path(),
            &format!("exec ssh -F {} \"$@\"", config.display()),
        );
        let host = |h: &str| Host::parse(h).unwrap();
        let lookup = SshLookup {
            program: real,
            timeout: Duration::from_secs(10),
        };
        assert_eq!(
            lookup.resolve(&host("github-work")).await,
            host("github.com")
        );
        assert_eq!(
            lookup.resolve(&host("ghe.example.com")).await,
            host("ghe.example.com"),
            "no alias: itself"
        );
        let cases = [
            ("exec sleep 10", "hung"),
            ("echo 'hostname not a host!'", "odd"),
            ("exit 255", "failed"),
        ];
        for (script, what) in cases {
            let odd = SshLookup {
                program: program(dir.path(), script),
                timeout: Duration::from_millis(300),
            };
            assert_eq!(
                odd.resolve(&host("github-work")).await,
                host("github-work"),
                "{what}"
            );
        }
        let missing = SshLookup {
            program: dir.path().join("none"),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(
            missing.resolve(&host("github-work")).await,
            host("github-work")
        );
    }
}
