//! Newline-delimited JSON-RPC on stdin/stdout, with a way to exit right after everything sent
//! so far is written.
//!
//! The crate writes outgoing messages from its own queue, so a plain `process::exit` in a turn
//! could lose updates still queued. Instead the turn queues a marker notification behind them;
//! the writer exits when the marker reaches it, without writing the marker.

use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::{Client, Lines, UntypedMessage};
use futures_util::{Sink, Stream};
use std::convert::Infallible;
use std::future::pending;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

macro_rules! exit_method {
    () => {
        "_ff_scripted_agent/exit"
    };
}
const EXIT_METHOD: &str = exit_method!();
/// The crate writes compact JSON, and a quote inside a string value is escaped, so only the
/// marker's own method member contains this.
const EXIT_MARKER: &str = concat!("\"method\":\"", exit_method!(), "\"");

static EXIT_CODE: AtomicI32 = AtomicI32::new(0);

pub fn transport(
) -> Lines<impl Sink<String, Error = io::Error>, impl Stream<Item = io::Result<String>>> {
    let incoming = futures_util::stream::unfold(
        Some(BufReader::new(tokio::io::stdin()).lines()),
        |lines| async move {
            let mut lines = lines?;
            match lines.next_line().await {
                Ok(Some(line)) => Some((Ok(line), Some(lines))),
                Ok(None) => None,
                // A read error ends the stream after reporting it.
                Err(e) => Some((Err(e), None)),
            }
        },
    );
    let outgoing =
        futures_util::sink::unfold(tokio::io::stdout(), |mut stdout, line: String| async move {
            if line.contains(EXIT_MARKER) {
                stdout.flush().await?;
                std::process::exit(EXIT_CODE.load(Ordering::SeqCst));
            }
            stdout.write_all(line.as_bytes()).await?;
            stdout.write_all(b"\n").await?;
            stdout.flush().await?;
            Ok(stdout)
        });
    Lines::new(outgoing, incoming)
}

/// Exits with `code` once every message queued before this call is on stdout.
pub async fn exit_after_output(cx: &ConnectionTo<Client>, code: i32) -> Infallible {
    EXIT_CODE.store(code, Ordering::SeqCst);
    let marker = UntypedMessage::new(EXIT_METHOD, serde_json::json!({}))
        .and_then(|marker| cx.send_notification(marker));
    if marker.is_err() {
        // The connection is already closing: nothing queued can be written anyway.
        std::process::exit(code);
    }
    pending().await
}
