//! The value-aware field-group merge (R§3.2 HEAD).
//!
//! Per group: skip it when the patch has none of its fields; reject the whole group unless the
//! write is strictly newer than the group's timestamp; otherwise move the timestamp and assign
//! only the fields whose value differs. Derived fields are recomputed after every merge.

use crate::derive::Derived;
use crate::entry::Entry;
use crate::enums::FieldGroup;
use crate::ids::WorkspaceId;
use crate::patch::Patch;

/// What a merge did. `accepted` without `changed` is a no-op that must emit nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// At least one group was newer than its timestamp.
    pub accepted: bool,
    /// At least one raw field took a new value.
    pub raw_changed: bool,
    /// At least one derived field took a new value.
    pub derived_changed: bool,
}

impl MergeOutcome {
    pub fn changed(self) -> bool {
        self.raw_changed || self.derived_changed
    }
}

/// The first write of an unknown workspace must say which project it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("projectId is required on the first write of workspace {0}")]
pub struct MissingProjectId(pub WorkspaceId);

fn assign<T: PartialEq + Clone>(slot: &mut T, value: &Option<T>) -> bool {
    match value {
        Some(new) if slot != new => {
            slot.clone_from(new);
            true
        }
        _ => false,
    }
}

/// Merges the listed fields of one group: `None` when the group is absent or stale, otherwise
/// whether a value changed. The field list is written once and serves both presence and
/// assignment, so the two can never disagree.
macro_rules! merge_group {
    ($entry:ident, $patch:ident, $ts:ident, $group:expr; $($field:ident),+) => {{
        let present = false $(|| $patch.$field.is_some())+;
        let stamp = $entry.field_timestamps.slot($group);
        if present && $ts > *stamp {
            *stamp = $ts;
            Some(false $(| assign(&mut $entry.raw.$field, &$patch.$field))+)
        } else {
            None
        }
    }};
}

impl Entry {
    /// Applies `patch` written at `ts` (epoch ms) and recomputes the derived fields.
    pub fn merge(&mut self, patch: &Patch, ts: i64) -> MergeOutcome {
        let groups = [
            merge_group!(self, patch, ts, FieldGroup::Workspace;
                project_id, name, status, created_at, branch_name, has_had_sessions, parent),
            merge_group!(self, patch, ts, FieldGroup::Pr;
                pr_url, pr_number, pr_state, pr_ci_status, pr_review_state, pr_updated_at,
                has_merge_conflict),
            merge_group!(self, patch, ts, FieldGroup::Session;
                is_working, pending_request_type, session_summaries),
            merge_group!(self, patch, ts, FieldGroup::Ratchet;
                ratchet_enabled, ratchet_dispatch_outcome, ratchet_dispatch_retry_count,
                ratchet_dispatch_stalled),
            merge_group!(self, patch, ts, FieldGroup::RunScript; run_script_status),
            merge_group!(self, patch, ts, FieldGroup::Reconciliation;
                git_stats, last_activity_at, overlaps),
        ];
        let accepted = groups.iter().any(Option::is_some);
        let raw_changed = groups.contains(&Some(true));
        let derived_changed = raw_changed && {
            let derived = Derived::of(&self.raw);
            let changed = derived != self.derived;
            self.derived = derived;
            changed
        };
        MergeOutcome {
            accepted,
            raw_changed,
            derived_changed,
        }
    }

    /// Creates the entry of a workspace seen for the first time from its first write.
    pub fn from_first_write(
        workspace_id: WorkspaceId,
        patch: &Patch,
        ts: i64,
    ) -> Result<(Self, MergeOutcome), MissingProjectId> {
        let project_id = patch
            .project_id
            .clone()
            .ok_or_else(|| MissingProjectId(workspace_id.clone()))?;
        let mut entry = Self::new(workspace_id, project_id);
        let outcome = entry.merge(patch, ts);
        Ok((entry, outcome))
    }
}
