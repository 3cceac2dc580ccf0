//! Who may drive ff (trust issue §1–§2): the token on every route and socket, the login URL's
//! cookie, the Host of a peer from another machine, rotation, and the security headers.

mod common;

use common::binary::RunningFf;
use common::socket::{Client, Ended};
use common::{TestApp, TOKEN};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client that sends no token and follows no redirect.
fn anonymous() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Every path the router serves, read from the router's own source, so that a route added later
/// is checked without anyone remembering to list it here: `(path, public)`.
fn routes() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    let source = std::fs::read_to_string(format!("{dir}/mod.rs")).unwrap();
    let file = syn::parse_file(&source).unwrap();
    let router = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == "router" => Some(f),
            _ => None,
        })
        .expect("http::router");
    let mut paths = Vec::new();
    for statement in &router.block.stmts {
        // The API's routes are built as `let api = Router::new().route(…)…` and nested at /api.
        let (prefix, expr) = match statement {
            syn::Stmt::Local(local) => {
                let name = match &local.pat {
                    syn::Pat::Ident(ident) => ident.ident.to_string(),
                    _ => String::new(),
                };
                let prefix = if name == "api" { "/api" } else { "" };
                match &local.init {
                    Some(init) => (prefix, &*init.expr),
                    None => continue,
                }
            }
            syn::Stmt::Expr(expr, _) => ("", expr),
            _ => continue,
        };
        let mut found = Routes(Vec::new());
        syn::visit::Visit::visit_expr(&mut found, expr);
        paths.extend(found.0.into_iter().map(|p| format!("{prefix}{p}")));
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "mod.rs" {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains(".route("),
                "{} defines routes outside http::router, where this test cannot see them",
                path.display()
            );
        }
    }
    // The pages the app's router serves.
    for route in leptos_axum::generate_route_list(ff_app::App) {
        paths.push(route.path().to_owned());
    }
    assert!(paths.len() > 40, "too few routes found: {paths:?}");
    paths
        .into_iter()
        .map(|path| {
            // Fill `{param}`, `{*rest}` and `:param` segments with a value of the right shape.
            path.split('/')
                .map(|segment| {
                    if segment.starts_with('{') || segment.starts_with(':') {
                        "0193a3c2-7c1a-7b4e-9f00-000000000001"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

struct Routes(Vec<String>);

impl<'ast> syn::visit::Visit<'ast> for Routes {
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if call.method == "route" {
            if let Some(syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(path),
                ..
            })) = call.args.first()
            {
                self.0.push(path.value());
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

fn public(path: &str) -> bool {
    path == "/healthz" || path.starts_with("/pkg/")
}

#[tokio::test]
async fn every_route_and_socket_refuses_a_request_without_the_token() {
    let app = TestApp::spawn().await;
    let client = anonymous();
    let routes = routes();
    assert!(routes.iter().any(|r| r == "/ws/snapshots"));
    assert!(routes.iter().any(|r| r.starts_with("/ws/sessions/")));
    assert!(routes.iter().any(|r| r == "/metrics"));
    // ff's agents' MCP endpoint: refused without their session's credential (tests/mcp.rs
    // checks that the user's token is refused there too).
    assert!(routes.iter().any(|r| r == "/mcp"));
    assert!(routes.iter().any(|r| r == "/"));
    for path in routes.iter().filter(|p| !public(p)) {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            for token in [None, Some("ff-wrong-token-0123456789abcdef")] {
                let mut request = client.request(method.clone(), app.at(path));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.unwrap();
                assert_eq!(
                    response.status(),
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} with {token:?}"
                );
                assert_eq!(
                    response.headers()["www-authenticate"],
                    "Bearer realm=\"ff\""
                );
                let page = method == Method::GET
                    && !path.starts_with("/api/")
                    && !path.starts_with("/ws/")
                    && path != "/metrics"
                    && path != "/mcp";
                let body = response.text().await.unwrap();
                if page {
                    assert!(body.contains("Open the URL ff printed"), "{path}: {body}");
                    assert!(!body.contains(TOKEN));
                } else {
                    let json: Value = serde_json::from_str(&body)
                        .unwrap_or_else(|e| panic!("{method} {path}: {e}: {body}"));
                    assert_eq!(json["error"]["code"], "UNAUTHORIZED", "{method} {path}");
                }
            }
        }
    }
    // A socket upgrade without the token never becomes a socket.
    for url in [
        app.ws_url("projectId=x"),
        format!("{}/ws/sessions/x", app.url.replacen("http", "ws", 1)),
    ] {
        let refused = Client::connect_with(&url, None)
            .await
            .err()
            .expect("refused");
        let tokio_tungstenite::tungstenite::Error::Http(response) = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{url}");
    }
    // With the token, the same requests reach their handlers.
    let (status, _) = app.get("/api/projects").await;
    assert_eq!(status, StatusCode::OK);
    let metrics = app.client.get(app.at("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
}

#[tokio::test]
async fn assets_and_health_answer_without_the_token_and_reveal_nothing() {
    let app = TestApp::spawn().await;
    let health = anonymous().get(app.at("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let css = anonymous().get(app.at("/pkg/ff.css")).send().await.unwrap();
    assert_ne!(css.status(), StatusCode::UNAUTHORIZED);
    let metrics = anonymous().get(app.at("/metrics")).send().await.unwrap();
    assert_eq!(
        metrics.status(),
        StatusCode::UNAUTHORIZED,
        "Prometheus sends a bearer token"
    );
}

#[tokio::test]
async fn the_login_url_sets_a_strict_http_only_cookie_and_leaves_the_address_bar() {
    let app = TestApp::spawn().await;
    let client = anonymous();
    let login = client
        .get(app.at(&format!("/settings?tab=agents&token={TOKEN}")))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert_eq!(login.headers()[LOCATION], "/settings?tab=agents");
    assert_eq!(login.headers()["cache-control"], "no-store");
    let cookie = login.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let port = app.url.rsplit(':').next().unwrap();
    assert!(
        cookie.starts_with(&format!("ff_token_{port}={TOKEN};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    let pair = cookie.split(';').next().unwrap();
    let page = client
        .get(app.at("/settings"))
        .header("Cookie", format!("other=1; {pair}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let api = client
        .get(app.at("/api/projects"))
        .header("Cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);

    let proxied = client
        .get(app.at(&format!("/?token={TOKEN}")))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.headers()[LOCATION], "/");
    let cookie = proxied.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("Secure"), "behind TLS: {cookie}");

    let wrong = client
        .get(app.at("/?token=ff-wrong-token-0123456789abcdef"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
}

/// ff bound beyond loopback, reached from this machine's own network address: the peer is then
/// not loopback, and claiming a loopback Host (which no browser on another machine sends) is
/// refused, token or not; so is a DNS-rebinding name, for reads too.
#[tokio::test]
async fn a_peer_of_another_address_cannot_claim_to_be_this_machine() {
    let app = TestApp::spawn_with_flags(&["--host", "0.0.0.0"], |_| {}).await;
    let port: u16 = app.url.rsplit(':').next().unwrap().parse().unwrap();
    let address = ff_server::addresses::own("0.0.0.0".parse().unwrap())
        .into_iter()
        .find(|ip: &IpAddr| !ip.is_loopback())
        .expect("this machine has a network address besides loopback");
    // A raw request, so that the Host header is exactly the one a peer chose to send.
    let ask = |connect: IpAddr, host: &str| {
        let request = format!(
            "GET /api/projects HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
        );
        async move {
            let mut stream = tokio::net::TcpStream::connect((connect, port))
                .await
                .unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
                .await
                .expect("an answer within 10 s")
                .unwrap();
            answer
        }
    };
    let own = format!("{address}:{port}");
    let loopback = format!("127.0.0.1:{port}");
    let cases = [
        (address, own.as_str(), "200 OK"),
        (address, loopback.as_str(), "403 Forbidden"),
        (address, "localhost", "403 Forbidden"),
        (address, "evil.example", "403 Forbidden"),
        ("127.0.0.1".parse().unwrap(), loopback.as_str(), "200 OK"),
        (
            "127.0.0.1".parse().unwrap(),
            "evil.example",
            "403 Forbidden",
        ),
    ];
    for (connect, host, expected) in cases {
        let answer = ask(connect, host).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {expected}")),
            "Host {host} from {connect}: {answer}"
        );
    }
}

#[tokio::test]
async fn no_auth_serves_loopback_without_a_token() {
    let app = TestApp::spawn_with_flags(&["--no-auth"], |_| {}).await;
    let response = anonymous()
        .get(app.at("/api/projects"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = anonymous()
        .get(app.at("/?token=anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "no token to exchange");
}

#[test]
fn no_auth_beyond_loopback_is_refused_at_start() {
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ff"))
        .args(["serve", "--port", "0", "--no-auth", "--host", "0.0.0.0"])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--no-auth is refused"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was served");
}

/// The generated token lives in `<data-dir>/token` (0600) and survives restarts; `ff token`
/// prints the running server's login URL and a QR code; `--rotate` ends every login and open
/// socket of the old token while the server runs.
#[tokio::test]
async fn a_generated_token_is_private_stable_and_rotates_while_ff_runs() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let first = RunningFf::start_generated(data.path());
    let file = data.path().join("token");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), first.token);
    assert_eq!(first.token.len(), 64);
    drop(first);
    let ff = RunningFf::start_generated(data.path());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        ff.token,
        "the same token after a restart"
    );

    let token = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ff"))
            .arg("token")
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .env_remove("FF_TOKEN")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let printed = token(&[]);
    assert!(
        printed.contains(&format!("{}/?token={}", ff.url, ff.token)),
        "{printed}"
    );
    assert!(
        printed.contains('█') || printed.contains('▀'),
        "a QR code: {printed}"
    );

    let repo = common::repo::TestRepo::new();
    let (status, created) = ff
        .post(
            "/api/projects",
            Some(serde_json::json!({"repoPath": repo.path})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let socket_url = format!(
        "{}/ws/snapshots?projectId={}",
        ff.url.replacen("http", "ws", 1),
        created["id"].as_str().unwrap()
    );
    let mut socket = Client::connect_with(&socket_url, Some(&ff.token))
        .await
        .unwrap();
    let _full = socket.frame().await;

    let rotated = token(&["--rotate"]);
    assert!(rotated.contains("must log in again"), "{rotated}");
    let new = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert_ne!(new, ff.token);
    assert!(rotated.contains(&format!("?token={new}")), "{rotated}");

    let (_, ended) = socket.until_end().await;
    assert_eq!(
        ended,
        Ended::Closed(Some(1008)),
        "the old token's socket ends"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let old = ff
            .client
            .get(format!("{}/api/projects", ff.url))
            .send()
            .await
            .unwrap();
        if old.status() == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(Instant::now() < deadline, "the old token still works");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fresh = common::client_with(&new)
        .get(format!("{}/api/projects", ff.url))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), StatusCode::OK);
}

/// With `--token` (or `FF_TOKEN`) the token is the user's: `ff token` says so instead of
/// printing a token the server does not use.
#[tokio::test]
async fn ff_token_defers_to_a_given_token() {
    let data = tempfile::tempdir().unwrap();
    let _ff = RunningFf::start(data.path(), "warn");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ff"))
        .args(["token", "--rotate", "--data-dir"])
        .arg(data.path())
        .env_remove("FF_TOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("started with --token, FF_TOKEN"),
        "{stderr}"
    );
    assert!(!data.path().join("token").exists(), "no unused token file");
}

/// Beyond loopback the printed URLs name the machine's addresses, never 0.0.0.0.
#[test]
fn beyond_loopback_the_printed_urls_name_real_addresses() {
    let data = tempfile::tempdir().unwrap();
    let ff = RunningFf::start_with(
        [
            std::ffi::OsStr::new("--host"),
            std::ffi::OsStr::new("0.0.0.0"),
            std::ffi::OsStr::new("--data-dir"),
            data.path().as_os_str(),
        ],
        None,
        "warn",
    );
    assert!(ff.url.starts_with("http://127.0.0.1:"), "{}", ff.url);
    assert!(!ff.also.is_empty(), "the network addresses are printed too");
    for url in &ff.also {
        assert!(!url.contains("0.0.0.0"), "{url}");
        assert!(url.ends_with(&format!("/?token={TOKEN}")), "{url}");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.at("/")).send().await.unwrap();
    let policy = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("a page's policy names its nonce: {policy}"));
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    for directive in [
        "default-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "connect-src 'self'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(
        !policy.contains("'unsafe-eval'") && !policy.contains("script-src 'self' 'unsafe-inline'")
    );

    let anonymous = anonymous();
    let responses = [
        (
            "page",
            app.client.get(app.at("/settings")).send().await.unwrap(),
        ),
        (
            "api",
            app.client
                .get(app.at("/api/projects"))
                .send()
                .await
                .unwrap(),
        ),
        (
            "asset",
            anonymous.get(app.at("/pkg/ff.css")).send().await.unwrap(),
        ),
        (
            "health",
            anonymous.get(app.at("/healthz")).send().await.unwrap(),
        ),
        (
            "refusal",
            anonymous.get(app.at("/api/projects")).send().await.unwrap(),
        ),
        (
            "login page",
            anonymous.get(app.at("/")).send().await.unwrap(),
        ),
        (
            "missing",
            app.client.get(app.at("/api/nothing")).send().await.unwrap(),
        ),
    ];
    for (what, response) in responses {
        let headers = response.headers();
        assert!(
            headers[CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{what}"
        );
        assert_eq!(headers["x-frame-options"], "DENY", "{what}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
    }
}

/// ff's own secrets never reach what it starts: a setup script (as agents, run scripts and
/// terminals) sees neither the login token nor ff's GitHub token.
#[tokio::test]
async fn children_never_inherit_ffs_secrets() {
    let data = tempfile::tempdir().unwrap();
    let ff = RunningFf::start_env(
        [std::ffi::OsStr::new("--data-dir"), data.path().as_os_str()],
        None,
        &[("FF_GITHUB_TOKEN", "ff-github-secret"), ("VISIBLE", "yes")],
        "warn",
    );
    let repo = common::repo::TestRepo::new();
    repo.configure(serde_json::json!({"scripts": {"setup": "env > seen-env.txt"}}));
    let (_, project) = ff
        .post(
            "/api/projects",
            Some(serde_json::json!({"repoPath": repo.path})),
        )
        .await;
    let (_, workspace) = ff
        .post(
            &format!(
                "/api/projects/{}/workspaces",
                project["id"].as_str().unwrap()
            ),
            Some(serde_json::json!({"source": "MANUAL", "name": "Env"})),
        )
        .await;
    let ready = ff
        .wait_for(workspace["id"].as_str().unwrap(), "READY", |w| {
            w["status"] == "READY"
        })
        .await;
    let seen = std::fs::read_to_string(
        std::path::Path::new(ready["worktreePath"].as_str().unwrap()).join("seen-env.txt"),
    )
    .unwrap();
    assert!(
        seen.contains("VISIBLE=yes"),
        "the rest of the environment is passed on"
    );
    assert!(!seen.contains(TOKEN), "the login token leaked: {seen}");
    assert!(
        !seen.contains("ff-github-secret"),
        "the GitHub token leaked"
    );
    assert!(!seen.contains("FF_TOKEN") && !seen.contains("FF_GITHUB_TOKEN"));
}
