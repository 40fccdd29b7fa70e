//! The matching rules, pure: band hashes for the store's index, when a candidate is the same
//! story (threshold, short texts, title support), and which entry of a cluster is canonical.
//!
//! The store finds candidates by band hashes (one indexed query per new entry) and then asks
//! [`decide`] about each with the exact similarity of the two sketches, so the index only has
//! to be generous (never miss a story that could reach the threshold), not exact.

use super::fingerprint::{Fingerprint, SAME_STORY, similarity};
use super::normalise::tokens;

/// Sketch hashes at or below this value are band hashes: a fixed share (1/16) of the hash
/// range, so a text contained in a longer one shares its band hashes with it whatever their
/// lengths (bottom-k minima would not: a long text's smallest hashes are mostly its own).
pub const BAND_LIMIT: u32 = u32::MAX / 16;

/// Every fingerprint has at least this many band hashes (its smallest ones), so that two copies
/// of a short text, which may have none below [`BAND_LIMIT`], still meet in the index.
pub const MIN_BANDS: usize = 8;

/// Texts with fewer distinct shingles (about words) than this are "short": a one-paragraph
/// teaser, a caption, a brief. They are never merged on their text alone (a caption or a
/// site's standard paragraph is shared by unrelated stories); their titles must agree too.
pub const SHORT_TEXT_WORDS: u32 = 100;

/// How alike two titles must be (share of common words, see [`title_similarity`]) to support
/// the merge of two short texts.
pub const TITLE_SUPPORT: f64 = 0.5;

/// The band hashes of a fingerprint, ascending: those below [`BAND_LIMIT`], and at least the
/// [`MIN_BANDS`] smallest.
pub fn band_hashes(fingerprint: &Fingerprint) -> Vec<u32> {
    let sketch = fingerprint.sketch();
    let below = sketch.partition_point(|hash| *hash <= BAND_LIMIT);
    sketch[..below.max(MIN_BANDS.min(sketch.len()))].to_vec()
}

/// Whether a text is too short to be merged on its text alone (see [`SHORT_TEXT_WORDS`]).
pub fn is_short(fingerprint: &Fingerprint) -> bool {
    fingerprint.shingle_count() < SHORT_TEXT_WORDS
}

/// Share of the shorter title's distinct words found in the other, in [0, 1]; 0 when either
/// has no word. Titles are a supporting signal only: the same story carries other titles on
/// other sites, and different stories share a headline's words.
pub fn title_similarity(a: &str, b: &str) -> f64 {
    let words = |text: &str| {
        let mut words = tokens(text);
        words.sort_unstable();
        words.dedup();
        words
    };
    let (a, b) = (words(a), words(b));
    let (shorter, longer) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if shorter.is_empty() {
        return 0.0;
    }
    let common = shorter
        .iter()
        .filter(|word| longer.binary_search(word).is_ok())
        .count();
    common as f64 / shorter.len() as f64
}

/// How two entries were recognised as one story, cheapest layer first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The first entry of the story (nothing matched: it started the cluster).
    First,
    /// The same canonical URL (the entry link's or the page's `rel=canonical`).
    Url,
    /// The same normalised text, word for word.
    Exact,
    /// Near-duplicate text: the similarity of the fingerprints reached the threshold.
    Text,
}

impl Layer {
    /// The name stored with each member and shown by `explain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::First => "first",
            Layer::Url => "url",
            Layer::Exact => "exact",
            Layer::Text => "text",
        }
    }

    pub fn parse(text: &str) -> Option<Layer> {
        [Layer::First, Layer::Url, Layer::Exact, Layer::Text]
            .into_iter()
            .find(|layer| layer.as_str() == text)
    }
}

/// The admin's matching settings (`[dedupe]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchRules {
    /// Similarity at or above which two texts are one story.
    pub threshold: f64,
}

impl Default for MatchRules {
    fn default() -> Self {
        MatchRules {
            threshold: SAME_STORY,
        }
    }
}

/// What is compared of one side of a candidate pair.
pub struct Candidate<'a> {
    pub fingerprint: &'a Fingerprint,
    pub title: &'a str,
}

/// The verdict on a candidate: the layer that would merge, or none, with the scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub layer: Option<Layer>,
    pub similarity: f64,
    pub title_similarity: f64,
}

/// Whether `new` is the same story as `stored`: the exact layer (same normalised text) or the
/// text layer (similarity at the threshold); for a short text, only with titles that agree.
pub fn decide(rules: &MatchRules, new: &Candidate, stored: &Candidate) -> Verdict {
    let similarity = similarity(new.fingerprint, stored.fingerprint);
    let title_similarity = title_similarity(new.title, stored.title);
    let exact = new.fingerprint.exact_hash().is_some()
        && new.fingerprint.exact_hash() == stored.fingerprint.exact_hash();
    let short = is_short(new.fingerprint) || is_short(stored.fingerprint);
    let supported = !short || title_similarity >= TITLE_SUPPORT;
    let layer = if !supported {
        None
    } else if exact {
        Some(Layer::Exact)
    } else if similarity >= rules.threshold {
        Some(Layer::Text)
    } else {
        None
    };
    Verdict {
        layer,
        similarity: if exact { 1.0 } else { similarity },
        title_similarity,
    }
}

/// Which entry of a cluster the merged feed shows (`[dedupe] canonical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CanonicalRule {
    /// The entry published first (the original, usually).
    #[default]
    Earliest,
    /// The entry with the most text (the full article rather than a teaser).
    Complete,
    /// The entry of the source with the highest `priority`; the earliest among equals.
    Priority,
}

impl CanonicalRule {
    pub fn parse(text: &str) -> Option<CanonicalRule> {
        match text {
            "earliest" => Some(CanonicalRule::Earliest),
            "complete" => Some(CanonicalRule::Complete),
            "priority" => Some(CanonicalRule::Priority),
            _ => None,
        }
    }
}

/// What the canonical rule looks at in an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonicalFacts {
    /// Publication time, in seconds.
    pub published: i64,
    /// Words of text (0 when unknown).
    pub words: u32,
    /// The source's `priority`.
    pub priority: i64,
}

/// Whether the new member should replace the current canonical entry. Ties keep the current
/// one, so the shown entry only changes for a reason.
pub fn prefers_new(rule: CanonicalRule, current: CanonicalFacts, new: CanonicalFacts) -> bool {
    match rule {
        CanonicalRule::Earliest => new.published < current.published,
        CanonicalRule::Complete => new.words > current.words,
        CanonicalRule::Priority => {
            new.priority > current.priority
                || (new.priority == current.priority && new.published < current.published)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::fingerprint::fingerprint;

    fn words(seed: usize, count: usize) -> String {
        (0..count)
            .map(|index| format!("s{seed}w{index}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn band_hashes_are_a_fixed_share_and_never_fewer_than_the_minimum() {
        let long = fingerprint(&words(1, 2000)).unwrap();
        let bands = band_hashes(&long);
        assert!(bands.iter().all(|hash| *hash <= BAND_LIMIT));
        // About 1/16 of 2000 shingles.
        assert!((80..170).contains(&bands.len()), "{}", bands.len());
        let short = fingerprint(&words(2, 45)).unwrap();
        assert!(band_hashes(&short).len() >= MIN_BANDS);
    }

    #[test]
    fn a_contained_text_shares_its_bands_with_the_longer_one() {
        let full = words(3, 3000);
        let part: String = full.split(' ').take(400).collect::<Vec<_>>().join(" ");
        let (full, part) = (fingerprint(&full).unwrap(), fingerprint(&part).unwrap());
        let full_bands = band_hashes(&full);
        let shared = band_hashes(&part)
            .iter()
            .filter(|hash| full_bands.binary_search(hash).is_ok())
            .count();
        assert!(shared >= 5, "{shared}");
    }

    #[test]
    fn short_texts_need_their_titles_to_agree() {
        let rules = MatchRules::default();
        let text = words(4, 60);
        let print = fingerprint(&text).unwrap();
        let same = |title_a, title_b| {
            decide(
                &rules,
                &Candidate {
                    fingerprint: &print,
                    title: title_a,
                },
                &Candidate {
                    fingerprint: &print,
                    title: title_b,
                },
            )
            .layer
        };
        assert_eq!(same("Storm closes ports", "Market news"), None);
        assert_eq!(
            same("Storm closes three ports", "Storm closes ports"),
            Some(Layer::Exact)
        );
    }

    #[test]
    fn long_texts_merge_on_text_alone_at_the_threshold() {
        let base = words(5, 300);
        let edited = format!("{base} {}", words(6, 100));
        let (a, b) = (fingerprint(&base).unwrap(), fingerprint(&edited).unwrap());
        let verdict = |threshold| {
            decide(
                &MatchRules { threshold },
                &Candidate {
                    fingerprint: &a,
                    title: "One",
                },
                &Candidate {
                    fingerprint: &b,
                    title: "Other",
                },
            )
        };
        assert_eq!(verdict(0.6).layer, Some(Layer::Text));
        assert!(verdict(0.6).similarity > 0.95);
        assert_eq!(verdict(1.01).layer, None);
    }

    #[test]
    fn title_similarity_is_the_shorter_titles_share() {
        assert_eq!(title_similarity("Grève à la SNCF", "grève SNCF"), 1.0);
        assert_eq!(title_similarity("", "x"), 0.0);
        assert!(title_similarity("a b c d", "a x y z") < 0.3);
    }

    #[test]
    fn canonical_rules_pick_by_date_text_or_priority() {
        let facts = |published, words, priority| CanonicalFacts {
            published,
            words,
            priority,
        };
        let current = facts(100, 300, 0);
        assert!(prefers_new(
            CanonicalRule::Earliest,
            current,
            facts(50, 10, 0)
        ));
        assert!(!prefers_new(
            CanonicalRule::Earliest,
            current,
            facts(100, 900, 9)
        ));
        assert!(prefers_new(
            CanonicalRule::Complete,
            current,
            facts(200, 900, 0)
        ));
        assert!(!prefers_new(
            CanonicalRule::Complete,
            current,
            facts(50, 300, 0)
        ));
        assert!(prefers_new(
            CanonicalRule::Priority,
            current,
            facts(200, 10, 1)
        ));
        assert!(!prefers_new(
            CanonicalRule::Priority,
            current,
            facts(50, 900, -1)
        ));
        assert_eq!(
            CanonicalRule::parse("complete"),
            Some(CanonicalRule::Complete)
        );
        assert_eq!(CanonicalRule::parse("newest"), None);
    }
}
