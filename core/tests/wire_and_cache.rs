//! The resume cursor, the JSON shape of socket frames (api.md §3) and the client cache reducer
//! (snapshot.md §6).

use ff_core::cache::{Applied, ResyncReason, SnapshotCache};
use ff_core::entry::{Entry, ParentLink};
use ff_core::enums::WorkspaceStatus;
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use ff_core::patch::Patch;
use ff_core::wire::{Cursor, CursorError, Epoch, Frame};
use proptest::collection::vec;
use proptest::option::of as maybe;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use std::cmp::Reverse;
use std::collections::BTreeMap;
use WorkspaceStatus::{Archived, Archiving, Ready};

const PROJECT: &str = "p1";
const EPOCH: &str = "E1";

fn epoch(text: &str) -> Epoch {
    Epoch::parse(text).unwrap()
}

fn id(text: &str) -> WorkspaceId {
    WorkspaceId::new(text)
}

fn entry(workspace: &str, project: &str, status: WorkspaceStatus, created: Option<i64>) -> Entry {
    let patch = Patch {
        project_id: Some(ProjectId::new(project)),
        name: Some(format!("Workspace {workspace}")),
        status: Some(status),
        created_at: Some(created.map(|ms| Timestamp::from_millis(ms).unwrap())),
        ..Patch::default()
    };
    Entry::from_first_write(id(workspace), &patch, 1).unwrap().0
}

fn live(workspace: &str, created: i64) -> Entry {
    entry(workspace, PROJECT, Ready, Some(created))
}

fn full(seq: u64, entries: Vec<Entry>) -> Frame {
    Frame::Full {
        epoch: epoch(EPOCH),
        seq,
        project_id: ProjectId::new(PROJECT),
        entries,
    }
}

fn changed(seq: u64, entry: Entry) -> Frame {
    Frame::Changed {
        epoch: epoch(EPOCH),
        seq,
        entry: Box::new(entry),
    }
}

fn removed(seq: u64, workspace: &str) -> Frame {
    Frame::Removed {
        epoch: epoch(EPOCH),
        seq,
        workspace_id: id(workspace),
    }
}

fn new_cache() -> SnapshotCache {
    SnapshotCache::new(ProjectId::new(PROJECT))
}

/// A cache holding the baseline `full(seq, entries)`.
fn cache_with(seq: u64, entries: Vec<Entry>) -> SnapshotCache {
    let mut cache = new_cache();
    assert_eq!(cache.apply(full(seq, entries)), Applied::Baseline);
    cache
}

fn ids(cache: &SnapshotCache) -> Vec<&str> {
    cache
        .ordered()
        .into_iter()
        .map(|e| e.workspace_id.as_str())
        .collect()
}

fn seq(cache: &SnapshotCache) -> Option<u64> {
    cache.cursor().map(|c| c.seq)
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn cursors_parse_and_print() {
    let cursor: Cursor = "abc:42".parse().unwrap();
    assert_eq!(
        cursor,
        Cursor {
            epoch: epoch("abc"),
            seq: 42
        }
    );
    assert_eq!(cursor.to_string(), "abc:42");
    let max = format!("e-1_x:{}", u64::MAX);
    assert_eq!(max.parse::<Cursor>().unwrap().to_string(), max);
}

#[test]
fn malformed_cursors_are_refused() {
    use CursorError::*;
    let cases = [
        ("abc", Shape("abc".into())),
        ("", Shape("".into())),
        (":42", BadEpoch("".into())),
        ("a b:42", BadEpoch("a b".into())),
        // Split at the last ':', so a ':' in the epoch is an epoch error, not a seq error.
        ("a:b:42", BadEpoch("a:b".into())),
        ("abc:", BadSeq("".into())),
        ("abc:x", BadSeq("x".into())),
        ("abc:-1", BadSeq("-1".into())),
        ("abc:1.5", BadSeq("1.5".into())),
        (
            "abc:18446744073709551616",
            BadSeq("18446744073709551616".into()),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<Cursor>(), Err(expected), "{text:?}");
    }
}

#[test]
fn a_changed_frame_carries_the_entry_flat_in_camel_case() {
    let frame = serde_json::to_value(changed(42, live("w1", 0))).unwrap();
    assert_eq!(keys(&frame), ["entry", "epoch", "seq", "type"]);
    assert_eq!(
        (&frame["type"], &frame["epoch"], &frame["seq"]),
        (&json!("changed"), &json!(EPOCH), &json!(42))
    );
    let entry = &frame["entry"];
    assert_eq!(
        keys(entry),
        [
            "branchName",
            "ciObservation",
            "computedAt",
            "costs",
            "createdAt",
            "fieldTimestamps",
            "flowPhase",
            "gitStats",
            "hasHadSessions",
            "hasMergeConflict",
            "isWorking",
            "kanbanColumn",
            "lastActivityAt",
            "name",
            "overlaps",
            "pendingRequestType",
            "prCiStatus",
            "prNumber",
            "prReviewState",
            "prState",
            "prUpdatedAt",
            "prUrl",
            "projectId",
            "ratchetButtonAnimated",
            "ratchetDispatchOutcome",
            "ratchetDispatchRetryCount",
            "ratchetDispatchStalled",
            "ratchetEnabled",
            "ratchetState",
            "runScriptStatus",
            "sessionSummaries",
            "sidebarStatus",
            "source",
            "status",
            "statusReason",
            "version",
            "workspaceId",
        ]
    );
    assert_eq!(entry["workspaceId"], "w1");
    assert_eq!(entry["projectId"], PROJECT);
    assert_eq!(entry["status"], "READY");
    assert_eq!(entry["createdAt"], "1970-01-01T00:00:00.000Z");
    assert_eq!(entry["overlaps"], json!([]));
    assert_eq!(
        entry["fieldTimestamps"],
        json!({"workspace": 1, "pr": 0, "session": 0, "ratchet": 0, "runScript": 0, "reconciliation": 0})
    );
    assert_eq!(
        keys(&entry["statusReason"]),
        ["code", "label", "needsUser", "tone"]
    );
    assert_eq!(
        entry["sidebarStatus"],
        json!({"activityState": "IDLE", "ciState": "NONE"})
    );
}

#[test]
fn a_child_carries_its_parent_and_others_no_parent_key() {
    let mut child = live("w2", 0);
    child.raw.parent = Some(ParentLink {
        id: id("w1"),
        name: "Lead".into(),
    });
    let frame = serde_json::to_value(changed(44, child.clone())).unwrap();
    assert_eq!(
        frame["entry"]["parent"],
        json!({"id": "w1", "name": "Lead"})
    );
    assert_eq!(
        serde_json::from_value::<Frame>(frame).unwrap(),
        changed(44, child)
    );
    let top = serde_json::to_value(changed(45, live("w1", 0))).unwrap();
    assert!(top["entry"].get("parent").is_none(), "{top}");
}

#[test]
fn removed_and_full_frames_have_the_documented_shape() {
    let removed_json = json!({"type": "removed", "epoch": EPOCH, "seq": 43, "workspaceId": "w1"});
    assert_eq!(
        serde_json::to_value(removed(43, "w1")).unwrap(),
        removed_json
    );
    assert_eq!(
        serde_json::from_value::<Frame>(removed_json).unwrap(),
        removed(43, "w1")
    );

    let empty =
        json!({"type": "full", "epoch": EPOCH, "seq": 41, "projectId": PROJECT, "entries": []});
    assert_eq!(serde_json::to_value(full(41, vec![])).unwrap(), empty);

    let one = serde_json::to_value(full(41, vec![live("w1", 0)])).unwrap();
    assert_eq!(one["entries"][0]["workspaceId"], "w1");
}

#[test]
fn full_replaces_everything_and_hides_archiving_and_archived_entries() {
    let mut cache = cache_with(1, vec![live("a", 1), live("b", 2)]);
    let hidden = |workspace, status| entry(workspace, PROJECT, status, Some(0));
    let baseline = full(
        5,
        vec![live("c", 3), hidden("d", Archiving), hidden("e", Archived)],
    );
    assert_eq!(cache.apply(baseline), Applied::Baseline);
    assert_eq!(ids(&cache), ["c"]);
    assert_eq!(cache.cursor().unwrap().to_string(), "E1:5");
}

#[test]
fn changed_upserts_and_removed_deletes() {
    let mut cache = cache_with(1, vec![live("a", 1)]);
    assert_eq!(
        cache.apply(changed(2, live("b", 2))),
        Applied::Upserted(id("b"))
    );
    let renamed = Entry {
        version: 7,
        ..live("a", 1)
    };
    assert_eq!(
        cache.apply(changed(3, renamed.clone())),
        Applied::Upserted(id("a"))
    );
    assert_eq!(cache.get(&id("a")), Some(&renamed));
    assert_eq!(cache.apply(removed(4, "b")), Applied::Removed(id("b")));
    assert_eq!(ids(&cache), ["a"]);
    assert_eq!(seq(&cache), Some(4));
}

#[test]
fn frames_already_applied_are_ignored() {
    let mut cache = cache_with(5, vec![live("a", 1)]);
    for frame in [
        changed(5, live("b", 2)),
        removed(3, "a"),
        changed(1, live("c", 3)),
    ] {
        assert_eq!(cache.apply(frame), Applied::Duplicate);
    }
    assert_eq!(ids(&cache), ["a"]);
    assert_eq!(seq(&cache), Some(5));
}

#[test]
fn a_delta_before_any_baseline_needs_a_resync() {
    let mut cache = new_cache();
    let no_baseline = Applied::ResyncNeeded(ResyncReason::NoBaseline);
    assert_eq!(cache.apply(changed(1, live("a", 1))), no_baseline);
    assert_eq!(cache.apply(removed(2, "a")), no_baseline);
    assert!(cache.is_empty());
    assert_eq!(cache.cursor(), None);
}

#[test]
fn a_delta_of_another_epoch_needs_a_resync_until_a_new_baseline() {
    let mut cache = cache_with(9, vec![live("a", 1)]);
    let restarted = Frame::Changed {
        epoch: epoch("E2"),
        seq: 1,
        entry: Box::new(live("b", 2)),
    };
    assert_eq!(
        cache.apply(restarted),
        Applied::ResyncNeeded(ResyncReason::EpochChanged)
    );
    assert_eq!((ids(&cache), seq(&cache)), (vec!["a"], Some(9)));

    let baseline = Frame::Full {
        epoch: epoch("E2"),
        seq: 1,
        project_id: ProjectId::new(PROJECT),
        entries: vec![live("b", 2)],
    };
    assert_eq!(cache.apply(baseline), Applied::Baseline);
    assert_eq!(cache.cursor().unwrap().to_string(), "E2:1");
    assert_eq!(ids(&cache), ["b"]);
}

#[test]
fn a_full_of_another_project_needs_a_resync() {
    let mut cache = cache_with(1, vec![live("a", 1)]);
    let foreign = Frame::Full {
        epoch: epoch(EPOCH),
        seq: 2,
        project_id: ProjectId::new("p2"),
        entries: vec![entry("x", "p2", Ready, None)],
    };
    assert_eq!(
        cache.apply(foreign),
        Applied::ResyncNeeded(ResyncReason::ForeignProject)
    );
    assert_eq!((ids(&cache), seq(&cache)), (vec!["a"], Some(1)));
}

#[test]
fn an_entry_that_becomes_hidden_or_moves_away_is_removed() {
    let mut cache = cache_with(1, vec![live("a", 1), live("b", 2)]);
    let archiving = entry("a", PROJECT, Archiving, Some(1));
    assert_eq!(
        cache.apply(changed(2, archiving)),
        Applied::Removed(id("a"))
    );
    let moved = entry("b", "p2", Ready, Some(2));
    assert_eq!(cache.apply(changed(3, moved)), Applied::Removed(id("b")));
    assert!(cache.is_empty());
}

#[test]
fn entries_are_ordered_newest_first_then_by_id() {
    let undated = entry("a", PROJECT, Ready, None);
    let cache = cache_with(
        1,
        vec![live("c", 100), undated, live("b", 300), live("a2", 300)],
    );
    assert_eq!(ids(&cache), ["a2", "b", "c", "a"]);
}

const WORKSPACES: &[&str] = &["a", "b", "c", "d"];

fn entries(projects: &'static [&'static str]) -> impl Strategy<Value = Entry> {
    let statuses = select(WorkspaceStatus::ALL);
    (
        select(WORKSPACES),
        select(projects),
        statuses,
        maybe(0..3i64),
    )
        .prop_map(|(w, p, status, created)| entry(w, p, status, created))
}

/// Frames of one epoch in strictly increasing seq order.
fn streams() -> impl Strategy<Value = Vec<Frame>> {
    let seqs = || 1..100u64;
    let frame = prop_oneof![
        1 => (seqs(), select(&[PROJECT, "p2"][..]), vec(entries(&[PROJECT]), 0..4)).prop_map(
            |(seq, project, entries)| Frame::Full {
                epoch: epoch(EPOCH),
                seq,
                project_id: ProjectId::new(project),
                entries,
            }
        ),
        4 => (seqs(), entries(&[PROJECT, "p2"])).prop_map(|(seq, e)| changed(seq, e)),
        2 => (seqs(), select(WORKSPACES)).prop_map(|(seq, w)| removed(seq, w)),
    ];
    vec(frame, 0..24).prop_map(|mut frames| {
        frames.sort_by_key(|f| f.cursor().seq);
        frames.dedup_by_key(|f| f.cursor().seq);
        frames
    })
}

proptest! {
    #[test]
    fn the_cache_agrees_with_a_simple_model(frames in streams()) {
        let visible = |e: &Entry| !e.raw.status.is_hidden() && e.raw.project_id.as_str() == PROJECT;
        let mut cache = new_cache();
        let mut model = BTreeMap::new();
        // The seq of the last frame applied; `None` until a baseline.
        let mut applied = None;
        for frame in frames {
            let frame_seq = frame.cursor().seq;
            let applies = match &frame {
                Frame::Full { project_id, .. } => project_id.as_str() == PROJECT,
                _ => applied.is_some(),
            };
            if applies {
                applied = Some(frame_seq);
                match &frame {
                    Frame::Full { entries, .. } => {
                        model = entries.iter().filter(|e| visible(e)).map(|e| (e.workspace_id.clone(), e.clone())).collect();
                    }
                    Frame::Changed { entry, .. } if visible(entry) => {
                        model.insert(entry.workspace_id.clone(), (**entry).clone());
                    }
                    Frame::Changed { entry, .. } => {
                        model.remove(&entry.workspace_id);
                    }
                    Frame::Removed { workspace_id, .. } => {
                        model.remove(workspace_id);
                    }
                }
            }
            cache.apply(frame);

            let mut expected: Vec<&Entry> = model.values().collect();
            expected.sort_by_key(|e| (Reverse(e.raw.created_at), e.workspace_id.clone()));
            prop_assert_eq!(cache.ordered(), expected);
            prop_assert_eq!(seq(&cache), applied);
        }
    }
}

mod attention {
    use ff_core::cache::SnapshotCache;
    use ff_core::entry::Entry;
    use ff_core::enums::PendingRequestType;
    use ff_core::ids::{ProjectId, WorkspaceId};
    use ff_core::wire::{Epoch, Frame};

    fn entry(pending: Option<PendingRequestType>) -> Entry {
        let mut entry = Entry::new(WorkspaceId::new("w"), ProjectId::new("p"));
        entry.raw.pending_request_type = pending;
        entry
    }

    fn changed(seq: u64, pending: Option<PendingRequestType>) -> Frame {
        Frame::Changed {
            epoch: Epoch::parse("e").unwrap(),
            seq,
            entry: Box::new(entry(pending)),
        }
    }

    fn full(seq: u64, entries: Vec<Entry>) -> Frame {
        Frame::Full {
            epoch: Epoch::parse("e").unwrap(),
            seq,
            project_id: ProjectId::new("p"),
            entries,
        }
    }

    #[test]
    fn a_request_appearing_marks_the_workspace_until_it_is_opened() {
        let w = WorkspaceId::new("w");
        let mut cache = SnapshotCache::new(ProjectId::new("p"));
        cache.apply(full(1, vec![entry(Some(PendingRequestType::UserQuestion))]));
        assert!(!cache.needs_attention(&w), "not on a baseline");

        cache.apply(changed(2, None));
        assert!(!cache.needs_attention(&w), "not when cleared");
        cache.apply(changed(3, Some(PendingRequestType::PermissionRequest)));
        assert!(cache.needs_attention(&w), "null → pending raises it");
        cache.apply(changed(4, Some(PendingRequestType::PlanApproval)));
        assert!(cache.needs_attention(&w), "it stays while unopened");
        cache.acknowledge(&w);
        assert!(!cache.needs_attention(&w), "opening clears it");
        cache.apply(changed(5, Some(PendingRequestType::PlanApproval)));
        assert!(
            !cache.needs_attention(&w),
            "an unchanged request does not raise it again"
        );
        cache.apply(changed(6, None));
        cache.apply(changed(7, Some(PendingRequestType::UserQuestion)));
        assert!(cache.needs_attention(&w));
        cache.apply(Frame::Removed {
            epoch: Epoch::parse("e").unwrap(),
            seq: 8,
            workspace_id: w.clone(),
        });
        assert!(
            !cache.needs_attention(&w),
            "a removed workspace needs nothing"
        );
    }
}

#[test]
fn an_older_full_of_the_same_epoch_cannot_roll_the_cache_back() {
    use ff_core::cache::{Applied, SnapshotCache};
    use ff_core::entry::Entry;
    use ff_core::ids::{ProjectId, WorkspaceId};
    use ff_core::wire::{Epoch, Frame};
    let epoch = Epoch::parse("e").unwrap();
    let full = |seq: u64, name: &str| {
        let mut entry = Entry::new(WorkspaceId::new("w"), ProjectId::new("p"));
        entry.raw.name = name.to_owned();
        Frame::Full {
            epoch: epoch.clone(),
            seq,
            project_id: ProjectId::new("p"),
            entries: vec![entry],
        }
    };
    let mut cache = SnapshotCache::new(ProjectId::new("p"));
    assert_eq!(cache.apply(full(10, "new")), Applied::Baseline);
    assert_eq!(cache.apply(full(7, "old")), Applied::Duplicate);
    assert_eq!(cache.get(&WorkspaceId::new("w")).unwrap().raw.name, "new");
    assert_eq!(cache.cursor().unwrap().seq, 10);
    let restarted = Frame::Full {
        epoch: Epoch::parse("other").unwrap(),
        seq: 1,
        project_id: ProjectId::new("p"),
        entries: vec![],
    };
    assert_eq!(
        cache.apply(restarted),
        Applied::Baseline,
        "another epoch always replaces"
    );
}
