//! What survives a restart when `FF_SCRIPTED_AGENT_STATE` names a directory: `next-turn` (the
//! index of the turn the next prompt consumes) and `sessions.json` (every session issued, with
//! its cwd, mode and model). Without it the same lives in memory only.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

const NEXT_TURN: &str = "next-turn";
const SESSIONS: &str = "sessions.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub cwd: PathBuf,
    pub mode: String,
    pub model: String,
}

pub struct State {
    dir: Option<PathBuf>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_turn: usize,
    sessions: BTreeMap<String, SessionRecord>,
}

impl State {
    pub fn open(dir: Option<&Path>) -> Result<Self, String> {
        let mut inner = Inner::default();
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create the state dir {}: {e}", dir.display()))?;
            if let Some(text) = read_if_present(&dir.join(NEXT_TURN))? {
                inner.next_turn = text
                    .trim()
                    .parse()
                    .map_err(|e| format!("bad {} in {}: {e}", NEXT_TURN, dir.display()))?;
            }
            if let Some(text) = read_if_present(&dir.join(SESSIONS))? {
                inner.sessions = serde_json::from_str(&text)
                    .map_err(|e| format!("bad {} in {}: {e}", SESSIONS, dir.display()))?;
            }
        }
        Ok(Self {
            dir: dir.map(Path::to_path_buf),
            inner: Mutex::new(inner),
        })
    }

    /// The index of the turn this prompt consumes. It is counted before the turn runs, so an
    /// agent restarted after crashing mid-turn goes on with the next one.
    pub fn take_turn(&self) -> usize {
        let mut inner = self.lock();
        let turn = inner.next_turn;
        inner.next_turn += 1;
        self.persist(NEXT_TURN, &inner.next_turn.to_string());
        turn
    }

    pub fn session(&self, id: &str) -> Option<SessionRecord> {
        self.lock().sessions.get(id).cloned()
    }

    /// Records a new session or replaces what is known of one.
    pub fn put_session(&self, id: &str, record: SessionRecord) {
        let mut inner = self.lock();
        inner.sessions.insert(id.to_owned(), record);
        match serde_json::to_string_pretty(&inner.sessions) {
            Ok(text) => self.persist(SESSIONS, &text),
            Err(e) => eprintln!("ff-scripted-agent: cannot encode the sessions: {e}"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the file whole (write, then rename), so a crash never leaves half of it.
    fn persist(&self, name: &str, text: &str) {
        let Some(dir) = &self.dir else {
            return;
        };
        let path = dir.join(name);
        let temporary = dir.join(format!("{name}.tmp"));
        if let Err(e) =
            std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, &path))
        {
            eprintln!("ff-scripted-agent: cannot write {}: {e}", path.display());
        }
    }
}

fn read_if_present(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}
