//! The token goes to GitHub only (issue 16 §4). The real `ff` binary, with its real HTTPS
//! client, reaches every host through a loopback proxy whose TLS server holds certificates of a
//! private CA that ff is told to trust (`SSL_CERT_FILE`): whatever ff would send to
//! git.example.com or api.github.com arrives here instead, and is recorded.

mod common;

use common::binary::RunningFf;
use common::repo::TestRepo;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request that reached the stand-in: the host ff asked the proxy for, and what it sent.
#[derive(Clone, Debug)]
struct Seen {
    tunnel: String,
    request_line: String,
    authorization: Option<String>,
}

struct StandIn {
    proxy: String,
    ca_file: PathBuf,
    seen: Arc<Mutex<Vec<Seen>>>,
    _dir: tempfile::TempDir,
}

/// A private CA, a certificate of it for both hosts, and a proxy that opens every tunnel into a
/// TLS server holding that certificate, which answers every request with an empty GraphQL
/// answer.
async fn stand_in() -> StandIn {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ff test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let names = vec!["git.example.com".to_owned(), "api.github.com".to_owned()];
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();

    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let record = record.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let mut connect = String::new();
                stream.read_line(&mut connect).await.ok()?;
                let tunnel = connect.split_whitespace().nth(1)?.to_owned();
                loop {
                    let mut line = String::new();
                    stream.read_line(&mut line).await.ok()?;
                    if line.trim().is_empty() {
                        break;
                    }
                }
                let mut stream = stream.into_inner();
                stream
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .ok()?;
                let tls = acceptor.accept(stream).await.ok()?;
                let mut tls = BufReader::new(tls);
                let mut request_line = String::new();
                tls.read_line(&mut request_line).await.ok()?;
                let mut authorization = None;
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    tls.read_line(&mut line).await.ok()?;
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(':')?;
                    match name.to_ascii_lowercase().as_str() {
                        "authorization" => authorization = Some(value.trim().to_owned()),
                        "content-length" => length = value.trim().parse().ok()?,
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                tls.read_exact(&mut body).await.ok()?;
                record.lock().unwrap().push(Seen {
                    tunnel,
                    request_line: request_line.trim_end().to_owned(),
                    authorization,
                });
                let answer = r#"{"data":{}}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                tls.get_mut().write_all(response.as_bytes()).await.ok()?;
                tls.get_mut().shutdown().await.ok()
            });
        }
    });
    StandIn {
        proxy,
        ca_file,
        seen,
        _dir: dir,
    }
}

/// A repository whose `origin` was `remote` when ff added it, and a local bare origin after
/// (so that git itself never goes out).
async fn project_with_origin(ff: &RunningFf, remote: &str) -> (String, TestRepo) {
    let repo = TestRepo::new();
    let local = repo.origin.to_str().unwrap().to_owned();
    repo.git(&["remote", "set-url", "origin", remote]);
    let (status, project) = ff
        .post("/api/projects", Some(json!({"repoPath": repo.path})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    repo.git(&["remote", "set-url", "origin", &local]);
    let id = project["id"].as_str().unwrap().to_owned();
    let (status, workspace) = ff
        .post(
            &format!("/api/projects/{id}/workspaces"),
            Some(json!({"source": "MANUAL", "name": "Work"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workspace}");
    let workspace = workspace["id"].as_str().unwrap().to_owned();
    ff.wait_for(&workspace, "READY", |w| w["status"] == "READY")
        .await;
    (id, repo)
}

#[tokio::test]
async fn a_token_is_sent_to_github_only_never_to_another_host_of_an_origin() {
    let stand_in = stand_in().await;
    let data = tempfile::tempdir().unwrap();
    let ca = stand_in.ca_file.to_str().unwrap().to_owned();
    let none = "";
    let ff = RunningFf::start_env(
        [
            OsStr::new("--data-dir"),
            data.path().as_os_str(),
            OsStr::new("--github-poll-interval-ms"),
            OsStr::new("1000"),
        ],
        None,
        &[
            ("FF_GITHUB_TOKEN", "ff-secret"),
            ("GH_ENTERPRISE_TOKEN", "ghe-secret"),
            ("GITHUB_ENTERPRISE_TOKEN", none),
            ("GH_TOKEN", none),
            ("GITHUB_TOKEN", none),
            ("GH_HOST", none),
            ("HTTPS_PROXY", &stand_in.proxy),
            ("https_proxy", &stand_in.proxy),
            ("NO_PROXY", none),
            ("no_proxy", none),
            ("SSL_CERT_FILE", &ca),
        ],
        "warn",
    );
    let (foreign, _gitlab) = project_with_origin(&ff, "https://git.example.com/me/app.git").await;
    let (_github, _acme) = project_with_origin(&ff, "https://github.com/acme/app.git").await;

    // Two polls of both projects: github.com is asked (the stand-in is its API, with its token)…
    let deadline = Instant::now() + Duration::from_secs(30);
    let to_github = |seen: &[Seen]| {
        seen.iter()
            .filter(|s| {
                s.tunnel == "api.github.com:443" && s.request_line.starts_with("POST /graphql")
            })
            .count()
    };
    while to_github(&stand_in.seen.lock().unwrap()) < 2 {
        assert!(Instant::now() < deadline, "github.com was never polled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = stand_in.seen.lock().unwrap().clone();
    // …and nothing ever reached git.example.com, and no token went anywhere but github.com's API.
    for s in &seen {
        assert_ne!(
            s.tunnel, "git.example.com:443",
            "a request went to the foreign host: {s:?}"
        );
        if s.tunnel == "api.github.com:443" {
            assert_eq!(
                s.authorization.as_deref(),
                Some("Bearer ff-secret"),
                "{s:?}"
            );
        } else {
            assert_eq!(s.authorization, None, "a token went elsewhere: {s:?}");
        }
    }
    assert!(seen
        .iter()
        .all(|s| !format!("{s:?}").contains("ghe-secret")));

    // The board says why GitHub is off for that project.
    let statuses = ff.get("/api/github/status").await;
    let status = statuses
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["host"] == "git.example.com")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(status["state"], "NOT_GITHUB", "{statuses}");
    assert_eq!(
        status["message"],
        "origin is on git.example.com, which is not a GitHub host; add it in Settings if it is \
         GitHub Enterprise"
    );
    let page = ff
        .client
        .get(format!("{}/projects/{foreign}", ff.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("which is not a GitHub host"),
        "the board says it"
    );
    ff.kill();
}

/// `ssh` as the project's origin resolves it: the real ssh, reading this test's own file.
fn ssh_with(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ssh_config");
    std::fs::write(&file, config).unwrap();
    let program = dir.path().join("ssh");
    std::fs::write(
        &program,
        format!("#!/bin/sh\nexec ssh -F {} \"$@\"\n", file.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    (dir, program)
}

#[tokio::test]
async fn an_ssh_alias_of_github_is_github_and_a_listed_enterprise_host_gets_its_own_token() {
    let (_ssh_dir, ssh) = ssh_with("Host github-work\n  HostName github.com\n  User git\n");
    let app = TestApp::spawn_with_flags(&["--github-hosts", "ghe.example.com"], |config| {
        config.github.ssh.program = ssh.clone();
        config.github.env = Arc::new(|key: &str| match key {
            "GH_TOKEN" => Some("gh-token".to_owned()),
            "FF_GITHUB_TOKEN" => Some("ff-token".to_owned()),
            _ => None,
        });
    })
    .await;
    let work = TestRepo::new();
    work.git(&[
        "remote",
        "set-url",
        "origin",
        "git@github-work:acme/widgets.git",
    ]);
    let project = app.add_project(&work.path).await;
    let (_, body) = app.get(&format!("/api/projects/{project}")).await;
    assert_eq!(
        (
            &body["githubHost"],
            &body["githubOwner"],
            &body["githubRepo"]
        ),
        (&Value::Null, &json!("acme"), &json!("widgets")),
        "the alias is github.com: {body}"
    );

    let enterprise = TestRepo::new();
    enterprise.git(&[
        "remote",
        "set-url",
        "origin",
        "https://ghe.example.com/acme/app.git",
    ]);
    app.add_project(&enterprise.path).await;
    let foreign = TestRepo::new();
    foreign.git(&[
        "remote",
        "set-url",
        "origin",
        "git@gitlab.example.org:me/app.git",
    ]);
    app.add_project(&foreign.path).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let statuses = loop {
        let (status, body) = app.get("/api/github/status").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let resolved = body
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["state"] != "OK" || s["tokenSource"] != Value::Null)
            .count();
        if resolved == 3 {
            break body;
        }
        assert!(Instant::now() < deadline, "never resolved: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let of = |host: &str| {
        statuses
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["host"] == host)
            .cloned()
            .unwrap_or_else(|| panic!("no {host} in {statuses}"))
    };
    assert_eq!(of("github.com")["tokenSource"], "FF_GITHUB_TOKEN");
    let enterprise = of("ghe.example.com");
    assert_eq!(
        enterprise["state"], "NOT_CONNECTED",
        "FF_GITHUB_TOKEN is github.com's: {enterprise}"
    );
    assert!(
        enterprise["message"]
            .as_str()
            .unwrap()
            .contains("GH_ENTERPRISE_TOKEN"),
        "{enterprise}"
    );
    assert_eq!(of("gitlab.example.org")["state"], "NOT_GITHUB");

    // Listed on /settings, it is an Enterprise host: its own token (none here), never ff's.
    let (status, body) = app
        .send(
            reqwest::Method::PATCH,
            "/api/settings",
            Some(json!({"githubHosts": ["GitLab.example.org"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["githubHosts"], json!(["gitlab.example.org"]));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = app.get("/api/github/status").await;
        let listed = body
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["host"] == "gitlab.example.org")
            .cloned()
            .unwrap();
        if listed["state"] == "NOT_CONNECTED" {
            assert!(
                listed["message"]
                    .as_str()
                    .unwrap()
                    .contains("GH_ENTERPRISE_TOKEN"),
                "{listed}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never GitHub: {listed}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = app
        .send(
            reqwest::Method::PATCH,
            "/api/settings",
            Some(json!({"githubHosts": ["not a host"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    app.shutdown().await;
}
