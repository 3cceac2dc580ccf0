//! The addresses ff answers on: printed as its URLs (never `0.0.0.0`, which no browser can
//! open), and trusted as a `Host` when ff listens beyond loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The addresses a listener on `bound` answers on. An unspecified address (`0.0.0.0`, `::`)
/// means every address of every interface; link-local IPv6 addresses are left out, since a URL
/// cannot name them without their interface.
pub fn own(bound: IpAddr) -> Vec<IpAddr> {
    if !bound.is_unspecified() {
        return vec![bound.to_canonical()];
    }
    let interfaces = match nix::ifaddrs::getifaddrs() {
        Ok(interfaces) => interfaces,
        Err(e) => {
            tracing::warn!("cannot list this machine's addresses ({e}); only loopback is printed");
            return vec![loopback(bound)];
        }
    };
    let mut addresses: Vec<IpAddr> = interfaces
        .filter_map(|interface| interface.address)
        .filter_map(|address| {
            if let Some(v4) = address.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        // A `0.0.0.0` listener answers on IPv4 only.
        .filter(|ip| bound.is_ipv6() || ip.is_ipv4())
        .filter(|ip| !is_link_local(*ip))
        .collect();
    addresses.sort_by_key(|ip| (!ip.is_loopback(), ip.is_ipv6()));
    addresses.dedup();
    addresses
}

fn loopback(bound: IpAddr) -> IpAddr {
    match bound {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_unicast_link_local(),
    }
}

/// `http://<address>:<port>` for each address ff answers on, loopback first.
pub fn base_urls(local: SocketAddr) -> Vec<String> {
    let mut addresses = own(local.ip());
    if local.ip().is_unspecified() && !addresses.iter().any(IpAddr::is_loopback) {
        addresses.insert(0, loopback(local.ip()));
    }
    addresses
        .into_iter()
        .map(|ip| format!("http://{}", SocketAddr::new(ip, local.port())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specific_address_is_the_only_one() {
        let local: SocketAddr = "127.0.0.1:7700".parse().unwrap();
        assert_eq!(base_urls(local), ["http://127.0.0.1:7700"]);
        let v6: SocketAddr = "[::1]:7700".parse().unwrap();
        assert_eq!(base_urls(v6), ["http://[::1]:7700"]);
    }

    #[test]
    fn every_address_starts_with_loopback_and_never_names_the_wildcard() {
        let urls = base_urls("0.0.0.0:7700".parse().unwrap());
        assert_eq!(urls[0], "http://127.0.0.1:7700");
        assert!(urls.iter().all(|u| !u.contains("0.0.0.0")), "{urls:?}");
        assert!(urls.iter().all(|u| u.ends_with(":7700")), "{urls:?}");
    }
}
