//! A terminal over loopback (issue 18, performance): a keystroke's echo back through the PTY and
//! the socket (p50 and p95 over 300 keys; target p50 < 20 ms), next to an HTTP round trip to the
//! same ff in the same run as the baseline; then `yes` for 10 s with a page reading everything:
//! ff's CPU (target < 0.2 core) and resident memory (flat). Run with
//! `cargo bench -p ff-server --bench terminals` (FF_BENCH_SECONDS=N to change the 10 s).

#[path = "../tests/common/mod.rs"]
mod common;

use common::binary::RunningFf;
use common::repo::TestRepo;
use common::socket::authorized;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const KEYS: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

/// Reads until `byte` comes back (the shell's echo of it).
async fn echoed(ws: &mut Socket, byte: u8) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(bytes)))) if bytes.contains(&byte) => return,
            Ok(Some(Ok(_))) => {}
            other => panic!("no echo of {:?}: {other:?}", byte as char),
        }
    }
}

/// Reads whatever arrives for `span`, returning how many bytes.
async fn drain(ws: &mut Socket, span: Duration) -> usize {
    let until = tokio::time::Instant::now() + span;
    let mut received = 0;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until, ws.next()).await {
        if let Message::Binary(bytes) = message {
            received += bytes.len();
        }
    }
    received
}

async fn open_terminal(ff: &RunningFf, workspace: &str) -> Socket {
    let (status, terminal) = ff
        .post(
            &format!("/api/workspaces/{workspace}/terminals"),
            Some(json!({})),
        )
        .await;
    assert!(status.is_success(), "{terminal}");
    let url = format!(
        "{}/ws/terminals/{}",
        ff.url.replacen("http", "ws", 1),
        terminal["id"].as_str().unwrap()
    );
    let (ws, _) = tokio_tungstenite::connect_async(authorized(&url))
        .await
        .unwrap();
    ws
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("FF_BENCH_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let ff = RunningFf::start(data.path(), "warn");
    let project = ff.add_project(&repo.path).await;
    let workspace = ff.ready_workspace(&project, "Bench").await;
    let workspace = workspace["id"].as_str().unwrap().to_owned();

    // A plain shell waiting at its prompt: each key is echoed by the PTY's line discipline.
    let mut ws = open_terminal(&ff, &workspace).await;
    ws.send(Message::Binary(b"exec /bin/sh\n".to_vec().into()))
        .await
        .unwrap();
    drain(&mut ws, Duration::from_secs(1)).await;
    let mut echoes = Vec::with_capacity(KEYS);
    for n in 0..KEYS {
        let key = b'a' + (n % 26) as u8;
        let sent = Instant::now();
        ws.send(Message::Binary(vec![key].into())).await.unwrap();
        echoed(&mut ws, key).await;
        echoes.push(sent.elapsed());
        if n % 40 == 39 {
            // Ctrl-U: the line starts over, so it never grows long.
            ws.send(Message::Binary(vec![0x15].into())).await.unwrap();
            drain(&mut ws, Duration::from_millis(20)).await;
        }
    }
    echoes.sort();
    let client = common::client();
    let mut trips = Vec::with_capacity(KEYS);
    for _ in 0..KEYS {
        let sent = Instant::now();
        client
            .get(format!("{}/healthz", ff.url))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        trips.push(sent.elapsed());
    }
    trips.sort();
    println!("terminal over loopback ({KEYS} keys):");
    println!(
        "  keystroke -> echo     p50 {:.2} ms, p95 {:.2} ms (target p50 < 20 ms)",
        percentile(&echoes, 0.5),
        percentile(&echoes, 0.95)
    );
    println!(
        "  baseline: GET /healthz p50 {:.2} ms, p95 {:.2} ms",
        percentile(&trips, 0.5),
        percentile(&trips, 0.95)
    );

    // Ctrl-U first: the keys typed above are still on the line.
    ws.send(Message::Binary(b"\x15yes\n".to_vec().into()))
        .await
        .unwrap();
    // Warm-up: the ring fills and the buffers reach their size.
    drain(&mut ws, Duration::from_secs(2)).await;
    let (cpu_before, rss_before) = (ff.cpu_time(), ff.memory_kib("VmRSS"));
    let started = Instant::now();
    let received = drain(&mut ws, Duration::from_secs(seconds)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cores = (ff.cpu_time() - cpu_before).as_secs_f64() / elapsed;
    let rss_after = ff.memory_kib("VmRSS");
    println!(
        "  yes for {elapsed:.1} s    ff {cores:.3} core (target < 0.2), RSS {:.1} -> {:.1} MiB (target: flat), {:.1} MiB shown",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        received as f64 / (1024.0 * 1024.0)
    );
}
