//! The ACP agent side: `initialize`, sessions with their modes and model option, prompts (one
//! script turn each, run outside the dispatch loop) and `session/cancel`.

use crate::event_log::EventLog;
use crate::script::{Script, Turn};
use crate::state::{SessionRecord, State};
use crate::turn::TurnRunner;
use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::schema::{
    AgentCapabilities, CancelNotification, ConfigOptionUpdate, ContentBlock, CurrentModeUpdate,
    Implementation, InitializeRequest, InitializeResponse, LoadSessionRequest, LoadSessionResponse,
    McpCapabilities, NewSessionRequest, NewSessionResponse, PromptRequest, PromptResponse,
    SessionConfigOption, SessionConfigOptionCategory, SessionConfigSelectOption, SessionMode,
    SessionModeState, SessionNotification, SessionUpdate, SetSessionConfigOptionRequest,
    SetSessionConfigOptionResponse, SetSessionModeRequest, SetSessionModeResponse, StopReason,
};
use agent_client_protocol::v1::{ConnectionTo, Responder};
use agent_client_protocol::{on_receive_notification, on_receive_request};
use agent_client_protocol::{Agent, Client, ConnectTo, Error, ErrorCode};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

const MODES: [(&str, &str); 2] = [("default", "Default"), ("plan", "Plan")];
const MODEL_OPTION: &str = "model";
const MODELS: [(&str, &str); 2] = [
    ("scripted-fast", "Scripted fast"),
    ("scripted-smart", "Scripted smart"),
];

pub struct Scripted {
    script: Script,
    log: Arc<EventLog>,
    state: State,
    /// The running turn of each session, for `session/cancel`.
    running: Mutex<HashMap<String, CancellationToken>>,
    sessions_issued: AtomicU64,
    /// Responders of requests the script leaves unanswered, held so that none is answered.
    held: Mutex<Vec<Box<dyn std::any::Any + Send>>>,
}

/// Serves one client until its stdin closes.
pub async fn serve(
    agent: Arc<Scripted>,
    transport: impl ConnectTo<Agent> + 'static,
) -> Result<(), Error> {
    let agent = &agent;
    Agent
        .v1()
        .name("ff-scripted-agent")
        .on_receive_request(
            async |request: InitializeRequest, responder, _cx| agent.initialize(request, responder),
            on_receive_request!(),
        )
        .on_receive_request(
            async |request: NewSessionRequest, responder, _cx| {
                agent.new_session(request, responder)
            },
            on_receive_request!(),
        )
        .on_receive_request(
            async |request: LoadSessionRequest, responder, _cx| {
                agent.load_session(request, responder)
            },
            on_receive_request!(),
        )
        .on_receive_request(
            async |request: SetSessionModeRequest, responder, cx| {
                agent.set_mode(request, responder, &cx)
            },
            on_receive_request!(),
        )
        .on_receive_request(
            async |request: SetSessionConfigOptionRequest, responder, cx| {
                agent.set_config_option(request, responder, &cx)
            },
            on_receive_request!(),
        )
        .on_receive_request(
            async |request: PromptRequest, responder, cx| agent.prompt(request, responder, cx),
            on_receive_request!(),
        )
        .on_receive_notification(
            async |notification: CancelNotification, _cx| {
                agent.cancel(&notification);
                Ok(())
            },
            on_receive_notification!(),
        )
        .connect_to(transport)
        .await
}

impl Scripted {
    pub fn new(script: Script, log: EventLog, state: State) -> Self {
        Self {
            script,
            log: Arc::new(log),
            state,
            running: Mutex::default(),
            sessions_issued: AtomicU64::new(0),
            held: Mutex::default(),
        }
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// Whether the script says to leave `method` unanswered: then the request is logged and its
    /// responder kept forever (`hold`).
    fn leaves_unanswered(&self, method: &str) -> bool {
        let unanswered = self.script.unanswered.iter().any(|m| m == method);
        if unanswered {
            self.log.write("unanswered", json!({"method": method}));
        }
        unanswered
    }

    fn hold(&self, responder: impl std::any::Any + Send) {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(responder));
    }

    fn initialize(
        &self,
        request: InitializeRequest,
        responder: Responder<InitializeResponse>,
    ) -> Result<(), Error> {
        self.log.write(
            "initialize",
            json!({
                "protocolVersion": request.protocol_version,
                "clientCapabilities": request.client_capabilities,
            }),
        );
        responder.respond(
            InitializeResponse::new(ProtocolVersion::V1)
                .agent_capabilities(
                    AgentCapabilities::new()
                        .load_session(true)
                        .mcp_capabilities(McpCapabilities::new().http(self.script.mcp_http)),
                )
                .agent_info(Implementation::new(
                    "ff-scripted-agent",
                    env!("CARGO_PKG_VERSION"),
                )),
        )
    }

    fn new_session(
        &self,
        request: NewSessionRequest,
        responder: Responder<NewSessionResponse>,
    ) -> Result<(), Error> {
        if self.leaves_unanswered("session/new") {
            self.hold(responder);
            return Ok(());
        }
        let id = self.issue_session_id();
        let record = SessionRecord {
            cwd: request.cwd,
            mode: MODES[0].0.to_owned(),
            model: MODELS[0].0.to_owned(),
        };
        self.log.write(
            "session/new",
            json!({"sessionId": id, "cwd": record.cwd, "mcpServers": request.mcp_servers}),
        );
        self.state.put_session(&id, record.clone());
        responder.respond(
            NewSessionResponse::new(id)
                .modes(modes(&record.mode))
                .config_options(config_options(&record.model)),
        )
    }

    /// Ids unique across restarts without a counter on disk: the start time and pid tell
    /// processes apart.
    fn issue_session_id(&self) -> String {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        let n = self.sessions_issued.fetch_add(1, Ordering::Relaxed);
        format!("scripted-{millis}-{}-{n}", std::process::id())
    }

    /// Accepts a session this agent (or an earlier process with the same state dir) issued,
    /// and replays nothing.
    fn load_session(
        &self,
        request: LoadSessionRequest,
        responder: Responder<LoadSessionResponse>,
    ) -> Result<(), Error> {
        let id = request.session_id.to_string();
        let Some(mut record) = self.state.session(&id) else {
            self.log.write(
                "session/load",
                json!({"sessionId": id, "cwd": request.cwd, "error": "unknown session"}),
            );
            return responder.respond_with_error(unknown_session(&id));
        };
        self.log
            .write("session/load", json!({"sessionId": id, "cwd": request.cwd}));
        record.cwd = request.cwd;
        self.state.put_session(&id, record.clone());
        responder.respond(
            LoadSessionResponse::new()
                .modes(modes(&record.mode))
                .config_options(config_options(&record.model)),
        )
    }

    fn set_mode(
        &self,
        request: SetSessionModeRequest,
        responder: Responder<SetSessionModeResponse>,
        cx: &ConnectionTo<Client>,
    ) -> Result<(), Error> {
        if self.leaves_unanswered("session/set_mode") {
            self.hold(responder);
            return Ok(());
        }
        let id = request.session_id.to_string();
        let mode = request.mode_id.to_string();
        let Some(mut record) = self.state.session(&id) else {
            return responder.respond_with_error(unknown_session(&id));
        };
        if !MODES.iter().any(|(known, _)| *known == mode) {
            return responder
                .respond_with_error(Error::invalid_params().data(json!({"unknownMode": mode})));
        }
        self.log
            .write("session/set_mode", json!({"sessionId": id, "modeId": mode}));
        record.mode = mode;
        self.state.put_session(&id, record);
        cx.send_notification(SessionNotification::new(
            request.session_id,
            SessionUpdate::CurrentModeUpdate(CurrentModeUpdate::new(request.mode_id)),
        ))?;
        responder.respond(SetSessionModeResponse::new())
    }

    fn set_config_option(
        &self,
        request: SetSessionConfigOptionRequest,
        responder: Responder<SetSessionConfigOptionResponse>,
        cx: &ConnectionTo<Client>,
    ) -> Result<(), Error> {
        if self.leaves_unanswered("session/set_config_option") {
            self.hold(responder);
            return Ok(());
        }
        let id = request.session_id.to_string();
        let Some(mut record) = self.state.session(&id) else {
            return responder.respond_with_error(unknown_session(&id));
        };
        let model = request
            .value
            .as_value_id()
            .map(ToString::to_string)
            .filter(|value| &*request.config_id.0 == MODEL_OPTION && is_model(value));
        let Some(model) = model else {
            return responder.respond_with_error(Error::invalid_params().data(json!({
                "configId": request.config_id,
                "value": request.value,
            })));
        };
        self.log.write(
            "session/set_config_option",
            json!({"sessionId": id, "configId": MODEL_OPTION, "value": model}),
        );
        record.model = model;
        let options = config_options(&record.model);
        self.state.put_session(&id, record);
        cx.send_notification(SessionNotification::new(
            request.session_id,
            SessionUpdate::ConfigOptionUpdate(ConfigOptionUpdate::new(options.clone())),
        ))?;
        responder.respond(SetSessionConfigOptionResponse::new(options))
    }

    /// Starts the next script turn in a task of its own: a turn waits for the client's answers,
    /// which the dispatch loop must stay free to deliver.
    fn prompt(
        self: &Arc<Self>,
        request: PromptRequest,
        responder: Responder<PromptResponse>,
        cx: ConnectionTo<Client>,
    ) -> Result<(), Error> {
        let id = request.session_id.to_string();
        let text = prompt_text(&request.prompt);
        let Some(record) = self.state.session(&id) else {
            self.log.write(
                "session/prompt",
                json!({"sessionId": id, "text": text, "error": "unknown session"}),
            );
            return responder.respond_with_error(unknown_session(&id));
        };
        let cancel = CancellationToken::new();
        {
            let mut running = self.running();
            if running.contains_key(&id) {
                self.log.write(
                    "session/prompt",
                    json!({"sessionId": id, "text": text, "error": "turn in progress"}),
                );
                return responder.respond_with_error(Error::new(
                    ErrorCode::INTERNAL_ERROR,
                    "a turn is already in progress in this session",
                ));
            }
            running.insert(id.clone(), cancel.clone());
        }
        let index = self.state.take_turn();
        let scripted = self.script.turns.get(index).cloned();
        self.log.write(
            "session/prompt",
            json!({
                "sessionId": id,
                "turn": index,
                "scripted": scripted.is_some(),
                "text": text,
                "prompt": request.prompt,
            }),
        );
        let turn = scripted.unwrap_or_else(Turn::unscripted);
        eprintln!(
            "ff-scripted-agent: turn {index} in session {id}: {} steps",
            turn.steps.len()
        );
        let runner = TurnRunner::new(
            cx.clone(),
            request.session_id,
            record.cwd,
            Arc::clone(&self.log),
        );
        let agent = Arc::clone(self);
        cx.spawn(async move {
            let result = tokio::select! {
                biased;
                () = cancel.cancelled() => Ok(StopReason::Cancelled),
                result = runner.run(&turn) => result,
            };
            agent.running().remove(&id);
            agent.end_turn(&id, index, &result);
            responder.respond_with_result(result.map(PromptResponse::new))
        })
    }

    fn end_turn(&self, id: &str, index: usize, result: &Result<StopReason, Error>) {
        match result {
            Ok(reason) => {
                eprintln!("ff-scripted-agent: turn {index} ended: {reason:?}");
                self.log.write(
                    "turn/end",
                    json!({"sessionId": id, "turn": index, "stopReason": reason}),
                );
            }
            Err(e) => {
                eprintln!("ff-scripted-agent: turn {index} failed: {}", e.message);
                self.log.write(
                    "turn/end",
                    json!({"sessionId": id, "turn": index, "error": e}),
                );
            }
        }
    }

    fn cancel(&self, notification: &CancelNotification) {
        let id = notification.session_id.to_string();
        let running = self.running().get(&id).cloned();
        self.log.write(
            "session/cancel",
            json!({"sessionId": id, "turnRunning": running.is_some()}),
        );
        if let Some(turn) = running {
            turn.cancel();
        }
    }

    fn running(&self) -> MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn unknown_session(id: &str) -> Error {
    Error::invalid_params().data(json!({"unknownSession": id}))
}

fn is_model(value: &str) -> bool {
    MODELS.iter().any(|(known, _)| *known == value)
}

fn modes(current: &str) -> SessionModeState {
    SessionModeState::new(
        current.to_owned(),
        MODES
            .iter()
            .map(|(id, name)| SessionMode::new(*id, *name))
            .collect(),
    )
}

fn config_options(model: &str) -> Vec<SessionConfigOption> {
    vec![SessionConfigOption::select(
        MODEL_OPTION,
        "Model",
        model.to_owned(),
        MODELS
            .iter()
            .map(|(id, name)| SessionConfigSelectOption::new(*id, *name))
            .collect::<Vec<_>>(),
    )
    .category(SessionConfigOptionCategory::Model)]
}

/// The prompt's text blocks, one per line.
fn prompt_text(prompt: &[ContentBlock]) -> String {
    prompt
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text(text) => Some(text.text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
