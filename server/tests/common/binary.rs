//! The real `ff` binary as a child process, serving on a free port.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct RunningFf {
    pub child: Child,
    pub url: String,
}

impl RunningFf {
    /// `ff serve --port 0` over `data`; returns once it has printed its URL.
    pub fn start(data: &Path, log: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ff"))
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(data)
            .env("FF_LOG", log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("ff starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("ff prints a line");
        let url = line
            .trim()
            .strip_prefix("ff is running at ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

/// A test that fails half-way must not leave a server running.
impl Drop for RunningFf {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
