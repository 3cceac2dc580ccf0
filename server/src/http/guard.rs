//! Where requests may come from, checked before the token (defence in depth): peers of this
//! machine unless ff was bound beyond loopback on purpose; a `Host` that a DNS-rebinding page
//! cannot produce; and browser pages from ff itself or an explicitly allowed origin.

use super::error::AppError;
use crate::config::Origin;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::middleware::Next;
use axum::response::Response;
use ff_core::api::ErrorCode;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// Set when ff listens beyond loopback on purpose: then other machines may connect.
    pub beyond_loopback: bool,
    /// The addresses ff answers on beyond loopback. A Host naming one of them is a person who
    /// typed the address: a rebinding page can only send a name.
    pub own_addresses: Arc<[IpAddr]>,
    pub allowed_origins: Arc<[Origin]>,
}

impl Trust {
    pub fn peer_allowed(&self, peer: IpAddr) -> bool {
        self.beyond_loopback || is_loopback(peer)
    }

    /// The name the request was sent to. A rebinding attack points an attacker's domain at
    /// ff's address, so a peer's address alone proves nothing: the Host must be a loopback name
    /// (and then the peer must really be on this machine), an allowed origin's, or one of the
    /// addresses ff listens on.
    pub fn host_allowed(&self, host: Option<&str>, peer: IpAddr) -> bool {
        let Some(host) = host.map(str::to_ascii_lowercase) else {
            return false;
        };
        if is_loopback_host(&host) {
            return is_loopback(peer);
        }
        if self.allowed_origins.iter().any(|o| authority(o) == host) {
            return true;
        }
        self.beyond_loopback
            && address(&host).is_some_and(|ip| self.own_addresses.contains(&ip.to_canonical()))
    }

    /// Same origin as the page ff served (`host` is the request's Host header, already
    /// checked), a loopback spelling of it, or one of the configured origins.
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

fn is_loopback(peer: IpAddr) -> bool {
    peer.to_canonical().is_loopback()
}

fn authority(origin: &Origin) -> &str {
    origin
        .as_str()
        .split_once("://")
        .map_or("", |(_, authority)| authority)
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

/// The address an authority names literally (`192.0.2.2:7700`, `[fd00::2]:7700`), if it does.
fn address(authority: &str) -> Option<IpAddr> {
    let host = split_port(authority).0;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}

fn is_loopback_host(authority: &str) -> bool {
    split_port(authority).0 == "localhost" || address(authority).is_some_and(is_loopback)
}

pub async fn trusted(
    State(trust): State<Trust>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let peer = peer.ip();
    if !trust.peer_allowed(peer) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!("requests from {peer} are not accepted: ff serves this machine only"),
        ));
    }
    let headers = request.headers();
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    if !trust.host_allowed(host, peer) {
        let advice = if trust.beyond_loopback {
            "open ff at one of the addresses it printed, or name this one with --allowed-origins"
        } else {
            "open ff as http://127.0.0.1 or http://localhost"
        };
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!(
                "requests for host {:?} from {peer} are not accepted: {advice}",
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

    const LOCAL: &str = "127.0.0.1";
    const LAN_PEER: &str = "192.0.2.9";

    fn trust(origins: &[&str]) -> Trust {
        Trust {
            allowed_origins: origins.iter().map(|o| Origin::parse(o).unwrap()).collect(),
            ..Trust::default()
        }
    }

    fn beyond(origins: &[&str]) -> Trust {
        Trust {
            beyond_loopback: true,
            own_addresses: Arc::from(["192.0.2.2".parse().unwrap(), "fd00::2".parse().unwrap()]),
            ..trust(origins)
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
            ("http://192.0.2.2:7700", Some("192.0.2.2:7700"), true),
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
    fn hosts_on_loopback() {
        let t = trust(&["https://dev.example:8443"]);
        for (host, expected) in [
            (Some("127.0.0.1:7700"), true),
            (Some("localhost:7700"), true),
            (Some("LOCALHOST"), true),
            (Some("[::1]:7700"), true),
            (Some("dev.example:8443"), true),
            (Some("evil.example:7700"), false),
            (Some("127.0.0.1.evil.example"), false),
            (Some("192.0.2.2:7700"), false),
            (None, false),
        ] {
            assert_eq!(
                t.host_allowed(host, LOCAL.parse().unwrap()),
                expected,
                "{host:?}"
            );
        }
    }

    /// Bound beyond loopback: a rebinding name is refused for reads too, and a peer of another
    /// machine cannot claim to be this one by sending a loopback Host.
    #[test]
    fn hosts_beyond_loopback() {
        let t = beyond(&["https://ff.example.org"]);
        let cases = [
            ("192.0.2.2:7700", LAN_PEER, true),
            ("[fd00::2]:7700", LAN_PEER, true),
            ("ff.example.org", LAN_PEER, true),
            ("127.0.0.1:7700", LOCAL, true),
            ("localhost:7700", "::1", true),
            ("127.0.0.1:7700", LAN_PEER, false),
            ("localhost:7700", LAN_PEER, false),
            ("[::1]:7700", LAN_PEER, false),
            ("evil.example:7700", LAN_PEER, false),
            ("evil.example:7700", LOCAL, false),
            ("192.0.2.77:7700", LAN_PEER, false),
        ];
        for (host, peer, expected) in cases {
            assert_eq!(
                t.host_allowed(Some(host), peer.parse().unwrap()),
                expected,
                "{host} from {peer}"
            );
        }
    }

    #[test]
    fn peers() {
        let t = trust(&[]);
        assert!(t.peer_allowed("127.0.0.1".parse().unwrap()));
        assert!(t.peer_allowed("::1".parse().unwrap()));
        assert!(t.peer_allowed("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!t.peer_allowed(LAN_PEER.parse().unwrap()));
        assert!(beyond(&[]).peer_allowed(LAN_PEER.parse().unwrap()));
    }
}
