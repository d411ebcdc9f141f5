//! Who a request comes from. The peer address, unless the peer is a proxy
//! the operator trusts (`COURIER_TRUSTED_PROXIES`): then the address that
//! proxy reports in `X-Forwarded-For`. Without the setting, the header is
//! ignored, since any client can send it. One client is one address, or
//! one IPv6 /64 ([`allowance_of`]).

use std::net::IpAddr;

use axum::http::HeaderMap;

/// Addresses or CIDR ranges, such as `10.0.0.0/8, 127.0.0.1, fd00::/8`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and ranges.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (item, None),
            };
            let given: IpAddr = addr
                .parse()
                .map_err(|_| format!("\"{item}\" is not an address or a range such as 10.0.0.0/8"))?;
            // An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) is the IPv4 range.
            let addr = given.to_canonical();
            let (max, offset) = match (given, addr) {
                (IpAddr::V6(_), IpAddr::V4(_)) => (128, 96),
                (_, IpAddr::V4(_)) => (32, 0),
                _ => (128, 0),
            };
            let bits = match bits {
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| (offset..=max).contains(b))
                    .map(|b| b - offset)
                    .ok_or_else(|| format!("\"{item}\": a range's prefix length is {offset} to {max}"))?,
                None => max - offset,
            };
            ranges.push((addr, bits));
        }
        Ok(Self(ranges))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|&(range, bits)| match (range, ip) {
            (IpAddr::V4(range), IpAddr::V4(ip)) => same_prefix(u32::from(range).into(), u32::from(ip).into(), bits, 32),
            (IpAddr::V6(range), IpAddr::V6(ip)) => same_prefix(u128::from(range), u128::from(ip), bits, 128),
            _ => false,
        })
    }

    /// The client a request comes from: the peer; or, when the peer is a
    /// trusted proxy, the nearest address in `X-Forwarded-For` (read from
    /// the right, the end the proxies appended to) that is not a trusted
    /// proxy itself.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        // Each value on its own, byte by byte: one value a client filled with
        // odd bytes must not hide the address a proxy appended to another.
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            // What a trusted proxy could not have written ends the chain.
            let Some(hop) = parse_hop(hop) else { break };
            client = hop.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port
/// (`1.2.3.4:5678`, `[2001:db8::1]:443`) or in brackets.
fn parse_hop(raw: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(raw).ok()?.trim();
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Whose allowance (a rate limit, a share of connections or slots) a
/// client uses: its IPv4 address, or its IPv6 /64 (one subscriber's
/// network: they pick any address in it at will).
pub fn allowance_of(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

fn same_prefix(a: u128, b: u128, bits: u8, width: u8) -> bool {
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("a header value"));
        headers
    }

    #[test]
    fn ranges_parse_and_match() {
        let proxies = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1 ,fd00::/8").expect("valid");
        assert!(proxies.contains(ip("10.200.3.4")) && proxies.contains(ip("127.0.0.1")));
        assert!(
            proxies.contains(ip("::ffff:10.1.1.1")),
            "IPv4-mapped addresses count as IPv4"
        );
        assert!(proxies.contains(ip("fd12::1")));
        assert!(
            !proxies.contains(ip("11.0.0.1")) && !proxies.contains(ip("127.0.0.2")) && !proxies.contains(ip("fe80::1"))
        );
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .expect("valid")
                .contains(ip("8.8.8.8"))
        );
        let mapped = TrustedProxies::parse("::ffff:10.0.0.0/104").expect("a mapped range");
        assert!(mapped.contains(ip("10.9.9.9")) && !mapped.contains(ip("11.0.0.1")));
        for bad in ["10.0.0.0/33", "localhost", "10.0.0.1/x", "::/129", "::ffff:10.0.0.0/8"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            TrustedProxies::parse(" , ").expect("empty is valid"),
            TrustedProxies::default()
        );
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_of(ip("127.0.0.1"), &forwarded("203.0.113.9")),
            ip("127.0.0.1")
        );

        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").expect("valid");
        // A client behind two of our proxies, who also wrote a false address first.
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &forwarded("198.51.100.7, 203.0.113.9, 10.1.2.3")),
            ip("203.0.113.9")
        );
        // From an untrusted peer the header is whatever the client wrote.
        assert_eq!(
            proxies.client_of(ip("192.0.2.1"), &forwarded("203.0.113.9")),
            ip("192.0.2.1")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(proxies.client_of(ip("127.0.0.1"), &HeaderMap::new()), ip("127.0.0.1"));
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &forwarded("not-an-ip")),
            ip("127.0.0.1")
        );
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &forwarded("203.0.113.9, junk, 10.0.0.1")),
            ip("10.0.0.1")
        );
        // Ports and brackets, as some proxies write them.
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &forwarded("203.0.113.9:5678, [2001:db8::1]:443")),
            ip("2001:db8::1")
        );
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &forwarded("[2001:db8::2]")),
            ip("2001:db8::2")
        );
        // Odd bytes in one value do not hide the address in the next.
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff\xfe").expect("opaque bytes"),
        );
        headers.append("x-forwarded-for", "203.0.113.7".parse().expect("a value"));
        assert_eq!(proxies.client_of(ip("127.0.0.1"), &headers), ip("203.0.113.7"));
    }
}
