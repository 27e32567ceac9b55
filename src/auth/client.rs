//! The client's address as the sign-in throttle sees it: the connection's peer, or — behind a
//! reverse proxy — the address the proxy puts in the header `ROSTER_CLIENT_ADDRESS_HEADER`
//! names (the last entry of `X-Forwarded-For`: the one the proxy itself appended).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, HeaderName};

/// The address of the request with these `headers` and `extensions` (where the server put the
/// connection's peer), as [`address`] reads it.
pub fn of_request(
    headers: &HeaderMap,
    extensions: &Extensions,
    header: Option<&HeaderName>,
) -> String {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    address(headers, peer, header)
}

/// The address to key per-client limits on; "unknown" when there is none (in-process calls).
pub fn address(headers: &HeaderMap, peer: Option<IpAddr>, header: Option<&HeaderName>) -> String {
    let from_header = header.and_then(|name| {
        let last = headers.get_all(name).iter().next_back()?.to_str().ok()?;
        last.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
    });
    match from_header.or(peer) {
        Some(ip) => ip.to_canonical().to_string(),
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_peer_is_used_unless_a_proxy_header_is_configured() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 10.0.0.7"),
        );
        let peer = Some("192.168.1.2".parse().unwrap());
        assert_eq!(address(&h, peer, None), "192.168.1.2");
        let xff = HeaderName::from_static("x-forwarded-for");
        assert_eq!(address(&h, peer, Some(&xff)), "10.0.0.7");
        assert_eq!(address(&HeaderMap::new(), peer, Some(&xff)), "192.168.1.2");
        assert_eq!(address(&HeaderMap::new(), None, None), "unknown");
        let mapped = Some("::ffff:10.1.2.3".parse().unwrap());
        assert_eq!(address(&h, mapped, None), "10.1.2.3");
    }
}
