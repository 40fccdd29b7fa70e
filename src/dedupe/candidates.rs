//! Finding, among many stored fingerprints, the one a new text duplicates: fast enough that a
//! first poll of a thousand feeds (tens of thousands of texts) is not quadratic in practice.
//!
//! Each fingerprint carries a [`Signature`]: a 4096-bit map with one bit per hash of its
//! sketch (by hash value modulo the map size), and the number of its hashes that fell on a bit
//! already set by another (collisions; about 30 for a full 512-hash sketch). Every hash two
//! sketches share lands on a bit both maps set, and at most one shared hash per common bit is
//! not a collision in the first sketch, so `shared <= common bits + collisions` (either
//! sketch's). If even that upper bound cannot reach [`SAME_STORY`], the exact comparison is
//! skipped. The filter never rejects a true match; it only spares the exact merge of two
//! 512-hash sketches for the unrelated pairs, which are nearly all of them: 64 words ANDed and
//! counted instead of a merge of up to 1024 values.

use super::fingerprint::{Fingerprint, SAME_STORY, is_same_story};

const SIGNATURE_WORDS: usize = 64;
const SIGNATURE_BITS: u32 = (SIGNATURE_WORDS * 64) as u32;

/// The bit map of a sketch's hashes and its collision count (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    words: [u64; SIGNATURE_WORDS],
    collisions: u32,
}

impl Signature {
    fn of(fingerprint: &Fingerprint) -> Signature {
        let mut words = [0u64; SIGNATURE_WORDS];
        let mut collisions = 0;
        for hash in fingerprint.sketch() {
            let bit = hash % SIGNATURE_BITS;
            let (word, mask) = ((bit / 64) as usize, 1u64 << (bit % 64));
            collisions += u32::from(words[word] & mask != 0);
            words[word] |= mask;
        }
        Signature { words, collisions }
    }

    /// An upper bound on the hashes the two sketches share.
    fn shared_at_most(&self, other: &Signature) -> u32 {
        let common_bits: u32 = self
            .words
            .iter()
            .zip(other.words.iter())
            .map(|(a, b)| (a & b).count_ones())
            .sum();
        common_bits + self.collisions.min(other.collisions)
    }
}

/// A fingerprint ready to be compared many times: with its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    fingerprint: Fingerprint,
    signature: Signature,
}

impl Candidate {
    pub fn new(fingerprint: Fingerprint) -> Candidate {
        let signature = Signature::of(&fingerprint);
        Candidate {
            fingerprint,
            signature,
        }
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Whether the two are the same story: exactly `is_same_story`, computed only when the
    /// signatures leave it possible.
    pub fn is_same_story(&self, other: &Candidate) -> bool {
        let shorter_covered = self.fingerprint.shorter_covered_len(&other.fingerprint);
        if shorter_covered == 0 {
            return false;
        }
        let bound = self.signature.shared_at_most(&other.signature);
        // The similarity is shared / shorter_covered; shared <= bound, so if bound cannot reach
        // the threshold, neither can the similarity.
        if f64::from(bound) / shorter_covered as f64 >= SAME_STORY {
            is_same_story(&self.fingerprint, &other.fingerprint)
        } else {
            false
        }
    }
}

/// The first of `known` (in the iterator's order) that is the same story as `new`.
pub fn find_same_story<'a, T: Copy + 'a>(
    new: &Candidate,
    known: impl IntoIterator<Item = (T, &'a Candidate)>,
) -> Option<T> {
    known
        .into_iter()
        .find(|(_, candidate)| candidate.is_same_story(new))
        .map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::fingerprint::fingerprint;

    /// Pseudo-words from a deterministic generator, so texts of any length differ everywhere.
    fn text(seed: u64, words: usize) -> String {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..words)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("w{}", state % 50_000)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn candidate(text: &str) -> Candidate {
        Candidate::new(fingerprint(text).expect("long enough"))
    }

    /// The filter must agree with the exact test on every pair: same stories of all lengths,
    /// cut, extended, edited, and unrelated ones.
    #[test]
    fn filtered_test_agrees_with_the_exact_one() {
        let mut texts = Vec::new();
        for seed in 0..12 {
            for words in [62, 120, 600, 3000] {
                let base = text(seed, words);
                let half: Vec<&str> = base.split(' ').take(words * 2 / 3).collect();
                texts.push(base.clone());
                texts.push(half.join(" "));
                texts.push(format!("{base} {}", text(seed + 100, words / 3)));
            }
        }
        let candidates: Vec<Candidate> = texts.iter().map(|t| candidate(t)).collect();
        let mut same = 0;
        for a in &candidates {
            for b in &candidates {
                let exact = is_same_story(a.fingerprint(), b.fingerprint());
                assert_eq!(a.is_same_story(b), exact);
                same += usize::from(exact);
            }
        }
        // The set holds both kinds of pairs, so the agreement is not vacuous.
        assert!(same > candidates.len() && same < candidates.len() * candidates.len() / 4);
    }

    /// The bound holds even when shared hashes collide: checked against the exact count.
    #[test]
    fn the_bound_is_never_below_the_shared_count() {
        let texts: Vec<String> = (0..20)
            .map(|seed| text(seed % 5, 200 + 150 * seed as usize))
            .collect();
        for a in &texts {
            for b in &texts {
                let (a, b) = (candidate(a), candidate(b));
                let shared = a
                    .fingerprint
                    .sketch()
                    .iter()
                    .filter(|hash| b.fingerprint.sketch().binary_search(hash).is_ok())
                    .count() as u32;
                assert!(a.signature.shared_at_most(&b.signature) >= shared);
            }
        }
    }

    #[test]
    fn finds_the_first_match_in_order() {
        let story = text(7, 400);
        let known = [
            (1, candidate(&text(1, 400))),
            (2, candidate(&format!("{story} Copyright AFP."))),
            (3, candidate(&story)),
        ];
        let new = candidate(&story);
        let found = find_same_story(&new, known.iter().map(|(id, c)| (*id, c)));
        assert_eq!(found, Some(2));
        let unrelated = candidate(&text(9, 400));
        assert_eq!(
            find_same_story(&unrelated, known.iter().map(|(id, c)| (*id, c))),
            None
        );
    }
}
