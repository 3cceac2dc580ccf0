use super::error::AppError;
use super::extract::{ApiJson, ApiPath};
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ff_core::api::{AddProject, PatchProject, Project};
use ff_core::ids::ProjectId;

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Project>>, AppError> {
    Ok(Json(state.projects.list().await?))
}

pub async fn add(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<AddProject>,
) -> Result<(StatusCode, Json<Project>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(state.projects.add(request).await?),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<Json<Project>, AppError> {
    Ok(Json(state.projects.get(&id).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ProjectId>,
    ApiJson(patch): ApiJson<PatchProject>,
) -> Result<Json<Project>, AppError> {
    Ok(Json(state.projects.patch(&id, patch).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ProjectId>,
) -> Result<StatusCode, AppError> {
    state.projects.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
