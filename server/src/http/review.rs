//! Reviewing a workspace over HTTP (review.md): its diff, and line comments sent to its agent.

use super::error::AppError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ff_core::ids::{CommentId, WorkspaceId};
use ff_core::review::comments::{CommentUpdate, NewComment, ReviewComment, SentReview};
use ff_core::review::diff::{DiffList, FileDiff};
use serde::Deserialize;

pub async fn diff(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
) -> Result<Json<DiffList>, AppError> {
    Ok(Json(state.review.diff(&workspace).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    path: String,
}

pub async fn diff_file(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
    ApiQuery(query): ApiQuery<FileQuery>,
) -> Result<Json<FileDiff>, AppError> {
    Ok(Json(state.review.diff_file(&workspace, &query.path).await?))
}

pub async fn comments(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
) -> Result<Json<Vec<ReviewComment>>, AppError> {
    Ok(Json(state.review.comments(&workspace).await?))
}

pub async fn add_comment(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
    ApiJson(comment): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<ReviewComment>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(state.review.add_comment(&workspace, comment).await?),
    ))
}

pub async fn update_comment(
    State(state): State<AppState>,
    ApiPath((workspace, comment)): ApiPath<(WorkspaceId, CommentId)>,
    ApiJson(update): ApiJson<CommentUpdate>,
) -> Result<Json<ReviewComment>, AppError> {
    Ok(Json(
        state
            .review
            .update_comment(&workspace, &comment, update)
            .await?,
    ))
}

pub async fn delete_comment(
    State(state): State<AppState>,
    ApiPath((workspace, comment)): ApiPath<(WorkspaceId, CommentId)>,
) -> Result<StatusCode, AppError> {
    state.review.delete_comment(&workspace, &comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn send(
    State(state): State<AppState>,
    ApiPath(workspace): ApiPath<WorkspaceId>,
) -> Result<Json<SentReview>, AppError> {
    Ok(Json(state.send_review.send(&workspace).await?))
}
