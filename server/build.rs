//! Points the asset embedding at the site built for this profile, and makes cargo rebuild the
//! server whenever that site changes (a proc macro cannot ask cargo to watch files itself).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let profile = std::env::var("PROFILE").expect("set by cargo");
    let pkg = manifest.join("../target/site").join(&profile).join("pkg");
    println!("cargo:rerun-if-changed={}", pkg.display());
    println!("cargo:rustc-env=FF_SITE_PKG={}", pkg.display());
    println!("cargo:rustc-env=FF_SITE_STAMP={}", stamp(&pkg));
}

/// Names, sizes and modification times of the site's files: a changed stamp changes the
/// compiler's environment, which forces the embedding to be redone.
fn stamp(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return "missing".to_owned();
    };
    let mut parts: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
            Some(format!(
                "{}:{}:{}",
                entry.file_name().to_string_lossy(),
                meta.len(),
                modified.as_nanos()
            ))
        })
        .collect();
    parts.sort();
    parts.join(",")
}
