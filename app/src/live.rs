//! The one client cache of a project (snapshot.md §6): seeded from the server-rendered baseline,
//! then fed by the socket. Sidebar, board and list all read it, so they cannot disagree.

use ff_core::cache::SnapshotCache;
use ff_core::entry::Entry;
use ff_core::ids::ProjectId;
use ff_core::wire::Frame;
use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Before the first socket opened (and on the server).
    Connecting,
    /// Only the browser opens sockets.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Live,
    /// The socket dropped: reconnecting with backoff, polling meanwhile.
    Reconnecting,
}

#[derive(Clone, Copy)]
pub struct Live {
    pub cache: RwSignal<SnapshotCache>,
    pub connection: RwSignal<Connection>,
    /// Every visible entry in the one order all views use (newest first, then id).
    pub entries: Memo<Vec<Entry>>,
}

impl Live {
    pub fn new(project: ProjectId, baseline: Frame) -> Self {
        let mut cache = SnapshotCache::new(project);
        cache.apply(baseline);
        let cache = RwSignal::new(cache);
        let entries =
            Memo::new(move |_| cache.with(|c| c.ordered().into_iter().cloned().collect()));
        let live = Self {
            cache,
            connection: RwSignal::new(Connection::Connecting),
            entries,
        };
        #[cfg(feature = "hydrate")]
        socket::start(live);
        live
    }
}

#[cfg(feature = "hydrate")]
mod socket {
    use super::{Connection, Live};
    use ff_core::cache::Applied;
    use ff_core::wire::Frame;
    use futures_util::future::{select, Either};
    use futures_util::StreamExt;
    use gloo_net::websocket::{futures::WebSocket, Message, State};
    use gloo_timers::future::sleep;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    const FIRST_RETRY: Duration = Duration::from_millis(500);
    const LONGEST_RETRY: Duration = Duration::from_secs(30);

    /// Runs for as long as the page shows the project: the socket, reconnected forever with
    /// capped, jittered backoff and resumed with `since`; polling only while it is down.
    pub fn start(live: Live) {
        let running = Arc::new(AtomicBool::new(true));
        let stop = running.clone();
        on_cleanup(move || stop.store(false, Ordering::Relaxed));
        spawn_local(connect_forever(live, running.clone()));
        spawn_local(poll_while_disconnected(live, running));
    }

    async fn connect_forever(live: Live, running: Arc<AtomicBool>) {
        let mut failures = 0u32;
        while running.load(Ordering::Relaxed) {
            if let Ok(socket) = WebSocket::open(&url(&live)) {
                if opened(&socket, &running).await {
                    failures = 0;
                    live.connection.set(Connection::Live);
                    read(live, socket, &running).await;
                }
            }
            if !running.load(Ordering::Relaxed) {
                return;
            }
            live.connection.set(Connection::Reconnecting);
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

    /// Applies frames until the socket closes or the page goes away (checked every second, so
    /// a quiet socket of a page that left does not linger).
    async fn read(live: Live, socket: WebSocket, running: &AtomicBool) {
        let (_, mut frames) = socket.split();
        loop {
            let next = select(frames.next(), Box::pin(sleep(Duration::from_secs(1)))).await;
            if !running.load(Ordering::Relaxed) {
                return;
            }
            let message = match next {
                Either::Left((Some(Ok(message)), _)) => message,
                Either::Left(_) => return,
                Either::Right(_) => continue,
            };
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(frame) = serde_json::from_str::<Frame>(&text) else {
                continue;
            };
            if matches!(
                live.cache.try_update(|c| c.apply(frame)),
                Some(Applied::ResyncNeeded(_))
            ) {
                // Our cursor means nothing to this server: reconnect for a full.
                live.cache.update(|c| c.forget_cursor());
                return;
            }
        }
    }

    async fn poll_while_disconnected(live: Live, running: Arc<AtomicBool>) {
        let interval = Duration::from_millis(u64::from(crate::poll_interval_ms()));
        loop {
            sleep(interval).await;
            if !running.load(Ordering::Relaxed) {
                return;
            }
            if live.connection.get_untracked() != Connection::Reconnecting {
                continue;
            }
            let project = live.cache.with_untracked(|c| c.project_id().clone());
            let polled =
                crate::api::get_json::<Frame>(format!("/api/projects/{project}/snapshot")).await;
            // The socket may have come back meanwhile; its frames are newer than this poll.
            if let (Ok(frame), Connection::Reconnecting) = (polled, live.connection.get_untracked())
            {
                live.cache.update(|c| {
                    c.apply(frame);
                });
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

    fn url(live: &Live) -> String {
        let location = web_sys::window().expect("a browser window").location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let host = location.host().unwrap_or_default();
        live.cache.with_untracked(|c| {
            let mut url = format!(
                "{scheme}://{host}/ws/snapshots?projectId={}",
                c.project_id()
            );
            if let Some(cursor) = c.cursor() {
                url.push_str(&format!("&since={cursor}"));
            }
            url
        })
    }
}
