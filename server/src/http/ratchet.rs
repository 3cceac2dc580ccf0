//! The ratchet of a workspace: its toggle, what it last decided and dispatched, and a check on
//! demand (ratchet.md §4).

use super::error::AppError;
use super::extract::{ApiJson, ApiPath};
use super::AppState;
use axum::extract::State;
use axum::Json;
use ff_core::api::RatchetToggle;
use ff_core::ids::WorkspaceId;
use ff_core::ratchet::RatchetView;

pub async fn view(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<Json<RatchetView>, AppError> {
    Ok(Json(state.ratchet.view(&id).await?))
}

pub async fn toggle(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(toggle): ApiJson<RatchetToggle>,
) -> Result<Json<RatchetToggle>, AppError> {
    let enabled = state.ratchet.set_enabled(&id, toggle.enabled).await?;
    Ok(Json(RatchetToggle { enabled }))
}

/// Runs a check now (or right after the one running) and answers with what it decided.
pub async fn check(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> Result<Json<RatchetView>, AppError> {
    state.ratchet.view(&id).await?;
    state.ratchet.check_now(&id).await;
    Ok(Json(state.ratchet.view(&id).await?))
}
