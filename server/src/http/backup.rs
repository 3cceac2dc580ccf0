use super::error::AppError;
use super::extract::ApiBody;
use super::AppState;
use crate::flows::backup::format::Document;
use axum::extract::State;
use axum::Json;
use ff_core::api::ImportCounts;

pub async fn export(State(state): State<AppState>) -> Result<Json<Document>, AppError> {
    Ok(Json(state.backup.export().await?))
}

/// The body is parsed by the backup module itself: it knows every schema version.
pub async fn import(
    State(state): State<AppState>,
    ApiBody(body): ApiBody,
) -> Result<Json<ImportCounts>, AppError> {
    Ok(Json(state.backup.import(&body).await?))
}
