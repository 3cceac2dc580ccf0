//! Snapshot service benchmarks B1–B5 (issue: the project snapshot service). Prints one table.
//! Run with `cargo bench -p ff-server --bench snapshot`.

use ff_core::entry::GitStats;
use ff_core::enums::{RunScriptStatus, WorkspaceStatus};
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use ff_core::patch::Patch;
use ff_core::wire::Frame;
use ff_server::events::DomainEvent;
use ff_server::snapshot::git_stats;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[path = "../tests/common/mod.rs"]
mod common;

use common::binary::RunningFf;
use common::documents::backup as backup_with;
use common::repo::git;
use common::TestApp;

fn repo(root: &Path, files: usize) -> std::path::PathBuf {
    let repo = root.join("repo");
    git(root, &["init", "-q", "repo"]);
    for i in 0..files {
        let dir = repo.join(format!("src/m{:02}", i % 20));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("f{i}.rs")),
            format!("fn f{i}() {{}}\n// {i}\n"),
        )
        .unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    repo
}

/// Lists every directory under `dir` but `.git` and lstats each entry: the least a status scan
/// of it does, with none of git's own work.
fn stat_walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            let inner = meta.is_dir() && entry.file_name() != ".git";
            1 + if inner { stat_walk(&entry.path()) } else { 0 }
        })
        .sum()
}

/// [`stat_walk`] of every tree once, shared by `threads` threads: the wall time in ms.
fn stat_walk_all(trees: &[PathBuf], threads: usize) -> f64 {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(tree) = trees.get(next.fetch_add(1, Ordering::Relaxed)) {
                    stat_walk(tree);
                }
            });
        }
    });
    started.elapsed().as_secs_f64() * 1000.0
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn row(name: &str, value: String, target: &str) {
    println!("{name:<58} {value:>22}   {target}");
}

type Received = Arc<Mutex<Vec<(Instant, Frame)>>>;

async fn listen(url: String, received: Received, ready: tokio::sync::mpsc::Sender<()>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(common::socket::authorized(&url))
        .await
        .unwrap();
    let mut first = true;
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            let at = Instant::now();
            let frame: Frame = serde_json::from_str(&text).unwrap();
            if first {
                first = false;
                let _ = ready.send(()).await;
                continue;
            }
            received.lock().unwrap().push((at, frame));
        }
    }
}

/// B1: 200 workspaces, 20 clients, 200 events/s for 10 s, half card-moving, half coalesced.
async fn b1() {
    let root = tempfile::tempdir().unwrap();
    let repo = repo(root.path(), 10);
    let app = TestApp::spawn().await;
    let (url, bus, snapshot) = (app.url.clone(), app.events.clone(), app.snapshot.clone());
    let client = common::client();
    let doc = backup_with(200, repo.to_str().unwrap());
    client
        .post(format!("{url}/api/backup"))
        .json(&doc)
        .send()
        .await
        .unwrap();
    snapshot.reconciler.pass().await.unwrap();

    let ws_url = format!(
        "{}/ws/snapshots?projectId=bench",
        url.replacen("http", "ws", 1)
    );
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel(20);
    let streams: Vec<Received> = (0..20).map(|_| Received::default()).collect();
    // The clients get their own thread and runtime: their reading must not queue behind the
    // server's work in the same scheduler.
    let clients: Vec<_> = streams
        .iter()
        .map(|received| (ws_url.clone(), received.clone(), ready_tx.clone()))
        .collect();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let tasks: Vec<_> = clients
                .into_iter()
                .map(|(url, received, ready)| tokio::spawn(listen(url, received, ready)))
                .collect();
            for task in tasks {
                let _ = task.await;
            }
        });
    });
    for _ in 0..20 {
        ready.recv().await;
    }

    // What the bench asked for, in order; the bus records when each was published (committed).
    let mut intents: Vec<(String, &str, String)> = Vec::new();
    let mut bus_events = bus.subscribe();
    let published = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(Ok(p)) = bus_events.next_published().await {
            match p.event {
                DomainEvent::RatchetToggled {
                    workspace_id,
                    enabled,
                } => seen.push((workspace_id.to_string(), enabled.to_string(), p.at)),
                DomainEvent::RunScriptStatusChanged {
                    workspace_id, to, ..
                } => seen.push((workspace_id.to_string(), format!("{to:?}"), p.at)),
                _ => {}
            }
            if seen.len() == 2000 {
                break;
            }
        }
        seen
    });
    let cycle = [
        RunScriptStatus::Starting,
        RunScriptStatus::Running,
        RunScriptStatus::Stopping,
        RunScriptStatus::Idle,
    ];
    let mut run_status: HashMap<String, usize> = HashMap::new();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    for step in 0..1000usize {
        tick.tick().await;
        // A card-moving commit per tick (100/s): a real ratchet toggle, always a new value.
        let w = format!("w{:05}", step % 200);
        let enabled = (step / 200) % 2 == 0;
        client
            .put(format!("{url}/api/workspaces/{w}/ratchet"))
            .json(&json!({"enabled": enabled}))
            .send()
            .await
            .unwrap();
        intents.push((w, "card", enabled.to_string()));
        // Coalescible run-script changes (100/s), in pairs 10 ms apart on one workspace, each a
        // value the workspace does not have yet.
        let v = format!("w{:05}", ((step / 2) * 7) % 200);
        let next = run_status
            .get(&v)
            .map_or(0, |current| (current + 1) % cycle.len());
        run_status.insert(v.clone(), next);
        let status = cycle[next];
        bus.publish(DomainEvent::RunScriptStatusChanged {
            workspace_id: WorkspaceId::new(&v),
            from: RunScriptStatus::Idle,
            to: status,
        });
        intents.push((
            v,
            if step % 2 == 0 { "first" } else { "coalesced" },
            format!("{status:?}"),
        ));
    }
    let elapsed = started.elapsed();
    let published = published.await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(published.len(), intents.len());

    // A change is delivered by a frame with its value, or with a later value of the same field
    // that superseded it inside the coalescing window (last writer wins).
    let accepted: Vec<Vec<&String>> = intents
        .iter()
        .enumerate()
        .map(|(i, (w, kind, value))| {
            let mut values = vec![value];
            if *kind == "first" {
                let partner = intents[i + 1..]
                    .iter()
                    .find(|(pw, pkind, _)| pw == w && *pkind == "coalesced");
                values.extend(partner.map(|(_, _, v)| v));
            }
            values
        })
        .collect();
    let mut latencies: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut missing = 0;
    for stream in &streams {
        let frames = stream.lock().unwrap();
        for (((w, kind, value), (pw, pvalue, at)), values) in
            intents.iter().zip(&published).zip(&accepted)
        {
            assert_eq!(
                (w, value),
                (pw, pvalue),
                "the bus saw what the bench did, in order"
            );
            let delivered = frames.iter().find(|(received, frame)| {
                received >= at
                    && matches!(frame, Frame::Changed { entry, .. } if entry.workspace_id.as_str() == w && match *kind {
                        "card" => entry.raw.ratchet_enabled.to_string() == *value,
                        _ => values.contains(&&format!("{:?}", entry.raw.run_script_status)),
                    })
            });
            match delivered {
                Some((received, _)) => latencies
                    .entry(kind)
                    .or_default()
                    .push(received.duration_since(*at).as_secs_f64() * 1000.0),
                None => missing += 1,
            }
        }
    }
    assert_eq!(missing, 0, "every event reached every client");
    let sent = intents;
    let events_per_second = sent.len() as f64 / elapsed.as_secs_f64();
    println!("B1 push latency, commit → frame received: 200 workspaces, 20 clients, {events_per_second:.0} events/s");
    for (kind, label, target) in [
        (
            "card",
            "card-moving (ratchet toggle, real commit)",
            "p50 < 5 ms",
        ),
        ("first", "coalescible, first of a burst", "p99 < 170 ms"),
        (
            "coalesced",
            "coalescible, merged into the window (150 ms)",
            "p99 < 170 ms",
        ),
    ] {
        let samples = latencies.get_mut(kind).expect("samples");
        let count = samples.len();
        let p50 = percentile(samples, 0.5);
        let p99 = percentile(samples, 0.99);
        row(
            &format!("  {label}"),
            format!("p50 {p50:.2} / p99 {p99:.2} ms (n={count})"),
            target,
        );
    }
}

/// The workspace counts of the scale curves (B2, B4): where a reader sees how cost grows.
const SCALE: [usize; 3] = [1_000, 5_000, 10_000];

/// How much `value` grows per 1 000 units of work between the first and the last point.
fn per_thousand(points: &[(usize, f64)]) -> f64 {
    let ((n0, v0), (n1, v1)) = (points[0], points[points.len() - 1]);
    (v1 - v0) / ((n1 - n0) as f64 / 1000.0)
}

/// One B2 point, in ms: a full snapshot of `n` workspaces after one of them changed (p50, p99),
/// after another project's change (p50), with nothing changed since the last one (p50); the
/// body's size; and the baseline, every entry serialized again for the request (p50).
struct B2Point {
    changed: (f64, f64),
    seq_moved: f64,
    unchanged: f64,
    bytes: usize,
    baseline: f64,
}

fn b2_at(n: usize) -> B2Point {
    let store = ff_server::snapshot::store::Store::new(
        Default::default(),
        ff_server::metrics::Metrics::new(),
    );
    let project = ProjectId::new("p");
    let patch = |i: usize, additions: u32| Patch {
        project_id: Some(project.clone()),
        name: Some(format!("Workspace number {i}")),
        status: Some(WorkspaceStatus::Ready),
        created_at: Some(Timestamp::from_millis(1_700_000_000_000 + i as i64)),
        branch_name: Some(Some(format!("workspace-{i}"))),
        git_stats: Some(Some(GitStats {
            total: 3,
            additions,
            deletions: 2,
            has_uncommitted: true,
        })),
        ..Patch::default()
    };
    for i in 0..n {
        store
            .upsert(
                &WorkspaceId::new(format!("w{i}")),
                &patch(i, 40),
                "bench",
                1,
                None,
            )
            .unwrap();
    }
    let elsewhere = Patch {
        project_id: Some(ProjectId::new("other")),
        ..patch(0, 0)
    };
    // The same total work at every size: 200 reads of 1 000, 20 of 10 000 (at least 20).
    let runs = (200_000 / n).max(20);
    let timed = |before: &mut dyn FnMut(usize)| {
        let mut times = Vec::new();
        let mut bytes = 0;
        for run in 0..runs {
            before(run);
            let started = Instant::now();
            let body = store.full_frame(&project);
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            bytes = body.frame.len();
        }
        (times, bytes)
    };
    // Each read follows a change of one workspace (a different one each time): the entries
    // are put together again.
    let (mut changed, bytes) = timed(&mut |run| {
        let i = run * 7919 % n;
        let write = patch(i, 41 + run as u32);
        let id = WorkspaceId::new(format!("w{i}"));
        store
            .upsert(&id, &write, "bench", 2 + run as i64, None)
            .unwrap();
    });
    let (mut seq_moved, _) = timed(&mut |run| {
        let id = WorkspaceId::new("elsewhere");
        let write = Patch {
            name: Some(format!("Elsewhere {run}")),
            ..elsewhere.clone()
        };
        store
            .upsert(&id, &write, "bench", 2 + run as i64, None)
            .unwrap();
    });
    let (mut unchanged, _) = timed(&mut |_| {});
    let mut baseline = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let body = serde_json::to_string(&store.full(&project)).unwrap();
        baseline.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(body.len(), bytes, "the baseline writes the same body");
    }
    B2Point {
        changed: (
            percentile(&mut changed, 0.5),
            percentile(&mut changed, 0.99),
        ),
        seq_moved: percentile(&mut seq_moved, 0.5),
        unchanged: percentile(&mut unchanged, 0.5),
        bytes,
        baseline: percentile(&mut baseline, 0.5),
    }
}

/// B2: a full snapshot of 1 000 to 10 000 workspaces, as the snapshot route serves it.
fn b2() {
    println!("B2 full snapshot (store read + JSON), by workspace count");
    let mut p50s = Vec::new();
    for n in SCALE {
        let point = b2_at(n);
        let target = match n {
            1_000 => "< 2 ms",
            10_000 => "< 10 ms",
            _ => "",
        };
        row(
            &format!("  {n} workspaces, one of them just changed"),
            format!("p50 {:.2} / p99 {:.2} ms", point.changed.0, point.changed.1),
            target,
        );
        row(
            "    after another project's change / nothing changed (p50)",
            format!("{:.2} / {:.3} ms", point.seq_moved, point.unchanged),
            "",
        );
        row(
            "    baseline: every entry serialized per request (p50)",
            format!("{:.2} ms", point.baseline),
            "",
        );
        if n == SCALE[0] {
            row(
                "  body",
                format!(
                    "{} bytes ({:.0} per entry)",
                    point.bytes,
                    point.bytes as f64 / n as f64
                ),
                "",
            );
        }
        p50s.push((n, point.changed.0));
    }
    row(
        "  growth per 1 000 workspaces (p50, one just changed)",
        format!("{:.2} ms", per_thousand(&p50s)),
        "",
    );
}

/// B3: reconciliation passes over 50 real worktrees, against the git command sequence of R§7.6
/// for the same worktrees, in the same run.
async fn b3() {
    let root = tempfile::tempdir().unwrap();
    let repo = repo(root.path(), 2_000);
    let mut doc = backup_with(50, repo.to_str().unwrap());
    let mut trees = Vec::new();
    for (i, workspace) in doc["data"]["workspaces"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        // Named as ff names worktrees: an import accepts nothing else.
        let tree = root.path().join(format!("workspace-w{i:05}"));
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("b{i}"),
                tree.to_str().unwrap(),
            ],
        );
        std::fs::write(tree.join(format!("src/m00/f{i}.rs")), "changed\n").unwrap();
        std::fs::write(tree.join("new.txt"), "untracked\n").unwrap();
        workspace["worktreePath"] = json!(tree);
        trees.push(tree);
    }
    let app = TestApp::spawn().await;
    let (url, snapshot) = (app.url.clone(), app.snapshot.clone());
    let imported: Value = common::client()
        .post(format!("{url}/api/backup"))
        .json(&doc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(imported["workspaces"], 50, "{imported}");

    let pass = || async {
        let started = Instant::now();
        let summary = snapshot.reconciler.pass().await.unwrap();
        assert_eq!(summary.scanned, 50);
        started.elapsed().as_secs_f64() * 1000.0
    };
    let first = pass().await;
    // The pass hands every worktree to the file watcher, which walks each to watch its
    // directories and, once the watch is on, measures it again: a pass timed meanwhile shares
    // the cores with that. The cold pass is timed once the watcher is done, as the git commands
    // are timed later on an otherwise idle ff, with every measurement forgotten so that the
    // pass scans all 50 (a restart's first pass, without the watcher's walks beside it). Its
    // CPU time against its wall time tells whether the scan is bound by the cores (about the
    // core count) or waits on something else (well below it).
    let metrics = &snapshot.reconciler.metrics;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let computed = metrics.git_stats_computed.get();
        tokio::time::sleep(Duration::from_millis(500)).await;
        if metrics.worktrees_watched.get() == 50 && metrics.git_stats_computed.get() == computed {
            break;
        }
        assert!(Instant::now() < deadline, "the watcher never settled");
    }
    for i in 0..trees.len() {
        snapshot
            .reconciler
            .forget(&WorkspaceId::new(format!("w{i:05}")));
    }
    let (computed_before, cpu_before) = (
        metrics.git_stats_computed.get(),
        cpu_seconds(std::process::id()),
    );
    let cold = pass().await;
    let cold_cores = (cpu_seconds(std::process::id()) - cpu_before) / (cold / 1000.0);
    let measured = metrics.git_stats_computed.get() - computed_before;
    assert_eq!(measured, 50, "the cold pass scans every worktree");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut warm = Vec::new();
    for _ in 0..5 {
        warm.push(pass().await);
    }
    // One scan with the cores to itself: a pass over 50 cannot beat 50 of these spread over
    // the cores, which bounds the cold speed-up reachable with this scan.
    let scan_trees = trees.clone();
    let mut alone = tokio::task::spawn_blocking(move || {
        scan_trees
            .iter()
            .map(|tree| {
                let started = Instant::now();
                git_stats::compute(tree, "main").unwrap();
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect::<Vec<f64>>()
    })
    .await
    .unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // No scan can beat the kernel's part of it: listing and lstat'ing every file.
    let walked = trees.clone();
    let mut floor = tokio::task::spawn_blocking(move || {
        (0..3)
            .map(|_| stat_walk_all(&walked, cores))
            .collect::<Vec<f64>>()
    })
    .await
    .unwrap();
    let limit = Arc::new(tokio::sync::Semaphore::new(4));
    let git_cli = ff_server::git::Git::new(Duration::from_secs(30));
    let mut commands = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let results = futures_util::future::join_all(trees.iter().map(|t| {
            let (limit, git_cli) = (limit.clone(), git_cli.clone());
            async move {
                let _permit = limit.acquire().await.unwrap();
                git_stats::with_git_commands(&git_cli, t, "main").await
            }
        }))
        .await;
        commands.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(results.iter().all(Result::is_ok));
    }
    for (i, tree) in trees.iter().enumerate() {
        let cli = git_stats::with_git_commands(&git_cli, tree, "main")
            .await
            .unwrap();
        let entry = snapshot
            .store
            .get(&WorkspaceId::new(format!("w{i:05}")))
            .unwrap();
        assert_eq!(
            entry.raw.git_stats,
            Some(cli),
            "the snapshot holds what git says for {}",
            tree.display()
        );
    }
    let warm = percentile(&mut warm, 0.5);
    let cli = percentile(&mut commands, 0.5);
    let alone = percentile(&mut alone, 0.5);
    let floor = percentile(&mut floor, 0.5);
    let ceiling = alone * trees.len() as f64 / cores as f64;
    println!("B3 reconciliation over 50 worktrees of 2 000 files, {cores} cores");
    row(
        "  first pass, as the watcher starts on every worktree",
        format!("{first:.1} ms"),
        "",
    );
    row(
        "  pass, every worktree scanned in-process (libgit2)",
        format!("{cold:.1} ms ({measured} scans)"),
        "",
    );
    row(
        "  cores busy during that pass (CPU time / wall time)",
        format!("{cold_cores:.2}"),
        "",
    );
    row(
        "  pass, worktrees watched and unchanged (median of 5)",
        format!("{warm:.1} ms"),
        "",
    );
    row(
        "  git command sequence of R§7.6, same 50 (median of 3)",
        format!("{cli:.1} ms"),
        "",
    );
    row(
        "  speed-up, steady state / every worktree scanned",
        format!("{:.1}× / {:.1}×", cli / warm, cli / cold),
        "cold ≥ 5×",
    );
    row(
        "  one worktree scanned alone (median of 50)",
        format!("{alone:.2} ms"),
        "",
    );
    row(
        "  ceiling: 50 such scans on every core / its speed-up",
        format!("{ceiling:.1} ms / {:.1}×", cli / ceiling),
        "",
    );
    row(
        "  floor: the 50 only listed and lstat'ed, no git (median of 3)",
        format!("{floor:.1} ms / {:.1}×", cli / floor),
        "",
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap()
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// B4: bytes per entry, and the RSS of a real idle `ff` with 1 000 to 10 000 workspaces.
async fn b4() {
    let before = rss_kib(std::process::id());
    let store = ff_server::snapshot::store::Store::new(
        ff_server::snapshot::store::StoreLimits {
            replay_frames: 0,
            ..Default::default()
        },
        ff_server::metrics::Metrics::new(),
    );
    for i in 0..20_000 {
        let patch = Patch {
            project_id: Some(ProjectId::new("p")),
            name: Some(format!("Workspace number {i}")),
            status: Some(WorkspaceStatus::Ready),
            created_at: Some(Timestamp::from_millis(1_700_000_000_000 + i)),
            branch_name: Some(Some(format!("workspace-{i}"))),
            git_stats: Some(Some(GitStats::default())),
            ..Patch::default()
        };
        store
            .upsert(
                &WorkspaceId::new(format!("w{i:05}")),
                &patch,
                "reconciliation",
                1,
                None,
            )
            .unwrap();
    }
    let per_entry = (rss_kib(std::process::id()) - before) as f64 * 1024.0 / 20_000.0;

    println!("B4 memory");
    row(
        "  bytes per entry (RSS growth over 20 000 entries)",
        format!("{per_entry:.0} B"),
        "< 2 KiB",
    );
    let mut points = Vec::new();
    for n in SCALE {
        let rss = idle_rss(n).await;
        let target = match n {
            1_000 => "< 60 MiB",
            10_000 => "< 100 MiB",
            _ => "",
        };
        row(
            &format!("  ff RSS, idle, {n} workspaces in the snapshot"),
            format!("{rss:.1} MiB"),
            target,
        );
        points.push((n, rss));
    }
    row(
        "  growth per 1 000 workspaces",
        format!("{:.1} MiB", per_thousand(&points)),
        "",
    );
}

/// The RSS of a real `ff` that restarted with `n` workspaces, served their snapshot, and idles.
async fn idle_rss(n: usize) -> f64 {
    let root = tempfile::tempdir().unwrap();
    let repo = repo(root.path(), 1);
    let server = RunningFf::start(&root.path().join("data"), "error");
    let client = common::client();
    let imported: Value = client
        .post(format!("{}/api/backup", server.url))
        .json(&backup_with(n, repo.to_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(imported["workspaces"], n);
    // Let a reconciliation pass load every workspace, then settle.
    std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    drop(server);
    let server = RunningFf::start(&root.path().join("data"), "error");
    let full: Value = client
        .get(format!("{}/api/projects/bench/snapshot", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(full["entries"].as_array().unwrap().len(), n);
    tokio::time::sleep(Duration::from_secs(2)).await;
    rss_kib(server.child.id()) as f64 / 1024.0
}

/// What one B5 run measured.
struct FanOut {
    changes_per_second: f64,
    seconds: f64,
    closes: String,
    complete: usize,
    cores: f64,
}

/// One B5 run: `sockets` sockets on one project, 100 changes/s for 30 s against a real `ff`.
async fn fan_out(sockets: usize) -> FanOut {
    let root = tempfile::tempdir().unwrap();
    let repo = repo(root.path(), 1);
    let server = RunningFf::start(&root.path().join("data"), "error");
    let client = common::client();
    client
        .post(format!("{}/api/backup", server.url))
        .json(&backup_with(50, repo.to_str().unwrap()))
        .send()
        .await
        .unwrap();
    client
        .get(format!("{}/api/projects/bench/snapshot", server.url))
        .send()
        .await
        .unwrap();
    let ws_url = format!(
        "{}/ws/snapshots?projectId=bench",
        server.url.replacen("http", "ws", 1)
    );
    let counts: Vec<Arc<std::sync::atomic::AtomicU64>> =
        (0..sockets).map(|_| Arc::default()).collect();
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel(sockets);
    let mut readers = Vec::new();
    for count in &counts {
        let (url, count, ready) = (ws_url.clone(), count.clone(), ready_tx.clone());
        readers.push(tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(common::socket::authorized(&url))
                .await
                .unwrap();
            let _ = ready.send(()).await;
            while let Some(Ok(message)) = ws.next().await {
                if matches!(message, Message::Text(_)) {
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for _ in 0..sockets {
        ready.recv().await;
    }
    let pid = server.child.id();
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let changes = 3000usize;
    for step in 0..changes {
        tick.tick().await;
        let w = format!("w{:05}", step % 50);
        client
            .put(format!("{}/api/workspaces/{w}/ratchet", server.url))
            .json(&json!({"enabled": (step / 50) % 2 == 0}))
            .send()
            .await
            .unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cores = (cpu_seconds(pid) - cpu_before) / elapsed;
    let metrics = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let closes = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ff_snapshot_overflow_closes_total "))
        .unwrap_or("0")
        .to_owned();
    let complete = counts
        .iter()
        .filter(|c| c.load(std::sync::atomic::Ordering::Relaxed) >= (changes as u64 + 1))
        .count();
    // The next run's sockets must not share the machine with these.
    for reader in readers {
        reader.abort();
    }
    FanOut {
        changes_per_second: changes as f64 / elapsed,
        seconds: elapsed,
        closes,
        complete,
        cores,
    }
}

/// B5: 500 and 2 000 sockets on one project, 100 changes/s for 30 s against a real `ff`.
async fn b5() {
    let mut points = Vec::new();
    for sockets in [500, 2_000] {
        let run = fan_out(sockets).await;
        println!(
            "B5 fan-out: {sockets} sockets on one project, {:.0} changes/s for {:.0} s",
            run.changes_per_second, run.seconds
        );
        row("  1013 closes", run.closes, "0");
        row(
            "  sockets that received every frame",
            format!("{} / {sockets}", run.complete),
            &sockets.to_string(),
        );
        let target = if sockets == 500 { "< 1 core" } else { "" };
        row("  ff CPU", format!("{:.2} cores", run.cores), target);
        points.push((sockets, run.cores));
    }
    row(
        "  growth per 1 000 sockets (ff CPU)",
        format!("{:.2} cores", per_thousand(&points)),
        "",
    );
}

/// `cargo bench -p ff-server --bench snapshot [-- b1 b3 …]`: all of them, or the ones named.
#[tokio::main]
async fn main() {
    let chosen: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.starts_with('b'))
        .collect();
    let run = |name: &str| chosen.is_empty() || chosen.iter().any(|c| c == name);
    println!("{:<58} {:>22}   target", "benchmark", "measured");
    if run("b1") {
        b1().await;
    }
    if run("b2") {
        b2();
    }
    if run("b3") {
        b3().await;
    }
    if run("b4") {
        b4().await;
    }
    if run("b5") {
        b5().await;
    }
}
