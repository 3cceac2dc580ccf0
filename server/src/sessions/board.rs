//! The session group of every workspace with sessions (snapshot.md §2): each session's row and
//! live runtime, combined by core's one function, and announced on the bus whenever the group
//! changes, after the change. The same runtimes serve reconciliation as a read model.

use crate::events::{DomainEvent, EventBus};
use crate::read_model::SessionRuntimes;
use ff_core::ids::{SessionId, WorkspaceId};
use ff_core::sessions::{RuntimeFacts, SessionGroup, SessionRow};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub struct Board {
    bus: EventBus,
    workspaces: Mutex<HashMap<WorkspaceId, Sessions>>,
}

#[derive(Default)]
struct Sessions {
    sessions: BTreeMap<SessionId, (SessionRow, Option<RuntimeFacts>)>,
    group: SessionGroup,
}

impl Board {
    pub fn new(bus: EventBus) -> Arc<Self> {
        Arc::new(Self {
            bus,
            workspaces: Mutex::default(),
        })
    }

    /// Whether the workspace's sessions are all known here already.
    pub fn knows(&self, workspace: &WorkspaceId) -> bool {
        self.workspaces
            .lock()
            .expect("session board")
            .contains_key(workspace)
    }

    /// Every session row of a workspace, before any of its sessions reports: a group that
    /// missed one would drop it from the board. The group is announced: the workspace's first
    /// session is news to the snapshot, and its first report may change nothing (within the
    /// same millisecond a session at rest and a fresh runtime look alike).
    pub fn seed(&self, workspace: &WorkspaceId, rows: Vec<SessionRow>) {
        let mut workspaces = self.workspaces.lock().expect("session board");
        let entry = workspaces.entry(workspace.clone()).or_default();
        for row in rows {
            entry
                .sessions
                .entry(row.session_id.clone())
                .or_insert((row, None));
        }
        self.announce(workspace, entry, false);
    }

    /// One session's new state; announces the workspace's group if it changed.
    pub fn report(
        &self,
        workspace: &WorkspaceId,
        row: SessionRow,
        facts: RuntimeFacts,
        moves_card: bool,
    ) {
        let mut workspaces = self.workspaces.lock().expect("session board");
        let entry = workspaces.entry(workspace.clone()).or_default();
        entry
            .sessions
            .insert(row.session_id.clone(), (row, Some(facts)));
        self.announce(workspace, entry, moves_card);
    }

    /// A deleted session leaves its workspace's group.
    pub fn forget(&self, workspace: &WorkspaceId, session: &SessionId) {
        let mut workspaces = self.workspaces.lock().expect("session board");
        if let Some(entry) = workspaces.get_mut(workspace) {
            if entry.sessions.remove(session).is_some() {
                self.announce(workspace, entry, true);
            }
        }
    }

    fn announce(&self, workspace: &WorkspaceId, entry: &mut Sessions, moves_card: bool) {
        let next = group(&entry.sessions);
        if next == entry.group {
            return;
        }
        let started = next.is_working && !entry.group.is_working;
        let finished = !next.is_working && entry.group.is_working;
        let moves_card = moves_card
            || started
            || finished
            || next.pending_request_type != entry.group.pending_request_type;
        entry.group = next.clone();
        self.bus.publish(DomainEvent::SessionActivityChanged {
            workspace_id: workspace.clone(),
            group: Arc::new(next),
            moves_card,
        });
        if started {
            self.bus.publish(DomainEvent::WorkspaceActive {
                workspace_id: workspace.clone(),
            });
        }
        if finished {
            self.bus.publish(DomainEvent::WorkspaceIdle {
                workspace_id: workspace.clone(),
            });
        }
    }
}

fn group(sessions: &BTreeMap<SessionId, (SessionRow, Option<RuntimeFacts>)>) -> SessionGroup {
    SessionGroup::from_sessions(sessions.values().map(|(row, facts)| (row, facts.as_ref())))
}

impl SessionRuntimes for Board {
    fn group(&self, workspace_id: &str) -> Option<SessionGroup> {
        let workspaces = self.workspaces.lock().expect("session board");
        workspaces
            .get(&WorkspaceId::new(workspace_id))
            .map(|entry| entry.group.clone())
    }

    fn runtime(&self, session_id: &str) -> Option<RuntimeFacts> {
        let workspaces = self.workspaces.lock().expect("session board");
        let id = SessionId::new(session_id);
        workspaces
            .values()
            .find_map(|entry| entry.sessions.get(&id))
            .and_then(|(_, facts)| facts.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::enums::SessionStatus;
    use ff_core::ids::Timestamp;

    fn row(id: &str) -> SessionRow {
        SessionRow {
            session_id: SessionId::new(id),
            agent: "claude".into(),
            name: "Chat 1".into(),
            workflow: "user".into(),
            model: None,
            status: SessionStatus::Idle,
            updated_at: Timestamp::from_millis(1_000).unwrap(),
        }
    }

    #[test]
    fn a_seeded_session_is_announced_once() {
        let bus = EventBus::new(8);
        let mut events = bus.subscribe();
        let board = Board::new(bus);
        let workspace = WorkspaceId::new("w");
        board.seed(&workspace, vec![row("s1")]);
        let Some(DomainEvent::SessionActivityChanged { group, .. }) =
            events.try_next().map(|published| published.event)
        else {
            panic!("the seeded group is announced");
        };
        assert_eq!(group.summaries.as_slice()[0].session_id, "s1");
        // Seeding what is known already changes nothing, and says nothing.
        board.seed(&workspace, vec![row("s1")]);
        assert!(events.try_next().is_none());
    }
}
