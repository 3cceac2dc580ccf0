//! Overlaps between 50 workspaces of 200 changed paths each (review.md §3), the inverted index of
//! `derive_overlaps` against a naive pairwise intersection, in the same run on the same input.
//! Run with `cargo bench -p ff-core --bench overlaps`.

use ff_core::ids::WorkspaceId;
use ff_core::overlaps::{derive_overlaps, Overlap, WorkspacePaths, SHOWN_PATHS};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::Instant;

const WORKSPACES: usize = 50;
const PATHS: usize = 200;
const RUNS: usize = 400;

/// SplitMix64: a fixed seed gives the same repository and the same changes on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A repository of 40 areas × 120 files plus a few files everybody touches (lock files, the
/// router, the schema). Each workspace changes some of those hot files, mostly files of its own
/// two areas, and a few files anywhere; neighbours often share an area.
fn realistic(rng: &mut Rng) -> Vec<BTreeSet<String>> {
    const AREAS: usize = 40;
    const FILES: usize = 120;
    let hot = [
        "Cargo.lock",
        "package-lock.json",
        "src/routes.rs",
        "src/lib.rs",
        "db/schema.sql",
        "README.md",
        "CHANGELOG.md",
        "src/config.rs",
    ];
    let file = |area: usize, index: usize| {
        format!(
            "src/area_{area:02}/module_{:02}/file_{index:03}.rs",
            index % 7
        )
    };
    (0..WORKSPACES)
        .map(|w| {
            let mut paths = BTreeSet::new();
            for path in hot {
                if rng.below(4) == 0 {
                    paths.insert(path.to_owned());
                }
            }
            let areas = [(w / 2) % AREAS, rng.below(AREAS)];
            while paths.len() < PATHS {
                let path = if rng.below(10) == 0 {
                    file(rng.below(AREAS), rng.below(FILES))
                } else {
                    file(areas[rng.below(2)], rng.below(FILES))
                };
                paths.insert(path);
            }
            paths
        })
        .collect()
}

/// Every workspace changes the same 200 files: every pair overlaps fully.
fn identical() -> Vec<BTreeSet<String>> {
    let paths: BTreeSet<String> = (0..PATHS)
        .map(|i| format!("src/shared/f{i:03}.rs"))
        .collect();
    vec![paths; WORKSPACES]
}

/// The baseline: intersect every pair of sets.
fn pairwise(workspaces: &[WorkspacePaths<'_>]) -> BTreeMap<WorkspaceId, Vec<Overlap>> {
    let mut overlaps: Vec<Vec<Overlap>> = vec![Vec::new(); workspaces.len()];
    for (a, wa) in workspaces.iter().enumerate() {
        for (b, wb) in workspaces.iter().enumerate().skip(a + 1) {
            let mut count = 0u32;
            let mut paths = Vec::new();
            for path in wa.paths.intersection(wb.paths) {
                count += 1;
                if paths.len() < SHOWN_PATHS {
                    paths.push(path.clone());
                }
            }
            if count == 0 {
                continue;
            }
            let to = |w: &WorkspacePaths<'_>, paths: Vec<String>| Overlap {
                workspace_id: w.id.clone(),
                name: w.name.to_owned(),
                paths,
                count,
            };
            overlaps[a].push(to(wb, paths.clone()));
            overlaps[b].push(to(wa, paths));
        }
    }
    workspaces
        .iter()
        .zip(overlaps)
        .map(|(w, mut list)| {
            list.sort_by_key(|o| (Reverse(o.count), o.name.clone(), o.workspace_id.clone()));
            (w.id.clone(), list)
        })
        .collect()
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// p50 and p99 of one recompute, in milliseconds.
fn measure(run: impl Fn() -> BTreeMap<WorkspaceId, Vec<Overlap>>) -> (f64, f64) {
    for _ in 0..20 {
        black_box(run());
    }
    let mut samples: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(run());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    (
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    )
}

fn scenario(label: &str, sets: &[BTreeSet<String>]) {
    let ids: Vec<WorkspaceId> = (0..sets.len())
        .map(|i| WorkspaceId::new(format!("w{i:02}")))
        .collect();
    let names: Vec<String> = (0..sets.len()).map(|i| format!("Task {i}")).collect();
    let workspaces: Vec<WorkspacePaths<'_>> = (0..sets.len())
        .map(|i| WorkspacePaths {
            id: &ids[i],
            name: &names[i],
            paths: &sets[i],
        })
        .collect();
    let result = derive_overlaps(&workspaces);
    assert_eq!(result, pairwise(&workspaces), "{label}: both agree");
    let pairs: usize = result.values().map(Vec::len).sum::<usize>() / 2;
    let shared: u32 = result.values().flatten().map(|o| o.count).sum::<u32>() / 2;

    let (p50, p99) = measure(|| derive_overlaps(black_box(&workspaces)));
    let (naive50, naive99) = measure(|| pairwise(black_box(&workspaces)));
    // Copying the result is the floor of any derivation that returns owned overlaps.
    let (copy50, _) = measure(|| black_box(&result).clone());
    println!(
        "overlaps {WORKSPACES}×{PATHS} {label} ({pairs} overlapping pairs, {shared} shared paths): \
         p50 {p50:.3} ms, p99 {p99:.3} ms (target < 1 ms); \
         pairwise baseline p50 {naive50:.3} ms, p99 {naive99:.3} ms; \
         copying the result alone p50 {copy50:.3} ms"
    );
}

fn main() {
    scenario("realistic", &realistic(&mut Rng(7)));
    scenario("all identical", &identical());
}
