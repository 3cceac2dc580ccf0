//! `<data-dir>/server.json`: which ff serves this data directory and at which addresses, so that
//! `ff token` can print the login URL again (as Jupyter's runtime files let `jupyter server
//! list` do). It holds no secret: the token stays in its own file.

use crate::auth::AuthConfig;
use crate::process::ProcessIdentity;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const FILE_NAME: &str = "server.json";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Running {
    /// The serving process, as `pid:start:boot`, so that a reused pid is not taken for ff.
    pub process: String,
    /// Base URLs, loopback first.
    pub urls: Vec<String>,
    /// Whether the token is the one in `<data-dir>/token` (not `--token`, `FF_TOKEN` or none).
    pub token_in_file: bool,
}

/// The file this process wrote; removed when it stops serving.
pub struct RuntimeFile(Option<PathBuf>);

impl RuntimeFile {
    /// Best effort: a server that cannot write it still serves, and `ff token` falls back to
    /// the default address.
    pub fn write(data_dir: &Path, auth: &AuthConfig, local: SocketAddr) -> Self {
        let Some(identity) = ProcessIdentity::of(std::process::id()) else {
            return Self(None);
        };
        let running = Running {
            process: identity.to_string(),
            urls: crate::addresses::base_urls(local),
            token_in_file: matches!(auth, AuthConfig::File),
        };
        let path = data_dir.join(FILE_NAME);
        let json = serde_json::to_string_pretty(&running).expect("plain data serializes");
        match std::fs::write(&path, json + "\n") {
            Ok(()) => Self(Some(path)),
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot record where ff runs ({e}); `ff token` will print the default address");
                Self(None)
            }
        }
    }

    /// The ff serving `data_dir`, if one is running.
    pub fn read(data_dir: &Path) -> Option<Running> {
        let text = std::fs::read_to_string(data_dir.join(FILE_NAME)).ok()?;
        let running: Running = serde_json::from_str(&text).ok()?;
        let recorded: ProcessIdentity = running.process.parse().ok()?;
        (ProcessIdentity::of(recorded.pid).as_ref() == Some(&recorded)).then_some(running)
    }

    pub fn remove(self) {
        if let Some(path) = self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}
