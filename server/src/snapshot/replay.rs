//! The recent changes a reconnecting client can be served from, bounded by count and bytes.

use super::store::Change;
use std::collections::VecDeque;
use std::sync::Arc;

pub struct ReplayBuffer {
    frames: VecDeque<Arc<Change>>,
    bytes: usize,
    max_frames: usize,
    max_bytes: usize,
}

impl ReplayBuffer {
    pub fn new(max_frames: usize, max_bytes: usize) -> Self {
        Self {
            frames: VecDeque::new(),
            bytes: 0,
            max_frames,
            max_bytes,
        }
    }

    pub fn push(&mut self, change: Arc<Change>) {
        self.bytes += change.frame.len();
        self.frames.push_back(change);
        while self.frames.len() > self.max_frames
            || (self.bytes > self.max_bytes && self.frames.len() > 1)
        {
            if let Some(old) = self.frames.pop_front() {
                self.bytes -= old.frame.len();
            }
        }
    }

    /// Every change after `seq` (of all projects), or `None` when some of them were already
    /// evicted. `current` is the newest seq emitted.
    pub fn after(&self, seq: u64, current: u64) -> Option<impl Iterator<Item = &Arc<Change>>> {
        if seq > current {
            return None;
        }
        let oldest_needed = seq + 1;
        let complete = match self.frames.front() {
            Some(front) => front.seq <= oldest_needed,
            None => seq == current,
        };
        complete.then(|| self.frames.iter().filter(move |c| c.seq > seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::ids::ProjectId;

    fn change(seq: u64, bytes: usize) -> Arc<Change> {
        Arc::new(Change {
            seq,
            project_id: ProjectId::new("p"),
            frame: "x".repeat(bytes),
            origin: None,
        })
    }

    fn seqs(buffer: &ReplayBuffer, after: u64, current: u64) -> Option<Vec<u64>> {
        buffer
            .after(after, current)
            .map(|it| it.map(|c| c.seq).collect())
    }

    #[test]
    fn serves_what_it_still_holds_and_refuses_gaps() {
        let mut buffer = ReplayBuffer::new(3, 1_000);
        assert_eq!(seqs(&buffer, 0, 0), Some(vec![]));
        for seq in 1..=5 {
            buffer.push(change(seq, 10));
        }
        assert_eq!(seqs(&buffer, 2, 5), Some(vec![3, 4, 5]));
        assert_eq!(seqs(&buffer, 4, 5), Some(vec![5]));
        assert_eq!(seqs(&buffer, 5, 5), Some(vec![]));
        assert_eq!(seqs(&buffer, 1, 5), None, "seq 2 was evicted");
        assert_eq!(
            seqs(&buffer, 6, 5),
            None,
            "a cursor from the future is not ours"
        );
    }

    #[test]
    fn is_bounded_by_bytes_too() {
        let mut buffer = ReplayBuffer::new(100, 25);
        for seq in 1..=5 {
            buffer.push(change(seq, 10));
        }
        assert_eq!(seqs(&buffer, 3, 5), Some(vec![4, 5]));
        assert_eq!(seqs(&buffer, 2, 5), None);
    }
}
