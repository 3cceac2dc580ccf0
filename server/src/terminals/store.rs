//! Which shells this ff started, recorded in the data directory (one file a terminal, holding the
//! shell's process identity), so that after a crash or a SIGKILL the next start ends the ones
//! left running. Terminals live no longer than the server, so nothing else of them is kept.

use crate::process::ProcessIdentity;
use std::path::{Path, PathBuf};

#[derive(Clone)]
pub struct Records {
    dir: PathBuf,
}

impl Records {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn write(&self, id: &str, identity: &ProcessIdentity) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        std::fs::write(self.path(id), identity.to_string())
    }

    pub fn remove(&self, id: &str) {
        if let Err(e) = std::fs::remove_file(self.path(id)) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(terminal = id, "cannot remove the terminal's record: {e}");
            }
        }
    }

    /// Every record left behind, with its file (unreadable ones have no identity).
    pub fn left_over(&self) -> Vec<(PathBuf, Option<ProcessIdentity>)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|entry| {
                let path = entry.path();
                let identity = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| text.trim().parse().ok());
                (path, identity)
            })
            .collect()
    }

    fn path(&self, id: &str) -> PathBuf {
        // Ids are ff's own (generated), never a client's text.
        Path::new(&self.dir).join(id)
    }
}
