//! The rules applied to a repository: every violation at once, one line each, naming the file
//! and line, what is written there, the rule it breaks and the rule's reason.

use crate::manifests;
use crate::rules::{Rules, DOCUMENT};
use crate::sources::{self, SourceFile, SOURCES};
use crate::sql;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every violation of the rules of `root/ARCHITECTURE.md` in the repository at `root`; a
/// malformed rule is reported instead of the violations.
pub fn check(root: &Path) -> Vec<String> {
    let document = match std::fs::read_to_string(root.join(DOCUMENT)) {
        Ok(document) => document,
        Err(e) => return vec![format!("{DOCUMENT}: cannot read: {e}")],
    };
    let rules = match Rules::parse(&document) {
        Ok(rules) => rules,
        Err(problems) => return problems,
    };
    let (files, mut problems) = sources::read(root, &rules.wiring, &rules.separate);
    // The first file of each top-level module present, to name the module by.
    let mut present = BTreeMap::new();
    for file in &files {
        if let Some(module) = &file.module {
            present.entry(module.clone()).or_insert(file.path.clone());
        }
    }
    for (module, path) in &present {
        if !rules.layer_of.contains_key(module) {
            problems.push(format!(
                "{path}: module `{module}` is in no layer — every module of {SOURCES} belongs to exactly one layer, so that the rules cover it: add it to a `layer` line ({DOCUMENT})"
            ));
        }
    }
    for file in &files {
        uses(&rules, file, &present, &mut problems);
        writes(&rules, file, &mut problems);
    }
    if !rules.crates.is_empty() {
        crates(&rules, root, &mut problems);
    }
    problems
}

fn describe(rules: &Rules, module: &str) -> String {
    match rules.layer_of.get(module) {
        Some(layer) => format!("`{module}` (layer {layer})"),
        None => format!("`{module}`"),
    }
}

fn uses(
    rules: &Rules,
    file: &SourceFile,
    present: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    // The crate roots may use anything.
    let Some(module) = &file.module else {
        return;
    };
    let mut reported = BTreeSet::new();
    for reference in &file.references {
        let target = &reference.module;
        // `crate::name` that is no module (an item of lib.rs, an exported macro) is the wiring's.
        let is_module = present.contains_key(target) || rules.layer_of.contains_key(target);
        // A module using itself breaks nothing, so `forbid L -> L` reads "a module of L may not
        // use a different module of L" (`forbid domain -> domain`).
        if target == module || !is_module {
            continue;
        }
        let broken = rules.forbids.iter().find(|rule| {
            rule.from.iter().any(|name| rules.covers(name, module))
                && rule.to.iter().any(|name| rules.covers(name, target))
        });
        if let Some(rule) = broken {
            if reported.insert((reference.line, target)) {
                problems.push(format!(
                    "{}:{}: `{}` — {} must not use {}: {} {}",
                    file.path,
                    reference.line,
                    reference.written,
                    describe(rules, module),
                    describe(rules, target),
                    rule.reason,
                    rule.written.cite(),
                ));
            }
        }
    }
}

fn writes(rules: &Rules, file: &SourceFile, problems: &mut Vec<String>) {
    let writer = match &file.module {
        Some(module) => describe(rules, module),
        None => "the crate root".to_owned(),
    };
    for literal in &file.strings {
        for write in sql::writes(&literal.value) {
            let at = format!("{}:{}: `{}` —", file.path, literal.line, write.statement);
            let refused = file.module.as_ref().and_then(|m| rules.no_writes_for(m));
            let owner = write.table.as_ref().map(|t| (t, rules.tables.get(t)));
            let problem = match (refused, owner) {
                (Some(rule), _) => format!(
                    "{at} {writer} writes no table: {} {}",
                    rule.reason,
                    rule.written.cite()
                ),
                (None, None) => format!(
                    "{at} the table's name is a placeholder, so the check cannot tell its owner (write the name in the SQL): {} {}",
                    rules.owners_reason,
                    rules.owners.cite()
                ),
                (None, Some((table, None))) => format!(
                    "{at} table `{table}` has no owner (every table written needs a `table {table}: module` line): {} {}",
                    rules.owners_reason,
                    rules.owners.cite()
                ),
                (None, Some((table, Some(owned)))) => {
                    if file.module.as_ref() == Some(&owned.owner) {
                        continue;
                    }
                    format!(
                        "{at} only `{}` writes table `{table}`, not {writer}: {} {}",
                        owned.owner,
                        rules.owners_reason,
                        owned.written.cite()
                    )
                }
            };
            problems.push(problem);
        }
    }
}

fn crates(rules: &Rules, root: &Path, problems: &mut Vec<String>) {
    let manifests = match manifests::read(root) {
        Ok(manifests) => manifests,
        Err(mut unreadable) => {
            problems.append(&mut unreadable);
            return;
        }
    };
    for rule in &rules.crates {
        let Some(manifest) = manifests.iter().find(|m| m.package == rule.package) else {
            problems.push(format!(
                "{DOCUMENT}:{}: `{}` — no member of the workspace is the package `{}`",
                rule.written.line, rule.written.text, rule.package
            ));
            continue;
        };
        for dep in &manifest.dependencies {
            let matches = |pattern: &String| match pattern.strip_suffix('*') {
                Some(prefix) => dep.package.starts_with(prefix),
                None => dep.package == *pattern,
            };
            if dep.package != rule.package && rule.deps.iter().any(matches) {
                problems.push(format!(
                    "{}:{}: `{}` in [{}] — `{}` must not depend on `{}`: {} {}",
                    manifest.path,
                    dep.line,
                    dep.package,
                    dep.section,
                    rule.package,
                    dep.package,
                    rule.reason,
                    rule.written.cite(),
                ));
            }
        }
    }
}
