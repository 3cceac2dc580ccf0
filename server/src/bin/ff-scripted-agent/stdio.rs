//! Newline-delimited JSON-RPC on stdin/stdout, with a way to exit right after everything sent
//! so far is written.
//!
//! The crate writes outgoing messages from its own queue, so a plain `process::exit` in a turn
//! could lose updates still queued. Instead the turn queues a marker notification behind them;
//! the writer exits when the marker reaches it, without writing the marker. Raw output (bytes no
//! JSON-RPC peer would send, or closing stdout) is queued the same way, in order with the rest.

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

macro_rules! raw_method {
    () => {
        "_ff_scripted_agent/raw"
    };
}
const RAW_METHOD: &str = raw_method!();
const RAW_MARKER: &str = concat!("\"method\":\"", raw_method!(), "\"");

static EXIT_CODE: AtomicI32 = AtomicI32::new(0);

/// What the writer does instead of writing a raw marker.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Raw {
    /// These bytes as they are.
    Bytes(Vec<u8>),
    /// `len` bytes of `x`, then a newline unless `newline` is false.
    Long { len: usize, newline: bool },
    /// Closes stdout; the process goes on.
    Close,
}

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
    let outgoing = futures_util::sink::unfold(
        Some(tokio::io::stdout()),
        |stdout, line: String| async move {
            // After a `Close` everything is dropped, as a closed pipe would drop it.
            let Some(mut stdout) = stdout else {
                return Ok(None);
            };
            if line.contains(EXIT_MARKER) {
                stdout.flush().await?;
                std::process::exit(EXIT_CODE.load(Ordering::SeqCst));
            }
            if line.contains(RAW_MARKER) {
                return write_raw(stdout, &line).await;
            }
            stdout.write_all(line.as_bytes()).await?;
            stdout.write_all(b"\n").await?;
            stdout.flush().await?;
            Ok(Some(stdout))
        },
    );
    Lines::new(outgoing, incoming)
}

async fn write_raw(
    mut stdout: tokio::io::Stdout,
    marker: &str,
) -> io::Result<Option<tokio::io::Stdout>> {
    let raw: Raw = serde_json::from_str::<serde_json::Value>(marker)
        .ok()
        .and_then(|m| serde_json::from_value(m["params"]["raw"].clone()).ok())
        .ok_or_else(|| io::Error::other("a malformed raw marker"))?;
    match raw {
        Raw::Bytes(bytes) => stdout.write_all(&bytes).await?,
        Raw::Long { len, newline } => {
            let block = vec![b'x'; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(block.len());
                stdout.write_all(&block[..n]).await?;
                left -= n;
            }
            if newline {
                stdout.write_all(b"\n").await?;
            }
        }
        Raw::Close => {
            stdout.flush().await?;
            drop(stdout);
            // The pipe itself: dropping tokio's handle leaves descriptor 1 open, so /dev/null
            // takes its place and the pipe's last write end closes.
            let null = std::fs::File::create("/dev/null")?;
            nix::unistd::dup2_stdout(&null).map_err(io::Error::from)?;
            return Ok(None);
        }
    }
    stdout.flush().await?;
    Ok(Some(stdout))
}

/// Queues raw output behind every message sent so far.
pub fn raw(cx: &ConnectionTo<Client>, raw: &Raw) -> Result<(), agent_client_protocol::Error> {
    // JSON-RPC params are an object.
    let marker = UntypedMessage::new(RAW_METHOD, serde_json::json!({ "raw": raw }))?;
    cx.send_notification(marker)
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
