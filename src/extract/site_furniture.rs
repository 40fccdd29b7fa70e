//! Blocks a site repeats under its articles: the "about us" paragraph under every press
//! release, the newsletter pitch, the author's bio, the standing disclaimer. One page alone
//! cannot tell them from the article (they are prose, inside the article's container, with no
//! telling class); the site's other pages can. The daemon remembers the blocks of each host's
//! last pages ([`SiteMemory`]); a new page drops the blocks that earlier pages of *other*
//! stories carried too ([`repeated_blocks`]). The pipeline also keeps each host's pages in the
//! store ([`PageBlocks::to_bytes`]), so a restart does not start blind.
//!
//! Pure and bounded: hashes of normalized block texts, a few pages per host, a few hundred
//! hosts, so a daemon following thousands of sites keeps a few megabytes here at most.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Pages remembered per host: enough to see a block repeat, few enough to stay small.
const PAGES_PER_HOST: usize = 12;
/// Hosts remembered; the least recently used one goes first.
const MAX_HOSTS: usize = 256;
/// Earlier pages of other stories that must carry a block before it counts as the site's.
const MIN_OTHER_PAGES: usize = 2;
/// Two pages tell different stories when each has at least this share of its text that the
/// other lacks. An update of a story (a new lead over the same background, a paragraph added)
/// or a copy at another URL has less than half of its own on one side at least: its shared
/// paragraphs are the story's, not the site's furniture. Furniture is rarely half a page. The
/// price: a background paragraph that a series repeats under stories that are each mostly new
/// counts as the site's from the third story on.
const OWN_TEXT_SHARE: f64 = 0.5;
/// When the repeated blocks would take more than this share of a page's text, the page is a
/// patchwork of stories already seen, not an article with furniture: nothing is dropped.
const MAX_DROPPED_SHARE: f64 = 0.6;

/// Blocks kept of one page: its first and last halves of this many. Furniture sits at the
/// edges, and the bound keeps a page of ten thousand paragraphs from weighing more than others
/// (at most 4 KB a page, about 12 MB for every host's pages).
const MAX_BLOCKS_PER_PAGE: usize = 256;

/// Bytes of one block in [`PageBlocks::to_bytes`]: its key (8) and its characters (4).
const BLOCK_BYTES: usize = 12;

/// One page's text blocks: (hash of the normalized text, its characters), sorted by hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageBlocks {
    blocks: Vec<(u64, u32)>,
}

impl PageBlocks {
    /// From the keys of a page's blocks ([`block_key`]) and their characters, in page order.
    pub fn new(blocks: impl IntoIterator<Item = (u64, u32)>) -> PageBlocks {
        let mut blocks: Vec<(u64, u32)> = blocks.into_iter().collect();
        if blocks.len() > MAX_BLOCKS_PER_PAGE {
            let half = MAX_BLOCKS_PER_PAGE / 2;
            blocks.drain(half..blocks.len() - half);
        }
        blocks.sort_unstable();
        blocks.dedup_by_key(|(key, _)| *key);
        PageBlocks { blocks }
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    fn contains(&self, key: u64) -> bool {
        self.blocks
            .binary_search_by_key(&key, |(block, _)| *block)
            .is_ok()
    }

    fn chars(&self) -> u64 {
        self.blocks.iter().map(|(_, chars)| u64::from(*chars)).sum()
    }

    /// The blocks as stored (the store's `site_pages`): for each block, its key then its
    /// characters, little-endian (12 bytes a block, at most about 3 KB a page).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.blocks.len() * BLOCK_BYTES);
        for (key, chars) in &self.blocks {
            bytes.extend_from_slice(&key.to_le_bytes());
            bytes.extend_from_slice(&chars.to_le_bytes());
        }
        bytes
    }

    /// The inverse of [`PageBlocks::to_bytes`]; `None` when `bytes` is not a whole number of
    /// blocks (a damaged row is skipped rather than misread). The bounds apply again, so a row
    /// written by another build cannot make a page heavier than this one allows.
    pub fn from_bytes(bytes: &[u8]) -> Option<PageBlocks> {
        if !bytes.len().is_multiple_of(BLOCK_BYTES) {
            return None;
        }
        let blocks = bytes.chunks_exact(BLOCK_BYTES).map(|block| {
            let (key, chars) = block.split_at(8);
            (
                u64::from_le_bytes(key.try_into().unwrap_or_default()),
                u32::from_le_bytes(chars.try_into().unwrap_or_default()),
            )
        });
        Some(PageBlocks::new(blocks))
    }

    /// Characters of this page's blocks that `other` carries too.
    fn shared_chars(&self, other: &PageBlocks) -> u64 {
        self.blocks
            .iter()
            .filter(|(key, _)| other.contains(*key))
            .map(|(_, chars)| u64::from(*chars))
            .sum()
    }
}

/// The key of a block's normalized text (`output::normalize`): 64-bit FNV-1a of its UTF-8
/// bytes. Hand-written rather than `DefaultHasher` because the keys are stored (the store's
/// `site_pages`) and must mean the same text after an upgrade; the standard hasher's output
/// may change between Rust releases.
pub fn block_key(normalized: &str) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    normalized.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// The blocks of `page` that at least [`MIN_OTHER_PAGES`] earlier pages of other stories on
/// the same site carry: the site's furniture. Empty when they would be most of the page.
pub fn repeated_blocks(page: &PageBlocks, earlier: &[Arc<PageBlocks>]) -> HashSet<u64> {
    let total = page.chars();
    if total == 0 || earlier.len() < MIN_OTHER_PAGES {
        return HashSet::new();
    }
    let other_stories: Vec<&PageBlocks> = earlier
        .iter()
        .map(Arc::as_ref)
        .filter(|other| tell_different_stories(page, other))
        .collect();
    let mut dropped_chars = 0u64;
    let repeated: HashSet<u64> = page
        .blocks
        .iter()
        .filter(|(key, _)| {
            other_stories
                .iter()
                .filter(|other| other.contains(*key))
                .count()
                >= MIN_OTHER_PAGES
        })
        .map(|&(key, chars)| {
            dropped_chars += u64::from(chars);
            key
        })
        .collect();
    if dropped_chars as f64 > MAX_DROPPED_SHARE * total as f64 {
        return HashSet::new();
    }
    repeated
}

/// Whether each page has enough text the other lacks (see [`OWN_TEXT_SHARE`]).
fn tell_different_stories(page: &PageBlocks, other: &PageBlocks) -> bool {
    let has_own_text = |one: &PageBlocks, two: &PageBlocks| {
        let total = one.chars();
        (total - one.shared_chars(two)) as f64 >= OWN_TEXT_SHARE * total as f64
    };
    has_own_text(page, other) && has_own_text(other, page)
}

/// The blocks of each host's last pages, most recent last.
#[derive(Debug, Default)]
pub struct SiteMemory {
    hosts: HashMap<String, HostPages>,
    /// Advances at every use, so the least recently used host can be found.
    clock: u64,
}

#[derive(Debug, Default)]
struct HostPages {
    pages: VecDeque<Arc<PageBlocks>>,
    used: u64,
}

impl SiteMemory {
    pub fn new() -> SiteMemory {
        SiteMemory::default()
    }

    /// The host's remembered pages, to hand to the extractor (cheap: shared, not copied).
    pub fn earlier(&mut self, host: &str) -> Vec<Arc<PageBlocks>> {
        self.clock += 1;
        match self.hosts.get_mut(host) {
            Some(entry) => {
                entry.used = self.clock;
                entry.pages.iter().cloned().collect()
            }
            None => Vec::new(),
        }
    }

    /// Whether the host has an entry (pages, or a load that found none): if not, the caller
    /// may look for its pages elsewhere (the store) and [`SiteMemory::load`] them.
    pub fn knows(&self, host: &str) -> bool {
        self.hosts.contains_key(host)
    }

    /// Sets a host's pages from elsewhere (oldest first), even none: the host is then known
    /// and not looked up again. A host that learnt pages meanwhile (another poll got there
    /// first) keeps them: they are at least as recent.
    pub fn load(&mut self, host: &str, pages: Vec<PageBlocks>) {
        if self.knows(host) {
            return;
        }
        self.clock += 1;
        if self.hosts.len() >= MAX_HOSTS {
            self.forget_least_recent();
        }
        let skip = pages.len().saturating_sub(PAGES_PER_HOST);
        let pages = pages
            .into_iter()
            .skip(skip)
            .filter(|page| !page.is_empty())
            .map(Arc::new)
            .collect();
        let entry = HostPages {
            pages,
            used: self.clock,
        };
        self.hosts.insert(host.to_owned(), entry);
    }

    /// Adds a page of `host`, forgetting its oldest page and the least recently used host
    /// beyond the bounds.
    pub fn remember(&mut self, host: &str, page: PageBlocks) {
        if page.is_empty() {
            return;
        }
        self.clock += 1;
        if !self.hosts.contains_key(host) && self.hosts.len() >= MAX_HOSTS {
            self.forget_least_recent();
        }
        let entry = self.hosts.entry(host.to_owned()).or_default();
        entry.used = self.clock;
        if entry.pages.len() >= PAGES_PER_HOST {
            entry.pages.pop_front();
        }
        entry.pages.push_back(Arc::new(page));
    }

    fn forget_least_recent(&mut self) {
        let oldest = self
            .hosts
            .iter()
            .min_by_key(|(_, entry)| entry.used)
            .map(|(host, _)| host.clone());
        if let Some(host) = oldest {
            self.hosts.remove(&host);
        }
    }

    /// Hosts remembered (for tests and the bound).
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(blocks: &[(&str, u32)]) -> PageBlocks {
        PageBlocks::new(blocks.iter().map(|(text, chars)| (block_key(text), *chars)))
    }

    fn shared(pages: &[PageBlocks]) -> Vec<Arc<PageBlocks>> {
        pages.iter().cloned().map(Arc::new).collect()
    }

    #[test]
    fn a_block_on_two_earlier_stories_is_the_sites() {
        let earlier = shared(&[
            page(&[("storyone", 900), ("aboutacme", 200)]),
            page(&[("storytwo", 800), ("aboutacme", 200)]),
        ]);
        let new = page(&[("storythree", 1000), ("aboutacme", 200)]);
        let repeated = repeated_blocks(&new, &earlier);
        assert_eq!(repeated, HashSet::from([block_key("aboutacme")]));
    }

    #[test]
    fn a_short_story_under_long_furniture_still_loses_the_furniture() {
        let earlier = shared(&[
            page(&[("storyone", 350), ("about", 150), ("contact", 150)]),
            page(&[("storytwo", 350), ("about", 150), ("contact", 150)]),
        ]);
        let new = page(&[("storythree", 350), ("about", 150), ("contact", 150)]);
        assert_eq!(repeated_blocks(&new, &earlier).len(), 2);
    }

    #[test]
    fn one_earlier_page_is_not_enough() {
        let earlier = shared(&[page(&[("storyone", 900), ("aboutacme", 200)])]);
        let new = page(&[("storythree", 1000), ("aboutacme", 200)]);
        assert!(repeated_blocks(&new, &earlier).is_empty());
    }

    #[test]
    fn versions_of_the_same_story_keep_their_paragraphs() {
        // Three updates of one story: most paragraphs repeat, none of them is furniture.
        let earlier = shared(&[
            page(&[("lead1", 300), ("facts", 600), ("quote", 300)]),
            page(&[("lead2", 300), ("facts", 600), ("quote", 300)]),
        ]);
        let new = page(&[("lead3", 300), ("facts", 600), ("quote", 300), ("new", 200)]);
        assert!(repeated_blocks(&new, &earlier).is_empty());
    }

    #[test]
    fn nothing_is_dropped_when_the_repeats_are_most_of_the_page() {
        // Each earlier page shares less than half of the new one (other stories), but between
        // them they repeat most of it: a patchwork of earlier pages, not an article.
        let earlier = shared(&[
            page(&[("a", 200), ("b", 200), ("x", 900)]),
            page(&[("b", 200), ("c", 200), ("y", 900)]),
            page(&[("c", 200), ("a", 200), ("z", 900)]),
        ]);
        let patchwork = page(&[("a", 200), ("b", 200), ("c", 200), ("d", 300)]);
        assert!(repeated_blocks(&patchwork, &earlier).is_empty());
        // With a longer text of its own, the same three blocks are the site's.
        let article = page(&[("a", 200), ("b", 200), ("c", 200), ("d", 500)]);
        assert_eq!(repeated_blocks(&article, &earlier).len(), 3);
    }

    #[test]
    fn memory_is_bounded_per_host_and_in_hosts() {
        let mut memory = SiteMemory::new();
        for number in 0..PAGES_PER_HOST + 5 {
            memory.remember("a.example", page(&[(&format!("p{number}"), 100)]));
        }
        assert_eq!(memory.earlier("a.example").len(), PAGES_PER_HOST);
        for number in 0..MAX_HOSTS + 10 {
            memory.remember(&format!("h{number}.example"), page(&[("p", 100)]));
        }
        assert_eq!(memory.hosts(), MAX_HOSTS);
        // The hosts seen last stay; the first ones went.
        assert_eq!(
            memory.earlier(&format!("h{}.example", MAX_HOSTS + 9)).len(),
            1
        );
        assert!(memory.earlier("h0.example").is_empty());
    }

    #[test]
    fn a_long_page_keeps_its_first_and_last_blocks() {
        let long = PageBlocks::new((0..10_000u64).map(|key| (key, 100)));
        assert_eq!(long.blocks.len(), MAX_BLOCKS_PER_PAGE);
        assert!(long.contains(0) && long.contains(9_999));
        assert!(!long.contains(5_000));
    }

    /// The keys are stored: a change of the hash would make every stored page unreadable in
    /// effect (no block would match again), so its values are pinned.
    #[test]
    fn block_keys_are_fnv1a_and_stable() {
        assert_eq!(block_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(block_key("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(block_key("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn page_blocks_survive_their_bytes() {
        let original = page(&[("storyone", 900), ("aboutacme", 200), ("contact", 70)]);
        let bytes = original.to_bytes();
        assert_eq!(bytes.len(), 3 * BLOCK_BYTES);
        assert_eq!(PageBlocks::from_bytes(&bytes), Some(original));
        assert_eq!(PageBlocks::from_bytes(&[]), Some(PageBlocks::default()));
        assert_eq!(PageBlocks::from_bytes(&bytes[..13]), None);
    }

    #[test]
    fn stored_pages_are_bounded_like_remembered_ones() {
        let mut bytes = Vec::new();
        for key in 0..10_000u64 {
            bytes.extend_from_slice(&key.to_le_bytes());
            bytes.extend_from_slice(&100u32.to_le_bytes());
        }
        let long = PageBlocks::from_bytes(&bytes).unwrap();
        assert_eq!(long.blocks.len(), MAX_BLOCKS_PER_PAGE);
        let mut memory = SiteMemory::new();
        let pages = (0..PAGES_PER_HOST + 3)
            .map(|number| page(&[(&format!("p{number}"), 100)]))
            .collect();
        memory.load("a.example", pages);
        let earlier = memory.earlier("a.example");
        assert_eq!(earlier.len(), PAGES_PER_HOST);
        // The newest pages are kept, oldest first.
        assert!(earlier[0].contains(block_key("p3")));
        assert!(
            earlier[PAGES_PER_HOST - 1].contains(block_key(&format!("p{}", PAGES_PER_HOST + 2)))
        );
    }

    #[test]
    fn a_load_marks_the_host_known_and_never_replaces_what_it_learnt() {
        let mut memory = SiteMemory::new();
        assert!(!memory.knows("a.example"));
        memory.load("a.example", Vec::new());
        assert!(memory.knows("a.example"));
        assert!(memory.earlier("a.example").is_empty());
        memory.remember("b.example", page(&[("new", 100)]));
        memory.load("b.example", vec![page(&[("stale", 100)])]);
        let earlier = memory.earlier("b.example");
        assert_eq!(earlier.len(), 1);
        assert!(earlier[0].contains(block_key("new")));
    }

    #[test]
    fn empty_pages_are_not_remembered() {
        let mut memory = SiteMemory::new();
        memory.remember("a.example", PageBlocks::default());
        assert_eq!(memory.hosts(), 0);
    }
}
