//! One session's chat, live: core's `ChatCache` fed by the session socket (`/ws/sessions/{id}`),
//! seeded from the server-rendered baseline when there is one. The cache decides what each frame
//! means; this mirrors what changed into signals, one per item, so that a streaming message
//! re-renders itself and nothing else.

use crate::live::Connection;
use ff_core::chat::{ChatApplied, ChatCache, ChatFrame};
use ff_core::ids::SessionId;
use ff_core::sessions::Session;
use ff_core::transcript::{Item, ItemBody, ToolCall};
use leptos::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct ChatLive {
    cache: Arc<Mutex<ChatCache>>,
    items: Arc<Mutex<HashMap<u64, ArcRwSignal<Item>>>>,
    /// The items' numbers, oldest first.
    pub seqs: ArcRwSignal<Vec<u64>>,
    pub session: ArcRwSignal<Option<Session>>,
    pub has_earlier: ArcRwSignal<bool>,
    pub connection: ArcRwSignal<Connection>,
    /// Why the server ended the chat's stream for good, to show instead of it.
    pub ended: ArcRwSignal<Option<String>>,
}

impl ChatLive {
    pub fn new(id: SessionId, baseline: Option<ChatFrame>) -> Self {
        let live = Self {
            cache: Arc::new(Mutex::new(ChatCache::new(id))),
            items: Arc::default(),
            seqs: ArcRwSignal::new(Vec::new()),
            session: ArcRwSignal::new(None),
            has_earlier: ArcRwSignal::new(false),
            connection: ArcRwSignal::new(Connection::Connecting),
            ended: ArcRwSignal::new(None),
        };
        if let Some(frame) = baseline {
            live.apply(frame);
        }
        #[cfg(feature = "hydrate")]
        socket::start(live.clone());
        live
    }

    pub fn id(&self) -> SessionId {
        self.cache().session_id().clone()
    }

    /// The item numbered `seq`, live.
    pub fn item(&self, seq: u64) -> Option<ArcRwSignal<Item>> {
        self.items.lock().expect("chat items").get(&seq).cloned()
    }

    /// A tool call as the transcript holds it now (with every update merged in).
    pub fn tool(&self, tool_call_id: &str) -> Option<ToolCall> {
        let cache = self.cache();
        let found = cache.items().filter_map(|item| match &item.body {
            ItemBody::Tool(tool) if tool.tool_call_id == tool_call_id => Some(tool),
            _ => None,
        });
        found.last().map(|tool| (**tool).clone())
    }

    /// The number of the oldest item held.
    pub fn first_seq(&self) -> Option<u64> {
        self.cache().first_seq()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ChatCache> {
        self.cache.lock().expect("chat cache")
    }

    /// Applies one frame and shows what it changed.
    pub fn apply(&self, frame: ChatFrame) -> ChatApplied {
        let touched = match &frame {
            ChatFrame::Item { item, .. } => Some(item.seq),
            ChatFrame::Append { item_seq, .. } => Some(*item_seq),
            ChatFrame::Items { .. } | ChatFrame::Session { .. } => None,
        };
        let applied = self.cache().apply(frame);
        match applied {
            ChatApplied::Baseline => self.show_all(),
            ChatApplied::Changed => match touched {
                Some(seq) => self.show_item(seq),
                None => self.show_session(),
            },
            ChatApplied::Duplicate => {}
            // The next connection starts from a fresh baseline.
            ChatApplied::ResyncNeeded => self.cache().forget_cursor(),
        }
        applied
    }

    /// Older items paged in over HTTP ("Load earlier").
    pub fn prepend(&self, items: Vec<Item>) {
        let has_earlier = items.first().is_some_and(|i| i.seq > 1);
        self.cache().prepend(items, has_earlier);
        self.show_all();
    }

    fn show_item(&self, seq: u64) {
        let Some(item) = self.cache().item(seq).cloned() else {
            return;
        };
        let existing = self.items.lock().expect("chat items").get(&seq).cloned();
        match existing {
            Some(signal) => signal.set(item),
            None => {
                self.items
                    .lock()
                    .expect("chat items")
                    .insert(seq, ArcRwSignal::new(item));
                self.seqs.update(|seqs| {
                    let at = seqs.partition_point(|s| *s < seq);
                    seqs.insert(at, seq);
                });
            }
        }
    }

    fn show_session(&self) {
        let session = self.cache().session().cloned();
        self.session.set(session);
    }

    /// After a baseline or a page of older items: every item, reusing the signals of those
    /// already shown.
    fn show_all(&self) {
        let (items, session, has_earlier) = {
            let cache = self.cache();
            let items: Vec<Item> = cache.items().cloned().collect();
            (items, cache.session().cloned(), cache.has_earlier())
        };
        let seqs: Vec<u64> = items.iter().map(|i| i.seq).collect();
        // Signals are set once the map is released: what they wake may read it.
        let mut changed = Vec::new();
        {
            let mut signals = self.items.lock().expect("chat items");
            signals.retain(|seq, _| seqs.binary_search(seq).is_ok());
            for item in items {
                match signals.get(&item.seq) {
                    Some(signal) => {
                        if signal.with_untracked(|shown| shown != &item) {
                            changed.push((signal.clone(), item));
                        }
                    }
                    None => {
                        signals.insert(item.seq, ArcRwSignal::new(item));
                    }
                }
            }
        }
        for (signal, item) in changed {
            signal.set(item);
        }
        self.seqs.set(seqs);
        self.session.set(session);
        self.has_earlier.set(has_earlier);
    }

    /// Where the socket resumes.
    #[cfg(feature = "hydrate")]
    fn path(&self) -> String {
        let cache = self.cache();
        let mut path = format!("/ws/sessions/{}", cache.session_id());
        if let Some(cursor) = cache.cursor() {
            path.push_str(&format!("?since={cursor}"));
        }
        path
    }
}

#[cfg(feature = "hydrate")]
mod socket {
    use super::ChatLive;
    use crate::socket::{connect_forever, url, while_mounted, After};
    use ff_core::chat::{ChatApplied, ChatFrame};
    use leptos::prelude::*;
    use leptos::task::spawn_local;

    /// The session's socket, for as long as the panel is on the page: resumed with `since`,
    /// and from a fresh baseline when a frame does not fit.
    pub fn start(live: ChatLive) {
        let running = while_mounted();
        let address = {
            let live = live.clone();
            move || url(&live.path())
        };
        let connection = live.connection.clone();
        let ended = live.ended.clone();
        spawn_local(connect_forever(
            address,
            move |state| connection.set(state),
            move |reason| ended.set(Some(reason)),
            running,
            move |text| {
                let applied = serde_json::from_str::<ChatFrame>(text).map(|f| live.apply(f));
                match applied {
                    Ok(ChatApplied::ResyncNeeded) => After::Reconnect,
                    _ => After::Continue,
                }
            },
        ));
    }
}
