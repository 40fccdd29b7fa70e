//! The SSRF guard: which IP addresses tributary may connect to, checked on the address actually used.
//!
//! Two checks together cover every request: literal-IP URLs are checked before sending (they
//! never reach a resolver), and hostnames go through [`GuardedResolver`], which drops refused
//! addresses from the answer. Because the filter runs on the very addresses the connector then
//! dials, a DNS answer that changes between two lookups (DNS rebinding) cannot slip through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Decides whether an address may be connected to. Production uses [`is_public_ip`]; tests
/// inject their own so they can exercise the guard with loopback addresses only.
pub type AddressFilter = Arc<dyn Fn(IpAddr) -> bool + Send + Sync>;

/// The production filter.
pub fn public_only() -> AddressFilter {
    Arc::new(is_public_ip)
}

/// True for addresses on the public internet; false for loopback, private, link-local, CGNAT,
/// multicast, unspecified, broadcast, documentation, benchmarking and reserved ranges, including
/// their IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms.
pub fn is_public_ip(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_ipv4(v4),
        IpAddr::V6(v6) => is_public_ipv6(v6),
    }
}

fn is_public_ipv4(address: Ipv4Addr) -> bool {
    let [a, b, c, _] = address.octets();
    let refused = a == 0 // "this network", including 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (b & 0xC0) == 64) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata 169.254.169.254
        || (a == 172 && (b & 0xF0) == 16)
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || (a == 198 && (b & 0xFE) == 18) // benchmarking 198.18/15
        || a >= 224; // multicast 224/4, reserved 240/4, broadcast
    !refused
}

fn is_public_ipv6(address: Ipv6Addr) -> bool {
    if let Some(embedded) = embedded_ipv4(address) {
        return is_public_ipv4(embedded);
    }
    let segments = address.segments();
    // Only global unicast (2000::/3) is public. That single test refuses ::, ::1, fe80::/10,
    // fc00::/7, ff00::/8 and every other special block outside it.
    let global_unicast = (segments[0] & 0xE000) == 0x2000;
    let documentation = segments[0] == 0x2001 && segments[1] == 0x0db8;
    // Teredo (2001::/32) hides its IPv4 server address; refusing it is the safe side.
    let teredo = segments[0] == 0x2001 && segments[1] == 0;
    // ORCHID and benchmarking blocks inside 2001::/23 are not reachable hosts either.
    let benchmarking = segments[0] == 0x2001 && segments[1] == 0x0002 && segments[2] == 0;
    global_unicast && !documentation && !teredo && !benchmarking
}

/// The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one.
fn embedded_ipv4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = address.segments();
    let octets = address.octets();
    let last_four = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    let mapped = segments[..5] == [0, 0, 0, 0, 0] && segments[5] == 0xFFFF;
    // IPv4-compatible (::a.b.c.d, deprecated); :: and ::1 themselves are not IPv4 addresses.
    let compatible = segments[..6] == [0; 6] && segments[6] != 0;
    let nat64 = segments[..6] == [0x64, 0xFF9B, 0, 0, 0, 0];
    if mapped || compatible || nat64 {
        return Some(last_four);
    }
    if segments[0] == 0x2002 {
        // 6to4 carries the IPv4 address in bits 16..48.
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

/// The error a refused connection carries through reqwest, recognised again by `classify`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} resolves only to refused addresses ({address})")]
pub(crate) struct PrivateAddressRefused {
    pub host: String,
    pub address: IpAddr,
}

/// A resolver that answers only with addresses the filter accepts.
pub(crate) struct GuardedResolver {
    filter: AddressFilter,
}

impl GuardedResolver {
    pub(crate) fn new(filter: AddressFilter) -> GuardedResolver {
        GuardedResolver { filter }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let filter = self.filter.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0 is replaced by the URL's port by reqwest.
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|socket| filter(socket.ip()))
                .collect();
            if allowed.is_empty()
                && let Some(first) = resolved.first()
            {
                let refused = PrivateAddressRefused {
                    host,
                    address: first.ip(),
                };
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public_ip(text.parse().expect("test address"))
    }

    #[test]
    fn refuses_ipv4_special_ranges() {
        for address in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!public(address), "{address} should be refused");
        }
    }

    #[test]
    fn accepts_ordinary_public_ipv4() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.254",
        ] {
            assert!(public(address), "{address} should be allowed");
        }
    }

    #[test]
    fn refuses_ipv6_special_ranges() {
        for address in [
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
            "fec0::1",
            "100::1",
        ] {
            assert!(!public(address), "{address} should be refused");
        }
    }

    #[test]
    fn refuses_ipv6_forms_of_private_ipv4() {
        for address in [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "::192.168.0.1",
            "64:ff9b::10.0.0.1",
            "2002:c0a8:0101::1",
            "2002:7f00:0001::1",
        ] {
            assert!(!public(address), "{address} should be refused");
        }
    }

    #[test]
    fn accepts_public_ipv6_and_mapped_public_ipv4() {
        for address in [
            "2606:4700:4700::1111",
            "2a00:1450:4007:80e::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert!(public(address), "{address} should be allowed");
        }
    }
}
