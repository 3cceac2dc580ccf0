//! Timestamps for snapshot writes: epoch milliseconds that never repeat or go back, so that two
//! writes in the same millisecond are still ordered (R§3.3, HEAD).

use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Default)]
pub struct WriteClock {
    last: AtomicI64,
}

impl WriteClock {
    /// `max(now, last + 1)`.
    pub fn next(&self) -> i64 {
        let now = crate::clock::now().millis();
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictly_increases_even_within_a_millisecond() {
        let clock = WriteClock::default();
        let stamps: Vec<i64> = (0..1000).map(|_| clock.next()).collect();
        assert!(stamps.windows(2).all(|w| w[1] > w[0]));
        assert!(stamps[0] >= crate::clock::now().millis() - 1000);
    }
}
