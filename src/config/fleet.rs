//! The `[fleet]` table: how instances sharing one PostgreSQL store hold their work, typed and
//! checked.
//!
//! Kept apart from `validate.rs` so the table's rules live in one place; `validate` only
//! records the problems found here with the file's line numbers.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::parse_duration;

/// The `[fleet]` table as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    pub lease: Option<Spanned<String>>,
}

/// How long a host lease lasts without renewal: a dead instance's hosts are polled again by
/// another one after at most this long. Renewed at a third of it (with the heartbeat), so it
/// also says how soon a silent instance drops out of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    pub lease: Duration,
}

impl Default for FleetSettings {
    fn default() -> Self {
        FleetSettings {
            lease: Duration::from_secs(30),
        }
    }
}

impl FleetSettings {
    /// How often leases are renewed and the heartbeat written.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }
}

/// A problem found in the table: where, which key, what.
pub type FleetProblem = (Option<Range<usize>>, String, String);

/// The shortest lease: renewal at a third of it must leave room for a slow database round trip.
const MIN_LEASE: Duration = Duration::from_secs(3);

/// Types and checks the table; problems are returned for `validate` to locate.
pub fn fleet_settings(raw: &RawFleet) -> (FleetSettings, Vec<FleetProblem>) {
    let mut settings = FleetSettings::default();
    let mut problems = Vec::new();
    if let Some(value) = &raw.lease {
        match parse_duration(value.get_ref()) {
            Ok(lease) if lease >= MIN_LEASE => settings.lease = lease,
            Ok(_) => problems.push((
                Some(value.span()),
                "fleet.lease".to_string(),
                "must be at least 3s".to_string(),
            )),
            Err(message) => problems.push((Some(value.span()), "fleet.lease".into(), message)),
        }
    }
    (settings, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (FleetSettings, Vec<FleetProblem>) {
        let raw: RawFleet = toml::from_str(text).unwrap();
        fleet_settings(&raw)
    }

    #[test]
    fn the_lease_defaults_to_thirty_seconds_and_renews_at_a_third() {
        let (settings, problems) = parse("");
        assert!(problems.is_empty());
        assert_eq!(settings.lease, Duration::from_secs(30));
        assert_eq!(settings.renew_every(), Duration::from_secs(10));
        let (settings, _) = parse("lease = \"5s\"");
        assert_eq!(settings.lease, Duration::from_secs(5));
    }

    #[test]
    fn a_lease_too_short_or_unreadable_is_named() {
        for text in ["lease = \"1s\"", "lease = \"soon\""] {
            let (settings, problems) = parse(text);
            assert_eq!(problems.len(), 1, "{text}");
            assert_eq!(problems[0].1, "fleet.lease");
            assert_eq!(settings.lease, Duration::from_secs(30), "the default stays");
        }
    }
}
