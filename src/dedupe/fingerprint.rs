//! Text fingerprints: word shingles sampled by a bottom-k sketch, compared by containment.
//!
//! A story is identified by its prose, not its title or page: the text is reduced to normalised
//! words, cut into overlapping runs of [`SHINGLE_WORDS`] words, each run hashed with a fixed hash,
//! and the [`SKETCH_SIZE`] smallest hashes kept. For texts of up to about that many words the
//! sketch is the whole shingle set, so comparison is exact; longer texts keep a uniform sample
//! that is consistent between documents (the same shingle always hashes the same).
//!
//! Two sketches are compared on the hash range both of them cover completely, which gives
//! unbiased estimates of the Jaccard resemblance and of containment. [`similarity`] is the
//! containment of the shorter text in the longer one: a wire story republished with a credit line
//! added, or cut after a few paragraphs, still scores near 1, while two different stories that
//! only share boilerplate sentences score about the boilerplate's share of the shorter text.

use super::hash::{fnv1a_64, mix64};
use super::normalise::tokens;

/// Words per shingle: long enough that two stories on one topic rarely share a run by chance,
/// short enough that a one-word edit only disturbs a few shingles.
pub const SHINGLE_WORDS: usize = 4;

/// Fewer words than this cannot identify a story (a headline, a teaser, a caption).
pub const MIN_WORDS: usize = 40;

/// Hashes kept per fingerprint: exact up to about this many words, a sample beyond.
pub const SKETCH_SIZE: usize = 512;

/// [`similarity`] at or above which two texts are taken for the same story.
pub const SAME_STORY: f64 = 0.6;

/// Version 1 lacks the exact hash (older stores); version 2 carries it after the count.
const FORMAT_VERSION_1: u8 = 1;
const FORMAT_VERSION: u8 = 2;
const HEADER_LEN_1: usize = 5;
const HEADER_LEN: usize = 13;

/// A fingerprint of an article's text that survives different furniture, titles and small edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Distinct shingles in the whole text (the sketch may hold fewer).
    shingle_count: u32,
    /// The smallest shingle hashes, strictly ascending, at most [`SKETCH_SIZE`].
    sketch: Vec<u32>,
    /// A hash of all the normalised words in order: equal for texts that differ only in
    /// typography, case or spacing (the exact layer). `None` when read from version 1 bytes.
    exact: Option<u64>,
}

impl Fingerprint {
    /// Distinct shingles in the text, a measure of its length.
    pub fn shingle_count(&self) -> u32 {
        self.shingle_count
    }

    /// The hash of the whole normalised text, for the exact-text layer (`None` for a
    /// fingerprint read from bytes written before it existed).
    pub fn exact_hash(&self) -> Option<u64> {
        self.exact
    }

    /// Compact bytes for storage: a version byte, the shingle count, the exact hash and the
    /// sketch (little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_LEN + 4 * self.sketch.len());
        bytes.push(FORMAT_VERSION);
        bytes.extend_from_slice(&self.shingle_count.to_le_bytes());
        bytes.extend_from_slice(&self.exact.unwrap_or(0).to_le_bytes());
        for value in &self.sketch {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        bytes
    }

    /// Reads bytes written by [`Fingerprint::to_bytes`]; `None` when they are not well formed
    /// (another format version, truncation), and the caller fingerprints the text again.
    pub fn from_bytes(bytes: &[u8]) -> Option<Fingerprint> {
        let header_len = match bytes.first() {
            Some(&FORMAT_VERSION_1) => HEADER_LEN_1,
            Some(&FORMAT_VERSION) => HEADER_LEN,
            _ => return None,
        };
        if bytes.len() < header_len || !(bytes.len() - header_len).is_multiple_of(4) {
            return None;
        }
        let shingle_count = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        let exact = (header_len == HEADER_LEN).then(|| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[5..13]);
            u64::from_le_bytes(word)
        });
        let sketch: Vec<u32> = bytes[header_len..]
            .chunks_exact(4)
            .map(|chunk| u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect();
        let ascending = sketch.windows(2).all(|pair| pair[0] < pair[1]);
        let plausible_size =
            sketch.len() <= SKETCH_SIZE && sketch.len() as u64 <= u64::from(shingle_count);
        if sketch.is_empty() || !ascending || !plausible_size {
            return None;
        }
        Some(Fingerprint {
            shingle_count,
            sketch,
            exact,
        })
    }

    /// The sketch: the smallest shingle hashes, strictly ascending.
    pub(super) fn sketch(&self) -> &[u32] {
        &self.sketch
    }

    /// The largest hash this sketch is complete up to: every shingle hashing at or below it is in
    /// the sketch.
    fn complete_up_to(&self) -> u32 {
        if self.sketch.len() < SKETCH_SIZE {
            u32::MAX
        } else {
            self.sketch.last().copied().unwrap_or(u32::MAX)
        }
    }
}

/// Fingerprints article text; `None` when the text is too short to identify a story.
pub fn fingerprint(text: &str) -> Option<Fingerprint> {
    let words = tokens(text);
    if words.len() < MIN_WORDS {
        return None;
    }
    let mut hashes: Vec<u32> = words.windows(SHINGLE_WORDS).map(shingle_hash).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let shingle_count = u32::try_from(hashes.len()).unwrap_or(u32::MAX);
    hashes.truncate(SKETCH_SIZE);
    Some(Fingerprint {
        shingle_count,
        sketch: hashes,
        exact: Some(exact_hash(&words)),
    })
}

/// Fingerprints the text of an HTML fragment (a feed's own content, when no page was extracted).
pub fn fingerprint_html(html: &str) -> Option<Fingerprint> {
    let fragment = scraper::Html::parse_fragment(html);
    let text: Vec<&str> = fragment.root_element().text().collect();
    fingerprint(&text.join(" "))
}

/// The hash of the whole word sequence (words joined by one space), fixed forever: stored.
fn exact_hash(words: &[String]) -> u64 {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(words.len() * 2);
    for word in words {
        parts.push(word.as_bytes());
        parts.push(b" ");
    }
    mix64(fnv1a_64(&parts))
}

fn shingle_hash(words: &[String]) -> u32 {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(words.len() * 2);
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            parts.push(b" ");
        }
        parts.push(word.as_bytes());
    }
    // The top bits of the mixed hash are the best spread.
    (mix64(fnv1a_64(&parts)) >> 32) as u32
}

/// Counts over the hash range both sketches cover: (only in `a`'s part, in `b`'s part, in both).
fn overlap(a: &Fingerprint, b: &Fingerprint) -> (usize, usize, usize) {
    let limit = a.complete_up_to().min(b.complete_up_to());
    // Sketches are strictly ascending, so the covered range is a prefix: slices, no copies
    // (this runs once per stored story for every new item, so it must not allocate).
    let a_part = &a.sketch[..a.sketch.partition_point(|h| *h <= limit)];
    let b_part = &b.sketch[..b.sketch.partition_point(|h| *h <= limit)];
    let (mut left, mut right, mut common) = (0, 0, 0);
    while left < a_part.len() && right < b_part.len() {
        match a_part[left].cmp(&b_part[right]) {
            std::cmp::Ordering::Less => left += 1,
            std::cmp::Ordering::Greater => right += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                left += 1;
                right += 1;
            }
        }
    }
    (a_part.len(), b_part.len(), common)
}

/// Estimated Jaccard resemblance of the two texts' shingle sets, in [0, 1].
pub fn jaccard(a: &Fingerprint, b: &Fingerprint) -> f64 {
    let (a_count, b_count, common) = overlap(a, b);
    let union = a_count + b_count - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

/// Estimated share of `inner`'s shingles that also occur in `outer`, in [0, 1].
pub fn containment(inner: &Fingerprint, outer: &Fingerprint) -> f64 {
    let (inner_count, _, common) = overlap(inner, outer);
    if inner_count == 0 {
        0.0
    } else {
        common as f64 / inner_count as f64
    }
}

/// Similarity in [0, 1] of two fingerprints: the containment of the shorter text in the longer.
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    if a.shingle_count <= b.shingle_count {
        containment(a, b)
    } else {
        containment(b, a)
    }
}

/// Whether two fingerprints are of the same story (see [`SAME_STORY`]).
pub fn is_same_story(a: &Fingerprint, b: &Fingerprint) -> bool {
    similarity(a, b) >= SAME_STORY
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distinct pseudo-words, so every shingle differs: "w0 w1 w2 ...".
    fn numbered_words(start: usize, count: usize) -> String {
        (start..start + count)
            .map(|index| format!("w{index}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn short_texts_have_no_fingerprint() {
        assert_eq!(fingerprint(&numbered_words(0, MIN_WORDS - 1)), None);
        assert!(fingerprint(&numbered_words(0, MIN_WORDS)).is_some());
    }

    #[test]
    fn bytes_round_trip_and_bad_bytes_are_rejected() {
        let print = fingerprint(&numbered_words(0, 2000)).unwrap();
        assert_eq!(print.sketch.len(), SKETCH_SIZE);
        assert_eq!(print.shingle_count(), 2000 - SHINGLE_WORDS as u32 + 1);
        let bytes = print.to_bytes();
        assert_eq!(Fingerprint::from_bytes(&bytes).unwrap(), print);
        assert!(Fingerprint::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        assert!(Fingerprint::from_bytes(&[]).is_none());
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 99;
        assert!(Fingerprint::from_bytes(&wrong_version).is_none());
        let mut unsorted = bytes.clone();
        unsorted.swap(13, 17);
        unsorted.swap(14, 18);
        unsorted.swap(15, 19);
        unsorted.swap(16, 20);
        assert!(Fingerprint::from_bytes(&unsorted).is_none());
        // Bytes of version 1 (no exact hash) are still read.
        let mut version_1 = vec![1];
        version_1.extend_from_slice(&bytes[1..5]);
        version_1.extend_from_slice(&bytes[13..]);
        let old = Fingerprint::from_bytes(&version_1).unwrap();
        assert_eq!((old.exact_hash(), old.sketch()), (None, print.sketch()));
    }

    #[test]
    fn the_hash_is_pinned() {
        // Stored fingerprints depend on this exact value; it must never change.
        let words = ["la", "greve", "des", "cheminots"].map(String::from);
        assert_eq!(shingle_hash(&words), PINNED_SHINGLE_HASH);
    }

    const PINNED_SHINGLE_HASH: u32 = 4_781_549;

    #[test]
    fn identical_texts_score_one_and_disjoint_texts_zero() {
        let a = fingerprint(&numbered_words(0, 300)).unwrap();
        let b = fingerprint(&numbered_words(1000, 300)).unwrap();
        assert_eq!(similarity(&a, &a), 1.0);
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(similarity(&a, &b), 0.0);
        assert!(!is_same_story(&a, &b));
    }

    #[test]
    fn a_truncated_copy_of_a_long_text_is_contained_in_it() {
        // Longer than the sketch, so the estimate works on samples.
        let full = fingerprint(&numbered_words(0, 3000)).unwrap();
        let first_part = fingerprint(&numbered_words(0, 400)).unwrap();
        assert!(similarity(&full, &first_part) > 0.9);
        assert!(jaccard(&full, &first_part) < 0.3);
        let other_part = fingerprint(&numbered_words(5000, 400)).unwrap();
        assert!(similarity(&full, &other_part) < 0.05);
    }

    #[test]
    fn long_texts_sharing_half_their_shingles_are_estimated_near_half() {
        let a = fingerprint(&numbered_words(0, 4000)).unwrap();
        let b = fingerprint(&numbered_words(2000, 4000)).unwrap();
        let estimate = jaccard(&a, &b);
        let exact = 2000.0 / 6000.0;
        assert!((estimate - exact).abs() < 0.1, "{estimate}");
    }
}
