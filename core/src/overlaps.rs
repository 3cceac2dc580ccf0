//! Overlaps between the live workspaces of one project (review.md §3): two workspaces overlap
//! when they change a common path, so merging one may conflict with the other.

use crate::ids::WorkspaceId;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// How many shared paths an overlap names; `count` has them all.
pub const SHOWN_PATHS: usize = 5;

/// Another workspace that changes some of the same paths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overlap {
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// The first [`SHOWN_PATHS`] shared paths, sorted.
    pub paths: Vec<String>,
    /// How many paths the two workspaces share.
    pub count: u32,
}

/// One live workspace and the paths it changes (from the git-stats scan).
#[derive(Clone, Copy, Debug)]
pub struct WorkspacePaths<'a> {
    pub id: &'a WorkspaceId,
    pub name: &'a str,
    pub paths: &'a BTreeSet<String>,
}

/// What two workspaces share, gathered in path order so the first paths are the smallest.
#[derive(Default)]
struct Pair<'a> {
    count: u32,
    /// The first `min(count, SHOWN_PATHS)` are filled: no allocation per pair.
    first: [&'a str; SHOWN_PATHS],
}

impl<'a> Pair<'a> {
    fn add(&mut self, path: &'a str) {
        if let Some(slot) = self.first.get_mut(self.count as usize) {
            *slot = path;
        }
        self.count += 1;
    }

    fn paths(&self) -> Vec<String> {
        let shown = self.first.len().min(self.count as usize);
        self.first[..shown].iter().map(|&p| p.to_owned()).collect()
    }
}

/// Marks the end of a path's list of workspaces.
const NONE: usize = usize::MAX;

/// For each of `workspaces` (the live workspaces of one project, ids distinct), every other one
/// that shares a path with it: most shared paths first, then by name, then by id. Every workspace
/// has an entry, empty when it overlaps nothing, so a caller can overwrite a stale list with it.
///
/// An inverted index (path → workspaces seen so far) rather than intersecting every pair of sets:
/// each path is hashed once and the work follows the paths actually shared, not the number of
/// pairs (`benches/overlaps.rs` measures both). It keeps one small record per pair of workspaces,
/// which is nothing for the tens of workspaces a project runs at once.
pub fn derive_overlaps(workspaces: &[WorkspacePaths<'_>]) -> BTreeMap<WorkspaceId, Vec<Overlap>> {
    let n = workspaces.len();
    // The pairs a < b, as a triangular matrix.
    let slot = |a: usize, b: usize| a * (2 * n - a - 1) / 2 + (b - a - 1);
    let mut pairs: Vec<Pair<'_>> = Vec::new();
    pairs.resize_with(n * n.saturating_sub(1) / 2, Pair::default);

    let total = workspaces.iter().map(|w| w.paths.len()).sum();
    // Per path, the last (workspace, previous) node of a list threaded through `holders`.
    let mut last: FxHashMap<&str, usize> =
        FxHashMap::with_capacity_and_hasher(total, Default::default());
    let mut holders: Vec<(usize, usize)> = Vec::with_capacity(total);
    for (b, workspace) in workspaces.iter().enumerate() {
        // `b` walks its paths in sorted order, so each pair (a, b) meets its shared paths in
        // sorted order too: the first ones kept are the smallest, with no sorting at all.
        for path in workspace.paths {
            let head = last.entry(path).or_insert(NONE);
            let mut node = *head;
            while node != NONE {
                let (a, previous) = holders[node];
                pairs[slot(a, b)].add(path);
                node = previous;
            }
            holders.push((b, *head));
            *head = holders.len() - 1;
        }
    }

    let mut overlaps: Vec<Vec<Overlap>> = vec![Vec::new(); n];
    for a in 0..n {
        for b in a + 1..n {
            let pair = &pairs[slot(a, b)];
            if pair.count == 0 {
                continue;
            }
            let paths = pair.paths();
            overlaps[a].push(overlap(&workspaces[b], paths.clone(), pair.count));
            overlaps[b].push(overlap(&workspaces[a], paths, pair.count));
        }
    }
    workspaces
        .iter()
        .zip(overlaps)
        .map(|(w, mut list)| {
            list.sort_by(|x, y| {
                (Reverse(x.count), &x.name, &x.workspace_id).cmp(&(
                    Reverse(y.count),
                    &y.name,
                    &y.workspace_id,
                ))
            });
            (w.id.clone(), list)
        })
        .collect()
}

fn overlap(other: &WorkspacePaths<'_>, paths: Vec<String>, count: u32) -> Overlap {
    Overlap {
        workspace_id: other.id.clone(),
        name: other.name.to_owned(),
        paths,
        count,
    }
}

/// The mark on a card and a sidebar row: "2 files also changed in Fix login", naming the
/// workspace sharing the most paths; `None` without overlaps.
pub fn mark(overlaps: &[Overlap]) -> Option<String> {
    let first = overlaps.first()?;
    let files = if first.count == 1 { "file" } else { "files" };
    let mut mark = format!("{} {files} also changed in {}", first.count, first.name);
    match overlaps.len() - 1 {
        0 => {}
        1 => mark.push_str(" and 1 other workspace"),
        others => mark.push_str(&format!(" and {others} other workspaces")),
    }
    Some(mark)
}
