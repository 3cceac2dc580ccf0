//! The session socket (`/ws/sessions/{id}`, sessions.md §6): its frames, and the client-side
//! reducer that the chat page runs on them. Frames carry a stream `seq` (one counter per server
//! process) so that a reconnecting page resumes with `since` exactly like the snapshot socket.

use crate::ids::SessionId;
use crate::sessions::Session;
use crate::transcript::Item;
use crate::wire::{Cursor, Epoch};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatFrame {
    /// The baseline: the session and its most recent items (older ones page in over HTTP).
    Items {
        epoch: Epoch,
        seq: u64,
        session: Box<Session>,
        items: Vec<Item>,
        #[serde(rename = "hasEarlier")]
        has_earlier: bool,
    },
    /// A new item, or a new version of one (a tool call's status, a permission's choice).
    Item {
        epoch: Epoch,
        seq: u64,
        item: Box<Item>,
    },
    /// More text for a streaming message or thought.
    Append {
        epoch: Epoch,
        seq: u64,
        #[serde(rename = "itemSeq")]
        item_seq: u64,
        text: String,
    },
    /// The session's runtime, queue, pending request or configuration changed.
    Session {
        epoch: Epoch,
        seq: u64,
        session: Box<Session>,
    },
}

impl ChatFrame {
    pub fn cursor(&self) -> Cursor {
        let (epoch, seq) = match self {
            Self::Items { epoch, seq, .. }
            | Self::Item { epoch, seq, .. }
            | Self::Append { epoch, seq, .. }
            | Self::Session { epoch, seq, .. } => (epoch, *seq),
        };
        Cursor {
            epoch: epoch.clone(),
            seq,
        }
    }
}

/// What applying a frame did to the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatApplied {
    Baseline,
    Changed,
    /// Already applied (a frame at or before the cursor).
    Duplicate,
    /// The frame does not fit what the cache holds: reconnect without `since`.
    ResyncNeeded,
}

/// One session's chat as the page shows it.
#[derive(Clone, Debug)]
pub struct ChatCache {
    session_id: SessionId,
    cursor: Option<Cursor>,
    session: Option<Session>,
    items: BTreeMap<u64, Item>,
    has_earlier: bool,
}

impl ChatCache {
    pub fn new(session_id: SessionId) -> Self {
        Self {
            session_id,
            cursor: None,
            session: None,
            items: BTreeMap::new(),
            has_earlier: false,
        }
    }

    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }

    pub fn cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.values()
    }

    /// One item by its number, as it stands now.
    pub fn item(&self, seq: u64) -> Option<&Item> {
        self.items.get(&seq)
    }

    /// The number of the oldest item held, where "Load earlier" continues from.
    pub fn first_seq(&self) -> Option<u64> {
        self.items.keys().next().copied()
    }

    pub fn has_earlier(&self) -> bool {
        self.has_earlier
    }

    /// Older items paged in over HTTP, put before what the cache holds.
    pub fn prepend(&mut self, items: Vec<Item>, has_earlier: bool) {
        for item in items {
            self.items.entry(item.seq).or_insert(item);
        }
        self.has_earlier = has_earlier;
    }

    pub fn apply(&mut self, frame: ChatFrame) -> ChatApplied {
        let cursor = frame.cursor();
        if let ChatFrame::Items {
            session,
            items,
            has_earlier,
            ..
        } = frame
        {
            self.session = Some(*session);
            self.items = items.into_iter().map(|item| (item.seq, item)).collect();
            self.has_earlier = has_earlier;
            self.cursor = Some(cursor);
            return ChatApplied::Baseline;
        }
        match &self.cursor {
            None => return ChatApplied::ResyncNeeded,
            Some(mine) if mine.epoch != cursor.epoch => return ChatApplied::ResyncNeeded,
            Some(mine) if cursor.seq <= mine.seq => return ChatApplied::Duplicate,
            Some(_) => {}
        }
        match frame {
            ChatFrame::Items { .. } => unreachable!("handled above"),
            ChatFrame::Item { item, .. } => {
                self.items.insert(item.seq, *item);
            }
            ChatFrame::Append { item_seq, text, .. } => {
                let Some(existing) = self
                    .items
                    .get_mut(&item_seq)
                    .and_then(|item| item.body.text_mut())
                else {
                    return ChatApplied::ResyncNeeded;
                };
                existing.push_str(&text);
            }
            ChatFrame::Session { session, .. } => self.session = Some(*session),
        }
        self.cursor = Some(cursor);
        ChatApplied::Changed
    }

    /// After a resync was needed: the next connection must not send `since`.
    pub fn forget_cursor(&mut self) {
        self.cursor = None;
    }
}
