//! Errors as the API reports them: a status and `{"error": {"code", "message"}}` (api.md §1).

use axum::extract::OriginalUri;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ff_core::api::{ErrorBody, ErrorCode};

#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    body: ErrorBody,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = match code {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::UpstreamFailed => StatusCode::BAD_GATEWAY,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            body: ErrorBody::new(code, message),
        }
    }

    /// An unexpected failure: logged in full, reported without internals.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!("{context}: {error}");
        Self::new(
            ErrorCode::Internal,
            format!("{context}; see the server log"),
        )
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<crate::error::DomainError> for AppError {
    fn from(e: crate::error::DomainError) -> Self {
        use crate::error::DomainError as D;
        match e {
            D::BadRequest(message) => Self::new(ErrorCode::BadRequest, message),
            D::NotFound(message) => Self::new(ErrorCode::NotFound, message),
            D::Conflict(message) => Self::new(ErrorCode::Conflict, message),
            D::Invalid { message, .. } => Self::new(ErrorCode::ValidationFailed, message),
            D::TooManyRetries(message) => Self::new(ErrorCode::TooManyRequests, message),
            D::Upstream(message) => Self::new(ErrorCode::UpstreamFailed, message),
            D::Database(e) => Self::internal("a database operation failed", e),
            D::Internal(message) => {
                tracing::error!("{message}");
                Self::new(ErrorCode::Internal, message)
            }
        }
    }
}

/// Unknown paths under `/api` answer in the API's error format, not with an HTML page.
pub async fn api_not_found(OriginalUri(uri): OriginalUri) -> AppError {
    AppError::new(
        ErrorCode::NotFound,
        format!("no API route at {}", uri.path()),
    )
}

pub async fn api_method_not_allowed(
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
) -> AppError {
    AppError::new(
        ErrorCode::BadRequest,
        format!("{method} is not supported on {}", uri.path()),
    )
    .with_status(StatusCode::METHOD_NOT_ALLOWED)
}
