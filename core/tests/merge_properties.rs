//! Properties of the field-group merge (R§3.2 HEAD) over random entries and patches, plus the
//! store behaviours of R§11.1 that the merge alone decides.

use ff_core::derive::Derived;
use ff_core::entry::{Entry, GitStats, LastExit, ParentLink, RawFields, SessionSummary};
use ff_core::enums::*;
use ff_core::ids::{ProjectId, Timestamp, WorkspaceId};
use ff_core::merge::{MergeOutcome, MissingProjectId};
use ff_core::overlaps::Overlap;
use ff_core::patch::Patch;
use ff_core::wire::{Epoch, Frame};
use proptest::collection::vec;
use proptest::option::of as maybe;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

// Small value domains, so that random writes often repeat what an entry already holds.
const MILLIS: &[i64] = &[0, 1_767_225_600_000, 1_767_225_600_123];
const NAMES: &[&str] = &["Fix login", "Add search", ""];
const BRANCHES: &[&str] = &["main", "feature/x", "fix/ünïcödé"];
const PR_URLS: &[&str] = &[
    "",
    "https://github.com/o/r/pull/1",
    "https://github.com/o/r/pull/2",
];

/// The field groups of snapshot.md §2, written out here independently of the merge under test.
macro_rules! field_groups {
    ($($group:ident: $($field:ident),+;)+) => {
        /// The groups of which `patch` has at least one field (null counts as present).
        fn present_groups(patch: &Patch) -> Vec<FieldGroup> {
            let mut groups = Vec::new();
            $(if false $(|| patch.$field.is_some())+ {
                groups.push(FieldGroup::$group);
            })+
            groups
        }

        /// `patch` with the fields of every other group left out.
        fn only(patch: &Patch, group: FieldGroup) -> Patch {
            let mut kept = Patch::default();
            $(if group == FieldGroup::$group {
                $(kept.$field = patch.$field.clone();)+
            })+
            kept
        }

        /// The model of an accepted write: every present field overwrites, the others stay.
        fn overlay(raw: &RawFields, patch: &Patch) -> RawFields {
            let mut merged = raw.clone();
            $($(if let Some(value) = &patch.$field {
                merged.$field = value.clone();
            })+)+
            merged
        }
    };
}

field_groups! {
    Workspace: project_id, name, status, created_at, branch_name, has_had_sessions, parent;
    Pr: pr_url, pr_number, pr_state, pr_ci_status, pr_review_state, pr_updated_at, has_merge_conflict;
    Session: is_working, pending_request_type, session_summaries;
    Ratchet: ratchet_enabled, ratchet_dispatch_outcome, ratchet_dispatch_retry_count,
        ratchet_dispatch_stalled;
    RunScript: run_script_status;
    Reconciliation: git_stats, last_activity_at, overlaps;
}

fn nullable<S: Strategy>(values: S) -> impl Strategy<Value = Option<Option<S::Value>>> {
    maybe(maybe(values))
}

fn text(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    select(values).prop_map(str::to_owned)
}

fn timestamps() -> impl Strategy<Value = Timestamp> {
    select(MILLIS).prop_map(|ms| Timestamp::from_millis(ms).unwrap())
}

fn project_ids() -> impl Strategy<Value = ProjectId> {
    select(&["p1", "p2"][..]).prop_map(ProjectId::new)
}

fn parents() -> impl Strategy<Value = ParentLink> {
    select(&["w8", "w9"][..]).prop_map(|id| ParentLink {
        id: WorkspaceId::new(id),
        name: format!("Workspace {id}"),
    })
}

fn git_stats() -> impl Strategy<Value = GitStats> {
    (0..2u32, 0..2u32, 0..2u32, any::<bool>()).prop_map(
        |(total, additions, deletions, has_uncommitted)| GitStats {
            total,
            additions,
            deletions,
            has_uncommitted,
        },
    )
}

/// No overlap, or one of two others, over a few paths (so that writes often repeat a value).
fn overlaps() -> impl Strategy<Value = Vec<Overlap>> {
    let one = (select(&["w2", "w3"][..]), 1..3u32).prop_map(|(id, count)| Overlap {
        workspace_id: WorkspaceId::new(id),
        name: format!("Workspace {id}"),
        paths: ["a.rs", "b.rs"][..count as usize]
            .iter()
            .map(|&p| p.to_owned())
            .collect(),
        count,
    });
    vec(one, 0..2)
}

fn summary(session_id: &'static str) -> impl Strategy<Value = SessionSummary> {
    let labels = (
        maybe(text(&["chat", "plan"])),
        maybe(text(&["default", "review"])),
        maybe(text(&["opus", "sonnet"])),
        maybe(select(SessionProvider::ALL)),
    );
    let state = (
        select(SessionStatus::ALL),
        select(SessionRuntimePhase::ALL),
        select(SessionProcessState::ALL),
        select(SessionActivity::ALL),
    );
    let last_exit =
        (maybe(-1..2i32), timestamps(), any::<bool>()).prop_map(|(code, timestamp, unexpected)| {
            LastExit {
                code,
                timestamp,
                unexpected,
            }
        });
    let history = (timestamps(), maybe(last_exit), maybe(text(&["boom", " "])));
    (labels, state, history).prop_map(
        move |(
            (name, workflow, model, provider),
            (persisted_status, runtime_phase, process_state, activity),
            (updated_at, last_exit, error_message),
        )| SessionSummary {
            session_id: session_id.to_owned(),
            name,
            workflow,
            model,
            provider,
            persisted_status,
            runtime_phase,
            process_state,
            activity,
            updated_at,
            last_exit,
            error_message,
            agent: None,
            usage: None,
            queued_behind: None,
            waiting: None,
        },
    )
}

/// Summaries with distinct session ids, listed in id order.
fn summaries() -> impl Strategy<Value = Vec<SessionSummary>> {
    subsequence(&["s1", "s2", "s3"][..], 0..=3)
        .prop_flat_map(|ids| ids.into_iter().map(summary).collect::<Vec<_>>())
}

fn patches() -> impl Strategy<Value = Patch> {
    let workspace = (
        maybe(project_ids()),
        maybe(text(NAMES)),
        maybe(select(WorkspaceStatus::ALL)),
        nullable(timestamps()),
        nullable(text(BRANCHES)),
        maybe(any::<bool>()),
        nullable(parents()),
    );
    let pr = (
        nullable(text(PR_URLS)),
        nullable(1..3u64),
        maybe(select(PrState::ALL)),
        maybe(select(CiStatus::ALL)),
        nullable(select(ReviewDecision::ALL)),
        nullable(timestamps()),
        maybe(any::<bool>()),
    );
    let session = (
        maybe(any::<bool>()),
        nullable(select(PendingRequestType::ALL)),
        maybe(summaries().prop_map(Into::into)),
    );
    let ratchet = (
        maybe(any::<bool>()),
        nullable(select(RatchetDispatchOutcome::ALL)),
        maybe(0..3u32),
        maybe(any::<bool>()),
    );
    let rest = (
        maybe(select(RunScriptStatus::ALL)),
        nullable(git_stats()),
        nullable(timestamps()),
        maybe(overlaps()),
    );
    (workspace, pr, session, ratchet, rest).prop_map(
        |(
            (project_id, name, status, created_at, branch_name, has_had_sessions, parent),
            (
                pr_url,
                pr_number,
                pr_state,
                pr_ci_status,
                pr_review_state,
                pr_updated_at,
                has_merge_conflict,
            ),
            (is_working, pending_request_type, session_summaries),
            (
                ratchet_enabled,
                ratchet_dispatch_outcome,
                ratchet_dispatch_retry_count,
                ratchet_dispatch_stalled,
            ),
            (run_script_status, git_stats, last_activity_at, overlaps),
        )| Patch {
            project_id,
            name,
            status,
            created_at,
            branch_name,
            has_had_sessions,
            parent,
            pr_url,
            pr_number,
            pr_state,
            pr_ci_status,
            pr_review_state,
            pr_updated_at,
            has_merge_conflict,
            is_working,
            pending_request_type,
            session_summaries,
            ratchet_enabled,
            ratchet_dispatch_outcome,
            ratchet_dispatch_retry_count,
            ratchet_dispatch_stalled,
            run_script_status,
            git_stats,
            last_activity_at,
            overlaps,
        },
    )
}

/// A fresh entry after random writes at increasing timestamps, with random store metadata.
fn entries() -> impl Strategy<Value = Entry> {
    let metadata = (
        0..3u64,
        maybe(timestamps()),
        text(&["", "event", "event+reconciliation"]),
    );
    (
        text(&["w1", "w2"]),
        project_ids(),
        vec((patches(), 1..4i64), 0..6),
        metadata,
    )
        .prop_map(|(id, project, writes, (version, computed_at, source))| {
            let mut entry = Entry::new(WorkspaceId::new(id), project);
            let mut ts = 0;
            for (patch, step) in writes {
                ts += step;
                entry.merge(&patch, ts);
            }
            Entry {
                version,
                computed_at,
                source,
                ..entry
            }
        })
}

fn frames() -> impl Strategy<Value = Frame> {
    let epochs = select(&["e1", "e2"][..]).prop_map(|e| Epoch::parse(e).unwrap());
    prop_oneof![
        (
            epochs.clone(),
            any::<u64>(),
            project_ids(),
            vec(entries(), 0..3)
        )
            .prop_map(|(epoch, seq, project_id, entries)| Frame::Full {
                epoch,
                seq,
                project_id,
                entries,
            }),
        (epochs.clone(), any::<u64>(), entries()).prop_map(|(epoch, seq, entry)| {
            Frame::Changed {
                epoch,
                seq,
                entry: Box::new(entry),
            }
        }),
        (epochs, any::<u64>(), text(&["w1", "w2"])).prop_map(|(epoch, seq, id)| {
            Frame::Removed {
                epoch,
                seq,
                workspace_id: WorkspaceId::new(id),
            }
        }),
    ]
}

fn newest_stamp(entry: &Entry) -> i64 {
    FieldGroup::ALL
        .iter()
        .map(|&group| entry.field_timestamps.get(group))
        .max()
        .unwrap()
}

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(value).unwrap();
    prop_assert_eq!(
        &serde_json::from_str::<T>(&json).unwrap(),
        value,
        "{}",
        json
    );
    Ok(())
}

proptest! {
    #[test]
    fn a_write_not_newer_than_its_group_changes_nothing(
        entry in entries(),
        patch in patches(),
        group in select(FieldGroup::ALL),
        lag in 0..3i64,
    ) {
        let patch = only(&patch, group);
        prop_assume!(!present_groups(&patch).is_empty());
        let before = serde_json::to_string(&entry).unwrap();
        let mut entry = entry;
        let outcome = entry.merge(&patch, entry.field_timestamps.get(group) - lag);
        prop_assert_eq!(outcome, MergeOutcome::default());
        prop_assert_eq!(serde_json::to_string(&entry).unwrap(), before);
    }

    #[test]
    fn a_newer_write_wins_per_group_and_leaves_other_groups_alone(
        mut entry in entries(),
        patch in patches(),
        lead in 1..3i64,
    ) {
        let present = present_groups(&patch);
        // Every patch field belongs to some group of the model above.
        prop_assert_eq!(present.is_empty(), patch == Patch::default());
        let before = entry.clone();
        let ts = newest_stamp(&entry) + lead;
        let outcome = entry.merge(&patch, ts);

        prop_assert_eq!(&entry.raw, &overlay(&before.raw, &patch));
        for &group in FieldGroup::ALL {
            let stamp = if present.contains(&group) { ts } else { before.field_timestamps.get(group) };
            prop_assert_eq!(entry.field_timestamps.get(group), stamp, "{:?}", group);
        }
        prop_assert_eq!(outcome.accepted, !present.is_empty());
        prop_assert_eq!(outcome.raw_changed, entry.raw != before.raw);
        prop_assert_eq!(outcome.derived_changed, entry.derived != before.derived);
        // Metadata belongs to the store, never to the merge.
        prop_assert_eq!(
            (&entry.workspace_id, entry.version, entry.computed_at, &entry.source),
            (&before.workspace_id, before.version, before.computed_at, &before.source)
        );
    }

    #[test]
    fn repeating_a_write_later_is_accepted_but_changes_nothing(
        mut entry in entries(),
        patch in patches(),
    ) {
        let ts = newest_stamp(&entry) + 1;
        entry.merge(&patch, ts);
        let first = entry.clone();
        let again = entry.merge(&patch, ts + 1);
        prop_assert_eq!(again.accepted, !present_groups(&patch).is_empty());
        prop_assert!(!again.changed(), "{:?}", again);
        prop_assert_eq!((&entry.raw, &entry.derived), (&first.raw, &first.derived));
    }

    #[test]
    fn derived_fields_always_follow_the_raw_fields(
        mut entry in entries(),
        writes in vec((patches(), 0..12i64), 1..8),
    ) {
        prop_assert_eq!(&entry.derived, &Derived::of(&entry.raw));
        for (patch, ts) in writes {
            entry.merge(&patch, ts);
            prop_assert_eq!(&entry.derived, &Derived::of(&entry.raw));
        }
    }

    #[test]
    fn frames_entries_and_patches_round_trip_through_json(
        frame in frames(),
        entry in entries(),
        patch in patches(),
    ) {
        round_trips(&frame)?;
        round_trips(&entry)?;
        round_trips(&patch)?;
    }

    #[test]
    fn reordered_session_summaries_are_no_change(
        mut entry in entries(),
        (listed, shuffled) in summaries().prop_flat_map(|s| (Just(s.clone()), Just(s).prop_shuffle())),
    ) {
        let ts = newest_stamp(&entry) + 1;
        entry.merge(&Patch { session_summaries: Some(listed.into()), ..Patch::default() }, ts);
        let stored = entry.raw.session_summaries.clone();
        // Through JSON, as a writer's list arrives on the wire.
        let reordered: Patch =
            serde_json::from_value(serde_json::json!({ "sessionSummaries": shuffled })).unwrap();
        let outcome = entry.merge(&reordered, ts + 1);
        prop_assert!(outcome.accepted && !outcome.raw_changed, "{:?}", outcome);
        prop_assert_eq!(entry.raw.session_summaries, stored);
    }
}

fn patch(json: &str) -> Patch {
    serde_json::from_str(json).unwrap()
}

fn created(json: &str, ts: i64) -> Entry {
    Entry::from_first_write(WorkspaceId::new("w1"), &patch(json), ts)
        .unwrap()
        .0
}

#[test]
fn a_write_at_the_same_timestamp_is_not_accepted() {
    let mut entry = created(r#"{"projectId": "p1", "name": "old"}"#, 100);
    let outcome = entry.merge(&patch(r#"{"name": "new"}"#), 100);
    assert!(!outcome.accepted);
    assert_eq!(entry.raw.name, "old");
}

#[test]
fn field_groups_update_independently() {
    let mut entry = created(r#"{"projectId": "p1", "status": "READY"}"#, 100);
    let outcome = entry.merge(
        &patch(r#"{"status": "FAILED", "prUrl": "https://github.com/o/r/pull/1"}"#),
        50,
    );
    assert!(outcome.accepted && outcome.raw_changed);
    assert_eq!(entry.raw.status, WorkspaceStatus::Ready);
    assert_eq!(
        entry.raw.pr_url.as_deref(),
        Some("https://github.com/o/r/pull/1")
    );
    assert_eq!(
        (entry.field_timestamps.workspace, entry.field_timestamps.pr),
        (100, 50)
    );
}

#[test]
fn overlaps_move_with_the_reconciliation_group() {
    let mut entry = created(r#"{"projectId": "p1", "gitStats": null}"#, 100);
    let shared = r#"{"overlaps": [{"workspaceId": "w2", "name": "Fix login", "paths": ["a.rs"], "count": 1}]}"#;
    let outcome = entry.merge(&patch(shared), 100);
    assert!(!outcome.accepted, "not newer than the group's last write");
    assert!(entry.raw.overlaps.is_empty());
    let outcome = entry.merge(&patch(shared), 101);
    assert!(outcome.accepted && outcome.raw_changed);
    assert_eq!(entry.raw.overlaps[0].name, "Fix login");
    assert_eq!(entry.field_timestamps.reconciliation, 101);
    assert_eq!(entry.field_timestamps.workspace, 100, "other groups stay");
    let outcome = entry.merge(&patch(r#"{"overlaps": []}"#), 102);
    assert!(outcome.raw_changed, "an empty list clears the mark");
    assert!(entry.raw.overlaps.is_empty());
}

#[test]
fn the_first_write_must_name_the_project() {
    let id = WorkspaceId::new("w1");
    let err = Entry::from_first_write(id.clone(), &patch(r#"{"name": "x"}"#), 1).unwrap_err();
    assert_eq!(err, MissingProjectId(id));
    assert!(err.to_string().contains("projectId") && err.to_string().contains("w1"));
}

#[test]
fn an_explicit_null_clears_the_field_and_counts_as_a_write() {
    let mut entry = created(r#"{"projectId": "p1", "prUrl": "https://x/pull/1"}"#, 10);
    let outcome = entry.merge(&patch(r#"{"prUrl": null}"#), 20);
    assert!(outcome.accepted && outcome.raw_changed);
    assert_eq!(entry.raw.pr_url, None);
    assert_eq!(entry.field_timestamps.pr, 20);
    // An absent field, by contrast, is no write at all.
    assert!(!entry.merge(&patch("{}"), 30).accepted);
    assert_eq!(entry.field_timestamps.pr, 20);
}
