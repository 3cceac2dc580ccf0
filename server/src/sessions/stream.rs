//! The live stream of one session (`/ws/sessions/{id}`): every frame gets the next number of one
//! process-wide counter and is kept in a bounded replay buffer, so that a page that reconnects
//! with `since` gets exactly what it missed, or a fresh baseline when that is no longer possible.

use ff_core::chat::ChatFrame;
use ff_core::wire::{Cursor, Epoch};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};

/// Frames and bytes kept per session for resuming.
const REPLAY_FRAMES: usize = 2048;
const REPLAY_BYTES: usize = 2 * 1024 * 1024;
/// Frames a slow subscriber may fall behind the live stream before it is resynced (the socket
/// then resumes from the replay buffer).
const LIVE_QUEUE: usize = 1024;

/// A frame as it goes on the wire.
#[derive(Debug)]
pub struct Sent {
    pub seq: u64,
    pub json: Arc<str>,
}

/// What a new subscriber starts from.
pub enum Start {
    /// Everything after the subscriber's cursor (possibly nothing).
    Replay(Vec<Arc<Sent>>),
    /// The cursor is unknown here: the subscriber needs a baseline at this seq.
    Baseline { seq: u64 },
}

pub struct Hub {
    epoch: Epoch,
    counter: Arc<AtomicU64>,
    inner: Mutex<Inner>,
    /// Why the stream ended for good (the session was deleted, its workspace archived).
    farewell: watch::Sender<Option<Farewell>>,
}

/// How a socket of a stream that ended is closed: a WebSocket close code of ff's own range and
/// a reason the page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Farewell {
    pub code: u16,
    pub reason: &'static str,
}

impl Farewell {
    pub const DELETED: Self = Self {
        code: 4404,
        reason: "This session was deleted",
    };
    pub const ARCHIVED: Self = Self {
        code: 4410,
        reason: "This workspace was archived",
    };
}

struct Inner {
    replay: VecDeque<Arc<Sent>>,
    bytes: usize,
    /// The seq of the newest frame dropped from the replay buffer.
    evicted: u64,
    /// Made when the first subscriber comes: most sessions are never watched live, and the
    /// channel's buffer is allocated whole.
    live: Option<broadcast::Sender<Arc<Sent>>>,
}

impl Hub {
    pub fn new(epoch: Epoch, counter: Arc<AtomicU64>) -> Self {
        Self {
            epoch,
            counter,
            inner: Mutex::new(Inner {
                replay: VecDeque::new(),
                bytes: 0,
                evicted: 0,
                live: None,
            }),
            farewell: watch::channel(None).0,
        }
    }

    /// Ends the stream for good: every socket on it is closed with `farewell`.
    pub fn end(&self, farewell: Farewell) {
        self.farewell.send_replace(Some(farewell));
    }

    /// Resolves with the farewell once the stream ended for good (never, if it did not).
    pub fn ended(&self) -> impl std::future::Future<Output = Farewell> + Send + 'static {
        let mut farewell = self.farewell.subscribe();
        async move {
            let said = match farewell.wait_for(Option::is_some).await {
                Ok(farewell) => farewell.clone(),
                Err(_) => None,
            };
            match said {
                Some(farewell) => farewell,
                // The actor ended without a farewell (ff stops): its shutdown closes the socket.
                None => std::future::pending().await,
            }
        }
    }

    pub fn epoch(&self) -> &Epoch {
        &self.epoch
    }

    /// Numbers, records and sends one frame. `frame` is built with its epoch and seq.
    pub fn publish(&self, frame: impl FnOnce(Epoch, u64) -> ChatFrame) {
        let mut inner = self.inner.lock().expect("session stream lock");
        let seq = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let json: Arc<str> = match serde_json::to_string(&frame(self.epoch.clone(), seq)) {
            Ok(json) => json.into(),
            Err(e) => {
                tracing::error!("cannot serialize a chat frame: {e}");
                return;
            }
        };
        let sent = Arc::new(Sent { seq, json });
        inner.bytes += sent.json.len();
        inner.replay.push_back(sent.clone());
        while inner.replay.len() > REPLAY_FRAMES || inner.bytes > REPLAY_BYTES {
            match inner.replay.pop_front() {
                Some(old) => {
                    inner.bytes -= old.json.len();
                    inner.evicted = old.seq;
                }
                None => break,
            }
        }
        // No subscriber is fine: the replay buffer and the transcript keep everything.
        if let Some(live) = &inner.live {
            let _ = live.send(sent);
        }
    }

    /// The seq a baseline taken now stands at: every frame of this session published so far is
    /// at or below it, and every later one above it.
    pub fn seq(&self) -> u64 {
        let _publishing = self.inner.lock().expect("session stream lock");
        self.counter.load(Ordering::Relaxed)
    }

    /// Subscribes first, then decides the start under the same lock, so nothing published in
    /// between is lost or repeated.
    pub fn attach(&self, since: Option<&Cursor>) -> (Start, broadcast::Receiver<Arc<Sent>>) {
        let mut inner = self.inner.lock().expect("session stream lock");
        let live = inner
            .live
            .get_or_insert_with(|| broadcast::channel(LIVE_QUEUE).0)
            .subscribe();
        let current = self.counter.load(Ordering::Relaxed);
        let start = match since {
            Some(cursor) if cursor.epoch == self.epoch => {
                // The buffer holds every frame of this session newer than the last one it dropped.
                if cursor.seq >= inner.evicted && cursor.seq <= current {
                    Start::Replay(
                        inner
                            .replay
                            .iter()
                            .filter(|f| f.seq > cursor.seq)
                            .cloned()
                            .collect(),
                    )
                } else {
                    Start::Baseline { seq: current }
                }
            }
            _ => Start::Baseline { seq: current },
        };
        (start, live)
    }

    #[cfg(test)]
    fn replay_len(&self) -> usize {
        self.inner.lock().expect("session stream lock").replay.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::transcript::{Item, ItemBody};

    fn hub() -> Hub {
        Hub::new(Epoch::parse("e").unwrap(), Arc::default())
    }

    fn append(hub: &Hub, text: &str) {
        hub.publish(|epoch, seq| ChatFrame::Append {
            epoch,
            seq,
            item_seq: 1,
            text: text.into(),
        });
    }

    #[test]
    fn a_known_cursor_replays_exactly_what_was_missed() {
        let hub = hub();
        for text in ["a", "b", "c"] {
            append(&hub, text);
        }
        let cursor = Cursor {
            epoch: hub.epoch().clone(),
            seq: 1,
        };
        let (Start::Replay(frames), _) = hub.attach(Some(&cursor)) else {
            panic!("a replay")
        };
        assert_eq!(frames.iter().map(|f| f.seq).collect::<Vec<_>>(), [2, 3]);
        let (Start::Replay(none), _) = hub.attach(Some(&Cursor {
            seq: 3,
            ..cursor.clone()
        })) else {
            panic!("an empty replay")
        };
        assert!(none.is_empty());
        for unknown in [
            Cursor {
                epoch: Epoch::parse("other").unwrap(),
                seq: 1,
            },
            Cursor {
                seq: 99,
                ..cursor.clone()
            },
        ] {
            assert!(
                matches!(hub.attach(Some(&unknown)).0, Start::Baseline { seq: 3 }),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn the_replay_buffer_is_bounded_and_an_old_cursor_gets_a_baseline() {
        let hub = hub();
        let big = "x".repeat(64 * 1024);
        for _ in 0..100 {
            hub.publish(|epoch, seq| ChatFrame::Item {
                epoch,
                seq,
                item: Box::new(Item {
                    seq: 1,
                    at: ff_core::ids::Timestamp::from_millis(0).unwrap(),
                    body: ItemBody::Agent { text: big.clone() },
                }),
            });
        }
        assert!(hub.replay_len() < 40, "{}", hub.replay_len());
        let cursor = Cursor {
            epoch: hub.epoch().clone(),
            seq: 1,
        };
        assert!(matches!(
            hub.attach(Some(&cursor)).0,
            Start::Baseline { seq: 100 }
        ));
    }
}
