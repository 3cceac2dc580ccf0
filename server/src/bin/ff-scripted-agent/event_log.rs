//! The JSON-lines log (`FF_SCRIPTED_AGENT_LOG`) that tests read while the agent runs: one object
//! per line, `{"event": "<name>", "pid": <pid>, "at": <ms since 1970>, ...}`, appended and
//! written through at once.

use serde_json::{Map, Value};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

pub struct EventLog {
    file: Option<Mutex<File>>,
}

impl EventLog {
    pub fn open(path: Option<&Path>) -> Result<Self, String> {
        let file = path
            .map(|path| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open the log {}: {e}", path.display()))
            })
            .transpose()?;
        Ok(Self {
            file: file.map(Mutex::new),
        })
    }

    /// Appends `{"event": event, "pid": …, "at": …, ...fields}`; `fields` is a JSON object.
    pub fn write(&self, event: &str, fields: Value) {
        let Some(file) = &self.file else {
            return;
        };
        let mut line = Map::new();
        line.insert("event".to_owned(), event.into());
        line.insert("pid".to_owned(), std::process::id().into());
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        line.insert(
            "at".to_owned(),
            u64::try_from(at).unwrap_or(u64::MAX).into(),
        );
        if let Value::Object(fields) = fields {
            line.extend(fields);
        }
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        // One write per line keeps lines whole for a reader that polls the file; an unbuffered
        // File needs no flush.
        let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = file.write_all(text.as_bytes()) {
            eprintln!("ff-scripted-agent: cannot write the log: {e}");
        }
    }
}
