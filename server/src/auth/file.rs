//! `<data-dir>/token`: created once with mode 0600, replaced atomically by a rotation, and never
//! readable by other users of the machine.

use super::token::Token;
use anyhow::Context;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const FILE_NAME: &str = "token";
const MODE: u32 = 0o600;

/// The token in `path`, generated and written first if there is none yet.
pub fn load_or_create(path: &Path) -> anyhow::Result<Token> {
    match fs::read_to_string(path) {
        Ok(text) => {
            restrict(path)?;
            Token::parse(&text).with_context(|| {
                format!(
                    "{} does not hold a valid token; delete it to have ff generate a new one",
                    path.display()
                )
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = Token::generate().context("cannot generate a token")?;
            write(path, &token)?;
            Ok(token)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Replaces the token in `path` with a new one; every cookie of the old one stops working.
pub fn rotate(path: &Path) -> anyhow::Result<Token> {
    let token = Token::generate().context("cannot generate a token")?;
    write(path, &token)?;
    Ok(token)
}

/// Written beside its final place and renamed over it, so a reader never sees half a token.
fn write(path: &Path, token: &Token) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(MODE)
            .open(&temporary)?;
        // `mode` applies only to a file this call created: make sure of it either way.
        file.set_permissions(fs::Permissions::from_mode(MODE))?;
        file.write_all(format!("{}\n", token.expose()).as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written.with_context(|| format!("cannot write the token to {}", path.display()))
}

/// A token file other users can read is no secret: take their access away.
fn restrict(path: &Path) -> anyhow::Result<()> {
    let mode = fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            "the token file was readable by other users (mode {:o}); it is 600 now, but rotate the token with `ff token --rotate` if anyone may have read it",
            mode & 0o777
        );
        fs::set_permissions(path, fs::Permissions::from_mode(MODE))
            .with_context(|| format!("cannot restrict {} to its owner", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_first_load_creates_a_private_file_and_later_loads_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/token");
        let created = load_or_create(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(load_or_create(&path).unwrap(), created);
        let rotated = rotate(&path).unwrap();
        assert_ne!(rotated, created);
        assert_eq!(load_or_create(&path).unwrap(), rotated);
        assert_eq!(mode(&path), 0o600);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_readable_file_is_restricted_and_a_damaged_one_is_an_error_that_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, "ff-chosen-token-0123456789\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            load_or_create(&path).unwrap().expose(),
            "ff-chosen-token-0123456789"
        );
        assert_eq!(mode(&path), 0o600);
        fs::write(&path, "not a token\n").unwrap();
        let err = format!("{:#}", load_or_create(&path).unwrap_err());
        assert!(err.contains("does not hold a valid token"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "not a token\n");
    }
}
