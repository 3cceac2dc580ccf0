//! The review diff (review.md §1) against real worktrees: every kind of change, the totals
//! against the entry's `gitStats`, `git_stats::compute` and `git diff --numstat`, the file
//! endpoint's hunks, and the paths it refuses.

mod common;

use common::repo::{git, TestRepo};
use common::TestApp;
use ff_core::entry::GitStats;
use ff_core::ids::{ProjectId, WorkspaceId};
use ff_core::review::diff::{DiffList, FileDiff, FileStatus, LineKind, TokenClass};
use ff_server::review::diff;
use ff_server::snapshot::git_stats;
use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `git diff --numstat <merge base>` and `--name-only` say: files, added, deleted lines.
fn numstat(tree: &Path) -> (u32, u32, u32) {
    let base = git(tree, &["merge-base", "HEAD", "main"]);
    let (mut added, mut deleted) = (0, 0);
    for line in git(tree, &["diff", "--numstat", &base]).lines() {
        let mut columns = line.split('\t');
        added += columns.next().unwrap().parse::<u32>().unwrap_or(0);
        deleted += columns.next().unwrap().parse::<u32>().unwrap_or(0);
    }
    let files = git(tree, &["diff", "--name-only", &base]).lines().count();
    (files as u32, added, deleted)
}

fn rust_file(lines: usize) -> String {
    (1..=lines)
        .map(|n| format!("pub fn f{n}() -> u32 {{ {n} }}\n"))
        .collect()
}

fn lines(prefix: &str, count: usize) -> String {
    (1..=count).map(|n| format!("{prefix} {n}\n")).collect()
}

/// A READY workspace of a repository whose main has every file the changes below touch.
async fn workspace(app: &TestApp) -> (TestRepo, String, String, PathBuf) {
    let repo = TestRepo::new();
    let write = |path: &str, content: &[u8]| {
        let path = repo.path.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    write("src/lib.rs", rust_file(30).as_bytes());
    write("gone.txt", lines("gone", 5).as_bytes());
    write("old name.txt", lines("moved", 20).as_bytes());
    write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    write("big.txt", b"small\n");
    write("eol.txt", b"a\nb\nc\n");
    write("crlf.txt", b"one\r\ntwo\r\nthree\r\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "files to change"]);
    repo.git(&["push", "-q", "origin", "main"]);
    let project = app.add_project(&repo.path).await;
    let id = app
        .create_workspace(&project, json!({"source": "MANUAL", "name": "Reviewed"}))
        .await;
    let ready = app.wait_for_status(&id, "READY").await;
    let tree = PathBuf::from(ready["worktreePath"].as_str().unwrap());
    (repo, project, id, tree)
}

/// Every kind of change of review.md §1, committed, staged and left in the working tree.
fn change_everything(tree: &Path) {
    let edit = |path: &str, content: &[u8]| {
        let path = tree.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    // Committed: line 25 changed, a file deleted, a file renamed with one line changed.
    edit(
        "src/lib.rs",
        rust_file(30)
            .replace("f25() -> u32 { 25 }", "f25() -> u32 { 2500 }")
            .as_bytes(),
    );
    git(tree, &["rm", "-q", "gone.txt"]);
    git(tree, &["mv", "old name.txt", "new name.txt"]);
    edit(
        "new name.txt",
        lines("moved", 20)
            .replace("moved 7\n", "moved seven\n")
            .as_bytes(),
    );
    git(tree, &["commit", "-q", "-am", "committed part"]);
    // Staged: a new file with spaces and non-ASCII characters in its path.
    edit("docs/ñandú café.md", b"# T\xc3\xadtulo\n\nText.\n");
    git(tree, &["add", "docs"]);
    // In the working tree only.
    edit(
        "src/lib.rs",
        rust_file(30)
            .replace("f25() -> u32 { 25 }", "f25() -> u32 { 2500 }")
            .replace("f10() -> u32 { 10 }", "f10() -> u32 { 1000 }")
            .as_bytes(),
    );
    edit("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\x01");
    let big: String = (0..35_000).map(|n| format!("{n:0>60}\n")).collect();
    assert!(big.len() > 2 * 1024 * 1024);
    edit("big.txt", big.as_bytes());
    edit("eol.txt", b"a\nb\nC");
    edit("crlf.txt", b"one\r\nTWO\r\nthree\r\n");
    edit("notes/todo list.txt", b"first\nsecond\n");
}

async fn list(app: &TestApp, id: &str) -> DiffList {
    let (status, body) = app.get(&format!("/api/workspaces/{id}/diff")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn file(app: &TestApp, id: &str, path: &str) -> FileDiff {
    let url = reqwest::Url::parse_with_params(
        &app.at(&format!("/api/workspaces/{id}/diff/file")),
        [("path", path)],
    )
    .unwrap();
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// Waits (at most 10 s) until the snapshot entry's `gitStats` are `expected`.
async fn entry_stats_become(app: &TestApp, project: &str, id: &str, expected: GitStats) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let entries = app.snapshot.store.project_entries(&ProjectId::new(project));
        let stats = entries
            .iter()
            .find(|e| e.workspace_id == WorkspaceId::new(id))
            .and_then(|e| e.raw.git_stats);
        if stats == Some(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gitStats stayed {stats:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_kind_of_change_is_listed_with_totals_equal_to_the_git_statistics() {
    let app = TestApp::spawn().await;
    let (_repo, project, id, tree) = workspace(&app).await;
    change_everything(&tree);
    let listed = list(&app, &id).await;

    /// Path, old path, status, additions, deletions, binary, too large.
    type Listed<'a> = (&'a str, Option<&'a str>, FileStatus, u32, u32, bool, bool);
    let summary: Vec<Listed> = listed
        .files
        .iter()
        .map(|f| {
            let old = f.old_path.as_deref();
            (
                f.path.as_str(),
                old,
                f.status,
                f.additions,
                f.deletions,
                f.binary,
                f.too_large,
            )
        })
        .collect();
    use FileStatus::*;
    assert_eq!(
        summary,
        [
            ("big.txt", None, Modified, 35_000, 1, false, true),
            ("crlf.txt", None, Modified, 1, 1, false, false),
            ("docs/ñandú café.md", None, Added, 3, 0, false, false),
            ("eol.txt", None, Modified, 1, 1, false, false),
            ("gone.txt", None, Deleted, 0, 5, false, false),
            ("logo.png", None, Modified, 0, 0, true, false),
            (
                "new name.txt",
                Some("old name.txt"),
                Renamed,
                1,
                1,
                false,
                false
            ),
            ("notes/todo list.txt", None, Untracked, 2, 0, false, false),
            ("src/lib.rs", None, Modified, 2, 2, false, false),
        ]
    );
    // Untracked files are listed with their lines but count in no total (R§7.6).
    let expected = GitStats {
        total: 8,
        additions: 35_000 + 1 + 3 + 1 + 1 + 2,
        deletions: 1 + 1 + 1 + 5 + 1 + 2,
        has_uncommitted: true,
    };
    assert_eq!(listed.totals, expected);
    assert_eq!(git_stats::compute(&tree, "main").unwrap().stats, expected);
    assert_eq!(
        numstat(&tree),
        (expected.total, expected.additions, expected.deletions),
        "git diff --numstat of the same worktree"
    );
    entry_stats_become(&app, &project, &id, expected).await;
}

#[tokio::test]
async fn a_file_s_hunks_have_line_numbers_context_and_highlighting() {
    let app = TestApp::spawn().await;
    let (_repo, _project, id, tree) = workspace(&app).await;
    change_everything(&tree);

    let lib = file(&app, &id, "src/lib.rs").await;
    assert_eq!(lib.hunks.len(), 2, "changes 15 lines apart are two hunks");
    let first = &lib.hunks[0];
    assert_eq!(
        (
            first.old_start,
            first.old_lines,
            first.new_start,
            first.new_lines
        ),
        (7, 7, 7, 7),
        "three lines of context on each side"
    );
    let numbered: Vec<(LineKind, Option<u32>, Option<u32>, String)> = first
        .lines
        .iter()
        .map(|l| (l.kind, l.old_line, l.new_line, l.text()))
        .collect();
    assert_eq!(
        numbered[2],
        (
            LineKind::Context,
            Some(9),
            Some(9),
            "pub fn f9() -> u32 { 9 }".into()
        )
    );
    assert_eq!(
        numbered[3],
        (
            LineKind::Deleted,
            Some(10),
            None,
            "pub fn f10() -> u32 { 10 }".into()
        )
    );
    assert_eq!(
        numbered[4],
        (
            LineKind::Added,
            None,
            Some(10),
            "pub fn f10() -> u32 { 1000 }".into()
        )
    );
    let added = &first.lines[4];
    let class = |text: &str| {
        added
            .tokens
            .iter()
            .find(|t| t.text == text)
            .and_then(|t| t.class)
    };
    assert_eq!(class("fn"), Some(TokenClass::Keyword), "{:?}", added.tokens);
    assert_eq!(
        class("1000"),
        Some(TokenClass::Number),
        "{:?}",
        added.tokens
    );

    let eol = file(&app, &id, "eol.txt").await;
    let last: Vec<(LineKind, String, bool)> = eol.hunks[0]
        .lines
        .iter()
        .map(|l| (l.kind, l.text(), l.no_newline))
        .collect();
    assert_eq!(
        last[last.len() - 2..],
        [
            (LineKind::Deleted, "c".into(), false),
            (LineKind::Added, "C".into(), true)
        ]
    );

    let crlf = file(&app, &id, "crlf.txt").await;
    let texts: Vec<String> = crlf.hunks[0].lines.iter().map(|l| l.text()).collect();
    assert_eq!(
        texts,
        ["one", "two", "TWO", "three"],
        "no carriage return in the text"
    );

    for (path, binary, too_large) in [("big.txt", false, true), ("logo.png", true, false)] {
        let shown = file(&app, &id, path).await;
        assert_eq!(
            (shown.file.binary, shown.file.too_large),
            (binary, too_large),
            "{path}"
        );
        assert!(shown.hunks.is_empty(), "{path} is listed, not shown");
    }

    let renamed = file(&app, &id, "new name.txt").await;
    assert_eq!(renamed.file.old_path.as_deref(), Some("old name.txt"));
    let changed: Vec<(LineKind, String)> = renamed.hunks[0]
        .lines
        .iter()
        .filter(|l| l.kind != LineKind::Context)
        .map(|l| (l.kind, l.text()))
        .collect();
    assert_eq!(
        changed,
        [
            (LineKind::Deleted, "moved 7".into()),
            (LineKind::Added, "moved seven".into())
        ]
    );

    let added = file(&app, &id, "docs/ñandú café.md").await;
    assert_eq!(added.file.status, FileStatus::Added);
    assert_eq!(added.hunks[0].lines[0].text(), "# Título");
    let untracked = file(&app, &id, "notes/todo list.txt").await;
    assert_eq!(untracked.file.status, FileStatus::Untracked);
    assert_eq!(untracked.hunks[0].lines.len(), 2);
    let deleted = file(&app, &id, "gone.txt").await;
    assert!(deleted.hunks[0]
        .lines
        .iter()
        .all(|l| l.kind == LineKind::Deleted));
}

#[tokio::test]
async fn only_listed_paths_can_be_asked_for() {
    let app = TestApp::spawn().await;
    let (_repo, _project, id, tree) = workspace(&app).await;
    change_everything(&tree);
    std::fs::write(tree.parent().unwrap().join("outside.txt"), "secret\n").unwrap();
    for path in [
        "README.md",
        "no/such/file.rs",
        "old name.txt",
        "../outside.txt",
        "src/../../outside.txt",
        "src/../src/lib.rs",
        "/etc/passwd",
        &tree.join("src/lib.rs").display().to_string(),
        ".git/config",
        "",
    ] {
        let url = reqwest::Url::parse_with_params(
            &app.at(&format!("/api/workspaces/{id}/diff/file")),
            [("path", path)],
        )
        .unwrap();
        let response = app.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path:?}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{path:?}")),
            "{path:?}: {message}"
        );
        assert!(!message.contains("secret"));
    }
    let (status, body) = app.get(&format!("/api/workspaces/{id}/diff/file")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("BAD_REQUEST"))
    );
    let (status, body) = app.get("/api/workspaces/nope/diff").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

/// One edit of the generated sequences.
#[derive(Clone, Debug)]
enum Edit {
    Replace {
        file: usize,
        line: usize,
    },
    Insert {
        file: usize,
        line: usize,
        crlf: bool,
    },
    Delete {
        file: usize,
        line: usize,
    },
    Truncate {
        file: usize,
        trailing_newline: bool,
    },
    Create {
        name: usize,
        lines: usize,
    },
    Remove {
        file: usize,
    },
    Rename {
        file: usize,
        to: usize,
    },
    Binary {
        file: usize,
    },
    Stage,
    Commit,
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let file = 0..5usize;
    let line = 0..25usize;
    let edit = prop_oneof![
        3 => (file.clone(), line.clone()).prop_map(|(file, line)| Edit::Replace { file, line }),
        2 => (file.clone(), line.clone(), any::<bool>()).prop_map(|(file, line, crlf)| Edit::Insert { file, line, crlf }),
        2 => (file.clone(), line).prop_map(|(file, line)| Edit::Delete { file, line }),
        1 => (file.clone(), any::<bool>()).prop_map(|(file, trailing_newline)| Edit::Truncate { file, trailing_newline }),
        2 => (0..3usize, 0..12usize).prop_map(|(name, lines)| Edit::Create { name, lines }),
        1 => file.clone().prop_map(|file| Edit::Remove { file }),
        1 => (file.clone(), 0..3usize).prop_map(|(file, to)| Edit::Rename { file, to }),
        1 => file.prop_map(|file| Edit::Binary { file }),
        2 => Just(Edit::Stage),
        2 => Just(Edit::Commit),
    ];
    proptest::collection::vec(edit, 1..10)
}

fn apply(tree: &Path, edit: &Edit) {
    let path = |file: usize| tree.join(format!("src/f{file}.txt"));
    let lines_of = |file: usize, change: &mut dyn FnMut(&mut Vec<String>)| {
        if let Ok(text) = std::fs::read_to_string(path(file)) {
            let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
            change(&mut lines);
            std::fs::write(path(file), lines.concat()).unwrap();
        }
    };
    match *edit {
        Edit::Replace { file, line } => lines_of(file, &mut |l| {
            if let Some(l) = l.get_mut(line) {
                *l = format!("replaced {line}\n");
            }
        }),
        Edit::Insert { file, line, crlf } => lines_of(file, &mut |l| {
            let ending = if crlf { "\r\n" } else { "\n" };
            l.insert(line.min(l.len()), format!("inserted {line}{ending}"));
        }),
        Edit::Delete { file, line } => lines_of(file, &mut |l| {
            if line < l.len() {
                l.remove(line);
            }
        }),
        Edit::Truncate {
            file,
            trailing_newline,
        } => lines_of(file, &mut |l| {
            l.truncate(3);
            if let Some(last) = l.last_mut().filter(|_| !trailing_newline) {
                *last = last.trim_end().to_owned();
            }
        }),
        Edit::Create { name, lines: count } => {
            let dir = tree.join(format!("new{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("file ü.txt"), lines("created", count)).unwrap();
        }
        Edit::Remove { file } => {
            let _ = std::fs::remove_file(path(file));
        }
        Edit::Rename { file, to } => {
            let _ = std::fs::rename(path(file), tree.join(format!("renamed{to}.txt")));
        }
        Edit::Binary { file } => {
            if path(file).exists() {
                std::fs::write(path(file), b"\0binary\0").unwrap();
            }
        }
        Edit::Stage => {
            git(tree, &["add", "-A"]);
        }
        Edit::Commit => {
            git(tree, &["add", "-A"]);
            git(tree, &["commit", "-q", "--allow-empty", "-m", "step"]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the edits, the diff's totals are the git statistics, and what
    /// `git diff --numstat` says of the same worktree.
    #[test]
    fn totals_always_equal_the_git_statistics_and_git_itself(edits in edits()) {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("repo");
        git(dir.path(), &["init", "-q", "repo"]);
        std::fs::create_dir_all(tree.join("src")).unwrap();
        for file in 0..5 {
            std::fs::write(tree.join(format!("src/f{file}.txt")), lines(&format!("file {file} line"), 20)).unwrap();
        }
        git(&tree, &["add", "-A"]);
        git(&tree, &["commit", "-q", "-m", "base"]);
        git(&tree, &["checkout", "-q", "-b", "feature"]);
        for edit in &edits {
            apply(&tree, edit);
        }
        let listed = diff::list(&tree, "main").unwrap();
        let stats = git_stats::compute(&tree, "main").unwrap().stats;
        prop_assert_eq!(listed.totals, stats);
        prop_assert_eq!(numstat(&tree), (stats.total, stats.additions, stats.deletions));
        let tracked = listed.files.iter().filter(|f| f.status != FileStatus::Untracked);
        prop_assert_eq!(tracked.map(|f| f.additions).sum::<u32>(), stats.additions);
    }
}
