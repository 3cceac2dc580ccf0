//! HTTP bodies that the server writes and the browser app reads (api.md §1–§2).

use serde::{Deserialize, Serialize};

/// The body of `GET /healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// The machine-readable class of an error (api.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadRequest,
    ValidationFailed,
    NotFound,
    Conflict,
    Forbidden,
    PayloadTooLarge,
    TooManyRequests,
    Internal,
}

/// `{"error": {"code": "…", "message": "…"}}`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_specified_shape() {
        let body = ErrorBody::new(ErrorCode::ValidationFailed, "name must not be empty");
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"VALIDATION_FAILED","message":"name must not be empty"}}"#
        );
    }
}
