//! ff's sockets as the browser keeps them: open for as long as the page shows them, reconnected
//! forever with capped, jittered backoff. What a frame means, and where to resume, is the
//! caller's.

use crate::live::Connection;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use gloo_net::websocket::{futures::WebSocket, Message, State, WebSocketError};
use gloo_timers::future::sleep;
use leptos::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The close code of a socket whose login token was rotated away.
const LOGGED_OUT: u16 = 1008;
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// What the socket does after a frame.
pub enum After {
    Continue,
    /// The frame did not fit what the page holds: close and connect again (the caller has
    /// forgotten its cursor, so the next connection starts from a baseline).
    Reconnect,
}

/// A flag that stays true while the calling component is mounted.
pub fn while_mounted() -> Arc<AtomicBool> {
    let running = Arc::new(AtomicBool::new(true));
    let stop = running.clone();
    on_cleanup(move || stop.store(false, Ordering::Relaxed));
    running
}

/// Connects to `url()` (asked again before every attempt, so it carries the latest cursor) and
/// hands every text frame to `frame`, until `running` turns false, or until the server ends the
/// stream for good (a close code of ff's own range, 4000–4999): then `ended` gets its reason and
/// nothing reconnects.
pub async fn connect_forever(
    url: impl Fn() -> String,
    connection: impl Fn(Connection),
    ended: impl Fn(String),
    running: Arc<AtomicBool>,
    mut frame: impl FnMut(&str) -> After,
) {
    let mut failures = 0u32;
    while running.load(Ordering::Relaxed) {
        if let Ok(socket) = WebSocket::open(&url()) {
            if opened(&socket, &running).await {
                failures = 0;
                connection(Connection::Live);
                if let Some(reason) = read(socket, &running, &mut frame).await {
                    connection(Connection::Ended);
                    ended(reason);
                    return;
                }
            }
        }
        if !running.load(Ordering::Relaxed) {
            return;
        }
        connection(Connection::Reconnecting);
        sleep(backoff(failures)).await;
        failures = failures.saturating_add(1);
    }
}

/// Waits for the socket to open: a resumed connection with nothing missed sends no frame,
/// and must still count as live.
async fn opened(socket: &WebSocket, running: &AtomicBool) -> bool {
    while matches!(socket.state(), State::Connecting) && running.load(Ordering::Relaxed) {
        sleep(Duration::from_millis(20)).await;
    }
    matches!(socket.state(), State::Open)
}

/// Hands frames over until the socket closes or the page goes away (checked every second, so
/// a quiet socket of a page that left does not linger). Says why when the server ended the
/// stream for good.
async fn read(
    socket: WebSocket,
    running: &AtomicBool,
    frame: &mut impl FnMut(&str) -> After,
) -> Option<String> {
    let (_, mut frames) = socket.split();
    loop {
        let next = select(frames.next(), Box::pin(sleep(Duration::from_secs(1)))).await;
        if !running.load(Ordering::Relaxed) {
            return None;
        }
        let message = match next {
            Either::Left((Some(Ok(message)), _)) => message,
            Either::Left((Some(Err(WebSocketError::ConnectionClose(close))), _))
                if close.code == LOGGED_OUT =>
            {
                crate::api::logged_out();
                return None;
            }
            Either::Left((Some(Err(WebSocketError::ConnectionClose(close))), _))
                if (4000..5000).contains(&close.code) =>
            {
                return Some(close.reason);
            }
            Either::Left(_) => return None,
            Either::Right(_) => continue,
        };
        if let Message::Text(text) = message {
            if let After::Reconnect = frame(&text) {
                return None;
            }
        }
    }
}

/// 0.5 s doubling to 30 s, ±25 % so that many pages do not retry in step.
fn backoff(failures: u32) -> Duration {
    let base = FIRST_RETRY
        .saturating_mul(1 << failures.min(6))
        .min(LONGEST_RETRY);
    base.mul_f64(0.75 + 0.5 * js_sys::Math::random())
}

/// `ws://` or `wss://` and this page's host, then `path`.
pub fn url(path: &str) -> String {
    let location = web_sys::window().expect("a browser window").location();
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}{path}")
}
