//! Who may drive ff (trust issue §1): one secret token, as Jupyter has had since 4.3. It is
//! given by the user (`--token`, `FF_TOKEN`) or generated once into `<data-dir>/token`; when
//! `ff token --rotate` replaces that file, the running server takes the new token within moments
//! and everything admitted with the old one (cookies, open sockets) ends.

pub mod agents;
pub mod file;
pub mod token;

pub use token::{Token, TokenError};

use anyhow::Context;
use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Where the token comes from (resolved from the command line and environment).
#[derive(Clone, Debug)]
pub enum AuthConfig {
    /// `--token` or `FF_TOKEN`.
    Given(Token),
    /// Generated once into `<data-dir>/token`.
    File,
    /// `--no-auth`: loopback only, for scripts and tests of exactly that.
    Disabled,
}

/// The server's current token and the signal that ends what it admitted.
#[derive(Clone)]
pub struct Access(Option<Arc<Keeper>>);

struct Keeper {
    /// Set when the token lives in the token file, which may be rotated under us.
    file: Option<PathBuf>,
    current: RwLock<Current>,
}

#[derive(Clone)]
struct Current {
    token: Token,
    /// Cancelled when this token is replaced.
    revoked: CancellationToken,
}

impl Access {
    /// Reads (or first creates) the token as `config` says.
    pub fn open(config: &AuthConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let (token, file) = match config {
            AuthConfig::Disabled => return Ok(Self(None)),
            AuthConfig::Given(token) => (token.clone(), None),
            AuthConfig::File => {
                let path = data_dir.join(file::FILE_NAME);
                (file::load_or_create(&path)?, Some(path))
            }
        };
        Ok(Self(Some(Arc::new(Keeper {
            file,
            current: RwLock::new(Current {
                token,
                revoked: CancellationToken::new(),
            }),
        }))))
    }

    pub fn is_disabled(&self) -> bool {
        self.0.is_none()
    }

    /// The token to print in the login URL (`None` without authentication).
    pub fn token(&self) -> Option<Token> {
        self.0.as_ref().map(|keeper| keeper.current().token)
    }

    /// Whether `presented` is the current token; if so, the signal that fires when it is
    /// rotated away.
    pub fn admit(&self, presented: &str) -> Option<CancellationToken> {
        let current = self.0.as_ref()?.current();
        current.token.matches(presented).then_some(current.revoked)
    }

    /// What a request admitted without a token (`--no-auth`) ends with: nothing.
    pub fn unrevocable() -> CancellationToken {
        CancellationToken::new()
    }

    /// Follows rotations of the token file until `shutdown`.
    pub fn watch(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Some(keeper) = self.0.clone() else {
            return Ok(());
        };
        let Some(path) = keeper.file.clone() else {
            return Ok(());
        };
        let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
        let name = path.file_name().map(ToOwned::to_owned);
        // One pending reload is enough however many events arrive.
        let (touched, mut reload) = mpsc::channel::<()>(1);
        // The file is replaced by a rename, so its directory is watched, not its inode.
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok_and(|e| e.paths.iter().any(|p| p.file_name() == name.as_deref())) {
                    let _ = touched.try_send(());
                }
            })
            .context("cannot watch the token file for rotations")?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch {} for token rotations", dir.display()))?;
        tokio::spawn(async move {
            let _watcher = watcher;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    touched = reload.recv() => match touched {
                        Some(()) => keeper.reload(&path),
                        None => break,
                    },
                }
            }
        });
        Ok(())
    }
}

impl Keeper {
    fn current(&self) -> Current {
        self.current.read().expect("token lock").clone()
    }

    fn reload(&self, path: &Path) {
        let token = match std::fs::read_to_string(path) {
            Ok(text) => match Token::parse(&text) {
                Ok(token) => token,
                Err(e) => {
                    tracing::warn!(path = %path.display(), "the token file no longer holds a valid token ({e}); the previous token stays in force");
                    return;
                }
            },
            // Mid-rename or deleted: the token in force stays until a valid file appears.
            Err(_) => return,
        };
        let mut current = self.current.write().expect("token lock");
        if current.token != token {
            current.revoked.cancel();
            *current = Current {
                token,
                revoked: CancellationToken::new(),
            };
            tracing::info!("the token was rotated: every browser and client must log in again");
        }
    }
}
