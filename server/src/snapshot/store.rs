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
    pub frame: String,
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
    entries: HashMap<WorkspaceId, Kept>,
    projects: HashMap<ProjectId, BTreeSet<OrderKey>>,
    /// Each project's last `full` frame: clients connecting while none of its entries changed
    /// share it, and a frame of another project moves only its `seq` (B2).
    fulls: HashMap<ProjectId, CachedFull>,
    tombstones: HashMap<WorkspaceId, Tombstone>,
    seq: u64,
    replay: ReplayBuffer,
}

/// An entry, and its JSON as of its last change, so that a full snapshot copies text instead of
/// serializing every entry again (B2). Without one (new timestamps without a change), the entry
/// is serialized at the next full that shows it.
struct Kept {
    entry: Entry,
    json: Option<Box<str>>,
}

struct CachedFull {
    /// The frame, and where the entries' array is in it (brackets included); dropped once an
    /// entry of the project changes.
    current: Option<(Arc<Change>, std::ops::Range<usize>)>,
    /// The last frame's length, which sizes the next one.
    size: usize,
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
                fulls: HashMap::new(),
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
            .map(|k| (k.entry.raw.project_id.clone(), order_key(&k.entry)));
        let (entry, json, outcome, created) = match inner.entries.remove(id) {
            Some(Kept { mut entry, json }) => {
                let outcome = entry.merge(patch, ts);
                (entry, json, outcome, false)
            }
            None => {
                let (entry, outcome) = Entry::from_first_write(id.clone(), patch, ts)?;
                inner.tombstones.remove(id);
                (entry, None, outcome, true)
            }
        };
        if !created && !outcome.changed() {
            // Accepted, its field timestamps moved: the kept text no longer reads as it does.
            let json = json.filter(|_| !outcome.accepted);
            if outcome.accepted {
                inner.outdate(&entry.raw.project_id);
            }
            inner.entries.insert(id.clone(), Kept { entry, json });
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
        inner.outdate(&entry.raw.project_id);
        inner
            .projects
            .entry(entry.raw.project_id.clone())
            .or_default()
            .insert(order_key(&entry));
        let project = entry.raw.project_id.clone();
        let json = entry_json(&entry);
        let hidden = entry.raw.status.is_hidden();
        self.emit(&mut inner, project, origin, |epoch, seq| {
            if hidden {
                removed_json(epoch, seq, id)
            } else {
                changed_json(epoch, seq, &json)
            }
        });
        let json = Some(json);
        inner.entries.insert(id.clone(), Kept { entry, json });
        self.metrics.entries.set(inner.entries.len() as i64);
        Ok(UpsertResult {
            accepted: true,
            changed: true,
            emitted: true,
        })
    }

    fn unindex(inner: &mut Inner, project: &ProjectId, key: &OrderKey) {
        inner.outdate(project);
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
        origin: Option<Instant>,
        frame: impl FnOnce(&Epoch, u64) -> String,
    ) {
        inner.seq += 1;
        let seq = inner.seq;
        let change = Arc::new(Change {
            seq,
            project_id,
            frame: frame(&self.epoch, seq),
            origin,
        });
        inner.replay.push(change.clone());
        let _ = self.changes.send(change);
        self.metrics.frames_emitted.inc();
    }

    /// Removes the entry and remembers the removal for a while, so that late writes older than
    /// it cannot bring the workspace back.
    pub fn remove(&self, id: &WorkspaceId, ts: i64) -> bool {
        self.remove_locked(&mut self.lock(), id, ts)
    }

    fn remove_locked(&self, inner: &mut Inner, id: &WorkspaceId, ts: i64) -> bool {
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
        let Some(Kept { entry, .. }) = inner.entries.remove(id) else {
            return false;
        };
        Self::unindex(inner, &entry.raw.project_id, &order_key(&entry));
        self.emit(inner, entry.raw.project_id, None, |epoch, seq| {
            removed_json(epoch, seq, id)
        });
        self.metrics.entries.set(inner.entries.len() as i64);
        true
    }

    /// Removes an entry the database no longer has, unless a write newer than `ts` (one that
    /// happened after the caller read the database) shows it exists after all.
    /// Checked and removed under one lock, so no such write can land in between.
    pub fn remove_if_older(&self, id: &WorkspaceId, ts: i64) -> bool {
        let mut inner = self.lock();
        let newest = inner.entries.get(id).map(|k| {
            ff_core::enums::FieldGroup::ALL
                .iter()
                .map(|g| k.entry.field_timestamps.get(*g))
                .max()
                .unwrap_or(0)
        });
        match newest {
            Some(newest) if newest <= ts => self.remove_locked(&mut inner, id, ts),
            _ => false,
        }
    }

    pub fn get(&self, id: &WorkspaceId) -> Option<Entry> {
        self.lock().entries.get(id).map(|k| k.entry.clone())
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

    #[cfg(test)]
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
            .into_iter()
            .cloned()
            .collect()
    }

    fn visible<'a>(inner: &'a Inner, project: &ProjectId) -> Vec<&'a Entry> {
        inner
            .projects
            .get(project)
            .into_iter()
            .flatten()
            .filter_map(|(_, id)| inner.entries.get(id))
            .map(|k| &k.entry)
            .filter(|e| !e.raw.status.is_hidden())
            .collect()
    }

    /// The `full` frame of a project: every visible entry, with the newest seq.
    pub fn full(&self, project: &ProjectId) -> Frame {
        let inner = self.lock();
        Frame::Full {
            epoch: self.epoch.clone(),
            seq: inner.seq,
            project_id: project.clone(),
            entries: Self::visible(&inner, project)
                .into_iter()
                .cloned()
                .collect(),
        }
    }

    /// The `full` frame of a project, serialized: the same text as [`Self::full`], put together
    /// from each entry's JSON as of its last change.
    pub fn full_frame(&self, project: &ProjectId) -> Arc<Change> {
        Self::full_frame_locked(&mut self.lock(), &self.epoch, project)
    }

    fn full_frame_locked(inner: &mut Inner, epoch: &Epoch, project: &ProjectId) -> Arc<Change> {
        let Inner {
            entries,
            projects,
            fulls,
            seq,
            ..
        } = inner;
        let kept = fulls.get(project);
        let (frame, array) = match kept.and_then(|kept| kept.current.as_ref()) {
            Some((change, _)) if change.seq == *seq => return change.clone(),
            // The same entries under a newer seq: one copy of the array, no lookups.
            Some((change, array)) => {
                let array = &change.frame[array.clone()];
                full_text(epoch, *seq, project, array.len(), |out| out.push_str(array))
            }
            None => {
                let size = kept.map_or(0, |kept| kept.size);
                let order = projects.get(project).into_iter().flatten();
                full_text(epoch, *seq, project, size, |out| {
                    write_visible(entries, order, out)
                })
            }
        };
        let change = Arc::new(Change {
            seq: *seq,
            project_id: project.clone(),
            frame,
            origin: None,
        });
        let kept = CachedFull {
            size: change.frame.len(),
            current: Some((change.clone(), array)),
        };
        fulls.insert(project.clone(), kept);
        change
    }

    /// Subscribes to live changes and reads where the subscriber starts, in one step. A `since`
    /// cursor is honoured when the replay buffer still holds everything after it.
    pub fn attach(
        &self,
        project: &ProjectId,
        since: Option<&Cursor>,
    ) -> (Attachment, ResyncReason) {
        let mut inner = self.lock();
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
                let change = Self::full_frame_locked(&mut inner, &self.epoch, project);
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

    #[cfg(test)]
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("snapshot values serialize")
}

impl Inner {
    /// A change to one of `project`'s entries: its kept full no longer reads as it would.
    fn outdate(&mut self, project: &ProjectId) {
        if let Some(kept) = self.fulls.get_mut(project) {
            kept.current = None;
        }
    }
}

/// The JSON array of the visible entries in `order`, serializing those without kept text.
fn write_visible<'a>(
    entries: &mut HashMap<WorkspaceId, Kept>,
    order: impl Iterator<Item = &'a OrderKey>,
    out: &mut String,
) {
    out.push('[');
    let mut first = true;
    for (_, id) in order {
        let Some(kept) = entries.get_mut(id) else {
            continue;
        };
        if kept.entry.raw.status.is_hidden() {
            continue;
        }
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        out.push_str(kept.json.get_or_insert_with(|| entry_json(&kept.entry)));
    }
    out.push(']');
}

/// A `full` frame as serde writes [`Frame::Full`], with its entries' array (about `size`
/// bytes) written by `entries`; also where that array is in the text.
fn full_text(
    epoch: &Epoch,
    seq: u64,
    project: &ProjectId,
    size: usize,
    entries: impl FnOnce(&mut String),
) -> (String, std::ops::Range<usize>) {
    // Sized up front: a large project's frame would otherwise be copied while it grows.
    let mut out = String::with_capacity(size + 256);
    out.push_str(r#"{"type":"full","epoch":"#);
    out.push_str(&to_json(epoch));
    out.push_str(&format!(r#","seq":{seq},"projectId":"#));
    out.push_str(&to_json(project));
    out.push_str(r#","entries":"#);
    let start = out.len();
    entries(&mut out);
    let range = start..out.len();
    out.push('}');
    (out, range)
}

fn entry_json(entry: &Entry) -> Box<str> {
    to_json(entry).into_boxed_str()
}

/// A `changed` frame as serde writes [`Frame::Changed`], around an entry already serialized.
fn changed_json(epoch: &Epoch, seq: u64, entry: &str) -> String {
    let epoch = to_json(epoch);
    let mut out = String::with_capacity(64 + epoch.len() + entry.len());
    out.push_str(r#"{"type":"changed","epoch":"#);
    out.push_str(&epoch);
    out.push_str(&format!(r#","seq":{seq},"entry":"#));
    out.push_str(entry);
    out.push('}');
    out
}

fn removed_json(epoch: &Epoch, seq: u64, id: &WorkspaceId) -> String {
    to_json(&Frame::Removed {
        epoch: epoch.clone(),
        seq,
        workspace_id: id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::enums::{PrState, WorkspaceStatus};
    use ff_core::wire::Frame;

    fn store() -> Store {
        Store::new(StoreLimits::default(), Metrics::new())
    }

    fn id(n: &str) -> WorkspaceId {
        WorkspaceId::new(n)
    }

    fn seed(project: &str, name: &str, created_ms: i64) -> Patch {
        Patch {
            project_id: Some(ProjectId::new(project)),
            name: Some(name.to_owned()),
            status: Some(WorkspaceStatus::Ready),
            created_at: Some(Timestamp::from_millis(created_ms)),
            ..Patch::default()
        }
    }

    fn frames(receiver: &mut broadcast::Receiver<Arc<Change>>) -> Vec<Frame> {
        std::iter::from_fn(|| receiver.try_recv().ok())
            .map(|c| serde_json::from_str(&c.frame).unwrap())
            .collect()
    }

    #[test]
    fn the_first_write_needs_a_project_and_creates_version_one() {
        let s = store();
        let err = s
            .upsert(&id("a"), &Patch::default(), "test", 1, None)
            .unwrap_err();
        assert!(err.to_string().contains("projectId is required"), "{err}");
        assert!(s.is_empty());
        let result = s
            .upsert(&id("a"), &seed("p", "A", 1), "test", 1, None)
            .unwrap();
        assert_eq!(
            result,
            UpsertResult {
                accepted: true,
                changed: true,
                emitted: true
            }
        );
        let entry = s.get(&id("a")).unwrap();
        assert_eq!((entry.version, entry.source.as_str()), (1, "test"));
        assert!(entry.computed_at.is_some());
    }

    #[test]
    fn stale_and_equal_writes_change_nothing_and_emit_nothing() {
        let s = store();
        s.upsert(&id("a"), &seed("p", "A", 1), "seed", 100, None)
            .unwrap();
        let mut live = s.changes.subscribe();
        let rename = Patch {
            name: Some("B".into()),
            ..Patch::default()
        };
        for ts in [50, 100] {
            let result = s.upsert(&id("a"), &rename, "late", ts, None).unwrap();
            assert_eq!(result, UpsertResult::default(), "ts {ts}");
        }
        let entry = s.get(&id("a")).unwrap();
        assert_eq!(
            (
                entry.raw.name.as_str(),
                entry.version,
                entry.source.as_str()
            ),
            ("A", 1, "seed")
        );
        // Another group is independent: an older PR write still lands.
        let pr = Patch {
            pr_state: Some(PrState::Open),
            pr_url: Some(Some("u".into())),
            ..Patch::default()
        };
        assert!(s.upsert(&id("a"), &pr, "pr", 50, None).unwrap().emitted);
        // The same values again, newer: accepted, not changed, not emitted.
        let again = s.upsert(&id("a"), &pr, "pr", 200, None).unwrap();
        assert_eq!(
            again,
            UpsertResult {
                accepted: true,
                changed: false,
                emitted: false
            }
        );
        assert_eq!(s.get(&id("a")).unwrap().version, 2);
        assert_eq!(frames(&mut live).len(), 1, "only the PR write was emitted");
    }

    #[test]
    fn every_emitted_change_gets_the_next_process_wide_seq() {
        let s = store();
        let mut live = s.changes.subscribe();
        s.upsert(&id("a"), &seed("p", "A", 1), "t", 1, None)
            .unwrap();
        s.upsert(&id("b"), &seed("q", "B", 1), "t", 2, None)
            .unwrap();
        s.remove(&id("a"), 3);
        let seqs: Vec<u64> = frames(&mut live).iter().map(|f| f.cursor().seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert!(frames(&mut live).is_empty());
    }

    #[test]
    fn a_tombstone_beats_late_writes_but_not_newer_ones() {
        let s = store();
        s.upsert(&id("a"), &seed("p", "A", 1), "t", 100, None)
            .unwrap();
        assert!(s.remove(&id("a"), 200));
        assert!(
            !s.remove(&id("a"), 150),
            "removing again reports nothing to remove"
        );
        let late = s
            .upsert(&id("a"), &seed("p", "A", 1), "late", 200, None)
            .unwrap();
        assert!(
            !late.accepted,
            "a write no newer than the removal is ignored"
        );
        assert!(s.get(&id("a")).is_none());
        assert!(
            s.upsert(&id("a"), &seed("p", "A", 1), "new", 201, None)
                .unwrap()
                .emitted
        );
        assert_eq!(s.tombstones(), 0, "re-creation clears the tombstone");
        assert!(!s.remove(&id("ghost"), 10));
        assert_eq!(
            s.tombstones(),
            1,
            "a removal is remembered even without an entry"
        );
        let invalid_first = s.upsert(&id("ghost"), &Patch::default(), "t", 11, None);
        assert!(invalid_first.is_err());
        assert_eq!(
            s.tombstones(),
            1,
            "an invalid first write keeps the tombstone"
        );
    }

    #[test]
    fn tombstones_expire() {
        let limits = StoreLimits {
            tombstone_ttl: Duration::ZERO,
            ..StoreLimits::default()
        };
        let s = Store::new(limits, Metrics::new());
        s.remove(&id("a"), 100);
        s.expire_tombstones();
        assert_eq!(s.tombstones(), 0);
        assert!(
            s.upsert(&id("a"), &seed("p", "A", 1), "t", 50, None)
                .unwrap()
                .emitted
        );
    }

    #[test]
    fn a_project_lists_newest_first_then_by_id_and_follows_moves() {
        let s = store();
        s.upsert(&id("b"), &seed("p", "B", 10), "t", 1, None)
            .unwrap();
        s.upsert(&id("a"), &seed("p", "A", 10), "t", 1, None)
            .unwrap();
        s.upsert(&id("c"), &seed("p", "C", 20), "t", 1, None)
            .unwrap();
        let names = |p: &str| {
            s.project_entries(&ProjectId::new(p))
                .into_iter()
                .map(|e| e.raw.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("p"), ["C", "A", "B"]);
        let moved = Patch {
            project_id: Some(ProjectId::new("q")),
            ..Patch::default()
        };
        s.upsert(&id("c"), &moved, "t", 2, None).unwrap();
        assert_eq!(names("p"), ["A", "B"]);
        assert_eq!(names("q"), ["C"]);
        s.remove(&id("c"), 3);
        assert!(names("q").is_empty());
        assert!(names("nobody").is_empty());
    }

    #[test]
    fn archiving_entries_stay_but_are_hidden_and_sent_as_removed() {
        let s = store();
        s.upsert(&id("a"), &seed("p", "A", 1), "t", 1, None)
            .unwrap();
        let mut live = s.changes.subscribe();
        let archiving = Patch {
            status: Some(WorkspaceStatus::Archiving),
            ..Patch::default()
        };
        s.upsert(&id("a"), &archiving, "t", 2, None).unwrap();
        assert!(matches!(
            frames(&mut live).as_slice(),
            [Frame::Removed { .. }]
        ));
        assert!(s.get(&id("a")).is_some());
        let Frame::Full { entries, .. } = s.full(&ProjectId::new("p")) else {
            panic!()
        };
        assert!(entries.is_empty());
    }

    #[test]
    fn frames_put_together_from_cached_entries_read_as_serde_writes_them() {
        let s = store();
        let p = ProjectId::new("p");
        let mut live = s.changes.subscribe();
        let same_text = |s: &Store| assert_eq!(s.full_frame(&p).frame, to_json(&s.full(&p)));
        for (n, name) in ["a", "b \"quoted\" ü", "c"].into_iter().enumerate() {
            s.upsert(&id(name), &seed("p", name, n as i64), "t", 1, None)
                .unwrap();
        }
        same_text(&s);
        let changed: Vec<Arc<Change>> = std::iter::from_fn(|| live.try_recv().ok()).collect();
        for change in &changed {
            let Frame::Changed { entry, .. } = serde_json::from_str(&change.frame).unwrap() else {
                panic!("{}", change.frame)
            };
            let expected = Frame::Changed {
                epoch: s.epoch().clone(),
                seq: change.seq,
                entry,
            };
            assert_eq!(*change.frame, to_json(&expected));
        }
        // Accepted without a change: no frame, but its timestamps moved and the full says so.
        let same = seed("p", "a", 0);
        assert!(!s.upsert(&id("a"), &same, "t", 5, None).unwrap().emitted);
        same_text(&s);
        assert!(s.full_frame(&p).frame.contains(r#""workspace":5"#));
        let archiving = Patch {
            status: Some(WorkspaceStatus::Archiving),
            ..Patch::default()
        };
        s.upsert(&id("c"), &archiving, "t", 6, None).unwrap();
        s.remove(&id("b \"quoted\" ü"), 7);
        same_text(&s);
        let Frame::Full { entries, .. } = serde_json::from_str(&s.full_frame(&p).frame).unwrap()
        else {
            panic!()
        };
        assert_eq!(entries.len(), 1);

        // Kept while nothing changes; another project's frame moves only the seq.
        let kept = s.full_frame(&p);
        assert!(Arc::ptr_eq(&kept, &s.full_frame(&p)));
        s.upsert(&id("elsewhere"), &seed("q", "q", 9), "t", 8, None)
            .unwrap();
        same_text(&s);
        assert!(!Arc::ptr_eq(&kept, &s.full_frame(&p)));
        // A workspace moving in, and out again: both projects' fulls follow.
        let full_of_q = s.full_frame(&ProjectId::new("q"));
        let moved = |to: &str| Patch {
            project_id: Some(ProjectId::new(to)),
            ..Patch::default()
        };
        s.upsert(&id("elsewhere"), &moved("p"), "t", 10, None)
            .unwrap();
        same_text(&s);
        assert_ne!(s.full_frame(&ProjectId::new("q")).frame, full_of_q.frame);
        assert!(s
            .full_frame(&p)
            .frame
            .contains(r#""workspaceId":"elsewhere""#));
        s.upsert(&id("elsewhere"), &moved("q"), "t", 11, None)
            .unwrap();
        same_text(&s);
        assert!(!s.full_frame(&p).frame.contains("elsewhere"));
    }

    #[test]
    fn attaching_reads_a_baseline_or_the_missed_frames_of_the_project() {
        let s = store();
        let p = ProjectId::new("p");
        s.upsert(&id("a"), &seed("p", "A", 1), "t", 1, None)
            .unwrap();
        let (attachment, reason) = s.attach(&p, None);
        assert_eq!((attachment.seq, reason), (1, ResyncReason::None));
        assert!(matches!(attachment.baseline, Baseline::Full(_)));
        let seen = Cursor {
            epoch: s.epoch().clone(),
            seq: attachment.seq,
        };

        s.upsert(&id("x"), &seed("other", "X", 1), "t", 2, None)
            .unwrap();
        s.upsert(
            &id("a"),
            &Patch {
                name: Some("A2".into()),
                ..Patch::default()
            },
            "t",
            3,
            None,
        )
        .unwrap();
        s.remove(&id("a"), 4);
        let (resumed, reason) = s.attach(&p, Some(&seen));
        assert_eq!(reason, ResyncReason::None);
        let Baseline::Replay(missed) = resumed.baseline else {
            panic!("expected a replay")
        };
        assert_eq!(
            missed.iter().map(|c| c.seq).collect::<Vec<_>>(),
            [3, 4],
            "only this project's frames, in order"
        );

        let foreign = Cursor {
            epoch: Epoch::parse("elsewhere").unwrap(),
            seq: 1,
        };
        let (_, reason) = s.attach(&p, Some(&foreign));
        assert_eq!(reason, ResyncReason::OtherEpoch);
        let future = Cursor {
            epoch: s.epoch().clone(),
            seq: 99,
        };
        assert_eq!(s.attach(&p, Some(&future)).1, ResyncReason::TooOld);
    }

    #[test]
    fn a_resume_older_than_the_replay_buffer_gets_a_full() {
        let limits = StoreLimits {
            replay_frames: 2,
            ..StoreLimits::default()
        };
        let s = Store::new(limits, Metrics::new());
        for n in 0..5 {
            s.upsert(&id(&n.to_string()), &seed("p", "W", n), "t", 1, None)
                .unwrap();
        }
        let cursor = Cursor {
            epoch: s.epoch().clone(),
            seq: 1,
        };
        let (attachment, reason) = s.attach(&ProjectId::new("p"), Some(&cursor));
        assert_eq!(reason, ResyncReason::TooOld);
        let Baseline::Full(full) = attachment.baseline else {
            panic!()
        };
        let Frame::Full { entries, seq, .. } = serde_json::from_str(&full.frame).unwrap() else {
            panic!()
        };
        assert_eq!((entries.len(), seq), (5, 5));
    }

    #[test]
    fn the_stale_sweep_spares_entries_written_after_the_pass_began() {
        let s = store();
        s.upsert(&id("old"), &seed("p", "Old", 1), "t", 10, None)
            .unwrap();
        s.upsert(&id("new"), &seed("p", "New", 1), "event", 30, None)
            .unwrap();
        assert!(s.remove_if_older(&id("old"), 20));
        assert!(!s.remove_if_older(&id("new"), 20));
        assert!(s.get(&id("new")).is_some());
    }

    #[tokio::test]
    async fn readers_wait_for_the_first_pass() {
        let s = Arc::new(store());
        assert!(!s.is_ready());
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.wait_ready().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        s.mark_ready();
        waiter.await.unwrap();
    }
}
