//! The client cache reducer (snapshot.md §6): one keyed map of a project's entries, fed by frames.
//!
//! Pure and shared: the browser app runs it on every socket frame and poll, and the server's
//! tests run the very same code to check what a client would end up with.

use crate::entry::Entry;
use crate::ids::{ProjectId, WorkspaceId};
use crate::wire::{Cursor, Frame};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug)]
pub struct SnapshotCache {
    project_id: ProjectId,
    cursor: Option<Cursor>,
    entries: HashMap<WorkspaceId, Entry>,
    /// Workspaces that started waiting on the user since they were last opened (R§9.3).
    attention: HashSet<WorkspaceId>,
}

/// What applying one frame did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A `full` replaced every entry.
    Baseline,
    Upserted(WorkspaceId),
    Removed(WorkspaceId),
    /// Already seen (seq not newer than the cursor): ignored.
    Duplicate,
    /// The frame cannot be applied on top of what the cache holds; the client must fetch a
    /// `full` (reconnect without `since`, or poll the snapshot route).
    ResyncNeeded(ResyncReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResyncReason {
    /// A delta arrived before any baseline.
    NoBaseline,
    /// The server restarted: its seq numbers mean nothing against ours.
    EpochChanged,
    /// A `full` of another project arrived on this project's stream.
    ForeignProject,
}

impl SnapshotCache {
    pub fn new(project_id: ProjectId) -> Self {
        Self {
            project_id,
            cursor: None,
            entries: HashMap::new(),
            attention: HashSet::new(),
        }
    }

    pub fn project_id(&self) -> &ProjectId {
        &self.project_id
    }

    /// What to send as `since` when reconnecting.
    pub fn cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }

    /// Whether the workspace started waiting on the user (a pending request appeared) since it
    /// was last opened.
    pub fn needs_attention(&self, id: &WorkspaceId) -> bool {
        self.attention.contains(id)
    }

    /// The user opened the workspace.
    pub fn acknowledge(&mut self, id: &WorkspaceId) {
        self.attention.remove(id);
    }

    /// Forgets where the stream was, keeping the entries on screen: the next connection asks
    /// for a `full` instead of resuming.
    pub fn forget_cursor(&mut self) {
        self.cursor = None;
    }

    pub fn get(&self, id: &WorkspaceId) -> Option<&Entry> {
        self.entries.get(id)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in the one order every view uses (newest first, then id).
    pub fn ordered(&self) -> Vec<&Entry> {
        let mut entries: Vec<&Entry> = self.entries.values().collect();
        entries.sort_by(|a, b| Entry::project_order(a, b));
        entries
    }

    pub fn apply(&mut self, frame: Frame) -> Applied {
        let cursor = frame.cursor();
        match frame {
            Frame::Full {
                project_id,
                entries,
                ..
            } => {
                if project_id != self.project_id {
                    return Applied::ResyncNeeded(ResyncReason::ForeignProject);
                }
                // A baseline older than what the cache already holds (a poll that raced the
                // socket) would roll the views back.
                if self
                    .cursor
                    .as_ref()
                    .is_some_and(|c| c.epoch == cursor.epoch && c.seq > cursor.seq)
                {
                    return Applied::Duplicate;
                }
                self.entries = entries
                    .into_iter()
                    .filter(|e| !e.raw.status.is_hidden())
                    .map(|e| (e.workspace_id.clone(), e))
                    .collect();
                self.cursor = Some(cursor);
                let entries = &self.entries;
                self.attention.retain(|id| entries.contains_key(id));
                Applied::Baseline
            }
            Frame::Changed { entry, .. } => {
                // A hidden entry, or one that moved to another project, leaves these views.
                let visible_here =
                    !entry.raw.status.is_hidden() && entry.raw.project_id == self.project_id;
                // Only a request appearing raises attention: not a baseline, not a clearing.
                let raised = entry.raw.pending_request_type.is_some()
                    && self
                        .entries
                        .get(&entry.workspace_id)
                        .is_none_or(|e| e.raw.pending_request_type.is_none());
                let applied = self.apply_delta(cursor, |entries| {
                    let id = entry.workspace_id.clone();
                    if !visible_here {
                        entries.remove(&id);
                        Applied::Removed(id)
                    } else {
                        entries.insert(id.clone(), *entry);
                        Applied::Upserted(id)
                    }
                });
                self.note_attention(&applied, raised);
                applied
            }
            Frame::Removed { workspace_id, .. } => {
                let applied = self.apply_delta(cursor, |entries| {
                    entries.remove(&workspace_id);
                    Applied::Removed(workspace_id)
                });
                self.note_attention(&applied, false);
                applied
            }
        }
    }

    fn note_attention(&mut self, applied: &Applied, raised: bool) {
        match applied {
            Applied::Upserted(id) if raised => {
                self.attention.insert(id.clone());
            }
            Applied::Removed(id) => {
                self.attention.remove(id);
            }
            _ => {}
        }
    }

    fn apply_delta(
        &mut self,
        cursor: Cursor,
        change: impl FnOnce(&mut HashMap<WorkspaceId, Entry>) -> Applied,
    ) -> Applied {
        let Some(current) = &self.cursor else {
            return Applied::ResyncNeeded(ResyncReason::NoBaseline);
        };
        if current.epoch != cursor.epoch {
            return Applied::ResyncNeeded(ResyncReason::EpochChanged);
        }
        if cursor.seq <= current.seq {
            return Applied::Duplicate;
        }
        let applied = change(&mut self.entries);
        self.cursor = Some(cursor);
        applied
    }
}
