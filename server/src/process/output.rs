//! What a child process writes, forwarded as text chunks at a bounded rate. A dev server or setup
//! script that floods its output (`yes`) is slowed by the pipe's own backpressure instead of
//! costing ff a core: no person reads megabytes a second of log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Child;
use tokio::sync::mpsc;

/// Sustained output a child may produce, across its stdout and stderr together.
const BYTES_PER_SECOND: f64 = 2.0 * 1024.0 * 1024.0;
/// Output a quiet child may produce at once before the rate applies.
const BURST: Duration = Duration::from_secs(2);
const READ_SIZE: usize = 64 * 1024;
/// Chunks in flight to the consumer: with [`READ_SIZE`], at most 2 MiB.
const CHANNEL_CHUNKS: usize = 32;

/// Forwards everything the child writes on stdout and stderr, as lossy UTF-8 chunks, until both
/// are closed.
pub fn pump_output(child: &mut Child) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
    let pace = Arc::new(Mutex::new(Pace::new(Instant::now())));
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(forward(stdout, sender.clone(), pace.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward(stderr, sender, pace));
    }
    receiver
}

/// A virtual clock that runs ahead by the time each byte "costs" (generic cell rate algorithm):
/// reading waits while it is more than [`BURST`] ahead of real time.
struct Pace {
    ahead_until: Instant,
}

impl Pace {
    fn new(now: Instant) -> Self {
        Self { ahead_until: now }
    }

    /// Accounts for `bytes` read at `now`; returns how long to wait before reading more.
    fn charge(&mut self, bytes: usize, now: Instant) -> Duration {
        let cost = Duration::from_secs_f64(bytes as f64 / BYTES_PER_SECOND);
        self.ahead_until = self.ahead_until.max(now) + cost;
        self.ahead_until.saturating_duration_since(now + BURST)
    }
}

async fn forward(
    mut reader: impl AsyncRead + Unpin,
    sender: mpsc::Sender<String>,
    pace: Arc<Mutex<Pace>>,
) {
    let mut buffer = vec![0u8; READ_SIZE];
    // Bytes of a character split across two reads wait for the rest of it.
    let mut carried: Vec<u8> = Vec::new();
    while let Ok(n) = reader.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        carried.extend_from_slice(&buffer[..n]);
        let complete = match std::str::from_utf8(&carried) {
            Ok(_) => carried.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => carried.len(),
        };
        let chunk = String::from_utf8_lossy(&carried[..complete]).into_owned();
        carried.drain(..complete);
        if !chunk.is_empty() && sender.send(chunk).await.is_err() {
            return;
        }
        let wait = pace
            .lock()
            .expect("output pace lock")
            .charge(n, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
    if !carried.is_empty() {
        let _ = sender
            .send(String::from_utf8_lossy(&carried).into_owned())
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn characters_split_across_reads_arrive_whole() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let (sender, mut received) = mpsc::channel(8);
        let pace = Arc::new(Mutex::new(Pace::new(Instant::now())));
        let forwarding = tokio::spawn(forward(reader, sender, pace));
        use tokio::io::AsyncWriteExt;
        let text = "déjà vu ✓";
        let bytes = text.as_bytes();
        writer.write_all(&bytes[..2]).await.unwrap();
        writer.flush().await.unwrap();
        tokio::task::yield_now().await;
        writer.write_all(&bytes[2..]).await.unwrap();
        drop(writer);
        forwarding.await.unwrap();
        let mut all = String::new();
        while let Ok(chunk) = received.try_recv() {
            all.push_str(&chunk);
        }
        assert_eq!(all, text);
    }

    #[test]
    fn a_burst_passes_and_a_flood_is_held_to_the_rate() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        let burst = (BYTES_PER_SECOND * BURST.as_secs_f64()) as usize;
        assert_eq!(pace.charge(burst / 2, start), Duration::ZERO);
        assert_eq!(pace.charge(burst / 2, start), Duration::ZERO);
        let wait = pace.charge(BYTES_PER_SECOND as usize, start);
        assert!(
            (wait.as_secs_f64() - 1.0).abs() < 0.01,
            "one more second of output waits a second, not {wait:?}"
        );
        // After a quiet spell the allowance is back, but never more than one burst.
        let later = start + Duration::from_secs(60);
        assert_eq!(pace.charge(burst, later), Duration::ZERO);
        assert!(pace.charge(1024, later) > Duration::ZERO);
    }
}
