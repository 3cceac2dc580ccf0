//! One GraphQL request over HTTPS (reqwest with rustls): the required headers, a timeout, and
//! every way it can fail sorted into what the budget does about it (github.md §1, G1).

use crate::clock;
use ff_core::github::{GraphqlError, RateLimit};
use ff_core::ids::Timestamp;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, USER_AGENT};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::Duration;

const API_VERSION: &str = "2022-11-28";

#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
}

/// A GraphQL answer that arrived whole: its data (each alias, `null` where it failed), the
/// errors, and the budget it reported.
#[derive(Debug)]
pub struct Answer {
    pub data: Map<String, Value>,
    pub errors: Vec<GraphqlError>,
    pub rate: Option<RateLimit>,
}

impl Answer {
    /// The first error for the top-level key `alias`, if that alias failed.
    pub fn error_for(&self, alias: &str) -> Option<&GraphqlError> {
        self.errors.iter().find(|e| e.alias() == Some(alias))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// 401: the token is wrong or revoked.
    #[error("GitHub rejected the token ({0})")]
    Unauthorized(String),
    /// 403/429 with a rate-limit signal, or a `RATE_LIMITED` GraphQL error; `until` when the
    /// answer said when the limit resets.
    #[error("GitHub's rate limit is exhausted ({detail})")]
    RateLimited {
        until: Option<Timestamp>,
        detail: String,
    },
    /// 5xx or a connection that broke: worth retrying later.
    #[error("GitHub failed: {0}")]
    Server(String),
    #[error("GitHub did not answer within {0} s")]
    Timeout(u64),
    #[error("GitHub sent an answer that is not GraphQL JSON: {0}")]
    Malformed(String),
    /// Another 4xx, or a request-level GraphQL error: retrying the same will not help.
    #[error("GitHub refused the request: {0}")]
    Refused(String),
}

#[derive(Deserialize)]
struct Envelope {
    data: Option<Map<String, Value>>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

impl Transport {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .user_agent(concat!("ff/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a TLS client with the system's roots");
        Self { client }
    }

    pub async fn graphql(
        &self,
        url: &str,
        token: &str,
        timeout: Duration,
        query: &str,
        variables: &Value,
    ) -> Result<Answer, Failure> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let sent = self
            .client
            .post(url)
            .timeout(timeout)
            .header(USER_AGENT, concat!("ff/", env!("CARGO_PKG_VERSION")))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .json(&body)
            .send()
            .await;
        let response = sent.map_err(|e| classify(e, timeout))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| classify(e, timeout))?;
        if !status.is_success() {
            return Err(failure_of(status, &headers, &text));
        }
        let envelope: Envelope =
            serde_json::from_str(&text).map_err(|e| Failure::Malformed(e.to_string()))?;
        if let Some(limited) = envelope.errors.iter().find(|e| e.is_rate_limited()) {
            return Err(Failure::RateLimited {
                until: rate_limit_end(&headers),
                detail: limited.message.clone(),
            });
        }
        let data = envelope.data.unwrap_or_default();
        let rate = match data.get("rateLimit") {
            Some(value) if !value.is_null() => Some(
                serde_json::from_value(value.clone())
                    .map_err(|e| Failure::Malformed(format!("rateLimit: {e}")))?,
            ),
            _ => None,
        };
        let answer = Answer {
            data,
            errors: envelope.errors,
            rate,
        };
        if answer.data.is_empty() {
            if let Some(error) = answer.errors.first() {
                return Err(Failure::Refused(error.message.clone()));
            }
        }
        Ok(answer)
    }

    /// The end of a plain-text document (a job log), at most `keep` bytes of it, read as it
    /// streams so that a log of any size costs `keep` of memory. The REST answer is a redirect,
    /// followed without the token when it leads to another host (reqwest drops `Authorization`
    /// there).
    pub async fn text_tail(
        &self,
        url: &str,
        token: &str,
        timeout: Duration,
        keep: usize,
    ) -> Result<String, Failure> {
        let sent = self
            .client
            .get(url)
            .timeout(timeout)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .send()
            .await;
        let mut response = sent.map_err(|e| classify(e, timeout))?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let text = response.text().await.map_err(|e| classify(e, timeout))?;
            return Err(failure_of(status, &headers, &text));
        }
        let mut tail: std::collections::VecDeque<u8> = std::collections::VecDeque::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, timeout))? {
            tail.extend(chunk.iter());
            let over = tail.len().saturating_sub(keep);
            tail.drain(..over);
        }
        Ok(String::from_utf8_lossy(tail.make_contiguous()).into_owned())
    }
}

/// Sorts an answer that is not a success into what the budget does about it.
fn failure_of(status: reqwest::StatusCode, headers: &HeaderMap, text: &str) -> Failure {
    let limited = status == reqwest::StatusCode::FORBIDDEN
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
    let until = rate_limit_end(headers);
    if status == reqwest::StatusCode::UNAUTHORIZED {
        Failure::Unauthorized(message_of(status, text))
    } else if limited && (until.is_some() || status == reqwest::StatusCode::TOO_MANY_REQUESTS) {
        Failure::RateLimited {
            until,
            detail: message_of(status, text),
        }
    } else if status.is_server_error() {
        Failure::Server(message_of(status, text))
    } else {
        Failure::Refused(message_of(status, text))
    }
}

fn classify(error: reqwest::Error, timeout: Duration) -> Failure {
    if error.is_timeout() {
        Failure::Timeout(timeout.as_secs())
    } else if error.is_decode() || error.is_body() {
        Failure::Malformed(error.to_string())
    } else {
        Failure::Server(format!("cannot reach GitHub: {error}"))
    }
}

fn later(after: Duration) -> Timestamp {
    let now = clock::now();
    Timestamp::from_millis(now.millis() + i64::try_from(after.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(now)
}

/// `retry-after` (seconds), or `x-ratelimit-remaining: 0` with `x-ratelimit-reset` (epoch
/// seconds).
fn rate_limit_end(headers: &HeaderMap) -> Option<Timestamp> {
    let number =
        |name: &str| -> Option<i64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    if let Some(seconds) = number("retry-after") {
        return Some(later(Duration::from_secs(seconds.max(0).unsigned_abs())));
    }
    if number("x-ratelimit-remaining") == Some(0) {
        return Timestamp::from_millis(number("x-ratelimit-reset")?.saturating_mul(1000));
    }
    None
}

/// GitHub's `message` when the body has one, else the status; never the whole body (it may be
/// an HTML page).
fn message_of(status: reqwest::StatusCode, text: &str) -> String {
    let message = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned));
    match message {
        Some(message) => format!("HTTP {}: {}", status.as_u16(), shorten(&message)),
        None => format!("HTTP {}", status.as_u16()),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
