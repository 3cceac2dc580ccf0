//! Time and identity for new records, and the clock that decides when scheduled tasks are due:
//! the system's, or one a test sets by hand.

use ff_core::ids::Timestamp;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

pub fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(millis).expect("the current time is a valid timestamp")
}

/// Time-ordered ids (UUIDv7): rows created later sort later, which keeps indexes compact.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A system clock that sleeps in steps no longer than this notices within that long that the
/// wall clock jumped (a suspended laptop wakes, NTP corrects it): tokio's timers do not count
/// the time a machine is asleep.
const LONGEST_NAP: Duration = Duration::from_secs(30);

/// The wall clock of whatever waits for a time of day. Cheap to clone; clones share the time of
/// a manual clock.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<watch::Sender<Timestamp>>>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `start` until [`Clock::set`] moves it (tests).
    pub fn manual(start: Timestamp) -> Self {
        Self {
            manual: Some(Arc::new(watch::channel(start).0)),
        }
    }

    pub fn now(&self) -> Timestamp {
        match &self.manual {
            Some(time) => *time.borrow(),
            None => now(),
        }
    }

    /// Moves a manual clock (forward or back) and wakes what sleeps on it; a system clock
    /// cannot be set.
    pub fn set(&self, to: Timestamp) {
        match &self.manual {
            Some(time) => {
                time.send_replace(to);
            }
            None => panic!("the system clock cannot be set"),
        }
    }

    /// Returns once the clock reads `deadline` or later.
    pub async fn sleep_until(&self, deadline: Timestamp) {
        match &self.manual {
            Some(time) => {
                let mut reader = time.subscribe();
                // The sender lives as long as this clock, so the wait ends only when the time
                // comes.
                let _ = reader.wait_for(|now| *now >= deadline).await;
            }
            None => loop {
                let left = deadline.millis().saturating_sub(now().millis());
                let Ok(left) = u64::try_from(left) else {
                    return;
                };
                if left == 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(left).min(LONGEST_NAP)).await;
            },
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.manual {
            Some(time) => write!(f, "Clock::manual({})", *time.borrow()),
            None => f.write_str("Clock::system"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[tokio::test]
    async fn a_manual_clock_wakes_sleepers_when_it_is_set_past_their_time() {
        let clock = Clock::manual(at("2026-01-01T00:00:00Z"));
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep_until(at("2026-01-01T01:00:00Z")).await })
        };
        clock.set(at("2026-01-01T00:59:59Z"));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.set(at("2026-01-01T01:00:00Z"));
        sleeper.await.unwrap();
        assert_eq!(clock.now(), at("2026-01-01T01:00:00Z"));
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_does_not_wait() {
        Clock::system()
            .sleep_until(at("2000-01-01T00:00:00Z"))
            .await;
        let manual = Clock::manual(at("2026-01-01T00:00:00Z"));
        manual.sleep_until(at("2025-01-01T00:00:00Z")).await;
    }
}
