//! Which address a request comes from, for sign-in throttling and the audit trail.
//!
//! The peer's address, unless the peer is a reverse proxy the operator named
//! (`--trusted-proxy`): then the client is the right-most X-Forwarded-For entry that is not
//! itself a trusted proxy. Everything left of that was written by the client and proves
//! nothing, so it is never used — a guesser cannot pick a fresh address per attempt.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use airdesk_core::signin::ClientAddress;

/// The reverse proxies whose X-Forwarded-For is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);

/// Puts the request's [`ClientAddress`] in its extensions.
pub async fn client_address(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        // Served without connection info (never by `serve`): every such request shares one
        // allowance, which errs on the side of refusing.
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let client = resolve(peer, request.headers(), &trusted.0);
    request.extensions_mut().insert(ClientAddress(client));
    next.run(request).await
}

fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    // Every X-Forwarded-For header, as one list, read from the right (the nearest hop).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(address) if trusted.contains(&address) => client = address,
            Ok(address) => return address,
            // An entry that is not an address: the proxy did not write it; stop believing.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(resolve(stranger, &headers, &[proxy]), stranger);
        assert_eq!(
            resolve(proxy, &headers, &[proxy]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn what_the_client_wrote_left_of_the_proxy_is_ignored() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real address.
        let headers = forwarded(&["1.2.3.4, 203.0.113.9"]);
        assert_eq!(
            resolve(proxy, &headers, &[proxy]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let garbage = forwarded(&["1.2.3.4, not-an-address"]);
        assert_eq!(resolve(proxy, &garbage, &[proxy]), proxy);
    }
}
