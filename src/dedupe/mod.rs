//! Canonical URLs, per-source entry keys and text fingerprints for near-duplicate matching. Pure.
//!
//! (Skeleton: the real fingerprinting lands in this module.)

use crate::model::FeedEntry;

/// Canonical form of a URL for cross-source matching.
pub fn canonical_url(url: &str) -> Option<String> {
    url::Url::parse(url).ok().map(|mut url| {
        url.set_fragment(None);
        url.to_string()
    })
}

/// The key an entry is known by within its source: id/guid, else link, else a content hash.
pub fn entry_key(entry: &FeedEntry) -> String {
    entry
        .id
        .clone()
        .or_else(|| entry.link.clone())
        .unwrap_or_else(|| entry.title.clone().unwrap_or_default())
}

/// A fingerprint of an article's text that survives different furniture, titles and small edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(pub Vec<u64>);

/// Fingerprints article text; `None` when the text is too short to identify a story.
pub fn fingerprint(text: &str) -> Option<Fingerprint> {
    let _ = text;
    None
}

/// Similarity in [0, 1] of two fingerprints.
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    if a == b { 1.0 } else { 0.0 }
}
