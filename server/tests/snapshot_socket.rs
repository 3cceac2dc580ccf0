//! The snapshot socket over real WebSockets on port 0 (api.md §3).

mod common;

use common::repo::TestRepo;
use common::socket::{try_again_later, Client, Ended};
use common::TestApp;
use ff_core::cache::{Applied, SnapshotCache};
use ff_core::enums::WorkspaceStatus;
use ff_core::ids::{ProjectId, WorkspaceId};
use ff_core::patch::Patch;
use ff_core::wire::{Cursor, Frame};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn project(app: &TestApp, repo: &TestRepo) -> String {
    app.add_project(&repo.path).await
}

async fn connect(app: &TestApp, project: &str) -> (Client, SnapshotCache) {
    let mut client = Client::connect(&app.ws_url(&format!("projectId={project}"))).await;
    let mut cache = SnapshotCache::new(ProjectId::new(project));
    let baseline = client.frame().await;
    assert!(
        matches!(baseline, Frame::Full { .. }),
        "a fresh connection starts with a full: {baseline:?}"
    );
    assert_eq!(cache.apply(baseline), Applied::Baseline);
    (client, cache)
}

fn status_of(frame: &Frame) -> Option<WorkspaceStatus> {
    match frame {
        Frame::Changed { entry, .. } => Some(entry.raw.status),
        _ => None,
    }
}

#[tokio::test]
async fn a_watcher_sees_every_change_of_the_domains_arrive_in_order_once() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    repo.configure(json!({"scripts": {"run": "exec sleep 300"}}));
    let project = project(&app, &repo).await;
    let (mut client, mut cache) = connect(&app, &project).await;

    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Watched"}))
        .await;
    let mut frames = Vec::new();
    while !frames
        .iter()
        .any(|f| status_of(f) == Some(WorkspaceStatus::Ready))
    {
        frames.push(client.frame().await);
    }
    app.command(&format!("/api/workspaces/{id}/run-script/start"))
        .await;
    loop {
        let frame = client.frame().await;
        let running = matches!(&frame, Frame::Changed { entry, .. } if entry.raw.run_script_status == ff_core::enums::RunScriptStatus::Running);
        frames.push(frame);
        if running {
            break;
        }
    }
    app.command(&format!("/api/workspaces/{id}/archive")).await;
    loop {
        let frame = client.frame().await;
        let removed = matches!(frame, Frame::Removed { .. });
        frames.push(frame);
        if removed {
            break;
        }
    }

    let seqs: Vec<u64> = frames.iter().map(|f| f.cursor().seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "strictly increasing, no repeats: {seqs:?}"
    );
    let mut statuses: Vec<WorkspaceStatus> = frames.iter().filter_map(status_of).collect();
    statuses.dedup();
    assert_eq!(
        statuses,
        [
            WorkspaceStatus::New,
            WorkspaceStatus::Provisioning,
            WorkspaceStatus::Ready
        ],
        "every lifecycle step, in order (ARCHIVING is sent as removed)"
    );
    let versions: Vec<u64> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Changed { entry, .. } => Some(entry.version),
            _ => None,
        })
        .collect();
    assert!(
        versions.windows(2).all(|w| w[1] > w[0]),
        "each frame is a new version: {versions:?}"
    );
    for frame in frames {
        assert!(!matches!(cache.apply(frame), Applied::ResyncNeeded(_)));
    }
    assert!(
        cache.get(&WorkspaceId::new(&id)).is_none(),
        "the archived workspace left the cache"
    );
    client.close().await;
}

#[tokio::test]
async fn clients_of_two_projects_only_see_their_own() {
    let app = TestApp::spawn().await;
    let (first_repo, second_repo) = (TestRepo::new(), TestRepo::new());
    let first = project(&app, &first_repo).await;
    let second = project(&app, &second_repo).await;
    let (mut first_client, _) = connect(&app, &first).await;
    let (mut second_client, _) = connect(&app, &second).await;

    let id = app
        .create_workspace(&first, json!({"source": "MANUAL", "name": "Mine"}))
        .await;
    app.wait_for_status(&id, "READY").await;
    let frame = first_client.frame().await;
    let Frame::Changed { entry, .. } = frame else {
        panic!("expected a change, got {frame:?}")
    };
    assert_eq!(entry.workspace_id.as_str(), id);
    assert_eq!(
        second_client.try_frame(Duration::from_millis(500)).await,
        None,
        "the other project hears nothing"
    );
}

/// Toggles the ratchet `n` times: each toggle is one immediate frame.
async fn toggle(app: &TestApp, id: &str, n: usize) {
    for i in 0..n {
        let (status, _) = app
            .send(
                reqwest::Method::PUT,
                &format!("/api/workspaces/{id}/ratchet"),
                Some(json!({"enabled": i % 2 == 0})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn since_returns_exactly_the_missed_frames_in_order() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Toggled"}))
        .await;
    app.wait_for_status(&id, "READY").await;
    let (mut observer, _) = connect(&app, &project).await;
    let (leaving, cache) = connect(&app, &project).await;
    let cursor = cache.cursor().unwrap().clone();
    leaving.close().await;

    toggle(&app, &id, 5).await;
    let mut observed = Vec::new();
    for _ in 0..5 {
        observed.push(observer.frame().await);
    }

    let mut resumed =
        Client::connect(&app.ws_url(&format!("projectId={project}&since={cursor}"))).await;
    let mut replayed = Vec::new();
    for _ in 0..5 {
        replayed.push(resumed.frame().await);
    }
    assert_eq!(
        replayed, observed,
        "the same frames, in the same order, without a full"
    );
    assert_eq!(
        resumed.try_frame(Duration::from_millis(300)).await,
        None,
        "and nothing else"
    );
    assert_eq!(app.metric("ff_snapshot_replay_hits_total").await, 1.0);
}

#[tokio::test]
async fn a_foreign_epoch_or_a_cursor_older_than_the_replay_buffer_gets_a_full() {
    let app = TestApp::spawn_with(|config| config.limits.replay_frames = 2).await;
    let repo = TestRepo::new();
    let project = project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Busy"}))
        .await;
    app.wait_for_status(&id, "READY").await;
    let (old, cache) = connect(&app, &project).await;
    let cursor = cache.cursor().unwrap().clone();
    old.close().await;
    toggle(&app, &id, 4).await;

    for (since, reason) in [
        (format!("elsewhere:{}", cursor.seq), "other_epoch"),
        (cursor.to_string(), "too_old"),
    ] {
        let mut client =
            Client::connect(&app.ws_url(&format!("projectId={project}&since={since}"))).await;
        let frame = client.frame().await;
        let Frame::Full { entries, .. } = frame else {
            panic!("{reason}: expected a full, got {frame:?}")
        };
        assert_eq!(entries.len(), 1);
        assert_eq!(
            app.metric(&format!("ff_snapshot_resyncs_total{{reason=\"{reason}\"}}"))
                .await,
            1.0
        );
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_with_1013_and_resumes_without_loss() {
    let app = TestApp::spawn_with(|config| {
        config.socket_queue = 8;
        config.limits.replay_frames = 100_000;
        config.limits.replay_bytes = 512 * 1024 * 1024;
    })
    .await;
    let repo = TestRepo::new();
    let project = project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Flood"}))
        .await;
    app.wait_for_status(&id, "READY").await;
    let (mut stalled, mut cache) = connect(&app, &project).await;

    // Far more than the socket's queue and the kernel's buffers hold, while it reads nothing.
    let store = &app.snapshot.store;
    let workspace = WorkspaceId::new(&id);
    let long = "x".repeat(150);
    let total = 20_000;
    for n in 0..total {
        let patch = Patch {
            name: Some(format!("{long} {n}")),
            ..Patch::default()
        };
        store
            .upsert(&workspace, &patch, "test", 10_000_000_000_000 + n, None)
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.metric("ff_snapshot_overflow_closes_total").await < 1.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled socket was never closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (frames, ended) = stalled.until_end().await;
    assert_eq!(ended, Ended::Closed(Some(try_again_later())));
    assert!(frames.len() < total as usize, "it really fell behind");
    for frame in frames {
        assert!(!matches!(cache.apply(frame), Applied::ResyncNeeded(_)));
    }
    let cursor: Cursor = cache.cursor().unwrap().clone();
    let mut resumed =
        Client::connect(&app.ws_url(&format!("projectId={project}&since={cursor}"))).await;
    let last = format!("{long} {}", total - 1);
    while cache.get(&workspace).map(|e| e.raw.name.clone()) != Some(last.clone()) {
        let frame = resumed.frame().await;
        assert!(
            matches!(frame, Frame::Changed { .. }),
            "a resume is served from the replay buffer"
        );
        assert_eq!(
            cache.apply(frame),
            Applied::Upserted(workspace.clone()),
            "no frame is missing or repeated"
        );
    }
    assert_eq!(
        cache.cursor().unwrap().seq,
        store.full(&ProjectId::new(&project)).cursor().seq
    );
}

#[tokio::test]
async fn the_upgrade_is_refused_for_bad_requests() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = project(&app, &repo).await;
    let cases = [
        ("".to_owned(), StatusCode::BAD_REQUEST, "projectId"),
        ("projectId=nope".to_owned(), StatusCode::NOT_FOUND, "nope"),
        (
            format!("projectId={project}&since=garbage"),
            StatusCode::BAD_REQUEST,
            "since",
        ),
    ];
    for (query, status, mentions) in cases {
        let response = app
            .client
            .get(app.at(&format!("/ws/snapshots?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(mentions),
            "{query}: {body}"
        );
    }
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            app.ws_url(&format!("projectId={project}")),
        )
        .unwrap();
    request
        .headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {}", common::TOKEN).parse().unwrap(),
    );
    let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
    let tokio_tungstenite::tungstenite::Error::Http(response) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sockets_are_pinged_and_one_that_never_answers_is_dropped() {
    let app = TestApp::spawn_with(|config| config.ping_interval = Duration::from_millis(100)).await;
    let repo = TestRepo::new();
    let project = project(&app, &repo).await;
    let (mut attentive, _) = connect(&app, &project).await;
    let (mut silent, _) = connect(&app, &project).await;
    // Reading answers pings; the silent client reads nothing for a while.
    assert_eq!(attentive.try_frame(Duration::from_millis(600)).await, None);
    let (_, ended) = silent.until_end().await;
    assert_eq!(
        ended,
        Ended::Dropped,
        "no pong for a whole interval: the socket is dropped"
    );
    assert_eq!(
        app.metric("ff_snapshot_sockets").await,
        1.0,
        "the attentive client is still connected"
    );
}

#[tokio::test]
async fn shutting_down_closes_open_sockets_with_going_away() {
    let app = TestApp::spawn().await;
    let repo = TestRepo::new();
    let project = project(&app, &repo).await;
    let (mut client, _) = connect(&app, &project).await;
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.shutdown()).await;
    assert!(stopped.is_ok(), "an open socket must not hold the shutdown");
    let (_, ended) = client.until_end().await;
    assert_eq!(ended, Ended::Closed(Some(1001)));
}

/// A client that stops reading with a tiny receive window: every send to it blocks once the
/// window is full, and the socket must still be closed (not hold its frames forever), long
/// before the ping would find it dead.
#[tokio::test]
async fn a_client_with_a_full_window_that_never_reads_is_closed_before_the_ping_interval() {
    let app = TestApp::spawn_with(|config| {
        config.ping_interval = Duration::from_secs(60);
        config.send_timeout = Duration::from_millis(500);
    })
    .await;
    let repo = TestRepo::new();
    let project = project(&app, &repo).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Window"}))
        .await;
    app.wait_for_status(&id, "READY").await;

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let address = app.url.trim_start_matches("http://").parse().unwrap();
    let tcp = socket.connect(address).await.unwrap();
    let (_stalled, _) = tokio_tungstenite::client_async(
        common::socket::authorized(&app.ws_url(&format!("projectId={project}"))),
        tcp,
    )
    .await
    .unwrap();
    assert_eq!(app.metric("ff_snapshot_sockets").await, 1.0);

    let store = &app.snapshot.store;
    let workspace = WorkspaceId::new(&id);
    let long = "y".repeat(4000);
    for n in 0..3_000 {
        let patch = Patch {
            name: Some(format!("{long} {n}")),
            ..Patch::default()
        };
        store
            .upsert(&workspace, &patch, "test", 20_000_000_000_000 + n, None)
            .unwrap();
    }
    let flooded = tokio::time::Instant::now();
    while app.metric("ff_snapshot_sockets").await > 0.0 {
        assert!(
            flooded.elapsed() < Duration::from_secs(20),
            "the socket was still open 20 s after the flood (send timeout 500 ms)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.metric("ff_snapshot_overflow_closes_total").await >= 1.0);
}

/// The client sends nothing meaningful: a huge inbound frame is refused from its header, never
/// buffered.
#[tokio::test]
async fn a_ten_mib_inbound_frame_closes_the_socket_without_growing_memory() {
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let ff = common::binary::RunningFf::start(data.path(), "warn");
    let (status, project) = ff
        .post("/api/projects", Some(json!({"repoPath": repo.path})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let url = format!(
        "{}/ws/snapshots?projectId={}",
        ff.url.replacen("http", "ws", 1),
        project["id"].as_str().unwrap()
    );
    let mut client = Client::connect(&url).await;
    let _baseline = client.frame().await;
    let before = ff.memory_kib("VmHWM");
    // The server may close before the whole frame is written: the send's outcome does not matter.
    let _ = client.send_binary(vec![7u8; 10 * 1024 * 1024]).await;
    client.until_end().await;
    let grown = ff.memory_kib("VmHWM").saturating_sub(before);
    assert!(grown < 4 * 1024, "peak memory grew by {grown} KiB");
    let health = reqwest::get(format!("{}/healthz", ff.url)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the server is fine");
}
