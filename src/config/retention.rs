//! The `[retention]` table: how long stories are kept, typed and checked.
//!
//! Kept apart from `validate.rs` so the table's rules live in one place; `validate` only
//! records the problems found here with the file's line numbers.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::parse_duration;

/// The `[retention]` table as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    pub max_age: Option<Spanned<String>>,
    pub keep_per_source: Option<Spanned<i64>>,
    pub max_entries_per_source: Option<Spanned<i64>>,
    pub interval: Option<Spanned<String>>,
}

/// What pruning keeps: a source's entry is removed when it is older than `max_age` and not
/// among the source's newest `keep_per_source`, or when it is beyond the newest
/// `max_entries_per_source` (the hard cap wins over `keep_per_source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSettings {
    pub max_age: Duration,
    pub keep_per_source: usize,
    pub max_entries_per_source: Option<usize>,
    /// Time between two pruning passes of the daemon.
    pub interval: Duration,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            max_age: Duration::from_secs(90 * 24 * 3600),
            keep_per_source: 50,
            max_entries_per_source: None,
            interval: Duration::from_secs(3600),
        }
    }
}

/// A problem found in the table: where, which key, what.
pub type RetentionProblem = (Option<Range<usize>>, String, String);

/// Types and checks the table; problems are returned for `validate` to locate.
pub fn retention_settings(raw: &RawRetention) -> (RetentionSettings, Vec<RetentionProblem>) {
    let defaults = RetentionSettings::default();
    let mut problems = Vec::new();
    let mut duration = |value: &Option<Spanned<String>>, key: &str, fallback: Duration| {
        let Some(value) = value else {
            return fallback;
        };
        match parse_duration(value.get_ref()) {
            Ok(duration) if !duration.is_zero() => duration,
            Ok(_) => {
                problems.push((Some(value.span()), key.to_string(), "must not be 0".into()));
                fallback
            }
            Err(message) => {
                problems.push((Some(value.span()), key.to_string(), message));
                fallback
            }
        }
    };
    let max_age = duration(&raw.max_age, "retention.max_age", defaults.max_age);
    let interval = duration(&raw.interval, "retention.interval", defaults.interval);
    let mut count = |value: &Option<Spanned<i64>>, key: &str, min: i64| {
        let value = value.as_ref()?;
        if *value.get_ref() < min {
            problems.push((
                Some(value.span()),
                key.to_string(),
                format!("must be at least {min}"),
            ));
            return None;
        }
        Some(*value.get_ref() as usize)
    };
    let keep_per_source = count(&raw.keep_per_source, "retention.keep_per_source", 0)
        .unwrap_or(defaults.keep_per_source);
    let max_entries_per_source = count(
        &raw.max_entries_per_source,
        "retention.max_entries_per_source",
        1,
    );
    let settings = RetentionSettings {
        max_age,
        keep_per_source,
        max_entries_per_source,
        interval,
    };
    (settings, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (RetentionSettings, Vec<RetentionProblem>) {
        let raw: RawRetention = toml::from_str(text).unwrap();
        retention_settings(&raw)
    }

    #[test]
    fn defaults_keep_ninety_days_and_fifty_per_source() {
        let (settings, problems) = parse("");
        assert!(problems.is_empty());
        assert_eq!(settings.max_age, Duration::from_secs(90 * 86_400));
        assert_eq!(settings.keep_per_source, 50);
        assert_eq!(settings.max_entries_per_source, None);
    }

    #[test]
    fn values_are_typed_and_bad_ones_named() {
        let (settings, problems) =
            parse("max_age = \"2h\"\nkeep_per_source = 3\nmax_entries_per_source = 10\n");
        assert!(problems.is_empty());
        assert_eq!(settings.max_age, Duration::from_secs(7200));
        assert_eq!(settings.keep_per_source, 3);
        assert_eq!(settings.max_entries_per_source, Some(10));
        let (_, problems) = parse("max_age = \"soon\"\nmax_entries_per_source = 0\n");
        let keys: Vec<&str> = problems.iter().map(|(_, key, _)| key.as_str()).collect();
        assert_eq!(
            keys,
            ["retention.max_age", "retention.max_entries_per_source"]
        );
    }
}
