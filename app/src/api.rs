//! The browser's client for ff's HTTP API: JSON in, JSON or the server's error message out.

use ff_core::api::ErrorBody;
use serde::de::DeserializeOwned;

/// GETs `path` and decodes the JSON body; an error is a sentence fit to show the user.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let response = gloo_net::http::Request::get(path)
        .send()
        .await
        .map_err(|e| format!("the server could not be reached ({e})"))?;
    if response.ok() {
        return response
            .json()
            .await
            .map_err(|e| format!("the server sent an unexpected answer ({e})"));
    }
    let status = response.status();
    Err(match response.json::<ErrorBody>().await {
        Ok(body) => body.error.message,
        Err(_) => format!("the server answered HTTP {status}"),
    })
}
