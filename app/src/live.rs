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
    /// The server closed the stream for good (its session was deleted, its workspace archived).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Ended,
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
    use crate::socket::{connect_forever, url, while_mounted, After};
    use ff_core::cache::Applied;
    use ff_core::wire::Frame;
    use gloo_timers::future::sleep;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// Runs for as long as the page shows the project: the socket, resumed with `since`, and
    /// polling only while it is down.
    pub fn start(live: Live) {
        let running = while_mounted();
        let address = move || {
            live.cache.with_untracked(|c| {
                let mut path = format!("/ws/snapshots?projectId={}", c.project_id());
                if let Some(cursor) = c.cursor() {
                    path.push_str(&format!("&since={cursor}"));
                }
                url(&path)
            })
        };
        spawn_local(connect_forever(
            address,
            move |state| live.connection.set(state),
            // A project's board is never ended by the server.
            |_| {},
            running.clone(),
            move |text| apply(live, text),
        ));
        spawn_local(poll_while_disconnected(live, running));
    }

    fn apply(live: Live, text: &str) -> After {
        let Ok(frame) = serde_json::from_str::<Frame>(text) else {
            return After::Continue;
        };
        let before = match &frame {
            Frame::Changed { entry, .. } => live
                .cache
                .with_untracked(|c| c.get(&entry.workspace_id).cloned()),
            _ => None,
        };
        match live.cache.try_update(|c| c.apply(frame)) {
            Some(Applied::ResyncNeeded(_)) => {
                // Our cursor means nothing to this server: reconnect for a full.
                live.cache.update(|c| c.forget_cursor());
                return After::Reconnect;
            }
            Some(Applied::Upserted(id)) => {
                if let (Some(before), Some(after)) =
                    (before, live.cache.with_untracked(|c| c.get(&id).cloned()))
                {
                    crate::notify::changed(&before, &after);
                }
            }
            _ => {}
        }
        After::Continue
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
}
