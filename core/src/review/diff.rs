//! The diff of a workspace (review.md §1): the changed files with their counts, and one file's
//! hunks with each line split into highlighted tokens.

use super::comments::Side;
use crate::entry::GitStats;
use serde::{Deserialize, Serialize};

/// A file larger than this (either version) is listed but not shown.
pub const MAX_SHOWN_BYTES: u64 = 1024 * 1024;
/// A file with more changed lines than this is listed but not shown.
pub const MAX_SHOWN_LINES: u32 = 20_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
    /// Not known to git yet: its lines are shown, but count in no total (R§7.6).
    Untracked,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffFile {
    pub path: String,
    /// Where a renamed file was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    pub status: FileStatus,
    pub additions: u32,
    pub deletions: u32,
    pub binary: bool,
    /// Over [`MAX_SHOWN_BYTES`] or [`MAX_SHOWN_LINES`]: "too large to show".
    pub too_large: bool,
}

impl DiffFile {
    /// Whether its hunks can be shown (binary and too large files are only listed).
    pub fn shown(&self) -> bool {
        !self.binary && !self.too_large
    }

    /// Why its hunks are not shown.
    pub fn hidden_reason(&self) -> Option<&'static str> {
        if self.binary {
            Some("Binary file: not shown")
        } else if self.too_large {
            Some("Too large to show")
        } else {
            None
        }
    }
}

/// Whether a file of `size` bytes with `changed` lines is too large to show.
pub fn too_large(size: u64, changed: u32) -> bool {
    size > MAX_SHOWN_BYTES || changed > MAX_SHOWN_LINES
}

/// `GET /api/workspaces/{id}/diff`. `totals` has the meaning and the value of the entry's
/// `gitStats`: untracked files are listed (with their lines) but count in no total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffList {
    pub files: Vec<DiffFile>,
    pub totals: GitStats,
}

impl DiffList {
    pub fn file(&self, path: &str) -> Option<&DiffFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// `GET /api/workspaces/{id}/diff/file?path=P`: no hunks when the file is not shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDiff {
    pub file: DiffFile,
    pub hunks: Vec<Hunk>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hunk {
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    /// What git shows after the second `@@` (often the enclosing function).
    pub section: String,
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// `@@ -1,3 +1,4 @@ fn main()`, as git prints it.
    pub fn header(&self) -> String {
        let header = format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_lines, self.new_start, self.new_lines
        );
        if self.section.is_empty() {
            header
        } else {
            format!("{header} {}", self.section)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineKind {
    Context,
    Added,
    Deleted,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffLine {
    pub kind: LineKind,
    /// Its number in the base version (context and deleted lines).
    pub old_line: Option<u32>,
    /// Its number in the working tree (context and added lines).
    pub new_line: Option<u32>,
    /// The text, without its line ending, in highlighted pieces.
    pub tokens: Vec<Token>,
    /// The file ends here without a newline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_newline: bool,
}

impl DiffLine {
    pub fn text(&self) -> String {
        self.tokens.iter().map(|t| t.text.as_str()).collect()
    }

    /// Its number on `side`, if it is on that side.
    pub fn number(&self, side: Side) -> Option<u32> {
        match side {
            Side::Old => self.old_line,
            Side::New => self.new_line,
        }
    }
}

/// A piece of a line's text and its syntax class (none for plain text). Text is text: the page
/// escapes it like any other, so file contents never become markup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub class: Option<TokenClass>,
    #[serde(rename = "t")]
    pub text: String,
}

/// The few syntax classes the page colours (the stylesheet has one rule per class).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenClass {
    Comment,
    String,
    Number,
    Constant,
    Keyword,
    Operator,
    Type,
    Function,
    Tag,
    Attribute,
    Variable,
    Punctuation,
    Inserted,
    Deleted,
    Heading,
}

impl TokenClass {
    /// The CSS class (`tok-keyword`).
    pub fn css(self) -> &'static str {
        match self {
            Self::Comment => "tok-comment",
            Self::String => "tok-string",
            Self::Number => "tok-number",
            Self::Constant => "tok-constant",
            Self::Keyword => "tok-keyword",
            Self::Operator => "tok-operator",
            Self::Type => "tok-type",
            Self::Function => "tok-function",
            Self::Tag => "tok-tag",
            Self::Attribute => "tok-attribute",
            Self::Variable => "tok-variable",
            Self::Punctuation => "tok-punctuation",
            Self::Inserted => "tok-inserted",
            Self::Deleted => "tok-deleted",
            Self::Heading => "tok-heading",
        }
    }
}

impl FileDiff {
    /// Every line of the file's hunks that is on `side`, with its hunk's index.
    pub fn lines_on(&self, side: Side) -> impl Iterator<Item = (usize, u32, &DiffLine)> {
        self.hunks.iter().enumerate().flat_map(move |(h, hunk)| {
            hunk.lines
                .iter()
                .filter_map(move |line| Some((h, line.number(side)?, line)))
        })
    }

    /// The text of lines `start..=end` on `side`, when all of them are shown in one hunk.
    pub fn quote(&self, side: Side, start: u32, end: u32) -> Option<Vec<String>> {
        if end < start {
            return None;
        }
        let mut quoted = Vec::new();
        let mut hunk = None;
        for (h, number, line) in self.lines_on(side) {
            if number < start || number > end {
                continue;
            }
            if *hunk.get_or_insert(h) != h || number != start + quoted.len() as u32 {
                return None;
            }
            quoted.push(line.text());
        }
        (quoted.len() as u32 == end - start + 1).then_some(quoted)
    }

    /// Where `quoted` lines on `side` are shown now: at `start` when they still are, else the
    /// nearest place in one hunk where they all are; `None` when they are no longer in the
    /// diff as they were (changed, or no longer changed at all).
    pub fn locate(&self, side: Side, quoted: &[String], start: u32) -> Option<u32> {
        let count = u32::try_from(quoted.len()).ok().filter(|&n| n > 0)?;
        if self.quote(side, start, start + count - 1).as_deref() == Some(quoted) {
            return Some(start);
        }
        self.lines_on(side)
            .filter(|(_, _, line)| line.text() == quoted[0])
            .map(|(_, number, _)| number)
            .filter(|&at| self.quote(side, at, at + count - 1).as_deref() == Some(quoted))
            .min_by_key(|&at| at.abs_diff(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: LineKind, old: Option<u32>, new: Option<u32>, text: &str) -> DiffLine {
        DiffLine {
            kind,
            old_line: old,
            new_line: new,
            tokens: vec![Token {
                class: None,
                text: text.to_owned(),
            }],
            no_newline: false,
        }
    }

    /// Two hunks: `a` → `A` at line 2, and `x` added after line 20 (new 21).
    fn diff() -> FileDiff {
        use LineKind::*;
        FileDiff {
            file: DiffFile {
                path: "f.txt".into(),
                old_path: None,
                status: FileStatus::Modified,
                additions: 2,
                deletions: 1,
                binary: false,
                too_large: false,
            },
            hunks: vec![
                Hunk {
                    old_start: 1,
                    old_lines: 3,
                    new_start: 1,
                    new_lines: 3,
                    section: String::new(),
                    lines: vec![
                        line(Context, Some(1), Some(1), "one"),
                        line(Deleted, Some(2), None, "a"),
                        line(Added, None, Some(2), "A"),
                        line(Context, Some(3), Some(3), "}"),
                    ],
                },
                Hunk {
                    old_start: 19,
                    old_lines: 2,
                    new_start: 19,
                    new_lines: 3,
                    section: "fn main()".into(),
                    lines: vec![
                        line(Context, Some(19), Some(19), "}"),
                        line(Context, Some(20), Some(20), "two"),
                        line(Added, None, Some(21), "x"),
                    ],
                },
            ],
        }
    }

    fn texts(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|&l| l.to_owned()).collect()
    }

    #[test]
    fn quoting_takes_consecutive_lines_of_one_side_in_one_hunk() {
        let diff = diff();
        assert_eq!(diff.quote(Side::New, 1, 3), Some(texts(&["one", "A", "}"])));
        assert_eq!(diff.quote(Side::Old, 1, 2), Some(texts(&["one", "a"])));
        assert_eq!(diff.quote(Side::New, 21, 21), Some(texts(&["x"])));
        assert_eq!(diff.quote(Side::Old, 21, 21), None, "not on the old side");
        assert_eq!(diff.quote(Side::New, 3, 19), None, "across hunks");
        assert_eq!(diff.quote(Side::New, 5, 5), None, "not shown");
        assert_eq!(diff.quote(Side::New, 2, 1), None, "empty range");
    }

    #[test]
    fn comments_are_located_where_their_lines_are_now() {
        let diff = diff();
        assert_eq!(
            diff.locate(Side::New, &texts(&["A"]), 2),
            Some(2),
            "in place"
        );
        assert_eq!(diff.locate(Side::New, &texts(&["x"]), 7), Some(21), "moved");
        assert_eq!(
            diff.locate(Side::New, &texts(&["}"]), 18),
            Some(19),
            "the nearest of two places"
        );
        assert_eq!(diff.locate(Side::New, &texts(&["changed"]), 2), None);
        assert_eq!(diff.locate(Side::Old, &texts(&["a"]), 2), Some(2));
        assert_eq!(diff.locate(Side::New, &[], 2), None);
    }

    #[test]
    fn headers_read_as_git_prints_them() {
        let diff = diff();
        assert_eq!(diff.hunks[0].header(), "@@ -1,3 +1,3 @@");
        assert_eq!(diff.hunks[1].header(), "@@ -19,2 +19,3 @@ fn main()");
        let json = serde_json::to_value(&diff.hunks[1].lines[2]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "ADDED", "oldLine": null, "newLine": 21, "tokens": [{"t": "x"}]})
        );
    }
}
