//! Which token ff uses for a host (github.md §1, G3), each sent only to the API of the host it
//! belongs to: `FF_GITHUB_TOKEN` to github.com (to every host when `--github-api-url` names the
//! API); `GH_TOKEN`, `GITHUB_TOKEN` to github.com; `GH_ENTERPRISE_TOKEN`,
//! `GITHUB_ENTERPRISE_TOKEN` to Enterprise hosts; then what `gh auth token --hostname HOST`
//! prints. Never through a shell. Only GitHub hosts are asked for at all (see `hosts`).

use crate::config::GithubConfig;
use ff_core::github::{Host, GITHUB_COM};
use std::fmt;
use std::process::Stdio;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    FfGithubToken,
    GhToken,
    GithubToken,
    GhEnterpriseToken,
    GithubEnterpriseToken,
    GhCli,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FfGithubToken => "FF_GITHUB_TOKEN",
            Self::GhToken => "GH_TOKEN",
            Self::GithubToken => "GITHUB_TOKEN",
            Self::GhEnterpriseToken => "GH_ENTERPRISE_TOKEN",
            Self::GithubEnterpriseToken => "GITHUB_ENTERPRISE_TOKEN",
            Self::GhCli => "gh auth token",
        })
    }
}

#[derive(Clone)]
pub struct Credentials {
    pub token: String,
    pub source: TokenSource,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials(from {})", self.source)
    }
}

/// The token for `host`, or why there is none (a sentence that says how to connect).
pub async fn resolve(host: &Host, config: &GithubConfig) -> Result<Credentials, String> {
    let github_com = host.as_str() == GITHUB_COM;
    let ff_token = (github_com || config.api_url.is_some()).then_some(TokenSource::FfGithubToken);
    let own: [TokenSource; 2] = if github_com {
        [TokenSource::GhToken, TokenSource::GithubToken]
    } else {
        [
            TokenSource::GhEnterpriseToken,
            TokenSource::GithubEnterpriseToken,
        ]
    };
    for source in ff_token.into_iter().chain(own) {
        let value = (config.env)(&source.to_string()).unwrap_or_default();
        let token = value.trim();
        if !token.is_empty() {
            return Ok(Credentials {
                token: token.to_owned(),
                source,
            });
        }
    }
    let how = if github_com {
        "set GH_TOKEN (or FF_GITHUB_TOKEN) or run `gh auth login`"
    } else {
        "set GH_ENTERPRISE_TOKEN or run `gh auth login --hostname HOST`"
    };
    let how = how.replace("HOST", host.as_str());
    match gh_token(host, config).await {
        Ok(token) => Ok(Credentials {
            token,
            source: TokenSource::GhCli,
        }),
        Err(why) => Err(format!(
            "GitHub is not connected for {host}: {why}; {how}, then reload"
        )),
    }
}

async fn gh_token(host: &Host, config: &GithubConfig) -> Result<String, String> {
    let child = tokio::process::Command::new(&config.gh_program)
        .args(["auth", "token", "--hostname", host.as_str()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("no token variable is set and the gh CLI is not installed".into())
        }
        Err(e) => return Err(format!("cannot run gh: {e}")),
    };
    let output = tokio::time::timeout(config.gh_timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            format!(
                "`gh auth token` did not answer within {} s",
                config.gh_timeout.as_secs()
            )
        })?
        .map_err(|e| format!("cannot run gh: {e}"))?;
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && !token.is_empty() {
        Ok(token)
    } else {
        Err("no token variable is set and gh has no token for this host".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn config(vars: &[(&'static str, &'static str)], gh: &std::path::Path) -> GithubConfig {
        config_at(None, vars, gh)
    }

    fn config_at(
        api_url: Option<&str>,
        vars: &[(&'static str, &'static str)],
        gh: &std::path::Path,
    ) -> GithubConfig {
        let vars = vars.to_vec();
        let env = Arc::new(move |key: &str| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        });
        let mut config =
            GithubConfig::new(api_url.map(str::to_owned), Duration::from_secs(60), env);
        config.gh_program = gh.to_path_buf();
        config.gh_timeout = Duration::from_millis(500);
        config
    }

    fn host(name: &str) -> Host {
        Host::parse(name).unwrap()
    }

    /// A stand-in `gh` that prints its arguments as the token.
    /// The executable is written by a child process (`install`): a file this multi-threaded
    /// test process held open for writing can be inherited by another test's fork, and then
    /// fails to run with "Text file busy" (ETXTBSY).
    fn fake_gh(dir: &std::path::Path, script: &str) -> std::path::PathBuf {
        let (source, path) = (dir.join("gh.sh"), dir.join("gh"));
        std::fs::write(&source, format!("#!/bin/sh\n{script}\n")).unwrap();
        let installed = std::process::Command::new("install")
            .args(["-m", "0755"])
            .args([&source, &path])
            .status()
            .unwrap();
        assert!(installed.success(), "install {}", path.display());
        path
    }

    #[tokio::test]
    async fn variables_come_first_in_the_documented_order_per_kind_of_host() {
        let none = std::path::Path::new("/nonexistent/gh");
        let all = [
            ("FF_GITHUB_TOKEN", "ff"),
            ("GH_TOKEN", "gh"),
            ("GITHUB_TOKEN", "github"),
            ("GH_ENTERPRISE_TOKEN", "ghe"),
            ("GITHUB_ENTERPRISE_TOKEN", "githube"),
        ];
        type Vars<'a> = &'a [(&'static str, &'static str)];
        let cases: [(Vars, &str, &str, TokenSource); 7] = [
            (&all, "github.com", "ff", TokenSource::FfGithubToken),
            (&all[1..], "github.com", "gh", TokenSource::GhToken),
            (&all[2..], "github.com", "github", TokenSource::GithubToken),
            (
                &all[1..],
                "ghe.example",
                "ghe",
                TokenSource::GhEnterpriseToken,
            ),
            (
                &all[4..],
                "ghe.example",
                "githube",
                TokenSource::GithubEnterpriseToken,
            ),
            // FF_GITHUB_TOKEN is for github.com: an Enterprise host never gets it.
            (&all, "ghe.example", "ghe", TokenSource::GhEnterpriseToken),
            (&all[..3], "ghe.example", "", TokenSource::GhCli),
        ];
        for (vars, name, token, source) in cases {
            match resolve(&host(name), &config(vars, none)).await {
                Ok(got) => {
                    assert_eq!((got.token.as_str(), got.source), (token, source), "{name}")
                }
                Err(why) => assert_eq!(source, TokenSource::GhCli, "{name}: {why}"),
            }
        }
        // With --github-api-url the user named the API FF_GITHUB_TOKEN is for: every host's.
        let named = config_at(Some("https://proxy.example/api"), &all, none);
        let got = resolve(&host("ghe.example"), &named).await.unwrap();
        assert_eq!(got.source, TokenSource::FfGithubToken);
        let blank = resolve(&host("github.com"), &config(&[("GH_TOKEN", "  ")], none)).await;
        assert!(blank.is_err(), "a blank variable is no token");
    }

    #[tokio::test]
    async fn gh_is_asked_for_the_host_and_its_absence_says_how_to_connect() {
        let dir = tempfile::tempdir().unwrap();
        let gh = fake_gh(dir.path(), r#"echo "token-for-$3-$4""#);
        let got = resolve(&host("ghe.example"), &config(&[], &gh))
            .await
            .unwrap();
        assert_eq!(got.token, "token-for---hostname-ghe.example");
        assert_eq!(got.source, TokenSource::GhCli);
        assert!(!format!("{got:?}").contains("token-for"));

        let missing = resolve(&host("github.com"), &config(&[], &dir.path().join("none")))
            .await
            .unwrap_err();
        assert!(missing.contains("not installed"), "{missing}");
        assert!(missing.contains("GH_TOKEN"), "{missing}");

        let logged_out = fake_gh(dir.path(), "echo 'no oauth token' >&2; exit 1");
        let err = resolve(&host("github.com"), &config(&[], &logged_out))
            .await
            .unwrap_err();
        assert!(err.contains("gh auth login"), "{err}");

        let hung = fake_gh(dir.path(), "sleep 5");
        let err = resolve(&host("github.com"), &config(&[], &hung))
            .await
            .unwrap_err();
        assert!(err.contains("did not answer"), "{err}");
    }
}
