//! The token on every route but the static assets and `/healthz` (trust issue §1, api.md §1):
//! `Authorization: Bearer <token>` for programs, and for browsers a cookie that the login URL
//! (`/?token=…`) sets before redirecting to the same address without the token.

use super::error::AppError;
use crate::auth::agents::AgentGrants;
use crate::auth::Access;
use axum::extract::{Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use ff_core::api::ErrorCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// How long a browser stays logged in, unless the token is rotated first.
const COOKIE_MAX_AGE: cookie::time::Duration = cookie::time::Duration::days(30);

/// The token check, with the name of ff's cookie.
#[derive(Clone)]
pub struct Gate {
    pub access: Access,
    /// `ff_token_<port>`: two ff servers on one machine keep apart, as Jupyter's cookies do.
    pub cookie: Arc<str>,
}

impl Gate {
    pub fn new(access: Access, port: u16) -> Self {
        Self {
            access,
            cookie: Arc::from(format!("ff_token_{port}")),
        }
    }
}

/// What a request was let in with: live sockets end when it is revoked (a token rotation).
#[derive(Clone)]
pub struct Admitted(pub CancellationToken);

/// Paths that reveal nothing and must load before a person has logged in.
pub fn is_public(path: &str) -> bool {
    path == "/healthz" || path.starts_with("/pkg/")
}

pub async fn authenticated(
    State(gate): State<Gate>,
    State(grants): State<AgentGrants>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
    // ff's MCP server takes only an agent's credential, even with --no-auth: it names the
    // session and workspace the agent acts as. The user's token is no use there, nor a
    // credential anywhere else.
    if request.uri().path() == super::mcp::PATH {
        return match bearer(request.headers()).and_then(|p| grants.admit(&p)) {
            Some(grantee) => {
                request.extensions_mut().insert(grantee);
                next.run(request).await
            }
            None => refuse(
                &request,
                "/mcp takes the credential ff gave an agent session when it started it (it ends with the session)",
            ),
        };
    }
    if gate.access.is_disabled() {
        request
            .extensions_mut()
            .insert(Admitted(Access::unrevocable()));
        return next.run(request).await;
    }
    let navigation = matches!(*request.method(), Method::GET | Method::HEAD);
    if navigation {
        if let Some(presented) = query_token(request.uri()) {
            return match gate.access.admit(&presented) {
                Some(_) => log_in(&gate, &request, &presented),
                None => refuse(
                    &request,
                    "the token in this address is not ff's token (it may have been rotated)",
                ),
            };
        }
    }
    let headers = request.headers();
    let presented = bearer(headers).or_else(|| cookie(headers, &gate.cookie));
    match presented.as_deref().and_then(|p| gate.access.admit(p)) {
        Some(revoked) => {
            request.extensions_mut().insert(Admitted(revoked));
            next.run(request).await
        }
        None if presented.is_some() => refuse(
            &request,
            "the token this request carries is not ff's token (it may have been rotated)",
        ),
        None => refuse(
            &request,
            "this request carries no token: send `Authorization: Bearer <token>`, or open the URL ff printed",
        ),
    }
}

/// The token from `?token=`, if the address has one.
fn query_token(uri: &Uri) -> Option<String> {
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Sets the cookie and sends the browser to the same address without the token, so that it
/// leaves neither the address bar nor the history.
fn log_in(gate: &Gate, request: &Request, token: &str) -> Response {
    let cookie = Cookie::build((gate.cookie.to_string(), token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(over_tls(request))
        .max_age(COOKIE_MAX_AGE)
        .build();
    let uri = request.uri();
    let rest: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .filter(|(key, _)| key != "token"),
        )
        .finish();
    let location = if rest.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{rest}", uri.path())
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    let values = [
        (LOCATION, HeaderValue::from_str(&location)),
        (SET_COOKIE, HeaderValue::from_str(&cookie.to_string())),
    ];
    for (name, value) in values {
        match value {
            Ok(value) => {
                headers.insert(name, value);
            }
            Err(e) => {
                return AppError::internal("cannot build the login redirect", e).into_response()
            }
        }
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the browser reached ff over TLS (through a reverse proxy that says so).
fn over_tls(request: &Request) -> bool {
    let headers = request.headers();
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get("forwarded")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split([';', ','])
                .any(|part| part.trim().eq_ignore_ascii_case("proto=https"))
        });
    request.uri().scheme_str() == Some("https") || forwarded_proto || forwarded
}

/// 401: the API's error for programs and sockets, a small page for a person's browser.
fn refuse(request: &Request, why: &str) -> Response {
    let path = request.uri().path();
    let program = path.starts_with("/api/")
        || path == super::mcp::PATH
        || path.starts_with("/ws/")
        || path == "/metrics"
        || !matches!(*request.method(), Method::GET | Method::HEAD);
    let mut response = if program {
        AppError::new(ErrorCode::Unauthorized, why).into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            login_page(why),
        )
            .into_response()
    };
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"ff\""),
    );
    response
}

/// Server-rendered, no script: it must work before anything else has loaded.
fn login_page(why: &str) -> String {
    let why = why
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>ff: log in</title>
<link rel="icon" type="image/svg+xml" href="/pkg/favicon.svg">
<link rel="stylesheet" href="/pkg/ff.css">
</head>
<body>
<main class="login" data-testid="login">
<h1>Log in to ff</h1>
<p>Open the URL ff printed when it started: it ends with <code>?token=…</code>. To see it again, with a QR code for a phone, run <code>ff token</code> on the machine ff runs on.</p>
<form method="get" class="login-form">
<label for="token">Or paste the token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required minlength="16">
<button type="submit">Log in</button>
</form>
<p class="login-why">{why}</p>
</main>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_cookie_are_read_exactly() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer(&headers).as_deref(), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer  abc "));
        assert_eq!(bearer(&headers).as_deref(), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(
            COOKIE,
            HeaderValue::from_static("ff_token_7701=other; ff_token_7700=mine"),
        );
        assert_eq!(cookie(&headers, "ff_token_7700").as_deref(), Some("mine"));
        assert_eq!(cookie(&headers, "ff_token_7702"), None);
    }

    #[test]
    fn only_assets_and_health_are_public() {
        for (path, public) in [
            ("/healthz", true),
            ("/pkg/ff.js", true),
            ("/pkg", false),
            ("/healthz/x", false),
            ("/metrics", false),
            ("/", false),
            ("/api/projects", false),
            ("/ws/snapshots", false),
        ] {
            assert_eq!(is_public(path), public, "{path}");
        }
    }

    #[test]
    fn the_login_page_escapes_its_reason() {
        let page = login_page("<script>x</script>");
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
    }
}
