//! The output of run scripts, kept in memory per workspace and bounded in bytes.

use std::collections::VecDeque;

pub const MAX_BYTES: usize = 512 * 1024;

/// Complete lines, oldest dropped first once over the byte budget, plus the unfinished last line.
#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: VecDeque<String>,
    partial: String,
    bytes: usize,
}

impl LogBuffer {
    pub fn push(&mut self, chunk: &str) {
        self.partial.push_str(chunk);
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            self.bytes += line.len();
            self.lines.push_back(line);
        }
        while self.bytes + self.partial.len() > MAX_BYTES {
            match self.lines.pop_front() {
                Some(line) => self.bytes -= line.len(),
                None => {
                    // One enormous unfinished line: keep its end.
                    let cut = self.partial.len() - MAX_BYTES;
                    let cut = (cut..self.partial.len())
                        .find(|&i| self.partial.is_char_boundary(i))
                        .unwrap_or(0);
                    self.partial.drain(..cut);
                }
            }
        }
    }

    /// The last `n` lines (all when `None`), the unfinished one included.
    pub fn tail(&self, n: Option<usize>) -> String {
        let partial = usize::from(!self.partial.is_empty());
        let total = self.lines.len() + partial;
        let skip = n.map_or(0, |n| total.saturating_sub(n));
        let mut out: String = self.lines.iter().skip(skip).map(String::as_str).collect();
        if partial == 1 && n != Some(0) {
            out.push_str(&self.partial);
        }
        out
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
        assert_eq!(log.tail(Some(0)), "");
        assert_eq!(log.tail(Some(99)), "a\nbc\nd\ne");
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
}
