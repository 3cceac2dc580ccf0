//! Who may drive ff: requests from this machine (unless ff was deliberately bound beyond
//! loopback), and browser pages from ff itself or an explicitly allowed origin.

use super::error::AppError;
use crate::config::Origin;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use ff_core::api::ErrorCode;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Trust {
    /// Set when ff listens beyond loopback on purpose: then any peer may connect.
    pub any_peer: bool,
    pub allowed_origins: Arc<[Origin]>,
}

impl Trust {
    pub fn peer_allowed(&self, peer: IpAddr) -> bool {
        self.any_peer || peer.is_loopback() || peer.to_canonical().is_loopback()
    }

    /// The name the request was sent to. A rebinding attack points an attacker's domain at
    /// 127.0.0.1, so a loopback peer alone proves nothing: the Host must be a loopback name or an
    /// allowed origin's, unless ff was bound beyond loopback on purpose.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        if self.any_peer {
            return true;
        }
        let Some(host) = host.map(str::to_ascii_lowercase) else {
            return false;
        };
        is_loopback_host(&host)
            || self.allowed_origins.iter().any(|o| {
                o.as_str()
                    .split_once("://")
                    .is_some_and(|(_, authority)| authority == host)
            })
    }

    /// Same origin as the page ff served (`host` is the request's Host header), a loopback
    /// spelling of it, or one of the configured origins.
    pub fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.allowed_origins.iter().any(|o| o.as_str() == origin) {
            return true;
        }
        let Some(host) = host.map(str::to_ascii_lowercase) else {
            return false;
        };
        let Some((scheme, origin_host)) = origin.split_once("://") else {
            return false;
        };
        if !matches!(scheme, "http" | "https") {
            return false;
        }
        origin_host == host
            || (is_loopback_host(origin_host)
                && is_loopback_host(&host)
                && port(origin_host) == port(&host))
    }
}

fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    }
}

fn port(authority: &str) -> Option<&str> {
    split_port(authority).1
}

fn is_loopback_host(authority: &str) -> bool {
    let host = split_port(authority)
        .0
        .trim_start_matches('[')
        .trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub async fn trusted(
    State(trust): State<Trust>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    if !trust.peer_allowed(peer.ip()) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!(
                "requests from {} are not accepted: ff serves this machine only",
                peer.ip()
            ),
        ));
    }
    let headers = request.headers();
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    // Beyond loopback the Host header names whatever the client used, a rebinding attacker's
    // domain included: changes and backups then need a name the user allowed explicitly.
    let sensitive = !matches!(
        request.method(),
        &Method::GET | &Method::HEAD | &Method::OPTIONS
    ) || request.uri().path().starts_with("/api/backup");
    if trust.any_peer && sensitive {
        let strict = Trust {
            any_peer: false,
            ..trust.clone()
        };
        let origin = headers.get(ORIGIN).map(|o| o.to_str().unwrap_or(""));
        if !strict.host_allowed(host) || origin.is_some_and(|o| !strict.origin_allowed(o, host)) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!(
                    "ff listens beyond loopback: changes and backups are accepted only from this \
                     machine or from an address named in --allowed-origins (this request was for \
                     host {:?}{})",
                    host.unwrap_or(""),
                    origin
                        .map(|o| format!(" from origin {o:?}"))
                        .unwrap_or_default()
                ),
            ));
        }
    }
    if !trust.host_allowed(host) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!(
                "requests for host {:?} are not accepted: open ff as http://127.0.0.1 or http://localhost",
                host.unwrap_or("")
            ),
        ));
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !trust.origin_allowed(origin, host) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!("origin {origin:?} is not allowed; start ff with --allowed-origins {origin} to allow it"),
            ));
        }
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(origins: &[&str]) -> Trust {
        Trust {
            any_peer: false,
            allowed_origins: origins.iter().map(|o| Origin::parse(o).unwrap()).collect(),
        }
    }

    #[test]
    fn origins() {
        let t = trust(&["https://dev.example:8443"]);
        let cases = [
            ("http://127.0.0.1:7700", Some("127.0.0.1:7700"), true),
            ("http://localhost:7700", Some("127.0.0.1:7700"), true),
            ("http://[::1]:7700", Some("localhost:7700"), true),
            ("http://localhost:7701", Some("127.0.0.1:7700"), false),
            ("https://dev.example:8443", Some("127.0.0.1:7700"), true),
            ("https://DEV.example:8443/", None, true),
            ("http://evil.example", Some("127.0.0.1:7700"), false),
            ("http://evil.example:7700", Some("127.0.0.1:7700"), false),
            ("null", Some("127.0.0.1:7700"), false),
            ("http://127.0.0.1:7700", None, false),
        ];
        for (origin, host, expected) in cases {
            assert_eq!(
                t.origin_allowed(origin, host),
                expected,
                "{origin} from {host:?}"
            );
        }
    }

    #[test]
    fn hosts() {
        let t = trust(&["https://dev.example:8443"]);
        for (host, expected) in [
            (Some("127.0.0.1:7700"), true),
            (Some("localhost:7700"), true),
            (Some("LOCALHOST"), true),
            (Some("[::1]:7700"), true),
            (Some("dev.example:8443"), true),
            (Some("evil.example:7700"), false),
            (Some("127.0.0.1.evil.example"), false),
            (None, false),
        ] {
            assert_eq!(t.host_allowed(host), expected, "{host:?}");
        }
        assert!(Trust {
            any_peer: true,
            ..t
        }
        .host_allowed(Some("evil.example")));
    }

    #[test]
    fn peers() {
        let t = trust(&[]);
        assert!(t.peer_allowed("127.0.0.1".parse().unwrap()));
        assert!(t.peer_allowed("::1".parse().unwrap()));
        assert!(t.peer_allowed("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!t.peer_allowed("192.168.1.5".parse().unwrap()));
        assert!(Trust {
            any_peer: true,
            ..t
        }
        .peer_allowed("192.168.1.5".parse().unwrap()));
    }
}
