//! A unified, line-based rendering of a file change (an agent's edit: old text → new text), the
//! same on the server and in the browser.

/// One line of a unified diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffLine {
    Context(String),
    Removed(String),
    Added(String),
    /// Unchanged lines left out between two hunks (how many).
    Skipped(usize),
}

/// Above this many line pairs the diff is not searched for common lines: the old text is shown
/// removed and the new one added, which stays correct and keeps the page responsive.
const MAX_PAIRS: usize = 1_000_000;

/// The change from `old` to `new` (a new file when `old` is `None`), with `context` unchanged
/// lines kept around each change.
pub fn unified(old: Option<&str>, new: &str, context: usize) -> Vec<DiffLine> {
    let old: Vec<&str> = old.map_or_else(Vec::new, |text| text.lines().collect());
    let new: Vec<&str> = new.lines().collect();
    let lines = if old.len().saturating_mul(new.len()) > MAX_PAIRS {
        old.iter()
            .map(|l| DiffLine::Removed((*l).to_owned()))
            .chain(new.iter().map(|l| DiffLine::Added((*l).to_owned())))
            .collect()
    } else {
        common_lines(&old, &new)
    };
    fold_context(lines, context)
}

/// Every line of both texts in order, by a longest common subsequence of lines.
fn common_lines(old: &[&str], new: &[&str]) -> Vec<DiffLine> {
    // lcs[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let width = new.len() + 1;
    let mut lcs = vec![0u32; (old.len() + 1) * width];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i * width + j] = if old[i] == new[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut lines = Vec::with_capacity(old.len() + new.len());
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            lines.push(DiffLine::Context(old[i].to_owned()));
            i += 1;
            j += 1;
        } else if j < new.len()
            && (i == old.len() || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j])
        {
            lines.push(DiffLine::Added(new[j].to_owned()));
            j += 1;
        } else {
            lines.push(DiffLine::Removed(old[i].to_owned()));
            i += 1;
        }
    }
    // A changed line reads better as its removal followed by its addition.
    for run in lines.chunk_by_mut(|a, b| {
        !matches!(a, DiffLine::Context(_)) && !matches!(b, DiffLine::Context(_))
    }) {
        run.sort_by_key(|line| matches!(line, DiffLine::Added(_)));
    }
    lines
}

/// Keeps `context` unchanged lines on each side of every change; longer unchanged runs become
/// one `Skipped`.
fn fold_context(lines: Vec<DiffLine>, context: usize) -> Vec<DiffLine> {
    let changed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, DiffLine::Context(_)))
        .map(|(n, _)| n)
        .collect();
    let near_change = |n: usize| {
        let at = changed.partition_point(|&c| c + context < n);
        changed.get(at).is_some_and(|&c| c <= n + context)
    };
    let mut out = Vec::new();
    let mut skipped = 0;
    for (n, line) in lines.into_iter().enumerate() {
        if near_change(n) {
            if skipped > 0 {
                out.push(DiffLine::Skipped(skipped));
                skipped = 0;
            }
            out.push(line);
        } else {
            skipped += 1;
        }
    }
    if skipped > 0 {
        out.push(DiffLine::Skipped(skipped));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use DiffLine::{Added as A, Context as C, Removed as R, Skipped as S};

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn a_new_file_is_all_additions() {
        assert_eq!(unified(None, "a\nb\n", 3), [A(s("a")), A(s("b"))]);
    }

    #[test]
    fn a_changed_line_shows_its_removal_then_its_addition_with_context_folded() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified(Some(old), new, 2),
            [
                S(2),
                C(s("3")),
                C(s("4")),
                R(s("5")),
                A(s("five")),
                C(s("6")),
                C(s("7")),
                S(2)
            ]
        );
    }

    #[test]
    fn insertions_and_deletions_keep_the_common_lines() {
        assert_eq!(
            unified(Some("a\nb\nc\n"), "a\nc\nd\n", 5),
            [C(s("a")), R(s("b")), C(s("c")), A(s("d"))]
        );
        assert_eq!(unified(Some("same\n"), "same\n", 3), [S(1)]);
        assert_eq!(unified(Some("gone\n"), "", 3), [R(s("gone"))]);
    }

    #[test]
    fn huge_texts_are_shown_whole_without_searching() {
        let old: String = (0..1500).map(|n| format!("{n}\n")).collect();
        let new: String = (0..1500).map(|n| format!("{}\n", n + 1)).collect();
        let lines = unified(Some(&old), &new, 3);
        assert_eq!(lines.len(), 3000);
        assert!(matches!(&lines[0], R(l) if l == "0"));
        assert!(matches!(&lines[1500], A(l) if l == "1"));
    }
}
