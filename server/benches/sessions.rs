//! Agent session benchmarks (issue 8), against the real `ff` binary and the scripted agent:
//! S1: 20 sessions streaming 50 chunks/s each for 30 s with a board and a chat socket open: the
//!     server's CPU, the push latency of card-moving changes during the load, and transcript
//!     writes per second next to the chunks the agents sent;
//! S2: server memory per idle session;
//! S3: the first page of a 10 000-item transcript, over HTTP and as a socket baseline;
//! S4: write amplification of a streamed 9 MB answer (issue 21 §11): bytes written per byte
//!     streamed when each write rewrites the whole message (the old way, the baseline) and when
//!     it appends what the message gained, through the transcript store on a real SQLite file.
//! Run with `cargo bench -p ff-server --bench sessions` (FF_BENCH_SECONDS=N shortens S1).

#[path = "../tests/common/mod.rs"]
mod common;

use common::agent::ScriptedAgent;
use common::binary::RunningFf;
use common::repo::TestRepo;
use ff_core::wire::Frame;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn row(name: &str, value: String, target: &str) {
    println!("{name:<62} {value:>26}   {target}");
}

async fn metric(ff: &RunningFf, series: &str) -> f64 {
    let text = common::client()
        .get(format!("{}/metrics", ff.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

/// One client for every request: building one costs milliseconds (it loads the TLS roots),
/// which the latencies measured here must not include.
static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(common::client);

async fn send(ff: &RunningFf, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = CLIENT
        .request(method, format!("{}{path}", ff.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

async fn workspaces(ff: &RunningFf, repo: &TestRepo, count: usize) -> (String, Vec<String>) {
    let (_, project) = ff
        .post("/api/projects", Some(json!({"repoPath": repo.path})))
        .await;
    let project = project["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for n in 0..count {
        let (_, w) = ff
            .post(
                &format!("/api/projects/{project}/workspaces"),
                Some(json!({"source": "MANUAL", "name": format!("Bench {n}")})),
            )
            .await;
        ids.push(w["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        ff.wait_for(id, "ready", |w| w["status"] == "READY").await;
    }
    (project, ids)
}

/// S1: the streaming load.
async fn s1(seconds: u64) {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let ff = RunningFf::start_with(
        [
            OsStr::new("--data-dir"),
            data.path().as_os_str(),
            OsStr::new("--max-running-agents"),
            OsStr::new("20"),
        ],
        None,
        "error",
    );
    let chunks = seconds * 50;
    let steps: Vec<Value> = (0..chunks)
        .flat_map(|n| {
            [
                json!({"text": format!("chunk {n} ")}),
                json!({"sleep": {"ms": 20}}),
            ]
        })
        .collect();
    let agent = ScriptedAgent::new(
        json!({"turns": (0..20).map(|_| json!({"steps": steps})).collect::<Vec<_>>()}),
    );
    send(
        &ff,
        reqwest::Method::PATCH,
        "/api/settings",
        json!({"agentServers": {"scripted": agent.server()}, "defaultAgent": "scripted"}),
    )
    .await;
    let (project, ids) = workspaces(&ff, &repo, 20).await;
    let mut sessions = Vec::new();
    for id in &ids {
        let session = send(
            &ff,
            reqwest::Method::POST,
            &format!("/api/workspaces/{id}/sessions"),
            json!({}),
        )
        .await;
        sessions.push(session["id"].as_str().unwrap().to_owned());
    }

    // A board (the snapshot socket) and a chat page (the first session's socket), each read on
    // its own thread so that their reading does not queue behind the bench.
    let ws = ff.url.replacen("http", "ws", 1);
    let board: Arc<Mutex<Vec<(Instant, Frame)>>> = Arc::default();
    let chat_frames = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let (board, chat_frames) = (board.clone(), chat_frames.clone());
        let board_url = format!("{ws}/ws/snapshots?projectId={project}");
        let chat_url = format!("{ws}/ws/sessions/{}", sessions[0]);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (mut board_ws, _) =
                    tokio_tungstenite::connect_async(common::socket::authorized(&board_url))
                        .await
                        .unwrap();
                let (mut chat_ws, _) =
                    tokio_tungstenite::connect_async(common::socket::authorized(&chat_url))
                        .await
                        .unwrap();
                tokio::spawn(async move {
                    while let Some(Ok(message)) = chat_ws.next().await {
                        if matches!(message, Message::Text(_)) {
                            chat_frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
                while let Some(Ok(message)) = board_ws.next().await {
                    if let Message::Text(text) = message {
                        let at = Instant::now();
                        board
                            .lock()
                            .unwrap()
                            .push((at, serde_json::from_str(&text).unwrap()));
                    }
                }
            });
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let items_before = metric(&ff, "ff_transcript_items_written_total").await;
    let writes_before = metric(&ff, "ff_transcript_writes_total").await;
    let cpu_before = ff.cpu_time();
    let started = Instant::now();
    for session in &sessions {
        send(
            &ff,
            reqwest::Method::POST,
            &format!("/api/sessions/{session}/messages"),
            json!({"text": "stream"}),
        )
        .await;
    }
    // Card-moving changes during the load: a ratchet toggle, from request to the board's frame.
    let mut latencies = Vec::new();
    let mut toggle = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) {
        let workspace = &ids[toggle % ids.len()];
        let enabled = (toggle / ids.len()).is_multiple_of(2);
        toggle += 1;
        let asked = Instant::now();
        send(
            &ff,
            reqwest::Method::PUT,
            &format!("/api/workspaces/{workspace}/ratchet"),
            json!({"enabled": enabled}),
        )
        .await;
        let deadline = asked + Duration::from_secs(5);
        'wait: loop {
            for (at, frame) in board.lock().unwrap().iter().rev() {
                if *at < asked {
                    break;
                }
                if let Frame::Changed { entry, .. } = frame {
                    if entry.workspace_id.as_str() == workspace
                        && entry.raw.ratchet_enabled == enabled
                    {
                        latencies.push((*at - asked).as_secs_f64() * 1000.0);
                        break 'wait;
                    }
                }
            }
            if Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Until every turn has ended.
    loop {
        let running = metric(&ff, "ff_agent_turns_running").await;
        if running == 0.0 || started.elapsed() > Duration::from_secs(seconds * 3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    let cores = (ff.cpu_time() - cpu_before).as_secs_f64() / wall;
    let items = metric(&ff, "ff_transcript_items_written_total").await - items_before;
    let writes = metric(&ff, "ff_transcript_writes_total").await - writes_before;
    let sent = (chunks * 20) as f64;
    row(
        &format!("S1 20 sessions × 50 chunks/s for {seconds} s: server CPU"),
        format!("{cores:.3} core"),
        "< 0.5 core",
    );
    let n = latencies.len();
    row(
        "S1 card-moving push latency during the load (HTTP → board)",
        format!(
            "p50 {:.2} / p99 {:.2} ms (n={n})",
            percentile(&mut latencies, 0.5),
            percentile(&mut latencies, 0.99)
        ),
        "p50 < 5 ms",
    );
    row(
        "S1 transcript: chunks sent / item writes / transactions per s",
        format!(
            "{:.0} / {:.0} / {:.0}",
            sent / wall,
            items / wall,
            writes / wall
        ),
        "writes far fewer than chunks",
    );
    row(
        "S1 chat socket frames received",
        format!("{}", chat_frames.load(std::sync::atomic::Ordering::Relaxed)),
        "every chunk of its session",
    );
}

/// S2: memory of idle sessions (their actors, streams and views), excluding agent processes.
async fn s2() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let ff = RunningFf::start(data.path(), "error");
    let agent = ScriptedAgent::new(json!({"turns": []}));
    send(
        &ff,
        reqwest::Method::PATCH,
        "/api/settings",
        json!({"agentServers": {"scripted": agent.server()}, "defaultAgent": "scripted"}),
    )
    .await;
    let (_, ids) = workspaces(&ff, &repo, 60).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = ff.memory_kib("VmRSS");
    let mut count = 0;
    for id in &ids {
        for _ in 0..5 {
            send(
                &ff,
                reqwest::Method::POST,
                &format!("/api/workspaces/{id}/sessions"),
                json!({}),
            )
            .await;
            count += 1;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = ff.memory_kib("VmRSS");
    row(
        &format!("S2 server memory per idle session ({count} sessions)"),
        format!(
            "{:.1} KiB",
            (after.saturating_sub(before)) as f64 / count as f64
        ),
        "< 64 KiB",
    );
}

/// S3: a long transcript's first page.
async fn s3() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let ff = RunningFf::start(data.path(), "error");
    let agent = ScriptedAgent::new(json!({"turns": []}));
    send(
        &ff,
        reqwest::Method::PATCH,
        "/api/settings",
        json!({"agentServers": {"scripted": agent.server()}, "defaultAgent": "scripted"}),
    )
    .await;
    let (_, ids) = workspaces(&ff, &repo, 1).await;
    let session = send(
        &ff,
        reqwest::Method::POST,
        &format!("/api/workspaces/{}/sessions", ids[0]),
        json!({}),
    )
    .await;
    let session = session["id"].as_str().unwrap().to_owned();
    // 10 000 items written straight into the database, as 5 000 turns would leave them.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}/ff.db", data.path().display()))
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    for seq in 1..=10_000i64 {
        let payload = if seq % 2 == 1 {
            json!({"kind": "user", "text": format!("message {seq}")})
        } else {
            json!({"kind": "agent", "text": format!("A reply with **Markdown** and `code`, number {seq}, long enough to be realistic. ").repeat(4)})
        };
        sqlx::query("INSERT INTO session_items (session_id, seq, kind, payload, at) VALUES (?, ?, ?, ?, '2026-11-25T00:00:00.000Z')")
            .bind(&session)
            .bind(seq)
            .bind(payload["kind"].as_str().unwrap())
            .bind(payload.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    db.close().await;
    let client = common::client();
    let mut http = Vec::new();
    let mut baseline = Vec::new();
    let ws = ff.url.replacen("http", "ws", 1);
    for _ in 0..40 {
        let asked = Instant::now();
        let page: Value = client
            .get(format!("{}/api/sessions/{session}/items?limit=200", ff.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page.as_array().unwrap().len(), 200);
        http.push(asked.elapsed().as_secs_f64() * 1000.0);
        let asked = Instant::now();
        let (mut socket, _) = tokio_tungstenite::connect_async(common::socket::authorized(
            &format!("{ws}/ws/sessions/{session}"),
        ))
        .await
        .unwrap();
        while let Some(Ok(message)) = socket.next().await {
            if matches!(message, Message::Text(_)) {
                break;
            }
        }
        baseline.push(asked.elapsed().as_secs_f64() * 1000.0);
    }
    row(
        "S3 first page of a 10 000-item transcript, HTTP (200 items)",
        format!(
            "p50 {:.2} / p99 {:.2} ms",
            percentile(&mut http, 0.5),
            percentile(&mut http, 0.99)
        ),
        "< 20 ms",
    );
    row(
        "S3 same, as the chat socket's baseline (latest 200 items)",
        format!(
            "p50 {:.2} / p99 {:.2} ms",
            percentile(&mut baseline, 0.5),
            percentile(&mut baseline, 0.99)
        ),
        "< 20 ms",
    );
}

#[tokio::main]
async fn main() {
    let seconds = std::env::var("FF_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    // `cargo bench --bench sessions -- s2 s3` runs only those.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runs = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    if runs("s1") {
        s1(seconds).await;
    }
    if runs("s2") {
        s2().await;
    }
    if runs("s3") {
        s3().await;
    }
    if runs("s4") {
        s4().await;
    }
}

/// What this process has passed to write(2) so far (SQLite's database, journal and
/// checkpoints: the bench writes nothing else meanwhile).
fn written_by_me() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// S4: one 9 MB answer streamed over 36 writes (9 s at the transcript's 250 ms), written the old
/// way and the new way, each into a fresh database.
async fn s4() {
    use ff_core::ids::Timestamp;
    use ff_core::transcript::{Item, ItemBody};
    use ff_server::sessions::store::{self, Write};
    const WRITES: usize = 36;
    const PART: usize = 256 * 1024;
    let streamed = (WRITES * PART) as f64;
    let part = "x".repeat(PART);
    let item = |text: String| Item {
        seq: 1,
        at: Timestamp::from_millis(0).unwrap(),
        body: ItemBody::Agent { text },
    };
    let mut results = Vec::new();
    for appending in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let db = ff_server::db::connect(&format!("sqlite://{}/ff.db", dir.path().display()))
            .await
            .unwrap();
        let mut conn = db.acquire().await.unwrap();
        // The transcript alone: no session row behind it.
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await
            .unwrap();
        let (os_before, mut logical) = (written_by_me(), 0u64);
        let mut text = String::new();
        for n in 0..WRITES {
            text.push_str(&part);
            let writes = match (appending, n) {
                (true, 0) => vec![Write::Item(item(text.clone()))],
                (true, n) => vec![Write::Append {
                    seq: 1,
                    n: u32::try_from(n - 1).unwrap(),
                    text: part.clone(),
                }],
                (false, _) => vec![Write::Item(item(text.clone()))],
            };
            let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
            logical += store::write(&mut tx, "s", &writes).await.unwrap();
            tx.commit().await.unwrap();
        }
        if appending {
            // The message's end: written whole once, its chunks gone.
            let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
            logical += store::write(&mut tx, "s", &[Write::Item(item(text.clone()))])
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *conn)
            .await
            .unwrap();
        results.push((
            logical as f64 / streamed,
            (written_by_me() - os_before) as f64 / streamed,
        ));
    }
    let [(old_logical, old_os), (new_logical, new_os)] = results[..] else {
        unreachable!("two runs")
    };
    row(
        "S4 9 MB answer in 36 writes: transcript bytes per byte streamed",
        format!("before {old_logical:.1}× / after {new_logical:.2}×"),
        "after ≤ 2×",
    );
    row(
        "S4 same, bytes SQLite wrote to disk (journal + checkpoint)",
        format!("before {old_os:.1}× / after {new_os:.2}×"),
        "far below before",
    );
}
