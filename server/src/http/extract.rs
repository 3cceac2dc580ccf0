//! Extractors whose rejections speak the API's error format (never axum's plain-text 4xx).

use super::error::AppError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use ff_core::api::ErrorCode;
use serde::de::DeserializeOwned;

/// A JSON object body, decoded strictly: unknown fields, wrong types and non-object documents
/// are `BAD_REQUEST`; a body over the route's limit is `PAYLOAD_TOO_LARGE`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(AppError::new(
                ErrorCode::BadRequest,
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        let ApiBody(bytes) = ApiBody::from_request(request, state).await?;
        ff_core::json::from_object_slice(&bytes)
            .map(Self)
            .map_err(|e| AppError::new(ErrorCode::BadRequest, format!("invalid JSON body: {e}")))
    }
}

/// The raw body, within the route's size limit.
pub struct ApiBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
                } else {
                    AppError::new(
                        ErrorCode::BadRequest,
                        format!("cannot read the request body: {rejection}"),
                    )
                }
            })
    }
}

/// Query parameters, with `BAD_REQUEST` naming the offending parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| AppError::new(ErrorCode::BadRequest, e.body_text()))
    }
}

/// Path parameters, with `BAD_REQUEST` instead of axum's plain-text rejection (a path segment
/// that is not valid percent-encoded UTF-8, such as `%FF`, must still get the API's format).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| AppError::new(ErrorCode::BadRequest, e.body_text()))
    }
}
