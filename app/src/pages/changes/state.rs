//! What the changes page holds while a person reviews: the list, the shown file, the comments,
//! the focused line and the selected range, and what a key press does to them.

use ff_core::ids::WorkspaceId;
use ff_core::review::comments::{CommentState, ReviewComment, Side};
use ff_core::review::diff::{DiffLine, DiffList, FileDiff, LineKind};
use leptos::prelude::*;

/// A range of lines on one side of the shown file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub side: Side,
    /// Where the range started (shift+arrows move the other end).
    pub anchor: u32,
    pub start: u32,
    pub end: u32,
}

impl Selection {
    pub fn contains(&self, side: Side, number: Option<u32>) -> bool {
        side == self.side && number.is_some_and(|n| (self.start..=self.end).contains(&n))
    }

    pub fn label(&self) -> String {
        if self.start == self.end {
            format!("line {}", self.start)
        } else {
            format!("lines {}–{}", self.start, self.end)
        }
    }
}

/// The side a line is commented on: removed lines on the base, the others on the working tree.
pub fn side_of(line: &DiffLine) -> Side {
    match line.kind {
        LineKind::Deleted => Side::Old,
        LineKind::Added | LineKind::Context => Side::New,
    }
}

/// The shown file's lines in order, as (hunk, line) positions.
pub fn positions(file: &FileDiff) -> Vec<(usize, usize)> {
    file.hunks
        .iter()
        .enumerate()
        .flat_map(|(h, hunk)| (0..hunk.lines.len()).map(move |l| (h, l)))
        .collect()
}

#[derive(Clone, Copy)]
pub struct ReviewState {
    pub workspace: StoredValue<WorkspaceId>,
    pub list: RwSignal<DiffList>,
    pub file: RwSignal<Option<FileDiff>>,
    pub comments: RwSignal<Vec<ReviewComment>>,
    /// The focused line: an index into [`positions`] of the shown file.
    pub cursor: RwSignal<Option<usize>>,
    pub selection: RwSignal<Option<Selection>>,
    /// The comment form is open on the selection.
    pub composing: RwSignal<bool>,
    /// What the comment form holds (kept while the page redraws the file).
    pub draft: RwSignal<String>,
    /// What a screen reader is told after a move.
    pub announcement: RwSignal<String>,
    pub error: RwSignal<Option<String>>,
}

impl ReviewState {
    pub fn new(
        workspace: WorkspaceId,
        list: DiffList,
        file: Option<FileDiff>,
        comments: Vec<ReviewComment>,
    ) -> Self {
        Self {
            workspace: StoredValue::new(workspace),
            list: RwSignal::new(list),
            file: RwSignal::new(file),
            comments: RwSignal::new(comments),
            cursor: RwSignal::new(None),
            selection: RwSignal::new(None),
            composing: RwSignal::new(false),
            draft: RwSignal::new(String::new()),
            announcement: RwSignal::new(String::new()),
            error: RwSignal::new(None),
        }
    }

    pub fn drafts(&self) -> usize {
        self.comments.with(|c| {
            c.iter()
                .filter(|c| c.state == CommentState::Draft && c.is_open())
                .count()
        })
    }

    fn line_at(&self, index: usize) -> Option<DiffLine> {
        self.file.with(|file| {
            let file = file.as_ref()?;
            let (h, l) = *positions(file).get(index)?;
            Some(file.hunks[h].lines[l].clone())
        })
    }

    /// Focuses line `index`; `extend` grows the selection to it (on the selection's side),
    /// otherwise the selection becomes that line.
    pub fn focus_line(&self, index: usize, extend: bool) {
        let Some(line) = self.line_at(index) else {
            return;
        };
        self.cursor.set(Some(index));
        let side = side_of(&line);
        let current = self.selection.get_untracked();
        let selection = match current {
            Some(s) if extend => match line.number(s.side) {
                Some(n) => Some(Selection {
                    start: n.min(s.anchor),
                    end: n.max(s.anchor),
                    ..s
                }),
                None => Some(s),
            },
            _ => line.number(side).map(|n| Selection {
                side,
                anchor: n,
                start: n,
                end: n,
            }),
        };
        self.selection.set(selection);
        let what = match line.kind {
            LineKind::Added => "added",
            LineKind::Deleted => "removed",
            LineKind::Context => "unchanged",
        };
        let number = line.number(side).unwrap_or_default();
        let selected = selection
            .filter(|s| s.start != s.end)
            .map(|s| format!(", {} selected", s.label()))
            .unwrap_or_default();
        self.announcement
            .set(format!("Line {number}, {what}: {}{selected}", line.text()));
    }

    /// Moves the focus `by` lines (±1).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn step(&self, by: isize, extend: bool) {
        let count = self
            .file
            .with_untracked(|f| f.as_ref().map_or(0, |f| positions(f).len()));
        if count == 0 {
            return;
        }
        let next = match self.cursor.get_untracked() {
            Some(at) => at.saturating_add_signed(by).min(count - 1),
            None => 0,
        };
        self.focus_line(next, extend);
    }

    /// Focuses the first line of the next (`forward`) or previous hunk.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn jump_hunk(&self, forward: bool) {
        let Some((target, hunk, hunks)) = self.file.with_untracked(|file| {
            let file = file.as_ref()?;
            let positions = positions(file);
            let current = self
                .cursor
                .get_untracked()
                .and_then(|at| positions.get(at))
                .map(|&(h, _)| h);
            let hunk = match (current, forward) {
                (None, _) => 0,
                (Some(h), true) => (h + 1).min(file.hunks.len().saturating_sub(1)),
                (Some(h), false) => h.saturating_sub(1),
            };
            let target = positions.iter().position(|&(h, _)| h == hunk)?;
            Some((target, hunk, file.hunks.len()))
        }) else {
            return;
        };
        self.focus_line(target, false);
        let header = self
            .file
            .with_untracked(|f| f.as_ref().map(|f| f.hunks[hunk].header()))
            .unwrap_or_default();
        self.announcement
            .set(format!("Hunk {} of {hunks}: {header}", hunk + 1));
    }
}
