//! A small repository in a temporary folder, laid out like ff's (ARCHITECTURE.md, a workspace
//! of `core`, `app` and `server`, and `server/src`), that keeps its rules until a test adds a
//! file that breaks one.

use std::path::Path;
use tempfile::TempDir;

/// The fixture's rules: the shape of ff's own, over a few modules.
pub const RULES: &str = "\
layer foundation: db events read_model
layer domain: projects workspaces sessions
layer snapshot: snapshot
layer http: http
wiring lib main: the crate roots connect everything
separate bin: separate binaries
forbid foundation -> domain snapshot http: plumbing stays plumbing
forbid domain -> snapshot http: domains publish events; the collector subscribes
forbid snapshot -> domain http: the snapshot service reads, it never calls a domain
owners: one writer per table
table projects: projects
table workspaces: workspaces
no-writes http snapshot: handlers call domain services
forbid crate ff-core -> ff-*: core depends on nothing of ff
forbid crate ff-app -> ff-server: the app never depends on the server
layer flows: flows
forbid domain -> flows: a flow calls domains, never the other way round
forbid foundation -> flows: plumbing knows no operation of ff
no-writes flows: a flow owns no table
";

pub struct Fixture {
    dir: TempDir,
}

impl Fixture {
    /// A repository that keeps `RULES`.
    pub fn clean() -> Self {
        Self::with_rules(RULES)
    }

    pub fn with_rules(rules: &str) -> Self {
        let fixture = Fixture {
            dir: tempfile::tempdir().expect("a temporary folder"),
        };
        fixture
            .file(
                "ARCHITECTURE.md",
                &format!("# Rules\n\nThe diagram.\n\n```rules\n{rules}```\n"),
            )
            .file(
                "Cargo.toml",
                "[workspace]\nmembers = [\"core\", \"app\", \"server\"]\n\n\
                 [workspace.dependencies]\nff-core = { path = \"core\" }\n",
            )
            .file("core/Cargo.toml", "[package]\nname = \"ff-core\"\n\n[dependencies]\nserde = \"1\"\n")
            .file("app/Cargo.toml", "[package]\nname = \"ff-app\"\n\n[dependencies]\nff-core.workspace = true\n")
            .file("server/Cargo.toml", "[package]\nname = \"ff-server\"\n\n[dependencies]\nff-core.workspace = true\n")
            .file("server/src/lib.rs", "pub mod db;\npub mod http;\nuse crate::http::router;\nuse snapshot::Snapshot;\n")
            .file("server/src/main.rs", "fn main() { ff_server::serve(); }\n")
            .file("server/src/db/mod.rs", "pub struct Db;\n")
            .file("server/src/events.rs", "use crate::db::Db;\npub struct Bus;\n")
            .file(
                "server/src/projects.rs",
                "use crate::{db::Db, events::Bus};\n\
                 use crate::workspaces::store;\n\
                 const Q: &str = \"INSERT INTO projects (id, name) VALUES (?, ?)\";\n\
                 const U: &str = \"UPDATE projects SET name = ? WHERE id = ?\";\n",
            )
            .file(
                "server/src/workspaces/mod.rs",
                "//! Writes `UPDATE projects SET x` never (a doc comment is prose).\n\
                 pub mod store;\n\
                 fn refuse() -> String { format!(\"cannot update the workspace {}: delete from disk first\", 1) }\n",
            )
            .file(
                "server/src/workspaces/store.rs",
                "use super::refuse;\n\
                 const UPSERT: &str = \"INSERT INTO workspaces (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET id = ?\";\n\
                 fn delete() { sqlx::query!(\"DELETE FROM workspaces WHERE id = ?\"); }\n",
            )
            .file(
                "server/src/flows/mod.rs",
                "//! A flow calls several domains.\n\
                 use crate::{events::Bus, projects};\n\
                 use crate::workspaces::store;\n\
                 const READ: &str = \"SELECT id FROM workspaces\";\n",
            )
            .file(
                "server/src/snapshot/mod.rs",
                "use crate::events::Bus;\nuse crate::read_model;\nconst READ: &str = \"SELECT * FROM workspaces\";\n",
            )
            .file(
                "server/src/http/mod.rs",
                "use crate::snapshot::Snapshot;\nuse crate::workspaces::Workspaces;\npub fn router() {}\n",
            )
            .file(
                "server/src/bin/agent/main.rs",
                "mod turn;\nuse crate::turn::next;\nfn main() {}\n",
            )
    }

    /// Writes `text` to `path` in the repository (over what is there).
    pub fn file(self, path: &str, text: &str) -> Self {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a file in a folder"))
            .expect("the folder is created");
        std::fs::write(&path, text).expect("the file is written");
        self
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn check(&self) -> Vec<String> {
        crate::check::check(self.root())
    }

    /// The one problem the check finds; fails if there are none or several.
    pub fn only_problem(&self) -> String {
        let problems = self.check();
        assert_eq!(
            problems.len(),
            1,
            "expected one problem, got: {problems:#?}"
        );
        problems.into_iter().next().expect("one problem")
    }
}
