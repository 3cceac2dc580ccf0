//! What every live socket of ff guarantees (api.md §3), whatever it streams: frames in order from
//! a baseline or a replay, then live ones; a bounded queue per socket, and a subscriber that
//! falls behind is closed with 1013 (it resumes with `since`), never silently skipped; every
//! send bounded in time; a ping every interval, and a socket that missed its pong is dropped;
//! inbound frames capped; closed with 1001 when ff shuts down.

use super::error::AppError;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use ff_core::api::ErrorCode;
use ff_core::wire::Cursor;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// The client sends nothing but pongs and a close: anything bigger is refused before it is read.
pub const INBOUND_LIMIT: usize = 4 * 1024;

/// A frame a socket sends.
pub trait Outgoing: Send + Sync + 'static {
    fn text(&self) -> &str;
    /// When the change behind it was committed, for push-latency metrics.
    fn origin(&self) -> Option<Instant> {
        None
    }
}

#[derive(Clone, Debug)]
pub struct Limits {
    /// Frames queued for one socket before it is closed with 1013.
    pub queue: usize,
    pub ping_interval: Duration,
    /// Longest a socket may take to accept one frame before it is closed with 1013.
    pub send_timeout: Duration,
}

/// Counters a socket keeps up to date.
pub struct Meters {
    pub open: prometheus::IntGauge,
    pub slow_closes: prometheus::IntCounter,
    /// Called once a frame left (push latency of the snapshot socket).
    pub sent: Box<dyn Fn(Option<Instant>) + Send + Sync>,
}

/// What ends a socket from ff's side, besides a client that falls behind.
pub struct Ends {
    /// ff shuts down: closed with 1001.
    pub shutdown: CancellationToken,
    /// The token that admitted the socket was rotated: closed with 1008.
    pub revoked: CancellationToken,
}

impl Ends {
    pub fn new(state: &super::AppState, admitted: super::auth::Admitted) -> Self {
        Self {
            shutdown: state.shutdown.clone(),
            revoked: admitted.0,
        }
    }
}

/// The cursor a client resumes from (`since`), if it gave one; a malformed one is refused.
pub fn since(text: Option<&str>) -> Result<Option<Cursor>, AppError> {
    text.map(str::parse::<Cursor>)
        .transpose()
        .map_err(|e| AppError::new(ErrorCode::BadRequest, e.to_string()))
}

/// The upgrade with inbound frames capped; a request that is not one is refused.
pub fn upgrade(
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<WebSocketUpgrade, AppError> {
    let upgrade = upgrade.map_err(|e| {
        AppError::new(
            ErrorCode::BadRequest,
            format!("expected a WebSocket upgrade: {e}"),
        )
    })?;
    Ok(upgrade
        .max_message_size(INBOUND_LIMIT)
        .max_frame_size(INBOUND_LIMIT))
}

/// Streams `initial`, then the frames of `live` that `wanted` accepts, until either side stops,
/// or until `farewell` resolves: the stream ended for good, and the socket is closed with that
/// code and reason (after the frames already queued).
#[allow(clippy::too_many_arguments)]
pub async fn run<T: Outgoing>(
    socket: WebSocket,
    initial: Vec<Arc<T>>,
    live: broadcast::Receiver<Arc<T>>,
    wanted: impl FnMut(&T) -> bool + Send + 'static,
    limits: &Limits,
    meters: Meters,
    ends: Ends,
    farewell: impl std::future::Future<Output = (u16, &'static str)> + Send,
) {
    meters.open.inc();
    let (queue, mut queued) = mpsc::channel::<Arc<T>>(limits.queue.max(1));
    let overflowed = CancellationToken::new();
    let pump = tokio::spawn(pump(initial, live, wanted, queue, overflowed.clone()));
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
        tokio::time::Instant::now() + limits.ping_interval,
        limits.ping_interval,
    );
    let limit = limits.send_timeout;
    let mut farewell = std::pin::pin!(farewell);
    let slow_reader = loop {
        tokio::select! {
            biased;
            () = ends.shutdown.cancelled() => {
                send_within(&mut sink, limit, close(1001, "server shutting down")).await;
                break false;
            }
            () = ends.revoked.cancelled() => {
                send_within(&mut sink, limit, close(1008, "the token was rotated: log in again")).await;
                break false;
            }
            (code, reason) = &mut farewell => {
                // What was queued before the end still goes out.
                while let Ok(frame) = queued.try_recv() {
                    if !send_within(&mut sink, limit, Message::Text(frame.text().into())).await {
                        break;
                    }
                }
                send_within(&mut sink, limit, close(code, reason)).await;
                break false;
            }
            () = closed.cancelled() => break false,
            // Everything queued is dropped: the client resumes from the last frame it got.
            () = overflowed.cancelled() => break true,
            _ = ping.tick() => {
                if !answered.swap(false, Ordering::Relaxed) {
                    tracing::debug!("closing a socket that missed its pong");
                    break false;
                }
                if !send_within(&mut sink, limit, Message::Ping(Default::default())).await {
                    break true;
                }
            }
            Some(frame) = queued.recv() => {
                if !send_within(&mut sink, limit, Message::Text(frame.text().into())).await {
                    break true;
                }
                (meters.sent)(frame.origin());
            }
        }
    };
    if slow_reader {
        meters.slow_closes.inc();
        // Best effort: a full window may not take even the close frame; dropping the socket then
        // closes the connection anyway.
        send_within(&mut sink, limit, close(1013, "try again later")).await;
    }
    pump.abort();
    reader.abort();
    meters.open.dec();
}

pub(super) fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Every send is bounded: a client that stops reading fills its TCP window, and an unbounded send
/// would keep the socket's loop from ever seeing the ping check or the overflow.
pub(super) async fn send_within(
    sink: &mut SplitSink<WebSocket, Message>,
    limit: Duration,
    message: Message,
) -> bool {
    matches!(
        tokio::time::timeout(limit, sink.send(message)).await,
        Ok(Ok(()))
    )
}

/// Initial frames first, then every wanted live frame, into the socket's bounded queue. A
/// subscriber that cannot keep up is marked overflowed, never silently skipped.
async fn pump<T: Outgoing>(
    initial: Vec<Arc<T>>,
    mut live: broadcast::Receiver<Arc<T>>,
    mut wanted: impl FnMut(&T) -> bool,
    queue: mpsc::Sender<Arc<T>>,
    overflowed: CancellationToken,
) {
    for frame in initial {
        if queue.send(frame).await.is_err() {
            return;
        }
    }
    loop {
        match live.recv().await {
            Ok(frame) if !wanted(&frame) => {}
            Ok(frame) => match queue.try_send(frame) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => return overflowed.cancel(),
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            },
            Err(broadcast::error::RecvError::Lagged(_)) => return overflowed.cancel(),
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
