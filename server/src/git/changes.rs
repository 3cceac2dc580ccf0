//! What a worktree changed against its merge base with the default branch, committed and
//! uncommitted together, untracked files included: the one scan that both the git statistics
//! (snapshot.md §5) and the review diff (review.md §1) read, so that their numbers cannot
//! disagree. In-process (libgit2) and read-only; callers run it on a blocking thread.

use crate::worktree_files::Tree;
use ff_core::entry::GitStats;
use ff_core::review::diff::MAX_SHOWN_BYTES;
use git2::{Delta, Diff, DiffFindOptions, DiffOptions, Odb, Oid, Patch, Repository};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

/// Context lines around each change, as `git diff` shows them.
pub const CONTEXT_LINES: u32 = 3;

/// A tracked file larger than this is listed as too large, its lines left uncounted, rather than
/// read: the bound on what one scan holds in memory.
pub const MAX_COUNTED_BYTES: u64 = 32 * 1024 * 1024;

/// One changed file of the scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedFile {
    /// Its position in the scan (for [`Changes::patch`]).
    pub index: usize,
    pub status: Delta,
    /// The path in the working tree (the old path of a deleted file).
    pub path: String,
    /// Where a renamed file was.
    pub old_path: Option<String>,
    pub additions: u32,
    pub deletions: u32,
    pub binary: bool,
    /// The larger of its two versions, in bytes.
    pub size: u64,
}

impl ChangedFile {
    /// Every path the change touches: both ends of a rename.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.path.as_str()).chain(self.old_path.as_deref())
    }
}

/// How many changes [`COUNTED`] remembers before it starts over: about 2 MiB at most.
const COUNTED_CAPACITY: usize = 16_384;

/// What counting a change found: its added and deleted lines, whether it is binary, and the
/// larger of its two sides as loaded.
#[derive(Clone, Copy)]
struct Counted {
    additions: u32,
    deletions: u32,
    binary: bool,
    size: u64,
}

/// Which change was counted: its repository, its path (attributes can make it binary) and the
/// ids of both sides' contents (zero for a side that does not exist).
type CountedKey = (PathBuf, String, Oid, Oid);

/// The line counts of changes already counted. A change whose both sides have a known id has
/// the same counts until either side changes, so a second scan of the same worktree (the next
/// diff list, the git statistics of the next pass) builds patches only for what changed since:
/// building a patch per file is what a scan of many changes spends its time on.
static COUNTED: LazyLock<Mutex<HashMap<CountedKey, Counted>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

pub struct Changes<'r> {
    repo: &'r Repository,
    /// One handle for every size lookup of the scan.
    odb: Option<Odb<'r>>,
    diff: Diff<'r>,
    /// The working tree, opened once for the files read from it.
    workdir: OnceCell<Option<Tree>>,
    /// Anything staged, modified or untracked in the working tree (among the scanned paths).
    pub has_uncommitted: bool,
}

/// The repository of the worktree at `worktree`, refused when its `.git` makes another folder
/// the working tree: the agent controls `.git`, and the scan reads files of the working tree.
/// The working tree is then set to the worktree's real path, so that a symbolic link the
/// agent swaps into the path `.git` named cannot move it afterwards.
pub fn open_worktree(worktree: &Path) -> Result<Repository, git2::Error> {
    let repo = Repository::open_ext(
        worktree,
        git2::RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    )?;
    let real = worktree
        .canonicalize()
        .map_err(|e| git2::Error::from_str(&format!("cannot read {}: {e}", worktree.display())))?;
    match repo.workdir() {
        Some(workdir) if workdir.canonicalize().is_ok_and(|w| w == real) => {
            repo.set_workdir(&real, false)?;
            Ok(repo)
        }
        other => Err(git2::Error::from_str(&format!(
            "the .git of {} makes {} its working tree; ff reads only the worktree itself",
            worktree.display(),
            other.map_or("no folder".into(), |w| w.display().to_string())
        ))),
    }
}

impl<'r> Changes<'r> {
    /// Scans the working tree against the merge base of HEAD with `origin/<default>` (else
    /// `<default>`); without one (no default branch, unrelated histories) against HEAD, and in a
    /// repository without commits against nothing.
    pub fn scan(repo: &'r Repository, default_branch: &str) -> Result<Self, git2::Error> {
        Self::scan_within(repo, default_branch, &[])
    }

    /// The same scan for some files only: walks just their directories, so asking for one
    /// file of a large tree costs little. A file the narrow scan finds added or deleted may be
    /// one end of a rename, which only the whole scan can tell: then the whole scan it is.
    pub fn scan_for(
        repo: &'r Repository,
        default_branch: &str,
        paths: &[&str],
    ) -> Result<Self, git2::Error> {
        if paths.is_empty() {
            return Self::scan(repo, default_branch);
        }
        let narrow = Self::scan_within(repo, default_branch, paths)?;
        let ambiguous = narrow
            .diff
            .deltas()
            .any(|d| matches!(d.status(), Delta::Added | Delta::Deleted));
        if ambiguous {
            Self::scan(repo, default_branch)
        } else {
            Ok(narrow)
        }
    }

    /// `paths` empty: everything.
    fn scan_within(
        repo: &'r Repository,
        default_branch: &str,
        paths: &[&str],
    ) -> Result<Self, git2::Error> {
        let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let merge_base = head.as_ref().and_then(|head| {
            [
                format!("refs/remotes/origin/{default_branch}"),
                format!("refs/heads/{default_branch}"),
            ]
            .iter()
            .find_map(|name| {
                let other = repo.find_reference(name).ok()?.peel_to_commit().ok()?;
                repo.merge_base(head.id(), other.id()).ok()
            })
        });
        let head_tree = head.as_ref().map(|h| h.tree()).transpose()?;
        let base_tree = match merge_base {
            Some(base) => Some(repo.find_commit(base)?.tree()?),
            None => head_tree.clone(),
        };
        let index = repo.index()?;
        // The one walk of the working tree: unstaged changes, and untracked files one by one (a
        // new directory's files are what a reviewer reads, and what two workspaces can share).
        // The merged diff keeps the options of the one it merges into, so both take them all.
        let mut options = DiffOptions::new();
        options
            .context_lines(CONTEXT_LINES)
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .show_untracked_content(true);
        if !paths.is_empty() {
            // Exact paths, not patterns: libgit2 then walks only the directories leading to them.
            options.disable_pathspec_match(true);
            for path in paths {
                options.pathspec(path);
            }
        }
        let unstaged = repo.diff_index_to_workdir(Some(&index), Some(&mut options))?;
        // Base → index, then index → working tree: the working tree against the merge base.
        let mut diff =
            repo.diff_tree_to_index(base_tree.as_ref(), Some(&index), Some(&mut options))?;
        // What is staged is HEAD → index; while HEAD is the merge base (nothing committed on the
        // branch yet) that is the diff just made, and walking the tree again would repeat it.
        let same_tree = |a: &Option<git2::Tree<'_>>, b: &Option<git2::Tree<'_>>| {
            a.as_ref().map(git2::Tree::id) == b.as_ref().map(git2::Tree::id)
        };
        let staged = if same_tree(&head_tree, &base_tree) {
            diff.deltas().len()
        } else {
            repo.diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))?
                .deltas()
                .len()
        };
        let has_uncommitted = unstaged.deltas().len() > 0 || staged > 0;
        diff.merge(&unstaged)?;
        // Renames as `git diff` finds them by default (untracked files are never their target).
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
        Ok(Self {
            repo,
            odb: repo.odb().ok(),
            diff,
            workdir: OnceCell::new(),
            has_uncommitted,
        })
    }

    fn workdir(&self) -> Option<&Tree> {
        self.workdir
            .get_or_init(|| Tree::open(self.repo.workdir()?).ok())
            .as_ref()
    }

    /// Every changed file with its line counts. Untracked files count no lines in the
    /// statistics, so reading them is skipped unless `count_untracked`.
    pub fn files(&self, count_untracked: bool) -> Result<Vec<ChangedFile>, git2::Error> {
        let mut files = Vec::with_capacity(self.diff.deltas().len());
        for index in 0..self.diff.deltas().len() {
            files.push(self.file(index, count_untracked, false)?.0);
        }
        Ok(files)
    }

    /// The changed file at `path` (its path in the working tree, as [`Self::files`] lists it)
    /// with its patch; `None` when the scan does not list it.
    pub fn patch(
        &self,
        path: &str,
    ) -> Result<Option<(ChangedFile, Option<Patch<'r>>)>, git2::Error> {
        let found = self
            .diff
            .deltas()
            .position(|delta| path_of(&delta).0 == path);
        found.map(|index| self.file(index, true, true)).transpose()
    }

    /// The changed file at `index`, with its patch if `with_patch` (else its counts may come
    /// from [`COUNTED`] and no patch is built).
    fn file(
        &self,
        index: usize,
        count_untracked: bool,
        with_patch: bool,
    ) -> Result<(ChangedFile, Option<Patch<'r>>), git2::Error> {
        let delta = self.diff.get_delta(index).expect("an index of the scan");
        let status = delta.status();
        let (path, old_path) = path_of(&delta);
        // Sizes come from the object database's headers and the file system, before anything
        // is read: a file over its cap is listed as too large and never loaded (a 300 MB log
        // left in a worktree would otherwise be read and diffed whole on every request). An
        // untracked file counts in no total, so it is read only if it can be shown; a tracked
        // one is read up to a larger cap so its lines count as `git diff` counts them.
        let size = self.size_of(&delta);
        let cap = if status == Delta::Untracked {
            MAX_SHOWN_BYTES
        } else {
            MAX_COUNTED_BYTES
        };
        let unread = size > cap;
        let counted = if unread || (status == Delta::Untracked && !count_untracked) {
            None
        } else if with_patch {
            Some(self.count(index)?)
        } else {
            let key = self.counted_key(&delta, &path);
            let known = key
                .as_ref()
                .and_then(|key| Some(*COUNTED.lock().ok()?.get(key)?));
            match known {
                Some(counted) => Some((counted, None)),
                None => {
                    let (counted, patch) = self.count(index)?;
                    if let (Some(key), Ok(mut all)) = (key, COUNTED.lock()) {
                        if all.len() >= COUNTED_CAPACITY {
                            all.clear();
                        }
                        all.insert(key, counted);
                    }
                    // The list needs the counts only: the patch goes now, not with the list.
                    drop(patch);
                    Some((counted, None))
                }
            }
        };
        let (counted, patch) = match counted {
            Some((counted, patch)) => (counted, patch),
            None => {
                let counted = Counted {
                    additions: 0,
                    deletions: 0,
                    binary: delta.flags().is_binary(),
                    size: sides_size(&delta),
                };
                (counted, None)
            }
        };
        let file = ChangedFile {
            index,
            status,
            path,
            old_path,
            additions: counted.additions,
            deletions: counted.deletions,
            binary: counted.binary,
            size: size.max(counted.size),
        };
        Ok((file, patch))
    }

    /// Builds the patch of the change at `index` and counts its lines. Loading the content is
    /// what tells binary files apart.
    fn count(&self, index: usize) -> Result<(Counted, Option<Patch<'r>>), git2::Error> {
        let patch = Patch::from_diff(&self.diff, index)?;
        let counted = match &patch {
            Some(patch) => {
                let (_, added, deleted) = patch.line_stats()?;
                Counted {
                    additions: saturate(added),
                    deletions: saturate(deleted),
                    binary: patch.delta().flags().is_binary(),
                    size: sides_size(&patch.delta()),
                }
            }
            None => {
                let delta = self.diff.get_delta(index).expect("an index of the scan");
                Counted {
                    additions: 0,
                    deletions: 0,
                    binary: delta.flags().is_binary(),
                    size: sides_size(&delta),
                }
            }
        };
        Ok((counted, patch))
    }

    /// The key of a change in [`COUNTED`]; `None` when a side that exists has no id and is not
    /// a regular file of the working tree, which is then counted every time.
    fn counted_key(&self, delta: &git2::DiffDelta<'_>, path: &str) -> Option<CountedKey> {
        let id = |side: git2::DiffFile<'_>| match side.exists() {
            false => Some(Oid::ZERO_SHA1),
            true if side.is_valid_id() && !side.id().is_zero() => Some(side.id()),
            true => self.hash_in_workdir(&side),
        };
        Some((
            self.repo.path().to_owned(),
            path.to_owned(),
            id(delta.old_file())?,
            id(delta.new_file())?,
        ))
    }

    /// The id of a working-tree file libgit2 did not hash (its size alone told the scan it
    /// changed, so uncommitted edits arrive without one): hashing it is far cheaper than
    /// building its patch, and it makes an uncommitted change's counts as reusable as a
    /// committed one's. Unfiltered content, as `git hash-object --no-filters` names it: the key
    /// only has to change when the content does. A file too large to count is not read either.
    fn hash_in_workdir(&self, side: &git2::DiffFile<'_>) -> Option<Oid> {
        if !matches!(
            side.mode(),
            git2::FileMode::Blob | git2::FileMode::BlobExecutable
        ) {
            return None;
        }
        let content = self.workdir()?.read(side.path()?, MAX_COUNTED_BYTES).ok()?;
        Oid::hash_object(git2::ObjectType::Blob, &content).ok()
    }

    /// The larger of a change's two sides in bytes, without reading either: a blob's size from
    /// its header, a working-tree file's from `lstat`.
    fn size_of(&self, delta: &git2::DiffDelta<'_>) -> u64 {
        let odb = self.odb.as_ref();
        let workdir = self.repo.workdir();
        [delta.old_file(), delta.new_file()]
            .into_iter()
            .filter(|side| side.exists())
            .filter_map(|side| {
                let stored = (!side.id().is_zero())
                    .then(|| odb?.read_header(side.id()).ok())
                    .flatten()
                    .map(|(size, _)| size as u64);
                stored.or_else(|| {
                    let path = workdir?.join(side.path()?);
                    std::fs::symlink_metadata(path).ok().map(|m| m.len())
                })
            })
            .max()
            .unwrap_or(0)
    }

    /// The statistics of the entry (R§7.6 meaning): untracked files count neither as changed
    /// files nor in the line totals, but make the worktree uncommitted.
    pub fn stats(&self, files: &[ChangedFile]) -> GitStats {
        let tracked = files.iter().filter(|f| f.status != Delta::Untracked);
        let mut stats = GitStats {
            has_uncommitted: self.has_uncommitted,
            ..GitStats::default()
        };
        for file in tracked {
            stats.total += 1;
            stats.additions = stats.additions.saturating_add(file.additions);
            stats.deletions = stats.deletions.saturating_add(file.deletions);
        }
        stats
    }

    /// A changed file's content before (`old`) or after: the base's blob, or what the working
    /// tree holds now (a symbolic link's target, as git shows it). `None` when that side does
    /// not exist or is larger than `cap` bytes.
    pub fn content(&self, file: &ChangedFile, old: bool, cap: u64) -> Option<Vec<u8>> {
        let delta = self.diff.get_delta(file.index)?;
        let side = if old {
            delta.old_file()
        } else {
            delta.new_file()
        };
        if !side.exists() {
            return None;
        }
        if !side.id().is_zero() {
            if let Ok(blob) = self.repo.find_blob(side.id()) {
                return (blob.size() as u64 <= cap).then(|| blob.content().to_vec());
            }
        }
        if old {
            return None;
        }
        let (tree, path) = (self.workdir()?, side.path()?);
        match tree.link_target(path).ok()? {
            Some(target) => Some(target.into_os_string().into_encoded_bytes()),
            None => tree.read(path, cap).ok(),
        }
    }
}

fn path_of(delta: &git2::DiffDelta<'_>) -> (String, Option<String>) {
    let text = |file: git2::DiffFile<'_>| {
        file.path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let (old, new) = (text(delta.old_file()), text(delta.new_file()));
    match delta.status() {
        Delta::Deleted => (old, None),
        Delta::Renamed | Delta::Copied if old != new => (new, Some(old)),
        _ => (new, None),
    }
}

fn sides_size(delta: &git2::DiffDelta<'_>) -> u64 {
    delta.old_file().size().max(delta.new_file().size())
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::{git, worktree};

    fn scan(tree: &Path) -> (Vec<ChangedFile>, GitStats) {
        let repo = Repository::open(tree).unwrap();
        let changes = Changes::scan(&repo, "main").unwrap();
        let files = changes.files(true).unwrap();
        let stats = changes.stats(&files);
        (files, stats)
    }

    #[test]
    fn a_committed_rename_is_one_file_as_git_diff_finds_it() {
        let body = (1..=20).map(|n| format!("line {n}\n")).collect::<String>();
        let (_dir, tree) = worktree(&[("old.txt", body.as_bytes())]);
        git(&tree, &["mv", "old.txt", "new.txt"]);
        std::fs::write(tree.join("new.txt"), body.replace("line 5\n", "five\n")).unwrap();
        git(&tree, &["commit", "-q", "-am", "rename"]);
        let (files, stats) = scan(&tree);
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].status, Delta::Renamed);
        assert_eq!(files[0].path, "new.txt");
        assert_eq!(files[0].old_path.as_deref(), Some("old.txt"));
        assert_eq!((files[0].additions, files[0].deletions), (1, 1));
        assert_eq!(files[0].paths().collect::<Vec<_>>(), ["new.txt", "old.txt"]);
        let base = git(&tree, &["merge-base", "HEAD", "main"]);
        let numstat = git(&tree, &["diff", "--numstat", base.trim()]);
        assert_eq!(numstat.trim(), "1\t1\told.txt => new.txt");
        assert_eq!((stats.total, stats.additions, stats.deletions), (1, 1, 1));
    }

    #[test]
    fn untracked_files_are_listed_one_by_one_and_binary_files_are_marked() {
        let (_dir, tree) = worktree(&[("a.txt", b"a\n"), ("logo.bin", b"\0\x01\x02")]);
        std::fs::create_dir_all(tree.join("src/deep")).unwrap();
        std::fs::write(tree.join("src/deep/new.rs"), "fn a() {}\nfn b() {}\n").unwrap();
        std::fs::write(tree.join("logo.bin"), b"\0\x03\x04\x05").unwrap();
        let (files, stats) = scan(&tree);
        let by_path = |p: &str| {
            let found = files.iter().find(|f| f.path == p);
            found.unwrap_or_else(|| panic!("{p} in {files:?}")).clone()
        };
        let untracked = by_path("src/deep/new.rs");
        assert_eq!(untracked.status, Delta::Untracked);
        assert_eq!((untracked.additions, untracked.deletions), (2, 0));
        let binary = by_path("logo.bin");
        assert!(
            binary.binary && binary.status == Delta::Modified,
            "{binary:?}"
        );
        assert_eq!((binary.additions, binary.deletions), (0, 0));
        assert_eq!((stats.total, stats.additions, stats.deletions), (1, 0, 0));
        assert!(stats.has_uncommitted);
    }

    #[test]
    fn a_scan_for_some_files_finds_them_as_the_whole_scan_does() {
        let body = (1..=20).map(|n| format!("line {n}\n")).collect::<String>();
        let (_dir, tree) = worktree(&[("old.txt", body.as_bytes()), ("m.txt", b"m\n")]);
        git(&tree, &["mv", "old.txt", "new.txt"]);
        std::fs::write(tree.join("m.txt"), "changed\n").unwrap();
        std::fs::create_dir_all(tree.join("fresh dir")).unwrap();
        std::fs::write(tree.join("fresh dir/ü.txt"), "new\n").unwrap();
        let repo = Repository::open(&tree).unwrap();
        let whole = Changes::scan(&repo, "main").unwrap().files(true).unwrap();
        for path in ["m.txt", "fresh dir/ü.txt", "new.txt"] {
            let narrow = Changes::scan_for(&repo, "main", &[path]).unwrap();
            let (found, _) = narrow.patch(path).unwrap().unwrap();
            let listed = whole.iter().find(|f| f.path == path).unwrap();
            assert_eq!(
                (
                    found.status,
                    &found.old_path,
                    found.additions,
                    found.deletions
                ),
                (
                    listed.status,
                    &listed.old_path,
                    listed.additions,
                    listed.deletions
                ),
                "{path}"
            );
        }
        let narrow = Changes::scan_for(&repo, "main", &["old.txt"]).unwrap();
        assert!(
            narrow.patch("old.txt").unwrap().is_none(),
            "a rename is listed by its new path"
        );
        let narrow = Changes::scan_for(&repo, "main", &["unchanged.txt"]).unwrap();
        assert!(narrow.patch("unchanged.txt").unwrap().is_none());
    }

    #[test]
    fn counts_known_from_an_earlier_scan_are_those_of_the_same_contents() {
        let (_dir, tree) = worktree(&[("a.txt", b"one\n"), ("b.txt", b"b\n")]);
        std::fs::write(tree.join("a.txt"), "one\ntwo\n").unwrap();
        std::fs::write(tree.join("b.txt"), "c\n").unwrap();
        let (first, _) = scan(&tree);
        let (again, _) = scan(&tree);
        assert_eq!(first, again);
        let counts = |files: &[ChangedFile]| {
            let mut counts: Vec<_> = files
                .iter()
                .map(|f| (f.path.clone(), f.additions, f.deletions))
                .collect();
            counts.sort();
            counts
        };
        assert_eq!(
            counts(&first),
            [("a.txt".into(), 1, 0), ("b.txt".into(), 1, 1)]
        );
        // Changed again: new contents are counted anew, a file back to its base is no change.
        std::fs::write(tree.join("a.txt"), "one\n").unwrap();
        std::fs::write(tree.join("b.txt"), "d\ne\nf\n").unwrap();
        let (changed, _) = scan(&tree);
        assert_eq!(counts(&changed), [("b.txt".into(), 3, 1)]);
    }

    #[test]
    fn an_uncommitted_edit_is_remembered_by_its_content_and_counted_anew_when_it_changes() {
        let (_dir, tree) = worktree(&[("a.txt", b"one\n")]);
        let repo = Repository::open(&tree).unwrap();
        let remembered = |content: &str| {
            let key = (
                repo.path().to_owned(),
                "a.txt".to_owned(),
                Oid::hash_object(git2::ObjectType::Blob, b"one\n").unwrap(),
                Oid::hash_object(git2::ObjectType::Blob, content.as_bytes()).unwrap(),
            );
            COUNTED
                .lock()
                .unwrap()
                .get(&key)
                .map(|c| (c.additions, c.deletions))
        };
        // A longer file: its size tells libgit2 it changed, so the scan brings no id for it.
        std::fs::write(tree.join("a.txt"), "one\ntwo\nthree\n").unwrap();
        assert_eq!(remembered("one\ntwo\nthree\n"), None);
        let (files, _) = scan(&tree);
        assert_eq!((files[0].additions, files[0].deletions), (2, 0));
        assert_eq!(remembered("one\ntwo\nthree\n"), Some((2, 0)));
        std::fs::write(tree.join("a.txt"), "zero\n").unwrap();
        let (files, _) = scan(&tree);
        assert_eq!((files[0].additions, files[0].deletions), (1, 1));
        assert_eq!(remembered("zero\n"), Some((1, 1)));
    }

    #[test]
    fn both_sides_of_a_change_can_be_read() {
        let (_dir, tree) = worktree(&[("a.txt", b"before\n")]);
        std::fs::write(tree.join("a.txt"), "after\n").unwrap();
        let repo = Repository::open(&tree).unwrap();
        let changes = Changes::scan(&repo, "main").unwrap();
        let (file, patch) = changes.patch("a.txt").unwrap().unwrap();
        assert!(patch.is_some());
        assert_eq!(changes.content(&file, true, 1024).unwrap(), b"before\n");
        assert_eq!(changes.content(&file, false, 1024).unwrap(), b"after\n");
        assert_eq!(changes.content(&file, false, 3), None, "over the cap");
        assert!(changes.patch("b.txt").unwrap().is_none(), "not listed");
    }

    #[test]
    fn a_git_file_naming_another_working_tree_is_refused() {
        let (dir, tree) = worktree(&[("a.txt", b"a\n")]);
        assert!(open_worktree(&tree).is_ok());
        // The agent rewrites its .git to a repository whose working tree is elsewhere.
        let outside = dir.path().join("home");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("id_rsa"), "secret").unwrap();
        git(dir.path(), &["init", "-q", "inner"]);
        let inner = dir.path().join("inner");
        git(
            &inner,
            &["config", "core.worktree", outside.to_str().unwrap()],
        );
        std::fs::write(
            tree.join(".git"),
            format!("gitdir: {}\n", inner.join(".git").display()),
        )
        .unwrap();
        let refused = open_worktree(&tree).err().expect("refused");
        assert!(
            refused
                .message()
                .contains("ff reads only the worktree itself"),
            "{}",
            refused.message()
        );
    }
}
