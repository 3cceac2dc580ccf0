use super::error::AppError;
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ff_core::api::Health;

/// Liveness including the database, so a monitor notices a broken data directory.
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    crate::db::ping(&state.db).await.map_err(|e| {
        AppError::internal("the database is unavailable", e)
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
    })?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}
