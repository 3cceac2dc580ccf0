//! Agent sessions over HTTP and their live socket (sessions.md §6), agents and settings.

use super::auth::Admitted;
use super::error::AppError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::socket;
use super::AppState;
use crate::sessions::Attachment;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use ff_core::ids::{MessageId, SessionId, WorkspaceId};
use ff_core::sessions::{
    AgentInfo, CreateSession, MessageAccepted, PermissionAnswer, SendMessage, Session,
    SessionConfig, SettingsPatch, SettingsView,
};
use ff_core::transcript::Item;
use serde::Deserialize;

pub async fn list(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
) -> Result<Json<Vec<Session>>, AppError> {
    Ok(Json(state.sessions.list(&workspace).await?))
}

pub async fn create(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
    ApiJson(request): ApiJson<CreateSession>,
) -> Result<(StatusCode, Json<Session>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(state.sessions.create(&workspace, request).await?),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
) -> Result<Json<Session>, AppError> {
    Ok(Json(state.sessions.get(&id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
) -> Result<StatusCode, AppError> {
    state.sessions.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn start(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
) -> Result<StatusCode, AppError> {
    state.sessions.start(&id).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn stop(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
) -> Result<StatusCode, AppError> {
    state.sessions.stop(&id).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn cancel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
) -> Result<StatusCode, AppError> {
    state.sessions.cancel(&id).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn send(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
    ApiJson(message): ApiJson<SendMessage>,
) -> Result<(StatusCode, Json<MessageAccepted>), AppError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(state.sessions.send(&id, &message.text).await?),
    ))
}

pub async fn cancel_message(
    State(state): State<AppState>,
    ApiPath((id, message)): ApiPath<(SessionId, MessageId)>,
) -> Result<StatusCode, AppError> {
    state.sessions.cancel_message(&id, message).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn answer(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
    ApiJson(answer): ApiJson<PermissionAnswer>,
) -> Result<StatusCode, AppError> {
    state.sessions.answer(&id, answer).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn configure(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
    ApiJson(config): ApiJson<SessionConfig>,
) -> Result<Json<Session>, AppError> {
    state.sessions.configure(&id, config).await?;
    Ok(Json(state.sessions.get(&id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemsQuery {
    #[serde(default)]
    after: u64,
    /// Page backwards: the newest items below this one ("Load earlier").
    before: Option<u64>,
    limit: Option<u32>,
}

pub async fn items(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
    ApiQuery(query): ApiQuery<ItemsQuery>,
) -> Result<Json<Vec<Item>>, AppError> {
    let limit = query.limit.unwrap_or(crate::sessions::MAX_ITEMS_PAGE);
    Ok(Json(
        state
            .sessions
            .items(&id, query.after, query.before, limit)
            .await?,
    ))
}

pub async fn agents(State(state): State<AppState>) -> Result<Json<Vec<AgentInfo>>, AppError> {
    Ok(Json(state.sessions.agent_list().await?))
}

pub async fn settings(State(state): State<AppState>) -> Result<Json<SettingsView>, AppError> {
    Ok(Json(crate::settings::load(&state.db).await?.view()))
}

pub async fn patch_settings(
    State(state): State<AppState>,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> Result<Json<SettingsView>, AppError> {
    let next = crate::settings::patch(&state.db, patch, crate::clock::now()).await?;
    Ok(Json(next.view()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketQuery {
    since: Option<String>,
}

pub async fn socket(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<SessionId>,
    ApiQuery(query): ApiQuery<SocketQuery>,
    Extension(admitted): Extension<Admitted>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let since = socket::since(query.since.as_deref())?;
    let attachment = state.sessions.attach(&id, since).await?;
    let ends = socket::Ends::new(&state, admitted);
    Ok(socket::upgrade(upgrade)?.on_upgrade(move |ws| serve(ws, state, attachment, ends)))
}

async fn serve(ws: WebSocket, state: AppState, attachment: Attachment, ends: socket::Ends) {
    let mut last = attachment.last;
    let wanted = move |frame: &crate::sessions::Sent| {
        let new = frame.seq > last;
        if new {
            last = frame.seq;
        }
        new
    };
    let config = &state.snapshot.config;
    let limits = socket::Limits {
        queue: config.socket_queue,
        ping_interval: config.ping_interval,
        send_timeout: config.send_timeout,
    };
    let meters = socket::Meters {
        open: state.metrics.session_sockets.clone(),
        slow_closes: state.metrics.overflow_closes.clone(),
        sent: Box::new(|_| {}),
    };
    let ended = attachment.ended;
    socket::run(
        ws,
        attachment.initial,
        attachment.live,
        wanted,
        &limits,
        meters,
        ends,
        async move {
            let farewell = ended.await;
            (farewell.code, farewell.reason)
        },
    )
    .await;
}

impl socket::Outgoing for crate::sessions::Sent {
    fn text(&self) -> &str {
        &self.json
    }
}
