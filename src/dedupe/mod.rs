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

impl Fingerprint {
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0
            .iter()
            .flat_map(|value| value.to_le_bytes())
            .collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Fingerprint> {
        bytes.len().is_multiple_of(8).then(|| {
            Fingerprint(
                bytes
                    .chunks_exact(8)
                    .map(|chunk| u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
                    .collect(),
            )
        })
    }
}

/// A hash that never changes across builds (stored ids depend on it): FNV-1a, 64 bits.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether two fingerprints are the same story.
pub fn is_same_story(a: &Fingerprint, b: &Fingerprint) -> bool {
    similarity(a, b) >= 0.8
}

/// Similarity in [0, 1] of two fingerprints.
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    if a == b { 1.0 } else { 0.0 }
}
