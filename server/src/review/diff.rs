//! A worktree's diff as the API carries it (review.md §1), read from the same scan as the git
//! statistics ([`crate::git::changes`]), so the totals are the entry's `gitStats`.

use super::highlight::highlight;
use crate::git::changes::{open_worktree, ChangedFile, Changes};
use ff_core::review::diff::{
    too_large, DiffFile, DiffLine, DiffList, FileDiff, FileStatus, Hunk, LineKind, Token,
    MAX_SHOWN_BYTES,
};
use ff_core::review::path::ReviewPath;
use git2::{Delta, Patch};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// Every changed file with its counts, and the totals.
pub fn list(worktree: &Path, default_branch: &str) -> Result<DiffList, git2::Error> {
    let repo = open_worktree(worktree)?;
    let changes = Changes::scan(&repo, default_branch)?;
    let files = changes.files(true)?;
    Ok(DiffList {
        totals: changes.stats(&files),
        files: files.iter().map(listed).collect(),
    })
}

/// The hunks of each of `paths` that the scan lists (the others are left out), highlighted when
/// `colours`; one scan for all of them.
pub fn files(
    worktree: &Path,
    default_branch: &str,
    paths: &[ReviewPath],
    colours: bool,
) -> Result<HashMap<String, FileDiff>, git2::Error> {
    let repo = open_worktree(worktree)?;
    let wanted: Vec<&str> = paths.iter().map(ReviewPath::as_str).collect();
    let changes = Changes::scan_for(&repo, default_branch, &wanted)?;
    let mut found = HashMap::with_capacity(paths.len());
    for path in paths {
        if let Some((changed, patch)) = changes.patch(path.as_str())? {
            let diff = file_diff(&changes, &changed, patch, path, colours)?;
            found.insert(path.as_str().to_owned(), diff);
        }
    }
    Ok(found)
}

fn listed(file: &ChangedFile) -> DiffFile {
    DiffFile {
        path: file.path.clone(),
        old_path: file.old_path.clone(),
        status: match file.status {
            Delta::Added | Delta::Copied => FileStatus::Added,
            Delta::Deleted => FileStatus::Deleted,
            Delta::Renamed => FileStatus::Renamed,
            Delta::Untracked => FileStatus::Untracked,
            _ => FileStatus::Modified,
        },
        additions: file.additions,
        deletions: file.deletions,
        binary: file.binary,
        too_large: !file.binary
            && too_large(file.size, file.additions.saturating_add(file.deletions)),
    }
}

fn file_diff(
    changes: &Changes<'_>,
    changed: &ChangedFile,
    patch: Option<Patch<'_>>,
    path: &ReviewPath,
    colours: bool,
) -> Result<FileDiff, git2::Error> {
    let file = listed(changed);
    let hunks = match patch {
        Some(patch) if file.shown() => hunks_of(&patch)?,
        _ => Vec::new(),
    };
    let mut diff = FileDiff { file, hunks };
    if colours && !diff.hunks.is_empty() {
        colour(changes, changed, path, &mut diff);
    }
    Ok(diff)
}

fn hunks_of(patch: &Patch<'_>) -> Result<Vec<Hunk>, git2::Error> {
    let mut hunks = Vec::with_capacity(patch.num_hunks());
    for h in 0..patch.num_hunks() {
        let (hunk, count) = patch.hunk(h)?;
        let header = String::from_utf8_lossy(hunk.header());
        let section = header
            .trim_end()
            .splitn(3, "@@")
            .nth(2)
            .unwrap_or_default()
            .trim()
            .to_owned();
        let mut lines: Vec<DiffLine> = Vec::with_capacity(count);
        for l in 0..count {
            let line = patch.line_in_hunk(h, l)?;
            let kind = match line.origin() {
                ' ' => LineKind::Context,
                '+' => LineKind::Added,
                '-' => LineKind::Deleted,
                // "\ No newline at end of file" belongs to the line before it.
                '=' | '>' | '<' => {
                    if let Some(last) = lines.last_mut() {
                        last.no_newline = true;
                    }
                    continue;
                }
                _ => continue,
            };
            let content = String::from_utf8_lossy(line.content());
            let text = content.strip_suffix('\n').unwrap_or(&content);
            let text = text.strip_suffix('\r').unwrap_or(text);
            lines.push(DiffLine {
                kind,
                old_line: line.old_lineno(),
                new_line: line.new_lineno(),
                tokens: vec![Token {
                    class: None,
                    text: text.to_owned(),
                }],
                no_newline: false,
            });
        }
        hunks.push(Hunk {
            old_start: hunk.old_start(),
            old_lines: hunk.old_lines(),
            new_start: hunk.new_start(),
            new_lines: hunk.new_lines(),
            section,
            lines,
        });
    }
    Ok(hunks)
}

/// Replaces each line's plain token with highlighted ones: removed lines from the base version,
/// the others from the working tree. A line whose highlighted text does not read the same (a
/// checkout filter changed it) stays plain.
fn colour(changes: &Changes<'_>, changed: &ChangedFile, path: &ReviewPath, diff: &mut FileDiff) {
    // Which line of that version a diff line shows, if it is coloured from it.
    let number = |old: bool, line: &DiffLine| match (old, line.kind) {
        (true, LineKind::Deleted) => line.old_line,
        (false, LineKind::Added | LineKind::Context) => line.new_line,
        _ => None,
    };
    for old in [true, false] {
        let wanted: BTreeSet<u32> = diff
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter_map(|line| number(old, line))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let Some(content) = changes.content(changed, old, MAX_SHOWN_BYTES) else {
            continue;
        };
        let text = String::from_utf8_lossy(&content);
        let Some(mut tokens) = highlight(path, &text, &wanted) else {
            continue;
        };
        for line in diff.hunks.iter_mut().flat_map(|h| &mut h.lines) {
            if let Some(highlighted) = number(old, line).and_then(|n| tokens.remove(&n)) {
                let same: String = highlighted.iter().map(|t| t.text.as_str()).collect();
                if same == line.tokens[0].text {
                    line.tokens = highlighted;
                }
            }
        }
    }
}
