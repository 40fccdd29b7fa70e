//! An inverted index of recent fingerprints, so that finding the story a new text duplicates
//! costs a few lookups per hash instead of a comparison with every recent story (a first poll
//! of a thousand feeds brings tens of thousands of texts at once).
//!
//! Each hash of each indexed sketch is a posting; the newest posting of a hash is in `heads`,
//! and every posting links to the previous (older) one of the same hash, so one hash's chain
//! lists the stories whose sketches hold it, newest first. A query counts, per story, the
//! hashes its sketch shares with the new one. That count bounds the similarity from above
//! (sharing is counted over whole sketches, the similarity over the range both cover), so
//! stories that cannot reach [`SAME_STORY`] are skipped and the exact test runs on the rest:
//! the result is exactly that of comparing with every story, newest first.
//!
//! Stories leave from the oldest end (the window slides); their postings stay in the chains
//! but are recognised as gone by their sequence number, and `heads` is rebuilt when dead
//! entries outnumber live ones.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use super::fingerprint::{Fingerprint, SAME_STORY, is_same_story};

/// Bits of a posting that hold the position in the sketch (sketches hold at most 512 hashes).
const POSITION_BITS: u32 = 9;
/// Sequence numbers restart at 0 on each rebuild, which happens before they outgrow this.
const MAX_SEQUENCE: u64 = (1 << (32 - POSITION_BITS)) - 2;

/// A posting: a story's sequence number and the hash's position in its sketch, in 32 bits so
/// the index costs about 10 bytes per hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Posting(u32);

impl Posting {
    const NONE: Posting = Posting(u32::MAX);

    fn new(sequence: u64, position: usize) -> Posting {
        debug_assert!(sequence <= MAX_SEQUENCE && position < 1 << POSITION_BITS);
        Posting(((sequence as u32) << POSITION_BITS) | position as u32)
    }

    fn sequence(self) -> u64 {
        u64::from(self.0 >> POSITION_BITS)
    }

    fn position(self) -> usize {
        (self.0 & ((1 << POSITION_BITS) - 1)) as usize
    }
}

/// The keys are sketch hashes, already uniform: one multiplication spreads them over the 64
/// bits the map uses (SipHash would cost more than the lookups it serves).
#[derive(Default)]
struct SketchHasher(u64);

impl Hasher for SketchHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = u64::from(value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Heads = HashMap<u32, Posting, BuildHasherDefault<SketchHasher>>;

struct Indexed<K> {
    key: K,
    fingerprint: Fingerprint,
    /// For each hash of the sketch, the previous posting of the same hash.
    previous: Vec<Posting>,
}

/// Fingerprints indexed by their hashes, oldest first, each with a caller's key (a story id).
pub struct FingerprintIndex<K> {
    stories: VecDeque<Indexed<K>>,
    /// The sequence number of `stories[0]`.
    first_sequence: u64,
    heads: Heads,
    /// Postings of the live stories (dead ones may still have entries in `heads`).
    live_postings: usize,
}

impl<K> Default for FingerprintIndex<K> {
    fn default() -> Self {
        FingerprintIndex {
            stories: VecDeque::new(),
            first_sequence: 0,
            heads: Heads::default(),
            live_postings: 0,
        }
    }
}

impl<K: Copy> FingerprintIndex<K> {
    pub fn len(&self) -> usize {
        self.stories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stories.is_empty()
    }

    /// The key of the oldest story, the next to leave.
    pub fn oldest(&self) -> Option<K> {
        self.stories.front().map(|story| story.key)
    }

    /// Adds a story as the newest.
    pub fn push(&mut self, key: K, fingerprint: Fingerprint) {
        if self.first_sequence + self.stories.len() as u64 > MAX_SEQUENCE {
            self.rebuild();
        }
        let sequence = self.first_sequence + self.stories.len() as u64;
        let previous = fingerprint
            .sketch()
            .iter()
            .enumerate()
            .map(|(position, hash)| {
                self.heads
                    .insert(*hash, Posting::new(sequence, position))
                    .unwrap_or(Posting::NONE)
            })
            .collect();
        self.live_postings += fingerprint.sketch().len();
        self.stories.push_back(Indexed {
            key,
            fingerprint,
            previous,
        });
    }

    /// Removes the oldest story.
    pub fn pop_oldest(&mut self) {
        if let Some(story) = self.stories.pop_front() {
            self.first_sequence += 1;
            self.live_postings -= story.previous.len();
        }
        // Dead heads are dropped once they are a fifth of the map: memory stays within 1.25x
        // of the live postings, and each rebuild (linear) is paid for by as many removals.
        if self.heads.len() > self.live_postings + self.live_postings / 4 + 4096 {
            self.rebuild();
        }
    }

    /// The newest story that is the same as `fingerprint` (by `is_same_story`).
    pub fn find_same_story(&self, fingerprint: &Fingerprint) -> Option<K> {
        self.find_same_story_among(fingerprint, |_| true)
    }

    /// The newest story that is the same as `fingerprint` among those `include` accepts (the
    /// store skips stories deleted since they were indexed: the index only drops its oldest).
    pub fn find_same_story_among(
        &self,
        fingerprint: &Fingerprint,
        include: impl Fn(K) -> bool,
    ) -> Option<K> {
        let shared = self.shared_counts(fingerprint);
        let mut touched: Vec<(usize, u32)> = shared.into_iter().collect();
        touched.sort_unstable_by_key(|(index, _)| std::cmp::Reverse(*index));
        touched
            .into_iter()
            .map(|(index, count)| (&self.stories[index], count))
            .filter(|(story, _)| include(story.key))
            .filter(|(story, count)| {
                let covered = story.fingerprint.shorter_covered_len(fingerprint);
                covered > 0 && f64::from(*count) / covered as f64 >= SAME_STORY
            })
            .find(|(story, _)| is_same_story(&story.fingerprint, fingerprint))
            .map(|(story, _)| story.key)
    }

    /// For each live story sharing a hash with `fingerprint`: its index and how many it shares.
    fn shared_counts(&self, fingerprint: &Fingerprint) -> HashMap<usize, u32> {
        let mut counts: HashMap<usize, u32> = HashMap::new();
        for hash in fingerprint.sketch() {
            let mut posting = self.heads.get(hash).copied().unwrap_or(Posting::NONE);
            while posting != Posting::NONE && posting.sequence() >= self.first_sequence {
                let index = (posting.sequence() - self.first_sequence) as usize;
                *counts.entry(index).or_default() += 1;
                posting = self.stories[index].previous[posting.position()];
            }
        }
        counts
    }

    /// Whether a story with this key is indexed (a linear scan: for occasional removals).
    pub fn contains(&self, key: K) -> bool
    where
        K: PartialEq,
    {
        self.stories.iter().any(|story| story.key == key)
    }

    /// Keeps only the stories `keep` accepts, in their order, and rebuilds the chains (linear);
    /// returns whether each story, oldest first, was kept.
    pub fn retain(&mut self, keep: impl Fn(K) -> bool) -> Vec<bool> {
        let kept: Vec<bool> = self.stories.iter().map(|story| keep(story.key)).collect();
        let mut position = 0;
        self.stories.retain(|_| {
            position += 1;
            kept[position - 1]
        });
        self.live_postings = self.stories.iter().map(|story| story.previous.len()).sum();
        self.rebuild();
        kept
    }

    /// Re-creates `heads` and the chains from the live stories alone.
    fn rebuild(&mut self) {
        let stories = std::mem::take(&mut self.stories);
        self.heads = Heads::with_capacity_and_hasher(self.live_postings, Default::default());
        self.first_sequence = 0;
        self.live_postings = 0;
        for story in stories {
            self.push(story.key, story.fingerprint);
        }
    }
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

    /// Stories of all lengths, cut, extended with other text, and unrelated.
    fn variants() -> Vec<Fingerprint> {
        let mut texts = Vec::new();
        for seed in 0..10 {
            for words in [62, 120, 600, 3000] {
                let base = text(seed * 10_000 + words as u64, words);
                let cut: Vec<&str> = base.split(' ').take(words * 2 / 3).collect();
                texts.push(base.clone());
                texts.push(cut.join(" "));
                texts.push(format!("{base} {}", text(seed + 100, words / 3)));
            }
        }
        texts.iter().map(|t| fingerprint(t).unwrap()).collect()
    }

    /// The answer a linear scan gives: the newest story `is_same_story` accepts.
    fn linear(known: &[(usize, Fingerprint)], new: &Fingerprint) -> Option<usize> {
        known
            .iter()
            .rev()
            .find(|(_, old)| is_same_story(old, new))
            .map(|(key, _)| *key)
    }

    #[test]
    fn removed_stories_are_never_an_answer() {
        let prints = variants();
        let mut index = FingerprintIndex::default();
        for (key, print) in prints.iter().enumerate() {
            index.push(key, print.clone());
        }
        let kept = index.retain(|key| key % 3 != 0);
        assert_eq!(kept.iter().filter(|kept| **kept).count(), index.len());
        let known: Vec<(usize, Fingerprint)> = prints
            .iter()
            .cloned()
            .enumerate()
            .filter(|(key, _)| key % 3 != 0)
            .collect();
        for print in &prints {
            assert_eq!(index.find_same_story(print), linear(&known, print));
        }
        assert!(!index.contains(3) && index.contains(4));
    }

    #[test]
    fn answers_as_a_linear_scan_does() {
        let prints = variants();
        let mut index = FingerprintIndex::default();
        let mut known = Vec::new();
        let mut matched = 0;
        for (key, print) in prints.iter().enumerate() {
            let found = index.find_same_story(print);
            assert_eq!(found, linear(&known, print), "text {key}");
            matched += usize::from(found.is_some());
            index.push(key, print.clone());
            known.push((key, print.clone()));
        }
        // Both kinds of answer occurred, so the agreement is not vacuous.
        assert!(matched > 10 && matched < prints.len() - 10, "{matched}");
    }

    #[test]
    fn stories_leave_from_the_oldest_end_and_rebuilds_keep_answers() {
        let prints = variants();
        let mut index = FingerprintIndex::default();
        let mut known: VecDeque<(usize, Fingerprint)> = VecDeque::new();
        for round in 0..3 {
            for (key, print) in prints.iter().enumerate() {
                let key = round * 1000 + key;
                let window: Vec<(usize, Fingerprint)> = known.iter().cloned().collect();
                assert_eq!(index.find_same_story(print), linear(&window, print));
                index.push(key, print.clone());
                known.push_back((key, print.clone()));
                // A window of 25 stories: most postings die, and `heads` is rebuilt.
                while known.len() > 25 {
                    assert_eq!(index.oldest(), Some(known[0].0));
                    index.pop_oldest();
                    known.pop_front();
                }
                assert_eq!(index.len(), known.len());
            }
        }
    }
}
