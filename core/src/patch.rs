//! A partial update of an entry (R§2.2): absent, null and value are three different things.
//!
//! Non-nullable fields are `Option<T>` (absent or value); nullable ones are `Option<Option<T>>`
//! (absent, null, or value), so `"prUrl": null` clears the field and counts as a write to its group.

use crate::entry::{GitStats, ParentLink, SessionSummaries};
use crate::enums::*;
use crate::ids::{ProjectId, Timestamp};
use crate::overlaps::Overlap;
use serde::{Deserialize, Serialize};
use serde_with::rust::double_option;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    // workspace
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkspaceStatus>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub created_at: Option<Option<Timestamp>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub branch_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_had_sessions: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub parent: Option<Option<ParentLink>>,
    // pr
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub pr_url: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub pr_number: Option<Option<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_state: Option<PrState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_ci_status: Option<CiStatus>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub pr_review_state: Option<Option<ReviewDecision>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub pr_updated_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_merge_conflict: Option<bool>,
    // session
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_working: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub pending_request_type: Option<Option<PendingRequestType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_summaries: Option<SessionSummaries>,
    // ratchet
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratchet_enabled: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub ratchet_dispatch_outcome: Option<Option<RatchetDispatchOutcome>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratchet_dispatch_retry_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratchet_dispatch_stalled: Option<bool>,
    // runScript
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_script_status: Option<RunScriptStatus>,
    // reconciliation
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub git_stats: Option<Option<GitStats>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub last_activity_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlaps: Option<Vec<Overlap>>,
}

/// Applies `$later`'s present fields over `$self`'s, field by field.
macro_rules! absorb_fields {
    ($self:ident, $later:ident; $($field:ident),+ $(,)?) => {
        $(if $later.$field.is_some() { $self.$field = $later.$field; })+
    };
}

impl Patch {
    /// Merges a later patch into this one, the later value winning per field: a burst of writes
    /// becomes one write with the last value of each field.
    pub fn absorb(&mut self, later: Patch) {
        absorb_fields!(self, later;
            project_id, name, status, created_at, branch_name, has_had_sessions, parent,
            pr_url, pr_number, pr_state, pr_ci_status, pr_review_state, pr_updated_at,
            has_merge_conflict, is_working, pending_request_type, session_summaries,
            ratchet_enabled, ratchet_dispatch_outcome, ratchet_dispatch_retry_count,
            ratchet_dispatch_stalled, run_script_status, git_stats, last_activity_at, overlaps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::RunScriptStatus;

    #[test]
    fn absent_null_and_value_are_distinct() {
        let absent: Patch = serde_json::from_str("{}").unwrap();
        let null: Patch = serde_json::from_str(r#"{"prUrl": null}"#).unwrap();
        let value: Patch = serde_json::from_str(r#"{"prUrl": "https://x/pull/1"}"#).unwrap();
        assert_eq!(absent.pr_url, None);
        assert_eq!(null.pr_url, Some(None));
        assert_eq!(value.pr_url, Some(Some("https://x/pull/1".to_owned())));
        for patch in [absent, null, value] {
            let json = serde_json::to_string(&patch).unwrap();
            assert_eq!(serde_json::from_str::<Patch>(&json).unwrap(), patch);
        }
    }

    #[test]
    fn absorbing_keeps_the_last_value_of_each_field() {
        let mut first = Patch {
            name: Some("a".into()),
            pr_url: Some(Some("u".into())),
            run_script_status: Some(RunScriptStatus::Starting),
            ..Patch::default()
        };
        first.absorb(Patch {
            name: Some("b".into()),
            pr_url: Some(None),
            ..Patch::default()
        });
        assert_eq!(first.name.as_deref(), Some("b"));
        assert_eq!(
            first.pr_url,
            Some(None),
            "an explicit null is a value that wins"
        );
        assert_eq!(first.run_script_status, Some(RunScriptStatus::Starting));
    }

    #[test]
    fn absorb_covers_every_field() {
        // A patch with every field present must come out of an empty one whole.
        let full: Patch = serde_json::from_value(serde_json::json!({
            "projectId": "p", "name": "n", "status": "READY", "createdAt": "2026-01-01T00:00:00.000Z",
            "branchName": "b", "hasHadSessions": true, "parent": {"id": "w0", "name": "Lead"}, "prUrl": "u", "prNumber": 1, "prState": "OPEN",
            "prCiStatus": "SUCCESS", "prReviewState": "APPROVED", "prUpdatedAt": null,
            "hasMergeConflict": true, "isWorking": true, "pendingRequestType": "user_question",
            "sessionSummaries": [], "ratchetEnabled": true, "ratchetDispatchOutcome": "DIED",
            "ratchetDispatchRetryCount": 2, "ratchetDispatchStalled": true, "runScriptStatus": "RUNNING",
            "gitStats": null, "lastActivityAt": null,
            "overlaps": [{"workspaceId": "w2", "name": "Fix login", "paths": ["a.rs"], "count": 1}]
        }))
        .unwrap();
        let mut empty = Patch::default();
        empty.absorb(full.clone());
        assert_eq!(empty, full);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<Patch>(r#"{"prUrll": null}"#).unwrap_err();
        assert!(err.to_string().contains("prUrll"), "{err}");
    }
}
