//! Domain events and database rows as snapshot patches (R§6.1, HEAD rows that apply to ff).

use crate::events::DomainEvent;
use ff_core::api::{PrInfo, Workspace};
use ff_core::enums::{RatchetDispatchOutcome, WorkspaceStatus};
use ff_core::ids::WorkspaceId;
use ff_core::patch::Patch;
use ff_core::sessions::SessionGroup;

/// What one event does to the snapshot.
#[derive(Debug)]
pub enum Action {
    /// Merge the patch; `immediate` for changes that move a card on the board.
    Patch { patch: Box<Patch>, immediate: bool },
    /// The workspace left: drop its entry now.
    Remove,
}

pub struct Mapped {
    pub workspace_id: WorkspaceId,
    pub action: Action,
    pub source: &'static str,
}

/// What the collector does with an event.
pub enum Effect {
    Workspace(Mapped),
    /// Too much changed for patches: rebuild everything now.
    Reconcile,
    /// Nothing the snapshot shows.
    None,
}

/// The workspace-group fields of a row (plus its ratchet toggle): enough to seed an entry for a
/// workspace the snapshot has not seen yet. The parent is not on the row: its own events set it.
pub fn row_patch(w: &Workspace) -> Patch {
    Patch {
        project_id: Some(w.project_id.clone()),
        name: Some(w.name.clone()),
        status: Some(w.status),
        created_at: Some(Some(w.created_at)),
        branch_name: Some(w.branch_name.clone()),
        has_had_sessions: Some(w.has_had_sessions),
        ratchet_enabled: Some(w.ratchet_enabled),
        ..Patch::default()
    }
}

/// The session group (and, once a workspace has sessions, `hasHadSessions`).
pub fn session_patch(group: &SessionGroup) -> Patch {
    Patch {
        is_working: Some(group.is_working),
        pending_request_type: Some(group.pending_request_type),
        session_summaries: Some(group.summaries.clone()),
        last_activity_at: Some(group.last_activity_at),
        has_had_sessions: (!group.summaries.as_slice().is_empty()).then_some(true),
        ..Patch::default()
    }
}

/// The whole pr group, as the row holds it.
fn pr_patch(pr: &PrInfo) -> Patch {
    Patch {
        pr_url: Some(pr.pr_url.clone()),
        pr_number: Some(pr.pr_number),
        pr_state: Some(pr.pr_state),
        pr_ci_status: Some(pr.pr_ci_status),
        pr_review_state: Some(pr.pr_review_state),
        pr_updated_at: Some(pr.pr_updated_at),
        has_merge_conflict: Some(pr.pr_has_merge_conflict),
        ..Patch::default()
    }
}

/// The ratchet's dispatch bookkeeping as the snapshot's ratchet group shows it.
fn dispatch_patch(
    outcome: Option<RatchetDispatchOutcome>,
    retry_count: u32,
    stalled: bool,
) -> Patch {
    Patch {
        ratchet_dispatch_outcome: Some(outcome),
        ratchet_dispatch_retry_count: Some(retry_count),
        ratchet_dispatch_stalled: Some(stalled),
        ..Patch::default()
    }
}

pub fn map(event: &DomainEvent) -> Effect {
    let mapped = match event {
        DomainEvent::BackupImported { .. } => return Effect::Reconcile,
        DomainEvent::WorkspaceActive { .. }
        | DomainEvent::WorkspaceIdle { .. }
        | DomainEvent::SessionTurnEnded { .. }
        | DomainEvent::PullRequestSeen { .. }
        | DomainEvent::PullRequestRead { .. }
        | DomainEvent::ScheduleChanged { .. } => return Effect::None,
        DomainEvent::SessionActivityChanged {
            workspace_id,
            group,
            moves_card,
        } => Mapped {
            workspace_id: workspace_id.clone(),
            action: Action::Patch {
                patch: Box::new(session_patch(group)),
                immediate: *moves_card,
            },
            source: "event:session_activity_changed",
        },
        DomainEvent::PrSnapshotUpdated { workspace_id, pr } => Mapped {
            workspace_id: workspace_id.clone(),
            action: Action::Patch {
                patch: Box::new(pr_patch(pr)),
                // PR state, CI and conflicts move cards between columns.
                immediate: true,
            },
            source: "event:pr_snapshot_updated",
        },
        DomainEvent::WorkspaceCreated { workspace, parent } => Mapped {
            workspace_id: workspace.id.clone(),
            action: Action::Patch {
                patch: Box::new(Patch {
                    parent: parent.clone().map(Some),
                    ..row_patch(workspace)
                }),
                immediate: true,
            },
            source: "event:workspace_created",
        },
        DomainEvent::WorkspaceDetached { workspace_id } => Mapped {
            workspace_id: workspace_id.clone(),
            action: Action::Patch {
                patch: Box::new(Patch {
                    parent: Some(None),
                    ..Patch::default()
                }),
                immediate: true,
            },
            source: "event:workspace_detached",
        },
        DomainEvent::WorkspaceStateChanged { to, workspace, .. } => Mapped {
            workspace_id: workspace.id.clone(),
            action: if *to == WorkspaceStatus::Archived {
                Action::Remove
            } else {
                Action::Patch {
                    patch: Box::new(row_patch(workspace)),
                    immediate: true,
                }
            },
            source: "event:workspace_state_changed",
        },
        DomainEvent::RunScriptStatusChanged {
            workspace_id, to, ..
        } => Mapped {
            workspace_id: workspace_id.clone(),
            action: Action::Patch {
                patch: Box::new(Patch {
                    run_script_status: Some(*to),
                    ..Patch::default()
                }),
                immediate: false,
            },
            source: "event:run_script_status_changed",
        },
        DomainEvent::RatchetToggled {
            workspace_id,
            enabled,
        } => Mapped {
            workspace_id: workspace_id.clone(),
            action: Action::Patch {
                patch: Box::new(if *enabled {
                    Patch {
                        ratchet_enabled: Some(true),
                        ..Patch::default()
                    }
                } else {
                    Patch {
                        ratchet_enabled: Some(false),
                        ..dispatch_patch(None, 0, false)
                    }
                }),
                immediate: true,
            },
            source: "event:ratchet_toggled",
        },
        DomainEvent::RatchetDispatchChanged {
            workspace_id,
            outcome,
            retry_count,
            stalled,
        } => Mapped {
            workspace_id: workspace_id.clone(),
            action: Action::Patch {
                patch: Box::new(dispatch_patch(*outcome, *retry_count, *stalled)),
                // A stall moves the card to "Waiting on you".
                immediate: true,
            },
            source: "event:ratchet_dispatch_changed",
        },
    };
    Effect::Workspace(mapped)
}
