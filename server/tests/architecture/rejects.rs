//! The check can fail: each kind of break, written into a fixture, is rejected with a message
//! that names the file and line, what is written there and the rule with its reason.

use crate::fixture::Fixture;
use std::path::Path;

/// Fails unless `problem` mentions every one of `parts`.
fn assert_names(problem: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            problem.contains(part),
            "`{part}` is missing from: {problem}"
        );
    }
}

#[test]
fn a_clean_fixture_passes() {
    assert_eq!(Fixture::clean().check(), Vec::<String>::new());
}

#[test]
fn a_domain_that_uses_the_snapshot_service_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "server/src/workspaces/lifecycle.rs",
            "use std::sync::Arc;\n\nuse crate::snapshot::store::Store;\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/workspaces/lifecycle.rs:3: `use crate::snapshot::store::Store`",
            "`workspaces` (layer domain) must not use `snapshot` (layer snapshot)",
            "domains publish events; the collector subscribes",
            "(ARCHITECTURE.md:13: `forbid domain -> snapshot http`)",
        ],
    );
}

#[test]
fn the_snapshot_service_that_calls_a_domain_is_rejected() {
    // A path in an expression, not a `use`; and one inside a macro.
    let problem = Fixture::clean()
        .file(
            "server/src/snapshot/collector.rs",
            "fn apply() {\n    let w = crate::workspaces::Workspaces::load();\n}\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/snapshot/collector.rs:2: `crate::workspaces::Workspaces::load`",
            "`snapshot` (layer snapshot) must not use `workspaces` (layer domain)",
            "the snapshot service reads, it never calls a domain",
        ],
    );
    let problem = Fixture::clean()
        .file(
            "server/src/snapshot/collector.rs",
            "fn apply(e: E) -> bool {\n    matches!(e, crate::projects::Event::Added)\n}\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &["server/src/snapshot/collector.rs:2: `crate::projects::Event::Added`"],
    );
}

#[test]
fn a_domain_that_calls_a_flow_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "server/src/workspaces/mod.rs",
            "pub mod store;\nfn ready() {\n    crate::flows::scheduled_run::settle();\n}\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/workspaces/mod.rs:3: `crate::flows::scheduled_run::settle`",
            "`workspaces` (layer domain) must not use `flows` (layer flows)",
            "a flow calls domains, never the other way round",
            "(ARCHITECTURE.md:22: `forbid domain -> flows`)",
        ],
    );
}

#[test]
fn the_foundation_that_uses_a_flow_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "server/src/events.rs",
            "use crate::db::Db;\nuse crate::flows::ScheduledRuns;\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/events.rs:2: `use crate::flows::ScheduledRuns`",
            "`events` (layer foundation) must not use `flows` (layer flows)",
            "plumbing knows no operation of ff",
            "(ARCHITECTURE.md:23: `forbid foundation -> flows`)",
        ],
    );
}

#[test]
fn a_flow_writing_a_table_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "server/src/flows/scheduled_run.rs",
            "fn start() {\n    sqlx::query(\"INSERT INTO workspaces (id) VALUES (?)\");\n}\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/flows/scheduled_run.rs:2: `INSERT INTO workspaces`",
            "`flows` (layer flows) writes no table: a flow owns no table",
        ],
    );
}

#[test]
fn http_writing_a_table_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "server/src/http/workspaces.rs",
            "async fn archive() {\n    sqlx::query(\n        \"update\n          \\\"workspaces\\\"  SET status = 'ARCHIVED' WHERE id = ?\",\n    );\n}\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/http/workspaces.rs:3: `update \"workspaces\"`",
            "`http` (layer http) writes no table: handlers call domain services",
            "(ARCHITECTURE.md:18: `no-writes http snapshot`)",
        ],
    );
}

#[test]
fn a_domain_writing_another_domains_table_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "server/src/projects.rs",
            "fn forget() {\n    sqlx::query(concat!(\"DELETE FROM \", \"workspaces WHERE project_id = ?\"));\n}\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/projects.rs:2: `DELETE FROM workspaces`",
            "only `workspaces` writes table `workspaces`, not `projects` (layer domain)",
            "one writer per table",
            "(ARCHITECTURE.md:17: `table workspaces`)",
        ],
    );
}

#[test]
fn a_write_to_a_table_without_owner_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "server/src/workspaces/store.rs",
            "fn note(id: &str) -> String {\n    format!(\"INSERT OR REPLACE INTO main.notes (id) VALUES ('{id}')\")\n}\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/workspaces/store.rs:2: `INSERT OR REPLACE INTO main.notes`",
            "table `notes` has no owner",
            "one writer per table",
        ],
    );
}

#[test]
fn a_crate_root_writing_a_table_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "server/src/lib.rs",
            "pub mod db;\nconst SEED: &str = \"INSERT INTO projects (id) VALUES (1)\";\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/lib.rs:2:",
            "only `projects` writes table `projects`, not the crate root",
        ],
    );
}

#[test]
fn a_module_in_no_layer_is_rejected() {
    let problem = Fixture::clean()
        .file("server/src/stray/mod.rs", "pub fn helper() {}\n")
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/stray/mod.rs: module `stray` is in no layer",
            "every module of server/src belongs to exactly one layer",
        ],
    );
}

#[test]
fn every_member_of_a_use_group_is_checked() {
    let problem = Fixture::clean()
        .file(
            "server/src/events.rs",
            "use crate::{\n    db::Db,\n    http,\n};\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/events.rs:3: `use crate::http`",
            "`events` (layer foundation) must not use `http` (layer http): plumbing stays plumbing",
        ],
    );
}

#[test]
fn super_climbing_out_of_a_module_is_followed() {
    let problem = Fixture::clean()
        .file(
            "server/src/workspaces/store.rs",
            "mod tests {\n    use super::super::super::snapshot::Store;\n    use super::super::lifecycle;\n}\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "server/src/workspaces/store.rs:2: `use super::super::super::snapshot::Store`",
            "must not use `snapshot`",
        ],
    );
}

#[test]
fn core_depending_on_the_server_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "core/Cargo.toml",
            "[package]\nname = \"ff-core\"\n\n[dependencies]\nserde = \"1\"\n\n[dev-dependencies]\nserver = { package = \"ff-server\", path = \"../server\" }\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "core/Cargo.toml:8: `ff-server` in [dev-dependencies]",
            "`ff-core` must not depend on `ff-server`: core depends on nothing of ff",
            "(ARCHITECTURE.md:19: `forbid crate ff-core -> ff-*`)",
        ],
    );
}

#[test]
fn the_app_depending_on_the_server_is_rejected() {
    let problem = Fixture::clean()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"core\", \"app\", \"server\"]\n\n[workspace.dependencies]\nff-core = { path = \"core\" }\nserver = { package = \"ff-server\", path = \"server\" }\n",
        )
        .file(
            "app/Cargo.toml",
            "[package]\nname = \"ff-app\"\n\n[target.'cfg(not(target_arch = \"wasm32\"))'.dependencies]\nserver.workspace = true\n",
        )
        .only_problem();
    assert_names(
        &problem,
        &[
            "app/Cargo.toml:5: `ff-server` in [target.'cfg(not(target_arch = \"wasm32\"))'.dependencies]",
            "the app never depends on the server",
        ],
    );
}

#[test]
fn every_break_is_reported_at_once() {
    let problems = Fixture::clean()
        .file(
            "server/src/workspaces/mod.rs",
            "use crate::snapshot::Store;\nuse crate::http::router;\nconst Q: &str = \"UPDATE projects SET name = ?\";\n",
        )
        .file("server/src/stray.rs", "")
        .check();
    assert_eq!(problems.len(), 4, "{problems:#?}");
}

#[test]
fn a_malformed_rule_is_reported_with_its_line() {
    let problems = Fixture::with_rules(
        "layer domain: projects\nforbid domain snapshot: no arrow\nlayer foundation: db projects\ntable projects: nobody\ncolour domain: blue\n",
    )
    .check();
    let expected = [
        "ARCHITECTURE.md:7: `forbid domain snapshot: no arrow` — expected `forbid A … -> B …: why`",
        "ARCHITECTURE.md:10: `colour domain: blue` — unknown keyword `colour`",
        "ARCHITECTURE.md:8: `layer foundation: db projects` — `projects` is already in layer `domain` (line 6)",
        "ARCHITECTURE.md:9: `table projects: nobody` — the owner `nobody` is not a module of a `layer` line",
        "ARCHITECTURE.md:5: the rules have no `owners: why` line",
    ];
    for part in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(part)),
            "no problem starts with `{part}`: {problems:#?}"
        );
    }
}

#[test]
fn a_document_without_its_rules_block_is_reported() {
    let problems = Fixture::clean()
        .file(
            "ARCHITECTURE.md",
            "# Rules\n\n```\nlayer domain: projects\n```\n",
        )
        .check();
    assert_eq!(
        problems,
        ["ARCHITECTURE.md: there is no ```rules block, so there are no rules to check"]
    );
}

#[test]
fn the_real_rules_reject_a_domain_that_uses_the_collector() {
    let rules =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md is readable");
    let fixture = Fixture::clean().file("ARCHITECTURE.md", &rules).file(
        "server/src/workspaces/mod.rs",
        "fn created() { crate::snapshot::collector::apply(); }\n",
    );
    let problems = fixture.check();
    let problem = problems
        .iter()
        .find(|p| p.starts_with("server/src/workspaces/mod.rs:1:"))
        .unwrap_or_else(|| {
            panic!("the domain's use of the collector is not reported: {problems:#?}")
        });
    assert_names(
        problem,
        &[
            "must not use `snapshot` (layer snapshot)",
            "domains publish events on the bus",
        ],
    );
}

#[test]
fn the_real_rules_reject_a_domain_that_calls_a_flow_and_schedules_calling_a_domain() {
    let rules =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md is readable");
    let problems = Fixture::clean()
        .file("ARCHITECTURE.md", &rules)
        .file(
            "server/src/sessions/mod.rs",
            "use crate::flows::scheduled_run::ScheduledRuns;\n",
        )
        .file(
            "server/src/schedules/mod.rs",
            "fn run() { crate::workspaces::Workspaces::create(); }\n",
        )
        .check();
    let find = |at: &str| {
        problems
            .iter()
            .find(|p| p.starts_with(at))
            .unwrap_or_else(|| panic!("nothing reported at {at}: {problems:#?}"))
            .clone()
    };
    assert_names(
        &find("server/src/sessions/mod.rs:1:"),
        &[
            "`sessions` (layer domain) must not use `flows` (layer flows)",
            "a flow calls domains, never the other way round",
        ],
    );
    assert_names(
        &find("server/src/schedules/mod.rs:1:"),
        &[
            "`schedules` (layer domain) must not use `workspaces` (layer domain)",
            "what crosses domains is a flow",
        ],
    );
}

#[test]
fn a_domain_that_uses_another_domain_is_rejected() {
    // `forbid domain -> domain`: a module of the layer uses itself and the foundation, never a
    // different module of its own layer; by `use` and by a path in an expression alike.
    let rules = format!(
        "{}forbid domain -> domain: a domain uses only itself and the foundation; what crosses domains is a flow\n",
        crate::fixture::RULES
    );
    let problems = Fixture::with_rules(&rules)
        .file(
            "server/src/sessions/mod.rs",
            "use crate::sessions::store;\nuse crate::db::Db;\nfn first() {\n    crate::workspaces::store::take_prompt();\n}\n",
        )
        .check();
    let find = |at: &str| {
        problems
            .iter()
            .find(|p| p.starts_with(at))
            .unwrap_or_else(|| panic!("nothing reported at {at}: {problems:#?}"))
            .clone()
    };
    // The clean fixture's projects.rs imports workspaces' store.
    assert_names(
        &find("server/src/projects.rs:2:"),
        &[
            "`use crate::workspaces::store`",
            "`projects` (layer domain) must not use `workspaces` (layer domain)",
            "a domain uses only itself and the foundation; what crosses domains is a flow",
            "`forbid domain -> domain`)",
        ],
    );
    assert_names(
        &find("server/src/sessions/mod.rs:4:"),
        &[
            "`crate::workspaces::store::take_prompt`",
            "`sessions` (layer domain) must not use `workspaces` (layer domain)",
            "`forbid domain -> domain`)",
        ],
    );
    // Using itself and the foundation is what a domain may do: nothing else is reported.
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn the_real_rules_reject_any_domain_that_uses_another() {
    let rules =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md is readable");
    let problems = Fixture::clean()
        .file("ARCHITECTURE.md", &rules)
        .file(
            "server/src/workspaces/mod.rs",
            "use crate::sessions::Sessions;\nfn archive() { crate::run_script::stop(); }\n",
        )
        .check();
    for (at, used) in [
        (
            "server/src/workspaces/mod.rs:1:",
            "`sessions` (layer domain)",
        ),
        (
            "server/src/workspaces/mod.rs:2:",
            "`run_script` (layer domain)",
        ),
    ] {
        let problem = problems
            .iter()
            .find(|p| p.starts_with(at))
            .unwrap_or_else(|| panic!("nothing reported at {at}: {problems:#?}"));
        assert_names(
            problem,
            &[
                &format!("`workspaces` (layer domain) must not use {used}"),
                "what crosses domains is a flow",
                "`forbid domain -> domain`)",
            ],
        );
    }
}
