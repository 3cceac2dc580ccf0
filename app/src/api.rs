//! The browser's client for ff's HTTP API: JSON in, JSON or the server's error message out.

use ff_core::api::ErrorBody;
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// GETs `path` and decodes the JSON body; an error is a sentence fit to show the user.
pub async fn get_json<T: DeserializeOwned>(path: String) -> Result<T, String> {
    decode(send(Request::get(&path).build()).await?).await
}

/// GETs `path` as text (run-script logs).
pub async fn get_text(path: String) -> Result<String, String> {
    let response = send(Request::get(&path).build()).await?;
    if !response.ok() {
        return Err(error_of(response).await);
    }
    response
        .text()
        .await
        .map_err(|e| format!("the server sent an unexpected answer ({e})"))
}

/// A command without a body (archive, retry, run-script start or stop).
pub async fn post(path: String) -> Result<(), String> {
    let response = send(Request::post(&path).build()).await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// A command with a JSON body whose answer carries nothing (archive, with what becomes of the
/// workspace's children).
pub async fn post_json<B: Serialize>(path: String, body: &B) -> Result<(), String> {
    let response = send(Request::post(&path).json(body)).await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// A command without a body whose method is DELETE (a session, a queued message, a review
/// comment).
pub async fn delete(path: String) -> Result<(), String> {
    decode(send(Request::delete(&path).build()).await?).await
}

/// POSTs, PUTs or PATCHes `body` as JSON and decodes the answer (`()` for 204 No Content).
pub async fn send_json<B: Serialize, T: DeserializeOwned>(
    method: &str,
    path: String,
    body: &B,
) -> Result<T, String> {
    let builder = match method {
        "PUT" => Request::put(&path),
        "PATCH" => Request::patch(&path),
        _ => Request::post(&path),
    };
    decode(send(builder.json(body)).await?).await
}

async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, String> {
    let response = request
        .map_err(|e| format!("cannot build the request ({e})"))?
        .send()
        .await
        .map_err(|e| format!("the server could not be reached ({e})"))?;
    if response.status() == 401 {
        logged_out();
        return Err("you are no longer logged in to ff: open the URL `ff token` prints".to_owned());
    }
    Ok(response)
}

/// The login cookie stopped working (the token was rotated, or the cookie expired): reloading
/// shows the server's login page, which says how to log in again.
pub fn logged_out() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, String> {
    let unexpected = |e: String| format!("the server sent an unexpected answer ({e})");
    if response.status() == 204 {
        // No body: what `()` (and only `()`) is made of.
        return serde_json::from_str("null").map_err(|e| unexpected(e.to_string()));
    }
    if response.ok() {
        return response.json().await.map_err(|e| unexpected(e.to_string()));
    }
    Err(error_of(response).await)
}

async fn error_of(response: Response) -> String {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => body.error.message,
        Err(_) => format!("the server answered HTTP {status}"),
    }
}
