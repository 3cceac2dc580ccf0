//! The snapshot over HTTP (first load, polling fallback) and over the socket (api.md §3).

use super::error::AppError;
use super::extract::{ApiPath, ApiQuery};
use super::AppState;
use crate::snapshot::store::{Baseline, Change, ResyncReason};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use ff_core::api::ErrorCode;
use ff_core::ids::ProjectId;
use ff_core::wire::Cursor;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

async fn live_project(state: &AppState, id: &ProjectId) -> Result<(), AppError> {
    state.projects.get(id).await?;
    Ok(())
}

pub async fn full(
    State(state): State<AppState>,
    ApiPath(project): ApiPath<ProjectId>,
) -> Result<Response, AppError> {
    live_project(&state, &project).await?;
    let store = &state.snapshot.store;
    let _ = tokio::time::timeout(super::FIRST_PASS_WAIT, store.wait_ready()).await;
    Ok((
        [(CONTENT_TYPE, "application/json")],
        store.full_json(&project),
    )
        .into_response())
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SocketQuery {
    project_id: ProjectId,
    since: Option<String>,
}

/// The client sends nothing but pongs and a close: anything bigger is refused before it is read.
pub const INBOUND_LIMIT: usize = 4 * 1024;

pub async fn socket(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SocketQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let since = query
        .since
        .as_deref()
        .map(str::parse::<Cursor>)
        .transpose()
        .map_err(|e| AppError::new(ErrorCode::BadRequest, e.to_string()))?;
    live_project(&state, &query.project_id).await?;
    let upgrade = upgrade.map_err(|e| {
        AppError::new(
            ErrorCode::BadRequest,
            format!("expected a WebSocket upgrade: {e}"),
        )
    })?;
    Ok(upgrade
        .max_message_size(INBOUND_LIMIT)
        .max_frame_size(INBOUND_LIMIT)
        .on_upgrade(move |socket| serve(socket, state, query.project_id, since)))
}

async fn serve(socket: WebSocket, state: AppState, project: ProjectId, since: Option<Cursor>) {
    let store = state.snapshot.store.clone();
    let metrics = state.metrics.clone();
    let config = &state.snapshot.config;
    tokio::select! {
        () = store.wait_ready() => {}
        () = state.shutdown.cancelled() => return,
    }
    let (attachment, reason) = store.attach(&project, since.as_ref());
    match (&since, &attachment.baseline, reason) {
        (Some(_), Baseline::Replay(_), _) => metrics.replay_hits.inc(),
        (Some(_), Baseline::Full(_), reason) if reason != ResyncReason::None => {
            metrics.resyncs.with_label_values(&[reason.label()]).inc();
        }
        _ => {}
    }
    metrics.sockets.inc();
    let (queue, mut queued) = mpsc::channel::<Arc<Change>>(config.socket_queue.max(1));
    let overflowed = CancellationToken::new();
    let pump = tokio::spawn(pump(
        attachment.baseline,
        attachment.seq,
        attachment.live,
        project,
        queue,
        overflowed.clone(),
    ));
    let (mut sink, mut stream) = socket.split();
    let answered = Arc::new(AtomicBool::new(true));
    let closed = CancellationToken::new();
    let reader = {
        let answered = answered.clone();
        let closed = closed.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                match message {
                    Message::Pong(_) => answered.store(true, Ordering::Relaxed),
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            closed.cancel();
        })
    };
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + config.ping_interval,
        config.ping_interval,
    );
    let limit = config.send_timeout;
    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    let slow_reader = loop {
        tokio::select! {
            biased;
            () = state.shutdown.cancelled() => {
                send_within(&mut sink, limit, close(1001, "server shutting down")).await;
                break false;
            }
            () = closed.cancelled() => break false,
            // Everything queued is dropped: the client resumes from the last frame it got.
            () = overflowed.cancelled() => break true,
            _ = ping.tick() => {
                if !answered.swap(false, Ordering::Relaxed) {
                    tracing::debug!("closing a snapshot socket that missed its pong");
                    break false;
                }
                if !send_within(&mut sink, limit, Message::Ping(Default::default())).await {
                    break true;
                }
            }
            Some(change) = queued.recv() => {
                if !send_within(&mut sink, limit, Message::Text(change.frame.as_ref().into())).await {
                    break true;
                }
                if let Some(origin) = change.origin {
                    metrics.push_latency.observe(origin.elapsed().as_secs_f64());
                }
            }
        }
    };
    if slow_reader {
        metrics.overflow_closes.inc();
        // Best effort: a full window may not take even the close frame; dropping the socket then
        // closes the connection anyway.
        send_within(&mut sink, limit, close(1013, "try again later")).await;
    }
    pump.abort();
    reader.abort();
    metrics.sockets.dec();
}

/// Every send is bounded: a client that stops reading fills its TCP window, and an unbounded send
/// would keep the socket's loop from ever seeing the ping check or the overflow.
async fn send_within(
    sink: &mut SplitSink<WebSocket, Message>,
    limit: std::time::Duration,
    message: Message,
) -> bool {
    matches!(
        tokio::time::timeout(limit, sink.send(message)).await,
        Ok(Ok(()))
    )
}

/// Baseline first, then every live change of this project after it, into the socket's bounded
/// queue. A subscriber that cannot keep up is marked overflowed, never silently skipped.
async fn pump(
    baseline: Baseline,
    mut last: u64,
    mut live: broadcast::Receiver<Arc<Change>>,
    project: ProjectId,
    queue: mpsc::Sender<Arc<Change>>,
    overflowed: CancellationToken,
) {
    let initial = match baseline {
        Baseline::Full(change) => vec![change],
        Baseline::Replay(changes) => changes,
    };
    for change in initial {
        if queue.send(change).await.is_err() {
            return;
        }
    }
    loop {
        match live.recv().await {
            Ok(change) if change.project_id != project || change.seq <= last => {}
            Ok(change) => {
                last = change.seq;
                match queue.try_send(change) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => return overflowed.cancel(),
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => return overflowed.cancel(),
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
