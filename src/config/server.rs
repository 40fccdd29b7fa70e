//! The `[server]` table: connection caps, per-client fairness and timeouts of the HTTP server.
//!
//! Kept apart from `validate.rs` so the server's settings live in one file; `validate` only
//! calls [`server_settings`] and files the problems it returns.

use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::parse_duration;

/// The serde mirror of `[server]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub max_connections: Option<Spanned<i64>>,
    pub max_connections_per_ip: Option<Spanned<i64>>,
    pub trusted_proxies: Option<Vec<Spanned<String>>>,
    pub header_timeout: Option<Spanned<String>>,
    pub idle_timeout: Option<Spanned<String>>,
    pub write_timeout: Option<Spanned<String>>,
}

/// How the HTTP server protects itself (and the poller) from its readers.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// Cap on open reader connections; `None` sizes it from the open-file limit at start-up.
    pub max_connections: Option<usize>,
    /// Cap on connections from one peer address (and on requests in flight from one client
    /// named by a trusted proxy's `X-Forwarded-For`).
    pub max_connections_per_ip: usize,
    /// Peers whose `X-Forwarded-For` is believed; they are exempt from the per-IP connection cap.
    pub trusted_proxies: Vec<IpNet>,
    /// Time a client has to send a complete request head, from connect or its first byte.
    pub header_timeout: Duration,
    /// Time a kept-alive connection may wait for the next request.
    pub idle_timeout: Duration,
    /// Time from a complete request head to the last byte of the response handed to the kernel.
    pub write_timeout: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            max_connections: None,
            max_connections_per_ip: 16,
            trusted_proxies: Vec::new(),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(60),
        }
    }
}

/// An address or a CIDR block (`10.0.0.0/8`, `::1`), as `trusted_proxies` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub address: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// Parses `192.0.2.7`, `192.0.2.0/24`, `2001:db8::/32`; host bits are ignored.
    pub fn parse(text: &str) -> Result<IpNet, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?,
        };
        Ok(IpNet { address, prefix })
    }

    /// Whether `address` lies in this block; an IPv4-mapped IPv6 address counts as IPv4.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match (self.address, address) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_match(u32::from(net).into(), u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_match(net: u128, ip: u128, bits: u8, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    (net >> shift) == (ip >> shift)
}

/// One problem found in `[server]`: its span in the file, its dotted key and the message.
pub type ServerProblem = (Option<std::ops::Range<usize>>, String, String);

/// Validates `[server]`; every problem is returned, none stops the others being found.
pub fn server_settings(raw: &RawServer) -> (ServerSettings, Vec<ServerProblem>) {
    let mut settings = ServerSettings::default();
    let mut problems = Vec::new();
    let key = |name: &str| format!("server.{name}");
    if let Some(value) = count(&raw.max_connections, &key("max_connections"), &mut problems) {
        settings.max_connections = Some(value);
    }
    if let Some(value) = count(
        &raw.max_connections_per_ip,
        &key("max_connections_per_ip"),
        &mut problems,
    ) {
        settings.max_connections_per_ip = value;
    }
    for (index, entry) in raw.trusted_proxies.iter().flatten().enumerate() {
        match IpNet::parse(entry.get_ref()) {
            Ok(net) => settings.trusted_proxies.push(net),
            Err(message) => problems.push((
                Some(entry.span()),
                format!("server.trusted_proxies[{index}]"),
                message,
            )),
        }
    }
    let timeouts = [
        (
            &raw.header_timeout,
            "header_timeout",
            &mut settings.header_timeout,
        ),
        (
            &raw.idle_timeout,
            "idle_timeout",
            &mut settings.idle_timeout,
        ),
        (
            &raw.write_timeout,
            "write_timeout",
            &mut settings.write_timeout,
        ),
    ];
    for (value, name, slot) in timeouts {
        if let Some(duration) = timeout(value, &key(name), &mut problems) {
            *slot = duration;
        }
    }
    (settings, problems)
}

fn count(
    value: &Option<Spanned<i64>>,
    key: &str,
    problems: &mut Vec<ServerProblem>,
) -> Option<usize> {
    let value = value.as_ref()?;
    match usize::try_from(*value.get_ref()) {
        Ok(count) if count >= 1 => Some(count),
        _ => {
            problems.push((
                Some(value.span()),
                key.to_string(),
                "must be at least 1".into(),
            ));
            None
        }
    }
}

fn timeout(
    value: &Option<Spanned<String>>,
    key: &str,
    problems: &mut Vec<ServerProblem>,
) -> Option<Duration> {
    let value = value.as_ref()?;
    match parse_duration(value.get_ref()) {
        Ok(duration) if !duration.is_zero() => Some(duration),
        Ok(_) => {
            problems.push((
                Some(value.span()),
                key.to_string(),
                "must be more than zero".into(),
            ));
            None
        }
        Err(message) => {
            problems.push((Some(value.span()), key.to_string(), message));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks_contain_their_addresses_only() {
        let block = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(block.contains("10.1.200.3".parse().unwrap()));
        assert!(!block.contains("10.2.0.1".parse().unwrap()));
        assert!(
            block.contains("::ffff:10.1.0.9".parse().unwrap()),
            "v4-mapped"
        );
        let single = IpNet::parse("::1").unwrap();
        assert!(single.contains("::1".parse().unwrap()));
        assert!(!single.contains("::2".parse().unwrap()));
        assert!(
            IpNet::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(IpNet::parse("10.0.0.0/33").is_err());
        assert!(IpNet::parse("proxy.local").is_err());
    }

    #[test]
    fn server_table_is_read_and_its_problems_located() {
        let path = std::path::Path::new("t.toml");
        let good = "[server]\nmax_connections = 300\nmax_connections_per_ip = 8\n\
                    trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\nheader_timeout = \"3s\"\n";
        let config = crate::config::Config::from_str(good, path).unwrap();
        assert_eq!(config.server.max_connections, Some(300));
        assert_eq!(config.server.max_connections_per_ip, 8);
        assert_eq!(config.server.trusted_proxies.len(), 2);
        assert_eq!(config.server.header_timeout, Duration::from_secs(3));
        assert_eq!(
            config.server.idle_timeout,
            Duration::from_secs(60),
            "default"
        );
        let defaults = crate::config::Config::from_str("", path).unwrap();
        assert_eq!(defaults.server, ServerSettings::default());

        let bad = "[server]\nmax_connections = 0\ntrusted_proxies = [\"10.0.0.0/40\"]\n\
                   write_timeout = \"0s\"\n";
        let Err(crate::config::ConfigError::Invalid(problems)) =
            crate::config::Config::from_str(bad, path)
        else {
            panic!("invalid [server] accepted");
        };
        let located: Vec<(Option<usize>, Option<&str>)> = problems
            .iter()
            .map(|problem| (problem.line, problem.key.as_deref()))
            .collect();
        assert_eq!(
            located,
            [
                (Some(2), Some("server.max_connections")),
                (Some(3), Some("server.trusted_proxies[0]")),
                (Some(4), Some("server.write_timeout")),
            ]
        );
    }
}
