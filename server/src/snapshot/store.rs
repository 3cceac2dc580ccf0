//! The snapshot store (snapshot.md §3): one entry per live workspace, merged with core's
//! field-group merge, versioned, indexed by project, and emitted as numbered frames.

use super::replay::ReplayBuffer;
use crate::metrics::Metrics;
use ff_core::entry::Entry;
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use ff_core::merge::MissingProjectId;
use ff_core::patch::Patch;
use ff_core::wire::{Cursor, Epoch, Frame};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};

/// One emitted change: its number, its project, and its frame serialized once for every socket.
#[derive(Debug)]
pub struct Change {
    pub seq: u64,
    pub project_id: ProjectId,
    pub frame: Arc<str>,
    /// When the domain write behind it committed (absent for reconciliation).
    pub origin: Option<Instant>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertResult {
    pub accepted: bool,
    pub changed: bool,
    pub emitted: bool,
}

#[derive(Clone, Debug)]
pub struct StoreLimits {
    pub replay_frames: usize,
    pub replay_bytes: usize,
    pub tombstone_ttl: Duration,
    /// Frames a live subscriber may fall behind before it is told it lagged.
    pub broadcast_capacity: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            replay_frames: 10_000,
            replay_bytes: 16 * 1024 * 1024,
            tombstone_ttl: Duration::from_secs(600),
            broadcast_capacity: 4096,
        }
    }
}

/// Sort key of a project's entries: newest first, then id.
type OrderKey = (Reverse<Option<Timestamp>>, WorkspaceId);

fn order_key(entry: &Entry) -> OrderKey {
    (Reverse(entry.raw.created_at), entry.workspace_id.clone())
}

struct Tombstone {
    removed_at: i64,
    expires: Instant,
}

struct Inner {
    entries: HashMap<WorkspaceId, Entry>,
    projects: HashMap<ProjectId, BTreeSet<OrderKey>>,
    tombstones: HashMap<WorkspaceId, Tombstone>,
    seq: u64,
    replay: ReplayBuffer,
}

pub struct Store {
    inner: Mutex<Inner>,
    epoch: Epoch,
    changes: broadcast::Sender<Arc<Change>>,
    ready: watch::Sender<bool>,
    tombstone_ttl: Duration,
    metrics: Metrics,
}

/// What a new subscriber starts from, read atomically with its subscription.
pub enum Baseline {
    Full(Arc<Change>),
    Replay(Vec<Arc<Change>>),
}

pub struct Attachment {
    pub baseline: Baseline,
    /// The seq the baseline is current up to; live changes follow it without a gap.
    pub seq: u64,
    pub live: broadcast::Receiver<Arc<Change>>,
}

/// Why a resume could not be served from the replay buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResyncReason {
    None,
    OtherEpoch,
    TooOld,
}

impl ResyncReason {
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::OtherEpoch => "other_epoch",
            Self::TooOld => "too_old",
        }
    }
}

impl Store {
    pub fn new(limits: StoreLimits, metrics: Metrics) -> Self {
        let epoch =
            Epoch::parse(&uuid::Uuid::now_v7().simple().to_string()).expect("hex is a valid epoch");
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                projects: HashMap::new(),
                tombstones: HashMap::new(),
                seq: 0,
                replay: ReplayBuffer::new(limits.replay_frames, limits.replay_bytes),
            }),
            epoch,
            changes: broadcast::channel(limits.broadcast_capacity).0,
            ready: watch::channel(false).0,
            tombstone_ttl: limits.tombstone_ttl,
            metrics,
        }
    }

    pub fn epoch(&self) -> &Epoch {
        &self.epoch
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("snapshot store lock")
    }

    /// Merges `patch` written at `ts` (epoch ms) into the workspace's entry; emits a frame only
    /// when a raw or derived value changed.
    pub fn upsert(
        &self,
        id: &WorkspaceId,
        patch: &Patch,
        source: &str,
        ts: i64,
        origin: Option<Instant>,
    ) -> Result<UpsertResult, MissingProjectId> {
        let mut inner = self.lock();
        let now = Instant::now();
        if let Some(tombstone) = inner.tombstones.get(id) {
            if tombstone.expires > now && ts <= tombstone.removed_at {
                return Ok(UpsertResult::default());
            }
        }
        let indexed = inner
            .entries
            .get(id)
            .map(|e| (e.raw.project_id.clone(), order_key(e)));
        let (entry, outcome, created) = match inner.entries.remove(id) {
            Some(mut entry) => {
                let outcome = entry.merge(patch, ts);
                (entry, outcome, false)
            }
            None => {
                let (entry, outcome) = Entry::from_first_write(id.clone(), patch, ts)?;
                inner.tombstones.remove(id);
                (entry, outcome, true)
            }
        };
        if !created && !outcome.changed() {
            inner.entries.insert(id.clone(), entry);
            return Ok(UpsertResult {
                accepted: outcome.accepted,
                changed: false,
                emitted: false,
            });
        }
        let mut entry = entry;
        entry.version += 1;
        entry.computed_at = Some(crate::clock::now());
        source.clone_into(&mut entry.source);
        if let Some((project, key)) = indexed {
            Self::unindex(&mut inner, &project, &key);
        }
        inner
            .projects
            .entry(entry.raw.project_id.clone())
            .or_default()
            .insert(order_key(&entry));
        let frame = if entry.raw.status.is_hidden() {
            Frame::Removed {
                epoch: self.epoch.clone(),
                seq: 0,
                workspace_id: id.clone(),
            }
        } else {
            Frame::Changed {
                epoch: self.epoch.clone(),
                seq: 0,
                entry: Box::new(entry.clone()),
            }
        };
        let project = entry.raw.project_id.clone();
        inner.entries.insert(id.clone(), entry);
        self.emit(&mut inner, project, frame, origin);
        self.metrics.entries.set(inner.entries.len() as i64);
        Ok(UpsertResult {
            accepted: true,
            changed: true,
            emitted: true,
        })
    }

    fn unindex(inner: &mut Inner, project: &ProjectId, key: &OrderKey) {
        if let Some(keys) = inner.projects.get_mut(project) {
            keys.remove(key);
            if keys.is_empty() {
                inner.projects.remove(project);
            }
        }
    }

    /// Numbers the frame, keeps it for replay and hands it to every live subscriber, all under
    /// the store lock: frames leave in seq order.
    fn emit(
        &self,
        inner: &mut Inner,
        project_id: ProjectId,
        mut frame: Frame,
        origin: Option<Instant>,
    ) {
        inner.seq += 1;
        let seq = inner.seq;
        match &mut frame {
            Frame::Changed { seq: s, .. }
            | Frame::Removed { seq: s, .. }
            | Frame::Full { seq: s, .. } => *s = seq,
        }
        let json = serde_json::to_string(&frame).expect("frames serialize");
        let change = Arc::new(Change {
            seq,
            project_id,
            frame: json.into(),
            origin,
        });
        inner.replay.push(change.clone());
        let _ = self.changes.send(change);
        self.metrics.frames_emitted.inc();
    }

    /// Removes the entry and remembers the removal for a while, so that late writes older than
    /// it cannot bring the workspace back.
    pub fn remove(&self, id: &WorkspaceId, ts: i64) -> bool {
        let mut inner = self.lock();
        let removed_at = inner
            .tombstones
            .get(id)
            .map_or(ts, |t| t.removed_at.max(ts));
        inner.tombstones.insert(
            id.clone(),
            Tombstone {
                removed_at,
                expires: Instant::now() + self.tombstone_ttl,
            },
        );
        let Some(entry) = inner.entries.remove(id) else {
            return false;
        };
        Self::unindex(&mut inner, &entry.raw.project_id, &order_key(&entry));
        let frame = Frame::Removed {
            epoch: self.epoch.clone(),
            seq: 0,
            workspace_id: id.clone(),
        };
        self.emit(&mut inner, entry.raw.project_id, frame, None);
        self.metrics.entries.set(inner.entries.len() as i64);
        true
    }

    /// Removes an entry the database no longer has, unless a write newer than `ts` (one that
    /// happened after the caller read the database) shows it exists after all.
    pub fn remove_if_older(&self, id: &WorkspaceId, ts: i64) -> bool {
        let newest = self.lock().entries.get(id).map(|e| {
            ff_core::enums::FieldGroup::ALL
                .iter()
                .map(|g| e.field_timestamps.get(*g))
                .max()
                .unwrap_or(0)
        });
        match newest {
            Some(newest) if newest <= ts => self.remove(id, ts),
            _ => false,
        }
    }

    pub fn get(&self, id: &WorkspaceId) -> Option<Entry> {
        self.lock().entries.get(id).cloned()
    }

    pub fn ids(&self) -> Vec<WorkspaceId> {
        self.lock().entries.keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn tombstones(&self) -> usize {
        self.lock().tombstones.len()
    }

    /// Forgets tombstones past their time.
    pub fn expire_tombstones(&self) {
        let now = Instant::now();
        self.lock().tombstones.retain(|_, t| t.expires > now);
    }

    /// A project's visible entries in the one order every view uses (newest first, then id).
    pub fn project_entries(&self, project: &ProjectId) -> Vec<Entry> {
        Self::visible(&self.lock(), project)
    }

    fn visible(inner: &Inner, project: &ProjectId) -> Vec<Entry> {
        inner
            .projects
            .get(project)
            .into_iter()
            .flatten()
            .filter_map(|(_, id)| inner.entries.get(id))
            .filter(|e| !e.raw.status.is_hidden())
            .cloned()
            .collect()
    }

    /// The `full` frame of a project: every visible entry, with the newest seq.
    pub fn full(&self, project: &ProjectId) -> Frame {
        let inner = self.lock();
        self.full_frame(&inner, project)
    }

    fn full_frame(&self, inner: &Inner, project: &ProjectId) -> Frame {
        Frame::Full {
            epoch: self.epoch.clone(),
            seq: inner.seq,
            project_id: project.clone(),
            entries: Self::visible(inner, project),
        }
    }

    /// Subscribes to live changes and reads where the subscriber starts, in one step. A `since`
    /// cursor is honoured when the replay buffer still holds everything after it.
    pub fn attach(
        &self,
        project: &ProjectId,
        since: Option<&Cursor>,
    ) -> (Attachment, ResyncReason) {
        let inner = self.lock();
        let live = self.changes.subscribe();
        let seq = inner.seq;
        let replay = since.map(|cursor| {
            if cursor.epoch != self.epoch {
                return Err(ResyncReason::OtherEpoch);
            }
            inner
                .replay
                .after(cursor.seq, seq)
                .map(|frames| {
                    frames
                        .filter(|c| &c.project_id == project)
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .ok_or(ResyncReason::TooOld)
        });
        let (baseline, reason) = match replay {
            Some(Ok(frames)) => (Baseline::Replay(frames), ResyncReason::None),
            other => {
                let reason = match other {
                    Some(Err(reason)) => reason,
                    _ => ResyncReason::None,
                };
                let frame = self.full_frame(&inner, project);
                let json: Arc<str> = serde_json::to_string(&frame)
                    .expect("frames serialize")
                    .into();
                let change = Arc::new(Change {
                    seq,
                    project_id: project.clone(),
                    frame: json,
                    origin: None,
                });
                (Baseline::Full(change), reason)
            }
        };
        (
            Attachment {
                baseline,
                seq,
                live,
            },
            reason,
        )
    }

    /// Marks the store as seeded by the first reconciliation pass.
    pub fn mark_ready(&self) {
        self.ready.send_replace(true);
    }

    pub async fn wait_ready(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
    }

    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }
}
