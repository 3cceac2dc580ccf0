//! Overlaps between parallel workspaces (review.md §3): table rows for the shapes that matter,
//! then properties against the definition (intersection of path sets) over random projects.

use ff_core::ids::WorkspaceId;
use ff_core::overlaps::{derive_overlaps, mark, Overlap, WorkspacePaths, SHOWN_PATHS};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// A project's workspaces as (id, name, changed paths).
type Project = Vec<(WorkspaceId, String, BTreeSet<String>)>;

fn project(workspaces: &[(&str, &str, &[&str])]) -> Project {
    workspaces
        .iter()
        .map(|&(id, name, paths)| {
            let paths = paths.iter().map(|&p| p.to_owned()).collect();
            (WorkspaceId::new(id), name.to_owned(), paths)
        })
        .collect()
}

fn overlaps_of(project: &Project) -> BTreeMap<WorkspaceId, Vec<Overlap>> {
    let workspaces: Vec<WorkspacePaths<'_>> = project
        .iter()
        .map(|(id, name, paths)| WorkspacePaths { id, name, paths })
        .collect();
    derive_overlaps(&workspaces)
}

fn overlap(id: &str, name: &str, paths: &[&str], count: u32) -> Overlap {
    Overlap {
        workspace_id: WorkspaceId::new(id),
        name: name.to_owned(),
        paths: paths.iter().map(|&p| p.to_owned()).collect(),
        count,
    }
}

/// Each workspace's overlaps, in input order.
type Expected = Vec<(&'static str, Vec<Overlap>)>;

#[test]
fn overlap_tables() {
    const SEVEN: &[&str] = &["g.rs", "f.rs", "e.rs", "d.rs", "c.rs", "b.rs", "a.rs"];
    #[rustfmt::skip]
    let rows: Vec<(&str, Project, Expected)> = vec![
        ("no workspaces", project(&[]), vec![]),
        ("one workspace", project(&[("w1", "Fix login", &["a.rs"])]), vec![("w1", vec![])]),
        ("nothing changed anywhere", project(&[("w1", "A", &[]), ("w2", "B", &[])]), vec![("w1", vec![]), ("w2", vec![])]),
        ("disjoint changes", project(&[("w1", "A", &["a.rs"]), ("w2", "B", &["b.rs"])]), vec![("w1", vec![]), ("w2", vec![])]),
        (
            "one shared path",
            project(&[("w1", "Fix login", &["a.rs", "b.rs"]), ("w2", "Add search", &["b.rs", "c.rs"])]),
            vec![
                ("w1", vec![overlap("w2", "Add search", &["b.rs"], 1)]),
                ("w2", vec![overlap("w1", "Fix login", &["b.rs"], 1)]),
            ],
        ),
        (
            "identical changes list only each other, never themselves",
            project(&[("w1", "A", &["a.rs", "b.rs"]), ("w2", "B", &["a.rs", "b.rs"])]),
            vec![
                ("w1", vec![overlap("w2", "B", &["a.rs", "b.rs"], 2)]),
                ("w2", vec![overlap("w1", "A", &["a.rs", "b.rs"], 2)]),
            ],
        ),
        (
            "several, most shared paths first",
            project(&[
                ("w1", "Hub", &["a.rs", "b.rs", "c.rs", "d.rs"]),
                ("w2", "Few", &["d.rs"]),
                ("w3", "Many", &["a.rs", "b.rs", "c.rs"]),
                ("w4", "Alone", &["z.rs"]),
            ]),
            vec![
                ("w1", vec![overlap("w3", "Many", &["a.rs", "b.rs", "c.rs"], 3), overlap("w2", "Few", &["d.rs"], 1)]),
                ("w2", vec![overlap("w1", "Hub", &["d.rs"], 1)]),
                ("w3", vec![overlap("w1", "Hub", &["a.rs", "b.rs", "c.rs"], 3)]),
                ("w4", vec![]),
            ],
        ),
        (
            "the first five paths in sorted order, the count of all",
            project(&[("w1", "A", SEVEN), ("w2", "B", SEVEN)]),
            vec![
                ("w1", vec![overlap("w2", "B", &["a.rs", "b.rs", "c.rs", "d.rs", "e.rs"], 7)]),
                ("w2", vec![overlap("w1", "A", &["a.rs", "b.rs", "c.rs", "d.rs", "e.rs"], 7)]),
            ],
        ),
        (
            "equal counts by name, equal names by id",
            project(&[
                ("w0", "Main", &["x.rs"]),
                ("w9", "Beta", &["x.rs"]),
                ("w3", "Alpha", &["x.rs"]),
                ("w2", "Alpha", &["x.rs"]),
            ]),
            vec![
                ("w0", vec![overlap("w2", "Alpha", &["x.rs"], 1), overlap("w3", "Alpha", &["x.rs"], 1), overlap("w9", "Beta", &["x.rs"], 1)]),
                ("w9", vec![overlap("w2", "Alpha", &["x.rs"], 1), overlap("w3", "Alpha", &["x.rs"], 1), overlap("w0", "Main", &["x.rs"], 1)]),
                ("w3", vec![overlap("w2", "Alpha", &["x.rs"], 1), overlap("w9", "Beta", &["x.rs"], 1), overlap("w0", "Main", &["x.rs"], 1)]),
                ("w2", vec![overlap("w3", "Alpha", &["x.rs"], 1), overlap("w9", "Beta", &["x.rs"], 1), overlap("w0", "Main", &["x.rs"], 1)]),
            ],
        ),
    ];
    for (label, project, expected) in rows {
        let expected: BTreeMap<WorkspaceId, Vec<Overlap>> = expected
            .into_iter()
            .map(|(id, list)| (WorkspaceId::new(id), list))
            .collect();
        assert_eq!(overlaps_of(&project), expected, "{label}");
    }
}

#[test]
fn marks_name_the_workspace_sharing_the_most() {
    assert_eq!(mark(&[]), None);
    let login = overlap("w2", "Fix login", &["a.rs", "b.rs"], 2);
    let search = overlap("w3", "Add search", &["a.rs"], 1);
    let docs = overlap("w4", "Docs", &["a.rs"], 1);
    assert_eq!(
        mark(std::slice::from_ref(&login)).unwrap(),
        "2 files also changed in Fix login"
    );
    assert_eq!(
        mark(std::slice::from_ref(&search)).unwrap(),
        "1 file also changed in Add search"
    );
    assert_eq!(
        mark(&[login.clone(), search.clone()]).unwrap(),
        "2 files also changed in Fix login and 1 other workspace"
    );
    assert_eq!(
        mark(&[login, search, docs]).unwrap(),
        "2 files also changed in Fix login and 2 other workspaces"
    );
}

#[test]
fn overlaps_serialize_in_camel_case() {
    assert_eq!(
        serde_json::to_value(overlap("w2", "Fix login", &["src/a.rs"], 2)).unwrap(),
        json!({"workspaceId": "w2", "name": "Fix login", "paths": ["src/a.rs"], "count": 2})
    );
}

const PATHS: &[&str] = &[
    "Cargo.lock",
    "README.md",
    "src/a.rs",
    "src/b.rs",
    "src/c.rs",
    "src/d.rs",
    "src/e.rs",
    "src/f.rs",
    "src/g/h.rs",
    "src/g/i.rs",
    "tests/j.rs",
    "tests/k.rs",
];

/// Up to six workspaces with distinct ids, names that often repeat, and paths from a small
/// repository so that overlaps, ties and more than five shared paths are all common.
fn projects() -> impl Strategy<Value = Project> {
    let workspace = (
        select(&["Alpha", "Beta", "Gamma"][..]),
        btree_set(select(PATHS).prop_map(str::to_owned), 0..=PATHS.len()),
    );
    vec(workspace, 0..=6).prop_map(|workspaces| {
        workspaces
            .into_iter()
            .enumerate()
            .map(|(i, (name, paths))| (WorkspaceId::new(format!("w{i}")), name.to_owned(), paths))
            .collect()
    })
}

fn find<'a>(
    overlaps: &'a BTreeMap<WorkspaceId, Vec<Overlap>>,
    of: &WorkspaceId,
    with: &WorkspaceId,
) -> Option<&'a Overlap> {
    overlaps[of].iter().find(|o| &o.workspace_id == with)
}

proptest! {
    #[test]
    fn overlaps_are_the_intersections(project in projects()) {
        let overlaps = overlaps_of(&project);
        prop_assert_eq!(overlaps.len(), project.len());
        for (a, _, a_paths) in &project {
            for (b, b_name, b_paths) in &project {
                let shared: Vec<&String> = a_paths.intersection(b_paths).collect();
                match find(&overlaps, a, b) {
                    Some(found) => {
                        prop_assert_ne!(a, b, "a workspace never overlaps itself");
                        prop_assert_eq!(found.count as usize, shared.len());
                        prop_assert_eq!(&found.name, b_name);
                        let shown: Vec<&String> = shared.iter().copied().take(SHOWN_PATHS).collect();
                        prop_assert_eq!(found.paths.iter().collect::<Vec<_>>(), shown);
                    }
                    None => prop_assert!(a == b || shared.is_empty()),
                }
            }
        }
    }

    #[test]
    fn overlaps_are_symmetric(project in projects()) {
        let overlaps = overlaps_of(&project);
        for (a, list) in &overlaps {
            for found in list {
                let back = find(&overlaps, &found.workspace_id, a);
                prop_assert!(back.is_some_and(|back| back.count == found.count && back.paths == found.paths));
            }
        }
    }

    #[test]
    fn overlaps_are_ordered_and_independent_of_input_order(
        (project, shuffled) in projects().prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle()))
    ) {
        let overlaps = overlaps_of(&project);
        for list in overlaps.values() {
            let keys: Vec<_> = list.iter().map(|o| (std::cmp::Reverse(o.count), &o.name, &o.workspace_id)).collect();
            prop_assert!(keys.is_sorted());
        }
        prop_assert_eq!(overlaps_of(&shuffled), overlaps);
    }
}
