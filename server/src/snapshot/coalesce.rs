//! The ff coalescing rule (snapshot.md §4): per workspace, the first change after a quiet window
//! goes out at once; the rest of a burst is merged and goes out when that window closes, which
//! never moves, so no change waits longer than one window. Card-moving changes go out at once
//! and take anything pending along.

use ff_core::ids::WorkspaceId;
use ff_core::patch::Patch;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A merged write ready for the store.
#[derive(Debug)]
pub struct Flush {
    pub workspace_id: WorkspaceId,
    pub patch: Patch,
    /// The writers behind it, joined with `+` in arrival order.
    pub source: String,
    /// The earliest commit among the merged events.
    pub origin: Option<Instant>,
}

struct Pending {
    patch: Patch,
    sources: Vec<&'static str>,
    origin: Option<Instant>,
    due: Instant,
}

pub struct Coalescer {
    window: Duration,
    pending: HashMap<WorkspaceId, Pending>,
    /// When each workspace's current window opened (its last push).
    opened: HashMap<WorkspaceId, Instant>,
}

fn flush(workspace_id: WorkspaceId, pending: Pending) -> Flush {
    Flush {
        workspace_id,
        patch: pending.patch,
        source: pending.sources.join("+"),
        origin: pending.origin,
    }
}

impl Coalescer {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            pending: HashMap::new(),
            opened: HashMap::new(),
        }
    }

    /// Takes one event; returns what must be written now, if anything.
    pub fn offer(
        &mut self,
        id: &WorkspaceId,
        patch: Patch,
        source: &'static str,
        immediate: bool,
        origin: Instant,
        now: Instant,
    ) -> Option<Flush> {
        let in_window = self
            .opened
            .get(id)
            .is_some_and(|opened| now < *opened + self.window);
        let due = self
            .opened
            .get(id)
            .map_or(now, |opened| *opened + self.window);
        let pending = self.pending.entry(id.clone()).or_insert_with(|| Pending {
            patch: Patch::default(),
            sources: Vec::new(),
            origin: None,
            due,
        });
        pending.patch.absorb(patch);
        if !pending.sources.contains(&source) {
            pending.sources.push(source);
        }
        pending.origin = Some(pending.origin.map_or(origin, |o| o.min(origin)));
        if immediate || !in_window {
            self.opened.insert(id.clone(), now);
            let pending = self.pending.remove(id).expect("just inserted");
            return Some(flush(id.clone(), pending));
        }
        None
    }

    /// When the next pending write is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.due).min()
    }

    /// Everything due by `now`; each push opens that workspace's next window.
    pub fn due(&mut self, now: Instant) -> Vec<Flush> {
        let ready: Vec<WorkspaceId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let window = self.window;
        self.opened.retain(|_, opened| now < *opened + window);
        ready
            .into_iter()
            .map(|id| {
                self.opened.insert(id.clone(), now);
                let pending = self.pending.remove(&id).expect("listed above");
                flush(id, pending)
            })
            .collect()
    }

    /// Drops whatever is pending for a workspace that is gone.
    pub fn cancel(&mut self, id: &WorkspaceId) {
        self.pending.remove(id);
        self.opened.remove(id);
    }

    /// Everything pending, at once (shutdown).
    pub fn drain(&mut self) -> Vec<Flush> {
        self.opened.clear();
        self.pending.drain().map(|(id, p)| flush(id, p)).collect()
    }

    #[cfg(test)]
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::enums::RunScriptStatus;

    const W: Duration = Duration::from_millis(150);

    fn run(status: RunScriptStatus) -> Patch {
        Patch {
            run_script_status: Some(status),
            ..Patch::default()
        }
    }

    fn id(n: &str) -> WorkspaceId {
        WorkspaceId::new(n)
    }

    #[test]
    fn the_first_change_after_quiet_goes_out_at_once_and_a_burst_waits_one_window_at_most() {
        let mut c = Coalescer::new(W);
        let t0 = Instant::now();
        let first = c.offer(
            &id("a"),
            run(RunScriptStatus::Starting),
            "run",
            false,
            t0,
            t0,
        );
        assert!(first.is_some(), "first change is immediate");

        let ms = Duration::from_millis;
        assert!(c
            .offer(
                &id("a"),
                run(RunScriptStatus::Running),
                "run",
                false,
                t0,
                t0 + ms(10)
            )
            .is_none());
        assert!(c
            .offer(
                &id("a"),
                run(RunScriptStatus::Stopping),
                "other",
                false,
                t0,
                t0 + ms(140)
            )
            .is_none());
        assert_eq!(
            c.next_due(),
            Some(t0 + W),
            "due when the first window closes, not extended"
        );
        assert!(c.due(t0 + ms(149)).is_empty());
        let burst = c.due(t0 + W);
        assert_eq!(burst.len(), 1);
        assert_eq!(
            burst[0].patch.run_script_status,
            Some(RunScriptStatus::Stopping),
            "last writer wins"
        );
        assert_eq!(burst[0].source, "run+other");

        // The push at t0+W opened a new window: a change inside it waits for its end…
        assert!(c
            .offer(
                &id("a"),
                run(RunScriptStatus::Idle),
                "run",
                false,
                t0,
                t0 + W + ms(1)
            )
            .is_none());
        assert_eq!(c.next_due(), Some(t0 + W * 2));
        // …and after a quiet window the next one is immediate again.
        assert_eq!(c.due(t0 + W * 2).len(), 1);
        assert!(c
            .offer(
                &id("a"),
                run(RunScriptStatus::Starting),
                "run",
                false,
                t0,
                t0 + W * 3 + ms(1)
            )
            .is_some());
    }

    #[test]
    fn a_card_moving_change_goes_out_at_once_with_what_was_pending() {
        let mut c = Coalescer::new(W);
        let t0 = Instant::now();
        c.offer(
            &id("a"),
            run(RunScriptStatus::Starting),
            "run",
            false,
            t0,
            t0,
        );
        c.offer(
            &id("a"),
            run(RunScriptStatus::Running),
            "run",
            false,
            t0,
            t0 + Duration::from_millis(5),
        );
        let ratchet = Patch {
            ratchet_enabled: Some(true),
            ..Patch::default()
        };
        let now = c
            .offer(
                &id("a"),
                ratchet,
                "ratchet",
                true,
                t0,
                t0 + Duration::from_millis(6),
            )
            .expect("immediate");
        assert_eq!(now.patch.run_script_status, Some(RunScriptStatus::Running));
        assert_eq!(now.patch.ratchet_enabled, Some(true));
        assert_eq!(now.source, "run+ratchet");
        assert_eq!(c.pending_count(), 0);
    }

    #[test]
    fn workspaces_are_independent_and_drain_and_cancel_empty_the_queue() {
        let mut c = Coalescer::new(W);
        let t0 = Instant::now();
        for n in ["a", "b"] {
            assert!(c
                .offer(&id(n), run(RunScriptStatus::Starting), "run", false, t0, t0)
                .is_some());
            assert!(c
                .offer(&id(n), run(RunScriptStatus::Running), "run", false, t0, t0)
                .is_none());
        }
        assert_eq!(c.pending_count(), 2);
        c.cancel(&id("a"));
        let drained = c.drain();
        assert_eq!(drained.len(), 1);
        assert_eq!(drained[0].workspace_id, id("b"));
        assert_eq!(c.next_due(), None);
    }

    #[test]
    fn the_origin_is_the_earliest_commit_of_the_burst() {
        let mut c = Coalescer::new(W);
        let t0 = Instant::now();
        let later = t0 + Duration::from_millis(3);
        c.offer(
            &id("a"),
            run(RunScriptStatus::Starting),
            "run",
            false,
            t0,
            t0,
        );
        c.offer(
            &id("a"),
            run(RunScriptStatus::Running),
            "run",
            false,
            later,
            later,
        );
        c.offer(
            &id("a"),
            run(RunScriptStatus::Stopping),
            "run",
            false,
            t0 + Duration::from_millis(1),
            later,
        );
        assert_eq!(c.due(t0 + W)[0].origin, Some(t0 + Duration::from_millis(1)));
    }
}
