//! One check per workspace at a time (ratchet.md §2). A request while a check runs does not start
//! a second one beside it: it is folded into one more check after the running one, which sees
//! whatever changed meanwhile. Every caller can wait for a check that began after its request.

use ff_core::ids::WorkspaceId;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

#[derive(Default)]
pub struct Schedule {
    slots: Mutex<HashMap<WorkspaceId, Slot>>,
}

struct Slot {
    /// Checks begun for this workspace while it had a slot.
    begun: u64,
    again: bool,
    finished: watch::Sender<u64>,
}

/// What a request got: whether the caller must start the check, and how to wait for it.
pub struct Ticket {
    pub start: bool,
    target: u64,
    finished: watch::Receiver<u64>,
}

impl Ticket {
    /// Resolves once a check that began after the request has finished.
    pub async fn done(mut self) {
        let target = self.target;
        // A closed channel means the slot went away after the last check finished.
        let _ = self.finished.wait_for(|n| *n >= target).await;
    }
}

impl Schedule {
    pub fn request(&self, workspace: &WorkspaceId) -> Ticket {
        let mut slots = self.slots.lock().expect("ratchet schedule");
        match slots.get_mut(workspace) {
            Some(slot) => {
                slot.again = true;
                Ticket {
                    start: false,
                    target: slot.begun + 1,
                    finished: slot.finished.subscribe(),
                }
            }
            None => {
                let (finished, receiver) = watch::channel(0);
                slots.insert(
                    workspace.clone(),
                    Slot {
                        begun: 1,
                        again: false,
                        finished,
                    },
                );
                Ticket {
                    start: true,
                    target: 1,
                    finished: receiver,
                }
            }
        }
    }

    /// The running check finished: true when the caller must run one more.
    pub fn finished(&self, workspace: &WorkspaceId) -> bool {
        let mut slots = self.slots.lock().expect("ratchet schedule");
        let Some(slot) = slots.get_mut(workspace) else {
            return false;
        };
        slot.finished.send_replace(slot.begun);
        if slot.again {
            slot.again = false;
            slot.begun += 1;
            true
        } else {
            slots.remove(workspace);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_during_a_check_become_one_more_check_that_all_of_them_wait_for() {
        let schedule = Schedule::default();
        let w = WorkspaceId::new("w");
        let first = schedule.request(&w);
        assert!(first.start);
        let second = schedule.request(&w);
        let third = schedule.request(&w);
        assert!(!second.start && !third.start);
        assert!(schedule.finished(&w), "one more check for the two requests");
        first.done().await;
        let waiting = tokio::spawn(async move {
            second.done().await;
            third.done().await;
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the second check has not finished");
        assert!(!schedule.finished(&w));
        waiting.await.unwrap();
        assert!(schedule.request(&w).start, "a later request starts afresh");
    }

    #[test]
    fn workspaces_do_not_wait_for_each_other() {
        let schedule = Schedule::default();
        assert!(schedule.request(&WorkspaceId::new("a")).start);
        assert!(schedule.request(&WorkspaceId::new("b")).start);
        assert!(!schedule.finished(&WorkspaceId::new("c")));
    }
}
