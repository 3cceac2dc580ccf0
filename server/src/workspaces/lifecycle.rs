//! The workspace state machine (D§2.1): every status change is a compare-and-swap on the status
//! that was read, and its event carries the row re-read after the commit.

use super::store::{self, Effect};
use crate::clock;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::events::{DomainEvent, EventBus};
use ff_core::api::Workspace;
use ff_core::enums::WorkspaceStatus;
use ff_core::ids::WorkspaceId;
use std::sync::Arc;

#[derive(Clone)]
pub struct Lifecycle {
    db: Db,
    bus: EventBus,
}

impl Lifecycle {
    pub fn new(db: Db, bus: EventBus) -> Self {
        Self { db, bus }
    }

    /// `from → to` with its side effects. `Ok(None)`: the row was no longer `from` (or had no
    /// retries left), nothing was written.
    pub async fn transition(
        &self,
        id: &WorkspaceId,
        from: WorkspaceStatus,
        to: WorkspaceStatus,
        effect: Effect,
    ) -> DomainResult<Option<Workspace>> {
        if !from.can_become(to) {
            return Err(DomainError::Internal(format!(
                "the state machine has no transition {from:?} → {to:?}"
            )));
        }
        let mut conn = self.db.acquire().await?;
        let won =
            store::transition(&mut conn, id.as_str(), from, to, &effect, clock::now()).await?;
        if !won {
            return Ok(None);
        }
        let Some(record) = store::get(&mut conn, id.as_str()).await? else {
            return Ok(None);
        };
        // A newer transition may already have moved the row on: its own event tells that story.
        if record.workspace.status == to {
            tracing::info!(workspace = %id, ?from, ?to, "workspace transition");
            self.bus.publish(DomainEvent::WorkspaceStateChanged {
                from,
                to,
                workspace: Arc::new(record.workspace.clone()),
            });
        }
        Ok(Some(record.workspace))
    }
}
