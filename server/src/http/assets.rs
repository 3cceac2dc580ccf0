//! The browser assets (wasm module, its JS glue, the stylesheet), embedded in the binary so that
//! `ff serve` works from any directory with nothing beside it.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "$FF_SITE_PKG"]
#[allow_missing = true]
struct SiteAssets;

/// Whether the build embedded the hydration module.
pub fn present() -> bool {
    SiteAssets::get("ff.js").is_some() && SiteAssets::get("ff_bg.wasm").is_some()
}

pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = SiteAssets::get(&file) else {
        return (StatusCode::NOT_FOUND, format!("no asset named {file}")).into_response();
    };
    // File names carry no hash, so browsers revalidate; the ETag keeps that to a 304.
    let etag = format!("\"{}\"", hex(&asset.metadata.sha256_hash()[..16]));
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let mime = HeaderValue::from_str(asset.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = (cache, asset.data).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, mime);
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
