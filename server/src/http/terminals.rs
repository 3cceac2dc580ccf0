//! Terminals over HTTP, and their socket: the scrollback then live output as binary frames;
//! keystrokes (binary) and resizes (text) from the browser. Like every socket of ff it pings,
//! bounds each send, closes with 1013 a client that falls behind (it reattaches and gets the
//! scrollback), with 1001 at shutdown and 1008 when the token is rotated; and with 1000 when
//! the terminal ends.

use super::auth::Admitted;
use super::error::AppError;
use super::extract::{ApiJson, ApiPath};
use super::socket::{self, close, send_within};
use super::AppState;
use crate::terminals::{Attachment, Input};
use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use ff_core::api::ErrorCode;
use ff_core::ids::{TerminalId, WorkspaceId};
use ff_core::terminals::{checked_size, Control, OpenTerminal, TerminalInfo, MAX_INPUT_FRAME};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;

pub async fn open(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
    ApiJson(request): ApiJson<OpenTerminal>,
) -> Result<(StatusCode, Json<TerminalInfo>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(state.open_terminal.open(&workspace, request).await?),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
) -> Result<Json<Vec<TerminalInfo>>, AppError> {
    Ok(Json(state.open_terminal.list(&workspace).await?))
}

pub async fn end(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TerminalId>,
) -> Result<StatusCode, AppError> {
    state.terminals.end(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn socket(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<TerminalId>,
    Extension(admitted): Extension<Admitted>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let upgrade = upgrade.map_err(|e| {
        AppError::new(
            ErrorCode::BadRequest,
            format!("expected a WebSocket upgrade: {e}"),
        )
    })?;
    let attachment = state.terminals.attach(&id)?;
    let ends = socket::Ends::new(&state, admitted);
    Ok(upgrade
        .max_message_size(MAX_INPUT_FRAME)
        .max_frame_size(MAX_INPUT_FRAME)
        .on_upgrade(move |ws| serve(ws, state, attachment, ends)))
}

/// Why the socket's loop stopped.
enum Stop {
    /// Closed with this code and reason.
    Close(u16, &'static str),
    /// The client went away.
    Gone,
    /// The client fell behind: closed with 1013.
    Slow,
}

async fn serve(ws: WebSocket, state: AppState, attachment: Attachment, ends: socket::Ends) {
    let config = &state.snapshot.config;
    let (limit, ping_interval) = (config.send_timeout, config.ping_interval);
    let open = state.metrics.terminal_sockets.clone();
    open.inc();
    let Attachment {
        scrollback,
        mut live,
        input,
        ended,
    } = attachment;
    let (mut sink, mut stream) = ws.split();
    let answered = Arc::new(AtomicBool::new(true));
    let closed = CancellationToken::new();
    let refused = CancellationToken::new();
    let reader = {
        let (answered, closed, refused) = (answered.clone(), closed.clone(), refused.clone());
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let sent = match message {
                    Message::Binary(bytes) => input.send(Input::Bytes(bytes.to_vec())).await,
                    Message::Text(text) => match control(text.as_str()) {
                        Some(resize) => input.send(resize).await,
                        None => {
                            refused.cancel();
                            break;
                        }
                    },
                    Message::Pong(_) => {
                        answered.store(true, Ordering::Relaxed);
                        Ok(())
                    }
                    Message::Close(_) => break,
                    Message::Ping(_) => Ok(()),
                };
                if sent.is_err() {
                    break;
                }
            }
            closed.cancel();
        })
    };
    let mut ping =
        tokio::time::interval_at(tokio::time::Instant::now() + ping_interval, ping_interval);
    let first = scrollback.is_empty()
        || send_within(&mut sink, limit, Message::Binary(Bytes::from(scrollback))).await;
    let stop = if !first {
        Stop::Slow
    } else {
        loop {
            tokio::select! {
                biased;
                () = ends.shutdown.cancelled() => break Stop::Close(1001, "server shutting down"),
                () = ends.revoked.cancelled() => {
                    break Stop::Close(1008, "the token was rotated: log in again")
                }
                () = refused.cancelled() => {
                    break Stop::Close(1007, "a text frame must be {\"type\":\"resize\",\"cols\":…,\"rows\":…}")
                }
                () = closed.cancelled() => break Stop::Gone,
                () = ended.cancelled() => {
                    // What the shell wrote last still goes out.
                    loop {
                        match live.try_recv() {
                            Ok(chunk) => {
                                if !send_within(&mut sink, limit, binary(&chunk)).await {
                                    break;
                                }
                            }
                            Err(TryRecvError::Lagged(_)) => {}
                            Err(_) => break,
                        }
                    }
                    break Stop::Close(1000, "the terminal ended");
                }
                _ = ping.tick() => {
                    if !answered.swap(false, Ordering::Relaxed) {
                        break Stop::Gone;
                    }
                    if !send_within(&mut sink, limit, Message::Ping(Bytes::new())).await {
                        break Stop::Slow;
                    }
                }
                received = live.recv() => match received {
                    Ok(chunk) => {
                        if !send_within(&mut sink, limit, binary(&chunk)).await {
                            break Stop::Slow;
                        }
                    }
                    Err(RecvError::Lagged(_)) => break Stop::Slow,
                    Err(RecvError::Closed) => break Stop::Close(1000, "the terminal ended"),
                },
            }
        }
    };
    match stop {
        Stop::Close(code, reason) => {
            send_within(&mut sink, limit, close(code, reason)).await;
        }
        Stop::Slow => {
            state.metrics.terminal_slow_closes.inc();
            // Best effort: a full window may not take even the close frame.
            send_within(&mut sink, limit, close(1013, "try again later")).await;
        }
        Stop::Gone => {}
    }
    reader.abort();
    open.dec();
}

fn binary(chunk: &[u8]) -> Message {
    Message::Binary(Bytes::copy_from_slice(chunk))
}

/// A resize from a text frame; `None` for anything else.
fn control(text: &str) -> Option<Input> {
    match serde_json::from_str::<Control>(text).ok()? {
        Control::Resize { cols, rows } => {
            let (cols, rows) = checked_size(cols, rows).ok()?;
            Some(Input::Resize { cols, rows })
        }
    }
}
