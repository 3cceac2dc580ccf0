//! The workspace's crates as the crate rules see them: each member's package name and every
//! package it depends on, in any dependency section (target-specific ones included), renames
//! and `workspace = true` resolved.

use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub struct Manifest {
    /// Relative to the repository root, e.g. `core/Cargo.toml`.
    pub path: String,
    pub package: String,
    pub dependencies: Vec<Dependency>,
}

pub struct Dependency {
    pub package: String,
    /// e.g. `dependencies`, `dev-dependencies`, `target.'cfg(unix)'.dependencies`.
    pub section: String,
    pub line: usize,
}

const SECTIONS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// The members of the workspace whose root manifest is `root/Cargo.toml`.
pub fn read(root: &Path) -> Result<Vec<Manifest>, Vec<String>> {
    let root_text = read_text(root, "Cargo.toml").map_err(|e| vec![e])?;
    let root_toml = parse("Cargo.toml", &root_text).map_err(|e| vec![e])?;
    let workspace = table(root_toml.get_ref(), "workspace");
    let shared = workspace.and_then(|w| table(w, "dependencies"));
    let members: Vec<&str> = workspace
        .and_then(|w| w.get("members"))
        .and_then(|m| m.get_ref().as_array())
        .map(|members| {
            members
                .iter()
                .filter_map(|m| m.get_ref().as_str())
                .collect()
        })
        .unwrap_or_default();
    let mut manifests = Vec::new();
    let mut problems = Vec::new();
    for member in members {
        let path = format!("{member}/Cargo.toml");
        let manifest =
            read_text(root, &path).and_then(|text| member_manifest(&path, &text, shared));
        match manifest {
            Ok(manifest) => manifests.push(manifest),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(manifests)
    } else {
        Err(problems)
    }
}

fn read_text(root: &Path, path: &str) -> Result<String, String> {
    std::fs::read_to_string(root.join(path)).map_err(|e| format!("{path}: cannot read: {e}"))
}

fn parse<'i>(path: &str, text: &'i str) -> Result<Spanned<DeTable<'i>>, String> {
    DeTable::parse(text).map_err(|e| format!("{path}: cannot parse: {e}"))
}

fn table<'a, 'i>(parent: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    parent.get(key).and_then(|v| v.get_ref().as_table())
}

fn member_manifest(
    path: &str,
    text: &str,
    shared: Option<&DeTable<'_>>,
) -> Result<Manifest, String> {
    let toml = parse(path, text)?;
    let package = table(toml.get_ref(), "package")
        .and_then(|p| p.get("name"))
        .and_then(|name| name.get_ref().as_str())
        .ok_or_else(|| format!("{path}: no [package] name"))?
        .to_owned();
    let mut sections: Vec<(String, &DeTable)> = SECTIONS
        .iter()
        .filter_map(|s| table(toml.get_ref(), s).map(|t| (s.to_string(), t)))
        .collect();
    for (cfg, target) in table(toml.get_ref(), "target").into_iter().flatten() {
        for section in SECTIONS {
            if let Some(deps) = target.get_ref().as_table().and_then(|t| table(t, section)) {
                sections.push((format!("target.'{}'.{section}", cfg.get_ref()), deps));
            }
        }
    }
    let mut dependencies = Vec::new();
    for (section, deps) in sections {
        for (key, value) in deps {
            dependencies.push(Dependency {
                package: package_of(key.get_ref(), value.get_ref(), shared),
                section: section.clone(),
                line: text[..key.span().start].matches('\n').count() + 1,
            });
        }
    }
    Ok(Manifest {
        path: path.to_owned(),
        package,
        dependencies,
    })
}

/// The package a dependency entry names: its `package` if renamed, else its key; through the
/// workspace's entry when it says `workspace = true`.
fn package_of(key: &str, value: &DeValue<'_>, shared: Option<&DeTable<'_>>) -> String {
    let renamed = |entry: &DeValue<'_>| {
        entry
            .as_table()
            .and_then(|t| t.get("package"))
            .and_then(|p| p.get_ref().as_str())
            .map(str::to_owned)
    };
    let inherited = value
        .as_table()
        .and_then(|t| t.get("workspace"))
        .and_then(|w| w.get_ref().as_bool())
        .unwrap_or(false);
    let from_workspace = inherited
        .then(|| shared?.get(key))
        .flatten()
        .and_then(|entry| renamed(entry.get_ref()));
    renamed(value)
        .or(from_workspace)
        .unwrap_or_else(|| key.to_owned())
}
