use super::error::AppError;
use super::extract::{ApiBody, ApiJson, ApiPath, ApiQuery};
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ff_core::api::{ArchiveRequest, ErrorCode, RunScriptInfo, Workspace, WorkspaceDetail};
use ff_core::create::CreateWorkspaceRequest;
use ff_core::editor::OpenRequest;
use ff_core::ids::{ProjectId, WorkspaceId};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    archived: bool,
}

pub async fn list(
    State(state): State<AppState>,
    ApiPath(project): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<Workspace>>, AppError> {
    Ok(Json(state.workspaces.list(&project, query.archived).await?))
}

pub async fn create(
    State(state): State<AppState>,
    ApiPath(project): ApiPath<ProjectId>,
    ApiJson(request): ApiJson<CreateWorkspaceRequest>,
) -> Result<(StatusCode, Json<Workspace>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(state.workspaces.create(&project, request).await?),
    ))
}

pub async fn detail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<Json<WorkspaceDetail>, AppError> {
    Ok(Json(state.workspaces.detail(&id).await?))
}

/// The body is optional (`{"children": "archive" | "detach"}`): a workspace with live children
/// needs it.
pub async fn archive(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiBody(body): ApiBody,
) -> Result<StatusCode, AppError> {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        ArchiveRequest::default()
    } else {
        ff_core::json::from_object_slice(&body).map_err(|e| {
            AppError::new(
                ErrorCode::BadRequest,
                format!("invalid JSON body (children is \"archive\" or \"detach\"): {e}"),
            )
        })?
    };
    state
        .workspaces
        .archive_with_children(&id, request.children)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn retry(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<StatusCode, AppError> {
    state.workspaces.retry(&id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The body is optional: none opens the worktree itself.
pub async fn open_in_editor(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiBody(body): ApiBody,
) -> Result<StatusCode, AppError> {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        OpenRequest::default()
    } else {
        ff_core::json::from_object_slice(&body)
            .map_err(|e| AppError::new(ErrorCode::BadRequest, format!("invalid JSON body: {e}")))?
    };
    state.open_in_editor.open(&id, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn run_script(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<Json<RunScriptInfo>, AppError> {
    Ok(Json(state.run_scripts.status(&id).await?))
}

pub async fn start_run_script(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<(StatusCode, Json<RunScriptInfo>), AppError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(state.run_scripts.start(&id).await?),
    ))
}

/// Stopping waits for a cleanup command and a grace period, so it continues in the background.
pub async fn stop_run_script(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<StatusCode, AppError> {
    state.run_scripts.status(&id).await?;
    let run_scripts = state.run_scripts.clone();
    tokio::spawn(async move {
        if let Err(e) = run_scripts.stop(&id).await {
            tracing::error!(workspace = %id, "cannot stop the run script: {e}");
        }
    });
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    tail: Option<usize>,
}

pub async fn run_script_logs(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiQuery(query): ApiQuery<LogsQuery>,
) -> Result<String, AppError> {
    Ok(state.run_scripts.logs(&id, query.tail).await?)
}
