//! GitHub routes (github.md §4): a workspace's PR (read, refresh, attach, create), a project's
//! open issues, and how ff stands with each host.

use super::error::AppError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::AppState;
use crate::github::Assignee;
use axum::extract::State;
use axum::Json;
use ff_core::github::{AttachPr, CreatePr, HostStatus, IssueSummary, PrView};
use ff_core::ids::{ProjectId, WorkspaceId};
use serde::Deserialize;

pub async fn status(State(state): State<AppState>) -> Result<Json<Vec<HostStatus>>, AppError> {
    Ok(Json(state.github.status().await?))
}

/// "Try again": the host's token is looked for afresh and tried once, refused or paused.
pub async fn retry(
    State(state): State<AppState>,
    ApiPath(host): ApiPath<String>,
) -> Result<Json<HostStatus>, AppError> {
    Ok(Json(state.github.retry(&host).await?))
}

pub async fn pr(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<Json<PrView>, AppError> {
    Ok(Json(state.github.pr_view(&id).await?))
}

pub async fn attach(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<AttachPr>,
) -> Result<Json<PrView>, AppError> {
    Ok(Json(state.github.attach(&id, &body.url).await?))
}

pub async fn refresh(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<Json<PrView>, AppError> {
    Ok(Json(state.github.refresh(&id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<CreatePr>,
) -> Result<Json<PrView>, AppError> {
    Ok(Json(state.github.create_pr(&id, body).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuesQuery {
    #[serde(default = "any")]
    assignee: Assignee,
    q: Option<String>,
}

fn any() -> Assignee {
    Assignee::Any
}

pub async fn issues(
    State(state): State<AppState>,
    ApiPath(project): ApiPath<ProjectId>,
    ApiQuery(query): ApiQuery<IssuesQuery>,
) -> Result<Json<Vec<IssueSummary>>, AppError> {
    Ok(Json(
        state
            .github
            .issues(&project, query.assignee, query.q.as_deref())
            .await?,
    ))
}
