//! Per-client fairness: who the client is (the peer, or the address a trusted proxy names in
//! `X-Forwarded-For`) and how many connections or requests each client holds.
//!
//! At connect time only the peer address is known, so the connection cap counts peers; a
//! trusted proxy is exempt from it because it carries many readers. Behind a proxy the cap
//! applies per request instead: a client named by the proxy may have at most
//! `max_connections_per_ip` requests in flight.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::config::IpNet;

/// Counts of what each address holds (connections or requests in flight), capped per address.
#[derive(Debug)]
pub struct PerAddress {
    cap: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One unit held by an address; dropping it gives the unit back.
#[derive(Debug)]
pub struct Slot {
    table: Arc<PerAddress>,
    address: IpAddr,
}

impl PerAddress {
    pub fn new(cap: usize) -> Arc<PerAddress> {
        Arc::new(PerAddress {
            cap,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one unit for `address`, or `None` when it already holds `cap`.
    pub fn try_take(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = held.entry(address).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            table: self.clone(),
            address,
        })
    }

    /// What `address` holds now.
    pub fn held_by(&self, address: IpAddr) -> usize {
        let held = self
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        held.get(&address).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self
            .table
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = held.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.address);
            }
        }
    }
}

/// Whether `peer` is one of the `trusted_proxies`.
pub fn is_trusted(peer: IpAddr, trusted_proxies: &[IpNet]) -> bool {
    trusted_proxies.iter().any(|net| net.contains(peer))
}

/// The client behind `peer`: when `peer` is a trusted proxy, the right-most address of
/// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the address it saw,
/// so entries further left were written by the client and can be forged). Otherwise `peer`.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    trusted_proxies: &[IpNet],
) -> IpAddr {
    if !is_trusted(peer, trusted_proxies) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded_for.rev().flat_map(|value| value.rsplit(',')) {
        let Ok(address) = entry.trim().parse::<IpAddr>() else {
            // An entry that is not an address cannot be trusted, nor anything left of it.
            break;
        };
        client = address;
        if !is_trusted(address, trusted_proxies) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = [IpNet::parse("10.0.0.0/8").unwrap()];
        let header = ["198.51.100.9, 203.0.113.5, 10.0.0.3"];
        // From a trusted proxy: the right-most untrusted entry.
        assert_eq!(
            client_address(ip("10.0.0.2"), header.into_iter(), &trusted),
            ip("203.0.113.5")
        );
        // Several headers are one list, in order.
        let split = ["198.51.100.9", "203.0.113.5, 10.0.0.3"];
        assert_eq!(
            client_address(ip("10.0.0.2"), split.into_iter(), &trusted),
            ip("203.0.113.5")
        );
        // From anyone else: the header is ignored.
        assert_eq!(
            client_address(ip("192.0.2.1"), header.into_iter(), &trusted),
            ip("192.0.2.1")
        );
        // Garbage stops the walk at the last address believed.
        let garbage = ["203.0.113.5, unknown, 10.0.0.3"];
        assert_eq!(
            client_address(ip("10.0.0.2"), garbage.into_iter(), &trusted),
            ip("10.0.0.3")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn an_address_holds_at_most_its_cap_and_gets_units_back() {
        let table = PerAddress::new(2);
        let first = table.try_take(ip("192.0.2.1")).unwrap();
        let _second = table.try_take(ip("192.0.2.1")).unwrap();
        assert!(table.try_take(ip("192.0.2.1")).is_none());
        assert!(
            table.try_take(ip("192.0.2.2")).is_some(),
            "others unaffected"
        );
        drop(first);
        assert_eq!(table.held_by(ip("192.0.2.1")), 1);
        assert!(table.try_take(ip("192.0.2.1")).is_some());
    }
}
