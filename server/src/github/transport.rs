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
/// The longest wait a header may ask for: GitHub's budget resets every hour.
pub const MAX_STATED_WAIT: Duration = Duration::from_secs(3600);
/// An error answer is read this far, for its message.
const ERROR_BODY_MAX_BYTES: usize = 64 * 1024;

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
    /// answer said when the limit resets (at most [`MAX_STATED_WAIT`] away). `secondary`: a
    /// secondary (abuse) limit, which the hourly budget's reset says nothing about.
    #[error("GitHub's rate limit is exhausted ({detail})")]
    RateLimited {
        until: Option<Timestamp>,
        secondary: bool,
        detail: String,
    },
    /// 5xx or a connection that broke: worth retrying later.
    #[error("GitHub failed: {0}")]
    Server(String),
    #[error("GitHub did not answer within {0} s")]
    Timeout(u64),
    #[error("GitHub sent an answer that is not GraphQL JSON: {0}")]
    Malformed(String),
    /// More than the answer limit: refused before it was read whole.
    #[error("GitHub's answer is larger than {0} bytes; ff refused it")]
    TooLarge(usize),
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

    /// One request; an answer longer than `max_bytes` is refused as it streams in.
    pub async fn graphql(
        &self,
        url: &str,
        token: &str,
        (timeout, max_bytes): (Duration, usize),
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
        if !status.is_success() {
            let body = read_limited(response, ERROR_BODY_MAX_BYTES, timeout).await;
            let text = String::from_utf8_lossy(body.as_deref().unwrap_or_default()).into_owned();
            return Err(failure_of(status, &headers, &text));
        }
        let body = read_limited(response, max_bytes, timeout).await?;
        let text = String::from_utf8_lossy(&body);
        let envelope: Envelope =
            serde_json::from_str(&text).map_err(|e| Failure::Malformed(e.to_string()))?;
        if let Some(limited) = envelope.errors.iter().find(|e| e.is_rate_limited()) {
            return Err(Failure::RateLimited {
                until: rate_limit_end(&headers),
                secondary: false,
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
            let body = read_limited(response, ERROR_BODY_MAX_BYTES, timeout).await;
            let text = String::from_utf8_lossy(body.as_deref().unwrap_or_default()).into_owned();
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

/// The whole body, or `TooLarge` as soon as it passes `max_bytes` (by its length header, or
/// as it streams in).
async fn read_limited(
    mut response: reqwest::Response,
    max_bytes: usize,
    timeout: Duration,
) -> Result<Vec<u8>, Failure> {
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(Failure::TooLarge(max_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, timeout))? {
        if body.len() + chunk.len() > max_bytes {
            return Err(Failure::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// GitHub's words for a secondary rate limit (older answers said "abuse detection").
fn is_secondary_limit(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("secondary rate limit") || message.contains("abuse")
}

/// Sorts an answer that is not a success into what the budget does about it.
fn failure_of(status: reqwest::StatusCode, headers: &HeaderMap, text: &str) -> Failure {
    let limited = status == reqwest::StatusCode::FORBIDDEN
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
    let until = rate_limit_end(headers);
    let message = message_of(status, text);
    let secondary = is_secondary_limit(&message);
    if status == reqwest::StatusCode::UNAUTHORIZED {
        Failure::Unauthorized(message)
    } else if limited
        && (until.is_some() || secondary || status == reqwest::StatusCode::TOO_MANY_REQUESTS)
    {
        Failure::RateLimited {
            until,
            secondary: secondary || until.is_none(),
            detail: message,
        }
    } else if status.is_server_error() {
        Failure::Server(message)
    } else {
        Failure::Refused(message)
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

/// `now + wait`, never past [`MAX_STATED_WAIT`] from now, whatever a header said.
fn clamped(now: Timestamp, wait: Duration) -> Timestamp {
    let wait = wait.min(MAX_STATED_WAIT);
    let millis = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_millis(now.millis().saturating_add(millis)).unwrap_or(now)
}

/// `retry-after` (seconds), or `x-ratelimit-remaining: 0` with `x-ratelimit-reset` (epoch
/// seconds), clamped to at most [`MAX_STATED_WAIT`] from now: a header is a peer's say, and
/// no say may stop ff for good.
fn rate_limit_end(headers: &HeaderMap) -> Option<Timestamp> {
    rate_limit_end_at(headers, clock::now())
}

fn rate_limit_end_at(headers: &HeaderMap, now: Timestamp) -> Option<Timestamp> {
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    if let Some(seconds) = number("retry-after") {
        return Some(clamped(now, Duration::from_secs(seconds)));
    }
    if number("x-ratelimit-remaining") == Some(0) {
        let reset_ms = number("x-ratelimit-reset")?.saturating_mul(1000);
        let wait = reset_ms.saturating_sub(now.millis().max(0).unsigned_abs());
        return Some(clamped(now, Duration::from_millis(wait)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn every_wait_a_header_asks_for_is_clamped() {
        let now = Timestamp::from_millis(1_800_000_000_000).unwrap();
        let hour = 3_600_000;
        type Headers<'a> = &'a [(&'static str, &'a str)];
        let cases: &[(Headers, Option<i64>)] = &[
            (&[("retry-after", "30")], Some(30_000)),
            (&[("retry-after", "99999999999999999")], Some(hour)),
            (&[("retry-after", "18446744073709551615")], Some(hour)),
            (&[("retry-after", "-5")], None),
            (&[("retry-after", "soon")], None),
            (
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1800000060"),
                ],
                Some(60_000),
            ),
            (
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "99999999999999999"),
                ],
                Some(hour),
            ),
            (
                &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1")],
                Some(0),
            ),
            (
                &[
                    ("x-ratelimit-remaining", "5"),
                    ("x-ratelimit-reset", "1800000060"),
                ],
                None,
            ),
        ];
        for (pairs, wait) in cases {
            let end = rate_limit_end_at(&headers(pairs), now);
            assert_eq!(end.map(|e| e.millis() - now.millis()), *wait, "{pairs:?}");
        }
    }

    #[test]
    fn a_secondary_limit_is_a_rate_limit_even_without_its_headers() {
        let forbidden = reqwest::StatusCode::FORBIDDEN;
        let said = r#"{"message": "You have exceeded a secondary rate limit. Please wait."}"#;
        let failure = failure_of(forbidden, &HeaderMap::new(), said);
        assert!(
            matches!(
                failure,
                Failure::RateLimited {
                    until: None,
                    secondary: true,
                    ..
                }
            ),
            "{failure:?}"
        );
        let plain = failure_of(
            forbidden,
            &HeaderMap::new(),
            r#"{"message": "Resource not accessible"}"#,
        );
        assert!(matches!(plain, Failure::Refused(_)), "{plain:?}");
        let stated = failure_of(forbidden, &headers(&[("retry-after", "7")]), "{}");
        assert!(
            matches!(
                stated,
                Failure::RateLimited {
                    until: Some(_),
                    secondary: false,
                    ..
                }
            ),
            "{stated:?}"
        );
    }
}
