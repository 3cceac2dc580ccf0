//! At most N agent turns run at once across all workspaces (`--max-running-agents`): beyond it a
//! turn waits its turn, first come first served, and knows how many are ahead of it, so fifty
//! workspaces do not hit the model provider's rate limit together.

use ff_core::ids::SessionId;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

pub struct Slots {
    semaphore: Arc<Semaphore>,
    /// Sessions waiting for a slot, in the order they asked.
    waiting: Mutex<VecDeque<SessionId>>,
    /// Bumped whenever the waiting line moves, so waiters can show their new place.
    moved: watch::Sender<u64>,
}

impl Slots {
    pub fn new(size: usize) -> Arc<Self> {
        Arc::new(Self {
            semaphore: Arc::new(Semaphore::new(size.max(1))),
            waiting: Mutex::default(),
            moved: watch::channel(0).0,
        })
    }

    /// Joins the line now; the returned future resolves with the slot. Dropping it (a cancelled
    /// message, a stopped session) leaves the line.
    pub fn wait(
        self: &Arc<Self>,
        session: &SessionId,
    ) -> impl std::future::Future<Output = OwnedSemaphorePermit> + Send + 'static {
        self.waiting
            .lock()
            .expect("slot line")
            .push_back(session.clone());
        self.moved.send_modify(|n| *n += 1);
        let place = InLine {
            slots: self.clone(),
            session: session.clone(),
        };
        let semaphore = self.semaphore.clone();
        async move {
            let permit = semaphore
                .acquire_owned()
                .await
                .expect("the slot semaphore is never closed");
            drop(place);
            permit
        }
    }

    /// How many sessions are ahead of `session` in the line (`None`: it is not waiting).
    pub fn ahead_of(&self, session: &SessionId) -> Option<u32> {
        self.waiting
            .lock()
            .expect("slot line")
            .iter()
            .position(|s| s == session)
            .map(|p| u32::try_from(p).unwrap_or(u32::MAX))
    }

    /// Changes of the line, for waiters that show their place.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.moved.subscribe()
    }
}

/// A place in the line, given up when the wait ends either way.
struct InLine {
    slots: Arc<Slots>,
    session: SessionId,
}

impl Drop for InLine {
    fn drop(&mut self) {
        let mut waiting = self.slots.waiting.lock().expect("slot line");
        if let Some(position) = waiting.iter().position(|s| *s == self.session) {
            waiting.remove(position);
        }
        drop(waiting);
        self.slots.moved.send_modify(|n| *n += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_beyond_the_limit_wait_in_line_and_know_their_place() {
        let slots = Slots::new(1);
        let (a, b, c) = (
            SessionId::new("a"),
            SessionId::new("b"),
            SessionId::new("c"),
        );
        let first = slots.wait(&a).await;
        let mut second = Box::pin(slots.wait(&b));
        let third = slots.wait(&c);
        assert_eq!((slots.ahead_of(&b), slots.ahead_of(&c)), (Some(0), Some(1)));
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), second.as_mut());
        assert!(
            waited.await.is_err(),
            "the line waits while the slot is taken"
        );
        drop(third);
        assert_eq!(slots.ahead_of(&c), None, "a dropped wait leaves the line");
        drop(first);
        let _running = second.await;
        assert_eq!(slots.ahead_of(&b), None);
    }
}
