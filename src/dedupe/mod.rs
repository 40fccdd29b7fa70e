//! Canonical URLs, per-source entry keys and text fingerprints for near-duplicate matching. Pure.
//!
//! - [`canonical_url`]: one spelling per page, for matching links across feeds.
//! - [`entry_key`]: how an entry is known within its source (id, else link, else content hash).
//! - [`fingerprint`] / [`similarity`] / [`is_same_story`]: the same story under different URLs,
//!   titles and layouts (wire copy republished by several sites).
//! - [`decide`] / [`band_hashes`] / [`prefers_new`]: the matching rules (threshold, short
//!   texts, titles as support), the band hashes the store indexes, the canonical-entry rule.
//!
//! Everything stored (keys, fingerprint bytes) uses fixed hashes, so it stays valid across builds.

mod canonical;
mod fingerprint;
mod hash;
mod key;
mod normalise;
mod rules;

pub use canonical::{canonical_url, same_site};
pub use fingerprint::{
    Fingerprint, MIN_WORDS, SAME_STORY, SHINGLE_WORDS, SKETCH_SIZE, containment, fingerprint,
    fingerprint_html, is_same_story, jaccard, similarity,
};
pub use hash::Fnv1a;
pub use key::{entry_key, entry_version};
pub use rules::{
    BAND_LIMIT, Candidate, CanonicalFacts, CanonicalRule, Layer, MIN_BANDS, MatchRules,
    SHORT_TEXT_WORDS, TITLE_SUPPORT, Verdict, band_hashes, decide, is_short, prefers_new,
    title_similarity,
};

/// A hash that never changes across builds (stored ids depend on it): FNV-1a, 64 bits.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    hash::fnv1a_64(&[bytes])
}
