//! The snapshot over HTTP (first load, polling fallback) and over the socket (api.md §3).

use super::auth::Admitted;
use super::error::AppError;
use super::extract::{ApiPath, ApiQuery};
use super::socket;
use super::AppState;
use crate::snapshot::store::{Baseline, Change, ResyncReason};
use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ff_core::ids::ProjectId;
use ff_core::wire::Cursor;
use serde::Deserialize;
use std::sync::Arc;

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
    let body = Bytes::from_owner(SharedFrame(store.full_frame(&project)));
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

/// A frame as a body without copying it: a large project's snapshot is shared with the store
/// and every socket.
struct SharedFrame(Arc<Change>);

impl AsRef<[u8]> for SharedFrame {
    fn as_ref(&self) -> &[u8] {
        self.0.frame.as_bytes()
    }
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

pub async fn socket(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SocketQuery>,
    Extension(admitted): Extension<Admitted>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let since = socket::since(query.since.as_deref())?;
    live_project(&state, &query.project_id).await?;
    let ends = socket::Ends::new(&state, admitted);
    Ok(socket::upgrade(upgrade)?
        .on_upgrade(move |ws| serve(ws, state, query.project_id, since, ends)))
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    project: ProjectId,
    since: Option<Cursor>,
    ends: socket::Ends,
) {
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
    let initial = match attachment.baseline {
        Baseline::Full(change) => vec![change],
        Baseline::Replay(changes) => changes,
    };
    let mut last = attachment.seq;
    let wanted = move |change: &Change| {
        let new = change.project_id == project && change.seq > last;
        if new {
            last = change.seq;
        }
        new
    };
    let latency = metrics.push_latency.clone();
    let meters = socket::Meters {
        open: metrics.sockets.clone(),
        slow_closes: metrics.overflow_closes.clone(),
        sent: Box::new(move |origin| {
            if let Some(origin) = origin {
                latency.observe(origin.elapsed().as_secs_f64());
            }
        }),
    };
    let limits = socket::Limits {
        queue: config.socket_queue,
        ping_interval: config.ping_interval,
        send_timeout: config.send_timeout,
    };
    socket::run(
        socket,
        initial,
        attachment.live,
        wanted,
        &limits,
        meters,
        ends,
        // A project's board streams for as long as ff runs.
        std::future::pending(),
    )
    .await;
}

impl socket::Outgoing for Change {
    fn text(&self) -> &str {
        &self.frame
    }

    fn origin(&self) -> Option<std::time::Instant> {
        self.origin
    }
}
