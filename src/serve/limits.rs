//! How many reader connections the server may hold: sized from the open-file limit so that the
//! poller's sockets and files stay reserved whatever the readers do.
//!
//! Pure functions plus one read of `/proc/self/limits` (no `getrlimit`: `unsafe` is forbidden
//! and the proc file says the same thing).

/// Descriptors kept for everything but readers: stdio, the listener, SQLite and its WAL files,
/// the config watcher, the runtime's own (epoll, eventfd), DNS lookups and the fetch client's
/// idle pool.
const FIXED_RESERVE: u64 = 64;
/// Descriptors kept per fetch in flight: its socket, a DNS socket, and room for the idle
/// connections reqwest keeps per host.
const RESERVE_PER_FETCH: u64 = 4;
/// The default cap when the limit is `unlimited`: enough for any feed server, still bounded.
const UNLIMITED_DEFAULT: u64 = 16_384;

/// The cap the server runs with, and why (for the start-up log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionBudget {
    pub max_connections: usize,
    /// The soft open-file limit it was sized from, when it could be read.
    pub open_file_limit: Option<u64>,
    /// Descriptors left for the poller and the rest of the process.
    pub reserved: u64,
    /// The configured value when it was lowered to fit the limit.
    pub clamped_from: Option<usize>,
}

/// The soft `Max open files` limit from `/proc/self/limits` text; `None` when unlimited or absent.
pub fn parse_open_file_limit(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Reads this process's soft open-file limit; `None` when unknown or unlimited.
pub fn open_file_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .as_deref()
        .and_then(parse_open_file_limit)
}

/// The connection cap for a process whose soft open-file limit is `limit`, fetching at most
/// `max_concurrency` requests at once; `configured` is `[server] max_connections`.
///
/// A quarter of the limit (at least the fixed reserve plus four per fetch) stays for the
/// poller; a configured value above what is left is lowered to it.
pub fn connection_budget(
    limit: Option<u64>,
    max_concurrency: usize,
    configured: Option<usize>,
) -> ConnectionBudget {
    let Some(limit) = limit else {
        return ConnectionBudget {
            max_connections: configured.unwrap_or(UNLIMITED_DEFAULT as usize),
            open_file_limit: None,
            reserved: 0,
            clamped_from: None,
        };
    };
    let reserved = (FIXED_RESERVE + RESERVE_PER_FETCH * max_concurrency as u64).max(limit / 4);
    let allowed = usize::try_from(limit.saturating_sub(reserved))
        .unwrap_or(usize::MAX)
        .max(1);
    let (max_connections, clamped_from) = match configured {
        Some(value) if value > allowed => (allowed, Some(value)),
        Some(value) => (value, None),
        None => (allowed, None),
    };
    ConnectionBudget {
        max_connections,
        open_file_limit: Some(limit),
        reserved,
        clamped_from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: &str = "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max open files            1024                 524288               files     \n\
Max locked memory         8388608              8388608              bytes     \n";

    #[test]
    fn the_soft_open_file_limit_is_read() {
        assert_eq!(parse_open_file_limit(LIMITS), Some(1024));
        let unlimited = LIMITS.replace("1024 ", "unlimited");
        assert_eq!(parse_open_file_limit(&unlimited), None);
        assert_eq!(parse_open_file_limit("garbage"), None);
    }

    #[test]
    fn a_quarter_of_the_limit_stays_for_the_poller() {
        let budget = connection_budget(Some(1024), 16, None);
        assert_eq!(budget.reserved, 256);
        assert_eq!(budget.max_connections, 768);
        // Many fetches in flight need more than a quarter.
        let busy = connection_budget(Some(1024), 100, None);
        assert_eq!(busy.reserved, 464);
        assert_eq!(busy.max_connections, 560);
    }

    #[test]
    fn a_configured_cap_above_the_budget_is_clamped() {
        let budget = connection_budget(Some(1024), 16, Some(5000));
        assert_eq!(budget.max_connections, 768);
        assert_eq!(budget.clamped_from, Some(5000));
        let fits = connection_budget(Some(1024), 16, Some(100));
        assert_eq!((fits.max_connections, fits.clamped_from), (100, None));
        // A tiny limit still lets one reader in rather than none.
        assert_eq!(connection_budget(Some(50), 16, None).max_connections, 1);
        assert_eq!(
            connection_budget(None, 16, None).max_connections,
            UNLIMITED_DEFAULT as usize
        );
    }
}
