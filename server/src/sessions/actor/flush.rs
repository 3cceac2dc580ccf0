//! The transcript's writes and what the session publishes: its live stream, its view, its part
//! of the workspace's session group, and the pages read from the database with what is not
//! written yet laid over them.

use super::{Actor, Attachment};
use crate::error::{DomainError, DomainResult};
use crate::sessions::store::{self};
use crate::sessions::stream::{Sent, Start};
use crate::sessions::transcript::Change;
use ff_core::chat::ChatFrame;
use ff_core::sessions::{RuntimeFacts, Session};
use ff_core::transcript::Item;
use ff_core::wire::Cursor;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
/// Transcript items written at most this long after they changed (sessions.md §2).
const FLUSH_AFTER: Duration = Duration::from_millis(250);
/// Items of a baseline frame; older ones page in over HTTP.
pub const BASELINE_ITEMS: u32 = 200;

impl Actor {
    pub(super) async fn attach(&mut self, since: Option<Cursor>) -> DomainResult<Attachment> {
        // Handled by the actor, so no frame is published between the baseline and the stream.
        let (start, live) = self.hub.attach(since.as_ref());
        match start {
            Start::Replay(frames) => Ok(Attachment {
                last: frames
                    .last()
                    .map_or_else(|| since.map_or(0, |c| c.seq), |f| f.seq),
                initial: frames,
                live,
                ended: Box::pin(self.hub.ended()),
            }),
            Start::Baseline { seq } => {
                let frame = self.baseline(seq).await?;
                let json: Arc<str> = serde_json::to_string(&frame)
                    .map_err(|e| DomainError::Internal(e.to_string()))?
                    .into();
                Ok(Attachment {
                    initial: vec![Arc::new(Sent { seq, json })],
                    last: seq,
                    live,
                    ended: Box::pin(self.hub.ended()),
                })
            }
        }
    }

    /// The session and its recent items as a stream at `seq` starts from them.
    pub(super) async fn baseline(&mut self, seq: u64) -> DomainResult<ChatFrame> {
        let mut items = store::last_items(
            &mut *self.shared.db.acquire().await?,
            self.record.row.session_id.as_str(),
            BASELINE_ITEMS,
        )
        .await?;
        let has_earlier = items.first().is_some_and(|i| i.seq > 1);
        merge_unwritten(&mut items, self.transcript.unwritten_after(0));
        Ok(ChatFrame::Items {
            epoch: self.hub.epoch().clone(),
            seq,
            session: Box::new((**self.view.borrow()).clone()),
            items,
            has_earlier,
        })
    }

    pub(super) async fn items(
        &mut self,
        after: u64,
        before: Option<u64>,
        limit: u32,
    ) -> DomainResult<Vec<Item>> {
        let id = self.record.row.session_id.as_str();
        let mut conn = self.shared.db.acquire().await?;
        let mut items = match before {
            None => store::items_after(&mut conn, id, after, limit).await?,
            Some(before) => store::items_before(&mut conn, id, after, before, limit).await?,
        };
        drop(conn);
        let unwritten = self
            .transcript
            .unwritten_after(after)
            .into_iter()
            .filter(|item| before.is_none_or(|before| item.seq < before))
            .collect();
        merge_unwritten(&mut items, unwritten);
        let limit = limit as usize;
        match before {
            None => items.truncate(limit),
            // The page nearest to `before`.
            Some(_) => items = items.split_off(items.len().saturating_sub(limit)),
        }
        Ok(items)
    }

    /// Sends transcript changes to the live stream and schedules their write.
    pub(super) fn emit(&mut self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        for change in changes {
            match change {
                Change::Item(item) => self.hub.publish(|epoch, seq| ChatFrame::Item {
                    epoch,
                    seq,
                    item: Box::new(item),
                }),
                Change::Append {
                    seq: item_seq,
                    text,
                } => self.hub.publish(|epoch, seq| ChatFrame::Append {
                    epoch,
                    seq,
                    item_seq,
                    text,
                }),
            }
        }
        if self.flush_at.is_none() {
            self.flush_at = Some(Instant::now() + FLUSH_AFTER);
        }
    }

    /// Writes every changed item in one transaction.
    pub(super) async fn flush(&mut self) {
        self.flush_at = None;
        if !self.transcript.has_dirty() {
            return;
        }
        let writes = self.transcript.take_dirty();
        if writes.is_empty() {
            return;
        }
        let result = async {
            let mut tx = crate::db::begin_write(&self.shared.db).await?;
            let bytes = store::write(&mut tx, self.record.row.session_id.as_str(), &writes).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(bytes)
        }
        .await;
        match result {
            Ok(bytes) => {
                let metrics = &self.shared.metrics;
                metrics.transcript_writes.inc();
                metrics.transcript_items.inc_by(writes.len() as u64);
                metrics.transcript_bytes.inc_by(bytes);
            }
            Err(e) => {
                tracing::error!(session = %self.record.row.session_id, writes = writes.len(), "cannot write the transcript: {e}");
            }
        }
    }

    pub(super) fn refresh_view(&mut self) {
        self.runtime.waiting = self.waiting();
        let session = Session {
            id: self.record.row.session_id.clone(),
            workspace_id: self.record.workspace_id.clone(),
            agent: self.record.row.agent.clone(),
            name: self.record.row.name.clone(),
            workflow: self.record.row.workflow.clone(),
            model: self.record.row.model.clone(),
            mode: self.record.mode.clone(),
            status: self.record.row.status,
            created_at: self.record.created_at,
            updated_at: self.last_activity,
            runtime: self.runtime.clone(),
            queue: self.queue.iter().cloned().collect(),
            pending_request: self.pending.front().map(|r| r.view.clone()),
            models: self.record.offered.models.clone(),
            modes: self.record.offered.modes.clone(),
            usage: self.usage.clone(),
        };
        self.view.send_replace(Arc::new(session));
    }

    /// Publishes the session's state: its view, its frame, and its part of the workspace's
    /// session group.
    pub(super) fn report(&mut self, moves_card: bool) {
        self.refresh_view();
        let session = self.view.borrow().clone();
        self.hub.publish(|epoch, seq| ChatFrame::Session {
            epoch,
            seq,
            session: Box::new((*session).clone()),
        });
        let facts = RuntimeFacts {
            runtime: self.runtime.clone(),
            process_state: self.process_state,
            updated_at: self.last_activity,
            usage: self.usage.clone(),
            pending: self.pending.iter().map(|r| r.view.request_type).min(),
        };
        self.shared.board.report(
            &self.record.workspace_id,
            self.record.row.clone(),
            facts,
            moves_card,
        );
    }
}

/// Items from the database with those not written yet laid over them (newer versions win).
pub(super) fn merge_unwritten(items: &mut Vec<Item>, unwritten: Vec<Item>) {
    for item in unwritten {
        match items.binary_search_by_key(&item.seq, |i| i.seq) {
            Ok(position) => items[position] = item,
            Err(position) => items.insert(position, item),
        }
    }
}
