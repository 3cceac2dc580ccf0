//! ff's side of an agent's stdout, read before the `agent-client-protocol` crate sees a byte: one
//! JSON-RPC message a line, each at most `max` bytes. A line that is not UTF-8, or longer than
//! the cap, is a protocol error for that line only: logged and skipped, and an over-long line is
//! skipped as it streams by, never held in memory (a line without end cannot grow ff).

use futures_util::Stream;
use std::io;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// A line buffer grown past this by one long line is given back once the line is done.
const KEEP_CAPACITY: usize = 1024 * 1024;

/// Why the stream of lines ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The agent closed its stdout.
    Closed,
    /// Reading failed.
    Failed(String),
}

struct Reader<R> {
    input: R,
    max: usize,
    line: Vec<u8>,
    /// The line being read went past `max`: the rest of it is dropped up to its newline.
    skipping: bool,
    ended: Option<End>,
    label: String,
}

/// The lines of `input`, without their `\n` (or `\r\n`); `ended` is told why they stopped.
pub fn lines<R>(
    input: R,
    max: usize,
    label: String,
    ended: impl FnOnce(End) + Send + 'static,
) -> impl Stream<Item = io::Result<String>> + Send + 'static
where
    R: AsyncBufRead + Unpin + Send + 'static,
{
    let reader = Reader {
        input,
        max,
        line: Vec::new(),
        skipping: false,
        ended: None,
        label,
    };
    futures_util::stream::unfold(
        (reader, Some(ended)),
        |(mut reader, mut ended)| async move {
            match reader.next_line().await {
                Some(line) => Some((Ok(line), (reader, ended))),
                None => {
                    if let (Some(tell), Some(why)) = (ended.take(), reader.ended.clone()) {
                        tell(why);
                    }
                    None
                }
            }
        },
    )
}

impl<R: AsyncBufRead + Unpin> Reader<R> {
    /// The next good line; `None` at the end (the reason is in `ended`).
    async fn next_line(&mut self) -> Option<String> {
        if self.ended.is_some() {
            return None;
        }
        loop {
            let available = match self.input.fill_buf().await {
                Ok(bytes) => bytes,
                Err(e) => {
                    self.ended = Some(End::Failed(e.to_string()));
                    return None;
                }
            };
            if available.is_empty() {
                self.ended = Some(End::Closed);
                // A last line without its newline still counts.
                return if self.line.is_empty() || self.skipping {
                    None
                } else {
                    self.finish()
                };
            }
            let (part, complete) = match available.iter().position(|b| *b == b'\n') {
                Some(end) => (&available[..end], true),
                None => (available, false),
            };
            let used = part.len() + usize::from(complete);
            if !self.skipping {
                if self.line.len() + part.len() > self.max {
                    self.skipping = true;
                    self.line = Vec::new();
                } else {
                    self.line.extend_from_slice(part);
                }
            }
            self.input.consume(used);
            if complete {
                if let Some(line) = self.finish() {
                    return Some(line);
                }
            }
        }
    }

    /// The line read so far, if it is one to hand on.
    fn finish(&mut self) -> Option<String> {
        if std::mem::take(&mut self.skipping) {
            tracing::warn!(agent = %self.label, max = self.max, "protocol error: a line from the agent is longer than the limit; it was skipped");
            return None;
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        let bytes = if self.line.capacity() > KEEP_CAPACITY {
            std::mem::take(&mut self.line)
        } else {
            let line = self.line.clone();
            self.line.clear();
            line
        };
        match String::from_utf8(bytes) {
            Ok(line) => Some(line),
            Err(e) => {
                tracing::warn!(agent = %self.label, "protocol error: a line from the agent is not UTF-8 ({e}); it was skipped");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::{Arc, Mutex};
    use tokio::io::AsyncWriteExt;

    async fn read_all(input: &[u8], max: usize) -> (Vec<String>, Option<End>) {
        let why = Arc::new(Mutex::new(None));
        let told = why.clone();
        let stream = lines(
            tokio::io::BufReader::new(input.to_vec().leak() as &[u8]),
            max,
            "test".into(),
            move |end| *told.lock().unwrap() = Some(end),
        );
        let lines: Vec<String> = stream.map(Result::unwrap).collect().await;
        let end = why.lock().unwrap().clone();
        (lines, end)
    }

    #[tokio::test]
    async fn bad_lines_are_skipped_and_good_ones_kept() {
        let cases: Vec<(&[u8], Vec<&str>)> = vec![
            (b"a\nb\n", vec!["a", "b"]),
            (b"a\r\nb", vec!["a", "b"]),
            (b"\xff\xfe\nafter\n", vec!["after"]),
            (b"0123456789ABCDEF\nok\n", vec!["ok"]),
            (b"0123456789\n", vec!["0123456789"]),
            (b"01234567890\nok\n", vec!["ok"]),
            (b"0123456789ABCDEF", vec![]),
            (b"\n\n", vec!["", ""]),
            (b"", vec![]),
        ];
        for (input, expected) in cases {
            let (got, end) = read_all(input, 10).await;
            assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(input));
            assert_eq!(end, Some(End::Closed));
        }
    }

    #[tokio::test]
    async fn a_line_without_end_is_never_held_in_memory() {
        let (mut writer, input) = tokio::io::duplex(64 * 1024);
        let mut reader = Reader {
            input: tokio::io::BufReader::with_capacity(8 * 1024, input),
            max: 1024,
            line: Vec::new(),
            skipping: false,
            ended: None,
            label: "test".into(),
        };
        let feeder = tokio::spawn(async move {
            let block = vec![b'x'; 64 * 1024];
            // 64 MiB and no newline, then the agent's end.
            for _ in 0..1024 {
                writer.write_all(&block).await.unwrap();
            }
        });
        assert_eq!(reader.next_line().await, None);
        feeder.await.unwrap();
        assert!(
            reader.line.capacity() <= 1024,
            "held {} bytes",
            reader.line.capacity()
        );
        assert_eq!(reader.ended, Some(End::Closed));
    }
}
