//! The output of run scripts, kept in memory per workspace: one byte ring, bounded in real memory
//! (no per-line allocation, so a stream of empty lines costs what it weighs) with O(1) amortized
//! appends. Lines are found only when someone reads the tail.

use std::collections::VecDeque;

pub const MAX_BYTES: usize = 512 * 1024;

#[derive(Debug, Default)]
pub struct LogBuffer {
    bytes: VecDeque<u8>,
}

impl LogBuffer {
    pub fn push(&mut self, chunk: &str) {
        let chunk = chunk.as_bytes();
        // Only the newest MAX_BYTES of a huge chunk can be kept anyway.
        let chunk = &chunk[chunk.len().saturating_sub(MAX_BYTES)..];
        let overflow = (self.bytes.len() + chunk.len()).saturating_sub(MAX_BYTES);
        if overflow > 0 {
            // Dropped before growing, so the ring never allocates beyond its bound.
            self.bytes.drain(..overflow);
        }
        if self.bytes.capacity() < MAX_BYTES {
            self.bytes
                .reserve_exact((self.bytes.len() + chunk.len()).min(MAX_BYTES) - self.bytes.len());
        }
        self.bytes.extend(chunk);
    }

    /// The last `n` lines (all when `None`), the unfinished one included.
    pub fn tail(&self, n: Option<usize>) -> String {
        let len = self.bytes.len();
        let mut start = 0;
        if let Some(n) = n {
            if n == 0 {
                return String::new();
            }
            // A newline at the very end closes the last line; every earlier one starts a line.
            let mut wanted = n;
            for (i, &byte) in self
                .bytes
                .iter()
                .enumerate()
                .take(len.saturating_sub(1))
                .rev()
            {
                if byte == b'\n' {
                    wanted -= 1;
                    if wanted == 0 {
                        start = i + 1;
                        break;
                    }
                }
            }
        }
        let (front, back) = self.bytes.as_slices();
        let mut text = Vec::with_capacity(len - start);
        if start < front.len() {
            text.extend_from_slice(&front[start..]);
            text.extend_from_slice(back);
        } else {
            text.extend_from_slice(&back[start - front.len()..]);
        }
        // The oldest character may have been cut when the ring dropped its front.
        let first_whole = text
            .iter()
            .position(|&b| (b as i8) >= -0x40)
            .unwrap_or(text.len());
        String::from_utf8_lossy(&text[first_whole..]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_and_the_unfinished_one() {
        let mut log = LogBuffer::default();
        log.push("a\nb");
        log.push("c\nd\n");
        log.push("e");
        assert_eq!(log.tail(None), "a\nbc\nd\ne");
        assert_eq!(log.tail(Some(2)), "d\ne");
        assert_eq!(log.tail(Some(1)), "e");
        assert_eq!(log.tail(Some(0)), "");
        assert_eq!(log.tail(Some(99)), "a\nbc\nd\ne");
        log.push("\n");
        assert_eq!(log.tail(Some(1)), "e\n");
    }

    #[test]
    fn stays_within_its_byte_budget_dropping_the_oldest() {
        let mut log = LogBuffer::default();
        let line = format!("{}\n", "x".repeat(1023));
        for _ in 0..(MAX_BYTES / 1024 + 10) {
            log.push(&line);
        }
        log.push("last\n");
        let all = log.tail(None);
        assert!(all.len() <= MAX_BYTES);
        assert!(all.ends_with("last\n"));
        let mut huge = LogBuffer::default();
        huge.push(&"y".repeat(MAX_BYTES * 2));
        assert_eq!(huge.tail(None).len(), MAX_BYTES);
    }

    #[test]
    fn memory_is_bounded_by_bytes_even_for_empty_lines() {
        let mut log = LogBuffer::default();
        let newlines = "\n".repeat(64 * 1024);
        for _ in 0..100 {
            log.push(&newlines);
        }
        assert!(
            log.bytes.capacity() <= MAX_BYTES,
            "{}",
            log.bytes.capacity()
        );
        assert_eq!(log.tail(Some(3)), "\n\n\n");
        assert_eq!(log.tail(None).len(), MAX_BYTES);
    }

    #[test]
    fn a_character_cut_by_the_ring_is_dropped_not_garbled() {
        let mut log = LogBuffer::default();
        log.push("é");
        log.push(&"z".repeat(MAX_BYTES - 1));
        let all = log.tail(None);
        assert!(!all.contains('\u{FFFD}'));
        assert_eq!(all.len(), MAX_BYTES - 1);
    }
}
