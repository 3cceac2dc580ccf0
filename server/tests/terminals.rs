//! Terminals over real loopback: a real shell on a real PTY in the worktree, watched through
//! the real socket.

mod common;

use common::binary::RunningFf;
use common::repo::TestRepo;
use common::socket::authorized;
use common::{eventually, TestApp};
use ff_server::process::process_alive;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A terminal's socket, and everything it has shown so far.
struct Screen {
    ws: Socket,
    seen: Vec<u8>,
}

impl Screen {
    async fn connect(base: &str, terminal: &str) -> Self {
        let url = format!("{}/ws/terminals/{terminal}", base.replacen("http", "ws", 1));
        let (ws, _) = tokio_tungstenite::connect_async(authorized(&url))
            .await
            .expect("the terminal's socket connects");
        Self {
            ws,
            seen: Vec::new(),
        }
    }

    async fn type_in(&mut self, text: &str) {
        self.ws
            .send(Message::Binary(text.as_bytes().to_vec().into()))
            .await
            .expect("typed");
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen).into_owned()
    }

    /// Reads until what was shown satisfies `done` (at most 10 s).
    async fn until(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !done(&self.text()) {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(bytes)))) => self.seen.extend_from_slice(&bytes),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    panic!("closed ({frame:?}) before {what}: {}", self.text())
                }
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("the socket ended ({other:?}) before {what}"),
                Err(_) => panic!("never {what}: {:?}", self.text()),
            }
        }
        self.text()
    }

    /// Reads to the end of the connection: the close code, if one came.
    async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), self.ws.next())
                .await
                .expect("the socket ends")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(Message::Binary(bytes))) => self.seen.extend_from_slice(&bytes),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }
}

/// A ready workspace: its id and its worktree.
async fn ready_workspace(app: &TestApp, repo: &TestRepo) -> (String, String) {
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Shell"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    (id, ready["worktreePath"].as_str().unwrap().to_owned())
}

async fn open(app: &TestApp, workspace: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/api/workspaces/{workspace}/terminals"),
        json!({"cols": 100, "rows": 30}),
    )
    .await
}

/// Whether the shell printed `line` as a line (the prompt may come first on it).
fn printed(text: &str, line: &str) -> bool {
    text.split(['\r', '\n']).any(|l| l.trim().ends_with(line))
}

/// The number the shell printed as `name=<digits>` (the typed command says `name=$…`).
fn printed_number(text: &str, name: &str) -> Option<u32> {
    let marker = format!("{name}=");
    text.match_indices(&marker).find_map(|(at, _)| {
        let digits: String = text[at + marker.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}

#[tokio::test]
async fn a_shell_runs_in_the_worktree_and_a_reattaching_page_gets_the_scrollback() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (workspace, worktree) = ready_workspace(&app, &repo).await;
    let (status, terminal) = open(&app, &workspace).await;
    assert_eq!(status, StatusCode::CREATED, "{terminal}");
    let id = terminal["id"].as_str().unwrap().to_owned();
    assert_eq!(terminal["workspaceId"], workspace.as_str());
    assert_eq!(
        terminal["shell"], "/bin/sh",
        "no $SHELL in the test's config"
    );

    let mut first = Screen::connect(&app.url, &id).await;
    let mut second = Screen::connect(&app.url, &id).await;
    first.type_in("echo $PWD; stty size\n").await;
    first
        .until("the worktree path printed", |t| printed(t, &worktree))
        .await;
    first
        .until("the PTY's size", |t| printed(t, "30 100"))
        .await;
    second
        .until("the second watcher sees it too", |t| printed(t, &worktree))
        .await;
    first.ws.close(None).await.unwrap();
    second.type_in("printf 'ma''rk\\n'\n").await;
    second.until("the mark", |t| printed(t, "mark")).await;

    let mut again = Screen::connect(&app.url, &id).await;
    let scrollback = again.until("the scrollback", |t| printed(t, "mark")).await;
    assert!(printed(&scrollback, &worktree), "{scrollback}");
    // A resize reaches the PTY.
    again
        .ws
        .send(Message::Text(
            r#"{"type":"resize","cols":90,"rows":20}"#.into(),
        ))
        .await
        .unwrap();
    again.type_in("stty size\n").await;
    again.until("the new size", |t| printed(t, "20 90")).await;

    let (status, list) = app
        .get(&format!("/api/workspaces/{workspace}/terminals"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let gone = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/terminals/{id}"),
            None,
        )
        .await;
    assert_eq!(gone.0, StatusCode::NO_CONTENT, "{}", gone.1);
    assert_eq!(again.closed().await, Some(1000));
    assert_eq!(second.closed().await, Some(1000));
    let again = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/terminals/{id}"),
            None,
        )
        .await;
    assert_eq!(again.0, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn bad_requests_and_limits_are_refused_naming_what() {
    let app = TestApp::spawn_with_flags(&["--max-terminals-per-workspace", "2"], |_| {}).await;
    let repo = TestRepo::new();
    let (workspace, _) = ready_workspace(&app, &repo).await;
    let (status, body) = app
        .post(
            &format!("/api/workspaces/{workspace}/terminals"),
            json!({"cols": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("cols"), "{body}");
    let (status, _) = open(&app, "no-such-workspace").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(open(&app, &workspace).await.0, StatusCode::CREATED);
    assert_eq!(open(&app, &workspace).await.0, StatusCode::CREATED);
    let (status, body) = open(&app, &workspace).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.to_string().contains("--max-terminals-per-workspace"),
        "{body}"
    );
    let (status, _) = app.get("/api/workspaces/no-such/terminals").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn archiving_ends_the_shell_and_everything_it_started() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let (workspace, _) = ready_workspace(&app, &repo).await;
    let (_, terminal) = open(&app, &workspace).await;
    let id = terminal["id"].as_str().unwrap().to_owned();
    let mut screen = Screen::connect(&app.url, &id).await;
    // A job of its own (another process group of the shell's session), and one that ignores
    // the hang-up and SIGTERM.
    screen
        .type_in("echo shell=$$; sleep 300 & echo job=$!; (trap '' HUP TERM; exec sleep 301) & echo stubborn=$!\n")
        .await;
    let text = screen
        .until("the pids", |t| printed_number(t, "stubborn").is_some())
        .await;
    let pid = |name: &str| -> u32 {
        printed_number(&text, name).unwrap_or_else(|| panic!("no {name} in {text:?}"))
    };
    let (shell, job, stubborn) = (pid("shell"), pid("job"), pid("stubborn"));
    assert!(process_alive(shell) && process_alive(job) && process_alive(stubborn));

    let (status, body) = app
        .command(&format!("/api/workspaces/{workspace}/archive"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    app.wait_for_status(&workspace, "ARCHIVED").await;
    for (name, pid) in [("shell", shell), ("job", job), ("stubborn", stubborn)] {
        assert!(
            !process_alive(pid),
            "the {name} ({pid}) outlived the archive"
        );
    }
    assert_eq!(screen.closed().await, Some(1000));
    let (status, list) = app
        .get(&format!("/api/workspaces/{workspace}/terminals"))
        .await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    let (status, _) = open(&app, &workspace).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an archived workspace has no shell"
    );
    app.shutdown().await;
}

/// A client whose receive window is full and that never reads: its sends time out and it is
/// closed with 1013, while the shell keeps printing.
#[tokio::test]
async fn a_socket_that_never_reads_is_closed_without_buffering() {
    let app = TestApp::spawn_with(|config| {
        config.ping_interval = Duration::from_secs(60);
        config.send_timeout = Duration::from_millis(500);
    })
    .await;
    let repo = TestRepo::new();
    let (workspace, _) = ready_workspace(&app, &repo).await;
    let (_, terminal) = open(&app, &workspace).await;
    let id = terminal["id"].as_str().unwrap().to_owned();

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let address = app.url.trim_start_matches("http://").parse().unwrap();
    let tcp = socket.connect(address).await.unwrap();
    let url = format!("{}/ws/terminals/{id}", app.url.replacen("http", "ws", 1));
    let (mut stalled, _) = tokio_tungstenite::client_async(authorized(&url), tcp)
        .await
        .unwrap();
    stalled
        .send(Message::Binary(b"yes\n".to_vec().into()))
        .await
        .unwrap();
    let flooded = Instant::now();
    while app.metric("ff_terminal_sockets").await > 0.0 {
        assert!(
            flooded.elapsed() < Duration::from_secs(20),
            "the socket was still open 20 s into the flood (send timeout 500 ms)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.metric("ff_terminal_slow_closes_total").await >= 1.0);
    // The terminal itself goes on, for the next page.
    let mut screen = Screen::connect(&app.url, &id).await;
    screen.until("more of yes", |t| t.contains("y\r\ny")).await;
    app.shutdown().await;
}

/// `yes` for 10 s in the real binary, watched by a page that reads everything: ff's CPU stays
/// under a fraction of a core and its memory flat.
#[tokio::test]
async fn yes_for_ten_seconds_is_paced_and_bounded() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let ff = RunningFf::start(data.path(), "warn");
    let project = ff.add_project(&repo.path).await;
    let workspace = ff.ready_workspace(&project, "Yes").await;
    let workspace = workspace["id"].as_str().unwrap().to_owned();
    let (status, terminal) = ff
        .post(
            &format!("/api/workspaces/{workspace}/terminals"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{terminal}");
    let id = terminal["id"].as_str().unwrap();
    let url = format!("{}/ws/terminals/{id}", ff.url.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(authorized(&url))
        .await
        .unwrap();
    ws.send(Message::Binary(b"yes\n".to_vec().into()))
        .await
        .unwrap();
    let mut received = 0usize;
    let mut read_for = async |span: Duration| {
        let until = tokio::time::Instant::now() + span;
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until, ws.next()).await {
            if let Message::Binary(bytes) = message {
                received += bytes.len();
            }
        }
    };
    // Warm-up: the ring fills, the buffers reach their size.
    read_for(Duration::from_secs(2)).await;
    let (cpu_before, rss_before) = (ff.cpu_time(), ff.memory_kib("VmRSS"));
    let started = Instant::now();
    read_for(Duration::from_secs(10)).await;
    let elapsed = started.elapsed();
    let cpu = ff.cpu_time() - cpu_before;
    let rss_after = ff.memory_kib("VmRSS");
    let cores = cpu.as_secs_f64() / elapsed.as_secs_f64();
    println!(
        "yes for {:.1} s: ff used {:.3} core ({} ms CPU), RSS {} KiB -> {} KiB, {:.1} MiB shown",
        elapsed.as_secs_f64(),
        cores,
        cpu.as_millis(),
        rss_before,
        rss_after,
        received as f64 / (1024.0 * 1024.0)
    );
    assert!(
        received > 1024 * 1024,
        "the page saw output: {received} bytes"
    );
    // Debug builds run several times slower than `ff` as shipped; the release figure is in
    // the note.
    assert!(cores < 0.5, "ff used {cores:.3} core");
    assert!(
        rss_after < rss_before + 16 * 1024,
        "memory grew from {rss_before} KiB to {rss_after} KiB"
    );
    ws.send(Message::Binary(b"\x03".to_vec().into()))
        .await
        .unwrap();
}

/// A killed ff closes its PTYs, which hangs up the shells; what ignores the hang-up lives on,
/// and the next start ends it.
#[tokio::test]
async fn a_restart_ends_the_shells_a_killed_ff_left() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let ff = RunningFf::start(data.path(), "warn");
    let project = ff.add_project(&repo.path).await;
    let workspace = ff.ready_workspace(&project, "Left").await;
    let workspace = workspace["id"].as_str().unwrap().to_owned();
    let (_, terminal) = ff
        .post(
            &format!("/api/workspaces/{workspace}/terminals"),
            Some(json!({})),
        )
        .await;
    let mut screen = Screen::connect(&ff.url, terminal["id"].as_str().unwrap()).await;
    screen
        .type_in("(trap '' HUP TERM; exec sleep 301) & echo stubborn=$!\n")
        .await;
    let text = screen
        .until("the pid", |t| printed_number(t, "stubborn").is_some())
        .await;
    let stubborn = printed_number(&text, "stubborn").unwrap();
    ff.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(process_alive(stubborn), "the hang-up leaves it behind");
    let ff = RunningFf::start(data.path(), "warn");
    eventually("the left-over job is gone", || !process_alive(stubborn)).await;
    let list = ff
        .get(&format!("/api/workspaces/{workspace}/terminals"))
        .await;
    assert_eq!(list, json!([]));
}
