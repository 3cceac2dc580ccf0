//! Scheduled tasks of a project: list and create under the project, then read, change, delete,
//! run now and read the history of one task.

use super::error::AppError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ff_core::api::ErrorCode;
use ff_core::ids::{ProjectId, ScheduleId};
use ff_core::schedules::{Execution, NewSchedule, Schedule, SchedulePatch, EXECUTIONS_KEPT};
use serde::Deserialize;

/// Executions a history request returns when it names no limit.
const DEFAULT_HISTORY: u32 = 50;

pub async fn list(
    State(state): State<AppState>,
    ApiPath(project): ApiPath<ProjectId>,
) -> Result<Json<Vec<Schedule>>, AppError> {
    state.projects.get(&project).await?;
    Ok(Json(state.schedules.list(&project).await?))
}

pub async fn create(
    State(state): State<AppState>,
    ApiPath(project): ApiPath<ProjectId>,
    ApiJson(request): ApiJson<NewSchedule>,
) -> Result<(StatusCode, Json<Schedule>), AppError> {
    let created = state.save_schedule.create(&project, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ScheduleId>,
) -> Result<Json<Schedule>, AppError> {
    Ok(Json(state.schedules.get(&id).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiJson(patch): ApiJson<SchedulePatch>,
) -> Result<Json<Schedule>, AppError> {
    Ok(Json(state.save_schedule.update(&id, patch).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ScheduleId>,
) -> Result<StatusCode, AppError> {
    state.schedules.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a run now; 409 with the reason while the previous run's workspace is still working.
pub async fn run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ScheduleId>,
) -> Result<(StatusCode, Json<Execution>), AppError> {
    let execution = state.scheduled_runs.run_now(&id).await?;
    Ok((StatusCode::CREATED, Json(execution)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    limit: Option<u32>,
}

pub async fn executions(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ScheduleId>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<Vec<Execution>>, AppError> {
    let kept = EXECUTIONS_KEPT as u32;
    let limit = query.limit.unwrap_or(DEFAULT_HISTORY);
    if !(1..=kept).contains(&limit) {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            format!("limit must be between 1 and {kept}"),
        ));
    }
    Ok(Json(state.schedules.executions(&id, limit).await?))
}
