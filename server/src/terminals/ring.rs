//! A terminal's scrollback: the last bytes of its output, bounded, for a page that (re)attaches.

use std::collections::VecDeque;

pub struct Ring {
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Self {
        Self {
            bytes: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Appends `chunk`, dropping the oldest bytes beyond the capacity.
    pub fn push(&mut self, chunk: &[u8]) {
        let chunk = &chunk[chunk.len().saturating_sub(self.capacity)..];
        let overflow = (self.bytes.len() + chunk.len()).saturating_sub(self.capacity);
        self.bytes.drain(..overflow);
        self.bytes.extend(chunk);
    }

    /// What is kept, from the first whole UTF-8 character on: the cut may fall inside one, and a
    /// stray continuation byte would show as a replacement character.
    pub fn contents(&self) -> Vec<u8> {
        let skip = self
            .bytes
            .iter()
            .take(3)
            .take_while(|b| (0x80..0xC0).contains(*b))
            .count();
        self.bytes.iter().skip(skip).copied().collect()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_the_last_bytes_within_its_capacity() {
        let cases: [(&[&[u8]], &[u8]); 5] = [
            (&[], b""),
            (&[b"abc"], b"abc"),
            (&[b"abc", b"de"], b"bcde"),
            (&[b"abcdefgh"], b"efgh"),
            (&[b"ab", b"cdefgh", b"i"], b"fghi"),
        ];
        for (chunks, kept) in cases {
            let mut ring = Ring::new(4);
            for chunk in chunks {
                ring.push(chunk);
            }
            assert_eq!(ring.contents(), kept, "{chunks:?}");
        }
    }

    #[test]
    fn a_cut_inside_a_character_starts_at_the_next_one() {
        let mut ring = Ring::new(4);
        ring.push("aé€".as_bytes()); // 1 + 2 + 3 bytes: the ring keeps the last byte of é
        assert_eq!(ring.len(), 4);
        assert_eq!(ring.contents(), "€".as_bytes());
    }

    proptest! {
        #[test]
        fn never_holds_more_than_its_capacity_and_always_the_newest(
            chunks in proptest::collection::vec(proptest::collection::vec(0u8..0x80, 0..50), 0..40),
            capacity in 1usize..64,
        ) {
            let mut ring = Ring::new(capacity);
            let mut all = Vec::new();
            for chunk in &chunks {
                ring.push(chunk);
                all.extend_from_slice(chunk);
                prop_assert!(ring.len() <= capacity);
            }
            prop_assert_eq!(ring.contents(), all[all.len().saturating_sub(capacity)..].to_vec());
        }
    }
}
