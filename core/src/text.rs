//! Bounded text buffers: output that can grow forever is kept to its most recent part.

/// Marks where the head of a capped text was cut away.
pub const TRUNCATED_MARKER: &str = "[...truncated...]\n";

/// `existing + chunk`, keeping at most `max_bytes`: when over, the oldest bytes go and the text
/// starts with [`TRUNCATED_MARKER`]. Never splits a UTF-8 character.
pub fn append_capped(existing: &str, chunk: &str, max_bytes: usize) -> String {
    let total = existing.len() + chunk.len();
    if total <= max_bytes {
        return [existing, chunk].concat();
    }
    let keep = max_bytes.saturating_sub(TRUNCATED_MARKER.len());
    let joined = [
        existing.strip_prefix(TRUNCATED_MARKER).unwrap_or(existing),
        chunk,
    ]
    .concat();
    let mut start = joined.len().saturating_sub(keep);
    while !joined.is_char_boundary(start) {
        start += 1;
    }
    [TRUNCATED_MARKER, &joined[start..]].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(append_capped("ab", "cd", 10), "abcd");
        assert_eq!(append_capped("", "", 0), "");
    }

    #[test]
    fn long_text_keeps_its_tail_behind_one_marker() {
        let cap = TRUNCATED_MARKER.len() + 4;
        let long = "x".repeat(cap);
        let once = append_capped(&long, "6789", cap);
        assert_eq!(once, format!("{TRUNCATED_MARKER}6789"));
        let twice = append_capped(&once, "ab", cap);
        assert_eq!(twice, format!("{TRUNCATED_MARKER}89ab"));
        assert_eq!(twice.len(), cap);
    }

    #[test]
    fn never_splits_a_character() {
        let cap = TRUNCATED_MARKER.len() + 3;
        let out = append_capped(&"x".repeat(cap), "ééé", cap);
        assert_eq!(out, format!("{TRUNCATED_MARKER}é"));
    }
}
