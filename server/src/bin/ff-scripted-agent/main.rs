//! `ff-scripted-agent`: a deterministic ACP v1 agent on stdin/stdout for ff's tests, covering
//! what real agents do rarely (crashes, hangs, floods, errors, every update kind).
//!
//! Configured by environment variables, each optional:
//!
//! - `FF_SCRIPTED_AGENT_SCRIPT`: the JSON script of the prompt turns (format in `script.rs` beside this file).
//!   Without it every prompt gets the reply "ok" and `end_turn`.
//! - `FF_SCRIPTED_AGENT_LOG`: a JSON-lines file it appends an event to for every message that
//!   matters (`initialize`, `session/new`, `session/load`, `session/prompt` with the prompt's
//!   text, `session/cancel`, `session/set_mode`, `session/set_config_option`, `permission`,
//!   `fs/read_text_file`, `fs/write_text_file`, `edit`, `turn/end`) and for its own `start` and
//!   `exit`.
//! - `FF_SCRIPTED_AGENT_STATE`: a directory keeping what a restarted agent needs: the next turn
//!   and the sessions it issued, for `session/load`.
//!
//! A bad script or an unusable log or state exits with code 2 and a line on stderr naming the
//! problem. stderr also gets a line per turn.

mod agent;
mod event_log;
mod script;
mod state;
mod stdio;
mod turn;

use agent::Scripted;
use event_log::EventLog;
use serde_json::json;
use state::State;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const SCRIPT_ENV: &str = "FF_SCRIPTED_AGENT_SCRIPT";
const LOG_ENV: &str = "FF_SCRIPTED_AGENT_LOG";
const STATE_ENV: &str = "FF_SCRIPTED_AGENT_STATE";

#[tokio::main]
async fn main() -> ExitCode {
    let (agent, start_delay, outlives_client, ignores_sigterm) = match setup() {
        Ok(setup) => setup,
        Err(message) => {
            eprintln!("ff-scripted-agent: {message}");
            return ExitCode::from(2);
        }
    };
    if ignores_sigterm {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            // Received and dropped, for as long as the process lives.
            Ok(mut terms) => {
                tokio::spawn(async move { while terms.recv().await.is_some() {} });
            }
            Err(e) => eprintln!("ff-scripted-agent: cannot ignore SIGTERM: {e}"),
        }
    }
    let agent = Arc::new(agent);
    agent.log().write("start", json!({}));
    tokio::time::sleep(start_delay).await;
    match agent::serve(Arc::clone(&agent), stdio::transport()).await {
        Ok(()) => {
            if outlives_client {
                agent.log().write("stdin closed", json!({}));
                std::future::pending::<()>().await;
            }
            agent
                .log()
                .write("exit", json!({"code": 0, "reason": "stdin closed"}));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ff-scripted-agent: connection failed: {e:?}");
            agent
                .log()
                .write("exit", json!({"code": 1, "reason": e.message}));
            ExitCode::FAILURE
        }
    }
}

fn setup() -> Result<(Scripted, Duration, bool, bool), String> {
    let path = |name| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    let log = EventLog::open(path(LOG_ENV).as_deref())?;
    let script = path(SCRIPT_ENV)
        .map(|path| script::load(&path))
        .transpose()?
        .unwrap_or_default();
    let state = State::open(path(STATE_ENV).as_deref())?;
    let start_delay = Duration::from_millis(script.start_delay_ms);
    let outlives_client = script.outlives_client;
    let ignores_sigterm = script.ignores_sigterm;
    Ok((
        Scripted::new(script, log, state),
        start_delay,
        outlives_client,
        ignores_sigterm,
    ))
}
