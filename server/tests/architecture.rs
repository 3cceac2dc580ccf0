//! The architecture rules of ARCHITECTURE.md, enforced: the rules block there is parsed, the
//! server's source is read with syn and the crates' manifests with toml, and every break of a
//! rule fails this test with one line naming the file, the line, the offending `use` or SQL and
//! the rule with its reason. The fixtures below prove that each kind of break is caught.

#[path = "architecture/check.rs"]
mod check;
#[path = "architecture/fixture.rs"]
mod fixture;
#[path = "architecture/manifests.rs"]
mod manifests;
#[path = "architecture/rejects.rs"]
mod rejects;
#[path = "architecture/rules.rs"]
mod rules;
#[path = "architecture/sources.rs"]
mod sources;
#[path = "architecture/sql.rs"]
mod sql;

use std::path::Path;

#[test]
fn the_code_keeps_the_rules_of_architecture_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let problems = check::check(&root);
    assert!(
        problems.is_empty(),
        "{} break(s) of the architecture rules (fix the code, or change the rule in ARCHITECTURE.md if the rule is what is wrong):\n{}\n",
        problems.len(),
        problems.join("\n")
    );
}
