//! The `[dedupe]` table and the per-source `dedupe` / `priority` keys, typed and checked.
//!
//! Kept apart from `validate.rs` so the table's rules live in one place; `validate` only
//! records the problems found here with the file's line numbers.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Config, parse_duration};
use crate::dedupe::{CanonicalRule, MatchRules, SAME_STORY};
use crate::store::{DedupePolicy, SourcePolicy};

/// The `[dedupe]` table as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDedupe {
    pub window: Option<Spanned<String>>,
    pub threshold: Option<Spanned<f64>>,
    pub canonical: Option<Spanned<String>>,
}

/// How entries of different sources are recognised as one story.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupeSettings {
    /// How far back a new text is compared: the only bound, whatever the volume.
    pub window: Duration,
    /// Similarity (containment of the shorter text in the longer) from which two texts are
    /// one story.
    pub threshold: f64,
    /// Which member of a story the merged feed shows.
    pub canonical: CanonicalRule,
}

impl Default for DedupeSettings {
    fn default() -> Self {
        DedupeSettings {
            window: Duration::from_secs(14 * 86_400),
            threshold: SAME_STORY,
            canonical: CanonicalRule::Earliest,
        }
    }
}

/// A problem found in the table: where, which key, what.
pub type DedupeProblem = (Option<Range<usize>>, String, String);

/// Types and checks the table; problems are returned for `validate` to locate.
pub fn dedupe_settings(raw: &RawDedupe) -> (DedupeSettings, Vec<DedupeProblem>) {
    let defaults = DedupeSettings::default();
    let mut problems = Vec::new();
    let window = match &raw.window {
        None => defaults.window,
        Some(value) => match parse_duration(value.get_ref()) {
            Ok(window) if window >= Duration::from_secs(86_400) => window,
            Ok(_) => {
                let message = "must be at least 1d (the index keeps whole days)".to_string();
                problems.push((Some(value.span()), "dedupe.window".into(), message));
                defaults.window
            }
            Err(message) => {
                problems.push((Some(value.span()), "dedupe.window".into(), message));
                defaults.window
            }
        },
    };
    let threshold = match &raw.threshold {
        None => defaults.threshold,
        Some(value) if (0.05..=1.0).contains(value.get_ref()) => *value.get_ref(),
        Some(value) => {
            let message = "must be between 0.05 and 1.0".to_string();
            problems.push((Some(value.span()), "dedupe.threshold".into(), message));
            defaults.threshold
        }
    };
    let canonical = match &raw.canonical {
        None => defaults.canonical,
        Some(value) => CanonicalRule::parse(value.get_ref()).unwrap_or_else(|| {
            let message = format!(
                "{:?} is not one of \"earliest\", \"complete\", \"priority\"",
                value.get_ref()
            );
            problems.push((Some(value.span()), "dedupe.canonical".into(), message));
            defaults.canonical
        }),
    };
    let settings = DedupeSettings {
        window,
        threshold,
        canonical,
    };
    (settings, problems)
}

impl Config {
    /// What the store matches and merges passes with: `[dedupe]` and the sources' keys.
    pub fn dedupe_policy(&self) -> DedupePolicy {
        DedupePolicy {
            rules: MatchRules {
                threshold: self.dedupe.threshold,
            },
            window_days: (self.dedupe.window.as_secs() / 86_400) as i64,
            canonical: self.dedupe.canonical,
            sources: self
                .sources
                .iter()
                .map(|source| {
                    let policy = SourcePolicy {
                        dedupe: source.dedupe,
                        priority: source.priority,
                    };
                    (source.name.clone(), policy)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (DedupeSettings, Vec<DedupeProblem>) {
        let raw: RawDedupe = toml::from_str(text).unwrap();
        dedupe_settings(&raw)
    }

    #[test]
    fn defaults_are_fourteen_days_and_the_earliest_entry() {
        let (settings, problems) = parse("");
        assert!(problems.is_empty());
        assert_eq!(settings, DedupeSettings::default());
        assert_eq!(settings.window, Duration::from_secs(14 * 86_400));
    }

    #[test]
    fn values_are_typed_and_bad_ones_named() {
        let (settings, problems) =
            parse("window = \"30d\"\nthreshold = 0.8\ncanonical = \"priority\"");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(settings.window, Duration::from_secs(30 * 86_400));
        assert_eq!(settings.threshold, 0.8);
        assert_eq!(settings.canonical, CanonicalRule::Priority);
        let (_, problems) = parse("window = \"2h\"\nthreshold = 1.5\ncanonical = \"newest\"");
        let keys: Vec<&str> = problems.iter().map(|(_, key, _)| key.as_str()).collect();
        assert_eq!(
            keys,
            ["dedupe.window", "dedupe.threshold", "dedupe.canonical"]
        );
    }

    #[test]
    fn the_policy_carries_the_sources_keys() {
        let text = "[dedupe]\nthreshold = 0.7\n\
                    [[sources]]\nname = \"a\"\nurl = \"https://a.example/feed\"\ndedupe = false\n\
                    [[sources]]\nname = \"b\"\nurl = \"https://b.example/feed\"\npriority = 3\n";
        let config = Config::from_str(text, std::path::Path::new("t.toml")).unwrap();
        let policy = config.dedupe_policy();
        assert_eq!(policy.rules.threshold, 0.7);
        assert_eq!(policy.window_days, 14);
        assert!(!policy.source("a").dedupe);
        assert_eq!(policy.source("b").priority, 3);
        assert!(policy.source("unknown").dedupe);
    }
}
