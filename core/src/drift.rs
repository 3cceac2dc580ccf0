//! Drift detection (R§7.5 HEAD): which fields an authoritative rebuild would correct.

use crate::entry::Entry;
use crate::enums::FieldGroup;
use crate::patch::Patch;
use serde::Serialize;
use serde_json::Value;

/// One field whose snapshot value disagrees with the authoritative one.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub field: &'static str,
    pub group: FieldGroup,
    pub snapshot: Value,
    pub authoritative: Value,
}

fn check<T: PartialEq + Serialize>(
    drifts: &mut Vec<Drift>,
    field: &'static str,
    group: FieldGroup,
    snapshot: &T,
    authoritative: &Option<T>,
) {
    if let Some(authoritative) = authoritative {
        if authoritative != snapshot {
            drifts.push(Drift {
                field,
                group,
                snapshot: serde_json::to_value(snapshot).unwrap_or(Value::Null),
                authoritative: serde_json::to_value(authoritative).unwrap_or(Value::Null),
            });
        }
    }
}

/// Compares the fields R§7.5 lists; a field the authoritative patch leaves out is skipped.
/// Timestamps, git stats, overlaps and activity times are expected to move and are not drift.
pub fn detect_drift(existing: &Entry, authoritative: &Patch) -> Vec<Drift> {
    use FieldGroup as G;
    let raw = &existing.raw;
    let a = authoritative;
    let mut d = Vec::new();
    check(&mut d, "status", G::Workspace, &raw.status, &a.status);
    check(&mut d, "name", G::Workspace, &raw.name, &a.name);
    check(
        &mut d,
        "branchName",
        G::Workspace,
        &raw.branch_name,
        &a.branch_name,
    );
    check(&mut d, "parent", G::Workspace, &raw.parent, &a.parent);
    check(&mut d, "prState", G::Pr, &raw.pr_state, &a.pr_state);
    check(
        &mut d,
        "prCiStatus",
        G::Pr,
        &raw.pr_ci_status,
        &a.pr_ci_status,
    );
    check(&mut d, "prNumber", G::Pr, &raw.pr_number, &a.pr_number);
    check(
        &mut d,
        "ratchetEnabled",
        G::Ratchet,
        &raw.ratchet_enabled,
        &a.ratchet_enabled,
    );
    check(
        &mut d,
        "ratchetDispatchOutcome",
        G::Ratchet,
        &raw.ratchet_dispatch_outcome,
        &a.ratchet_dispatch_outcome,
    );
    check(
        &mut d,
        "ratchetDispatchRetryCount",
        G::Ratchet,
        &raw.ratchet_dispatch_retry_count,
        &a.ratchet_dispatch_retry_count,
    );
    check(
        &mut d,
        "runScriptStatus",
        G::RunScript,
        &raw.run_script_status,
        &a.run_script_status,
    );
    check(
        &mut d,
        "isWorking",
        G::Session,
        &raw.is_working,
        &a.is_working,
    );
    check(
        &mut d,
        "pendingRequestType",
        G::Session,
        &raw.pending_request_type,
        &a.pending_request_type,
    );
    check(
        &mut d,
        "sessionSummaries",
        G::Session,
        &raw.session_summaries,
        &a.session_summaries,
    );
    d
}
