//! The fingerprints of recent stories, kept in memory between passes and indexed by hash
//! (`dedupe::FingerprintIndex`).
//!
//! Every new text is matched against the stories of the last [`WINDOW_SECONDS`] (at most
//! [`WINDOW_STORIES`]): reading and decoding all of them from SQLite for each source's pass,
//! then comparing with each, would make a first poll of many feeds quadratic. The cache is refreshed at the start of each pass,
//! inside its transaction, with the stories committed since (by this process or another one,
//! such as a `poll` beside the daemon), so it only ever holds committed rows: a pass that rolls
//! back leaves nothing in it.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};

use super::db::{Connection, values};
use super::{StoreError, to_epoch};
use crate::dedupe::{Fingerprint, FingerprintIndex};

/// How far back fingerprints are compared: wire copy is republished within days, not months.
pub const WINDOW_SECONDS: i64 = 14 * 24 * 3600;
/// Cap on the stories compared, which bounds memory (about 2.5 KB each) and time per text.
pub const WINDOW_STORIES: usize = 5000;

/// Deleted stories tolerated in the index before it is rebuilt without them.
const COMPACT_AFTER: usize = 64;

/// Recent stories with a fingerprint, oldest first (ascending id).
#[derive(Default)]
pub struct RecentFingerprints {
    index: FingerprintIndex<i64>,
    /// When each indexed story was created, in the index's order.
    created: VecDeque<i64>,
    /// The largest story id read so far: later refreshes read only newer rows.
    max_id: i64,
    /// Indexed stories deleted since (pruned): never an answer, dropped from here when the
    /// window slides past them.
    deleted: HashSet<i64>,
}

impl RecentFingerprints {
    /// Reads the stories committed since the last refresh and forgets those out of the window.
    pub fn refresh(
        &mut self,
        connection: &mut Connection,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let window_start = to_epoch(now) - WINDOW_SECONDS;
        let rows = connection.query(
            "SELECT id, created, fingerprint FROM stories \
             WHERE id > ?1 AND fingerprint IS NOT NULL AND created >= ?2 \
             ORDER BY id DESC LIMIT ?3",
            values![self.max_id, window_start, WINDOW_STORIES],
        )?;
        let mut newer = Vec::new();
        for row in rows {
            let (id, created, bytes): (i64, i64, Vec<u8>) = (row.get(0)?, row.get(1)?, row.get(2)?);
            self.max_id = self.max_id.max(id);
            // Bytes of another format version are skipped, not an error: the story stays
            // matchable by URL.
            if let Some(fingerprint) = Fingerprint::from_bytes(&bytes) {
                newer.push((id, created, fingerprint));
            }
        }
        for (id, created, fingerprint) in newer.into_iter().rev() {
            self.add(id, created, fingerprint);
        }
        self.forget_before(window_start);
        Ok(())
    }

    /// Adds a fingerprint the store gave to an older story (a merge brought its first long
    /// text), which a refresh, reading only new rows, would not see.
    pub fn remember(&mut self, id: i64, created: DateTime<Utc>, fingerprint: Fingerprint) {
        self.add(id, to_epoch(created), fingerprint);
        self.forget_before(i64::MIN);
    }

    /// The newest recent story that is the same as `fingerprint` (`dedupe::is_same_story`).
    pub fn find_same_story(&self, fingerprint: &Fingerprint) -> Option<i64> {
        if self.deleted.is_empty() {
            return self.index.find_same_story(fingerprint);
        }
        self.index
            .find_same_story_among(fingerprint, |id| !self.deleted.contains(&id))
    }

    /// A story was deleted (retention): it must never be matched again. Deleted stories are
    /// skipped until they are half the index, which is then rebuilt without them, so memory
    /// follows the live stories.
    pub fn forget(&mut self, id: i64) {
        if !self.index.contains(id) {
            return;
        }
        self.deleted.insert(id);
        if self.deleted.len() >= COMPACT_AFTER && self.deleted.len() * 2 >= self.index.len() {
            let start = std::time::Instant::now();
            let deleted = std::mem::take(&mut self.deleted);
            let kept = self.index.retain(|id| !deleted.contains(&id));
            let mut position = 0;
            self.created.retain(|_| {
                position += 1;
                kept[position - 1]
            });
            tracing::debug!(
                stories = self.index.len(),
                ms = start.elapsed().as_secs_f64() * 1000.0,
                "fingerprint index rebuilt without deleted stories"
            );
        }
    }

    fn add(&mut self, id: i64, created: i64, fingerprint: Fingerprint) {
        self.index.push(id, fingerprint);
        self.created.push_back(created);
    }

    fn forget_before(&mut self, window_start: i64) {
        while self
            .created
            .front()
            .is_some_and(|created| *created < window_start)
            || self.created.len() > WINDOW_STORIES
        {
            if let Some(id) = self.index.oldest() {
                self.deleted.remove(&id);
            }
            self.index.pop_oldest();
            self.created.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ExtractionStatus;
    use crate::store::{NewItem, SourceState, Store, commit_pass};

    fn words(seed: usize, count: usize) -> String {
        (0..count)
            .map(|index| format!("s{seed}w{index}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn item(key: &str, url: &str, text: &str, extraction: ExtractionStatus) -> NewItem {
        NewItem {
            entry_key: key.to_string(),
            link: Some(url.to_string()),
            canonical_urls: vec![url.to_string()],
            title: key.to_string(),
            published: Utc::now(),
            updated: Utc::now(),
            content_html: Some(format!("<p>{text}</p>")),
            summary: None,
            text: Some(text.to_string()),
            authors: Vec::new(),
            categories: Vec::new(),
            enclosures: Vec::new(),
            image: None,
            fingerprint: crate::dedupe::fingerprint(text),
            extraction,
        }
    }

    fn extracted(key: &str, url: &str, text: &str) -> NewItem {
        item(key, url, text, ExtractionStatus::Extracted)
    }

    fn source(name: &str) -> SourceState {
        SourceState {
            name: name.to_string(),
            url: format!("https://{name}.example/feed"),
            ..SourceState::default()
        }
    }

    fn commit(
        store: &Store,
        recent: &mut RecentFingerprints,
        name: &str,
        items: &[NewItem],
    ) -> (usize, usize) {
        let summary = store
            .call_blocking(|connection| {
                commit_pass(connection, recent, &source(name), items, Utc::now())
            })
            .unwrap();
        (summary.new_stories, summary.merged)
    }

    #[test]
    fn stories_committed_by_another_process_are_matched() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("t.db");
        let url = crate::store::test_cluster::fresh_database();
        let pairs = [
            (Store::open(&path).unwrap(), Store::open(&path).unwrap()),
            (
                Store::open_postgres(&url).unwrap(),
                Store::open_postgres(&url).unwrap(),
            ),
        ];
        for (daemon, other) in pairs {
            matched_across_processes(&daemon, &other);
        }
    }

    fn matched_across_processes(daemon: &Store, other: &Store) {
        let (mut daemon_cache, mut other_cache) =
            (RecentFingerprints::default(), RecentFingerprints::default());
        let story = words(1, 300);
        // The daemon's cache is filled first (empty), then another process stores the story.
        let first = extracted("a", "https://a.example/1", &words(2, 300));
        assert_eq!(commit(daemon, &mut daemon_cache, "a", &[first]), (1, 0));
        let wire = extracted("b", "https://b.example/x", &story);
        assert_eq!(commit(other, &mut other_cache, "b", &[wire]), (1, 0));
        let copy = extracted("c", "https://c.example/y", &format!("{story} AFP"));
        assert_eq!(commit(daemon, &mut daemon_cache, "c", &[copy]), (0, 1));
    }

    #[test]
    fn a_first_fingerprint_given_by_a_merge_is_remembered() {
        for store in crate::store::test_stores() {
            first_fingerprint_remembered(&store);
        }
    }

    fn first_fingerprint_remembered(store: &Store) {
        let mut cache = RecentFingerprints::default();
        let story = words(3, 300);
        // Stored from a feed with a teaser only: no fingerprint.
        let teaser = item(
            "t",
            "https://a.example/s",
            "short teaser",
            ExtractionStatus::FeedFallback,
        );
        assert_eq!(commit(store, &mut cache, "a", &[teaser]), (1, 0));
        // Two unrelated stories: the second pass refreshes the cache past the teaser's row.
        for (name, seed) in [("x", 4), ("y", 5)] {
            let other = extracted(
                name,
                &format!("https://{name}.example/o"),
                &words(seed, 300),
            );
            assert_eq!(commit(store, &mut cache, name, &[other]), (1, 0));
        }
        // Matched by URL, it brings the full text and the story's first fingerprint.
        let full = extracted("f", "https://a.example/s", &story);
        assert_eq!(commit(store, &mut cache, "b", &[full]), (0, 1));
        // A copy under another URL is now matched by that fingerprint.
        let copy = extracted("c", "https://c.example/z", &story);
        assert_eq!(commit(store, &mut cache, "c", &[copy]), (0, 1));
    }

    #[test]
    fn the_window_keeps_the_newest_stories() {
        for store in crate::store::test_stores() {
            window_keeps_newest(&store);
        }
    }

    fn window_keeps_newest(store: &Store) {
        let mut cache = RecentFingerprints::default();
        let items: Vec<NewItem> = (0..WINDOW_STORIES + 3)
            .map(|index| {
                let key = format!("k{index}");
                extracted(
                    &key,
                    &format!("https://a.example/{index}"),
                    &words(index + 10, 50),
                )
            })
            .collect();
        commit(store, &mut cache, "a", &items);
        store
            .call_blocking(|connection| cache.refresh(connection, Utc::now()))
            .unwrap();
        assert_eq!(cache.index.len(), WINDOW_STORIES);
        // The three oldest are the ones left out.
        assert_eq!(cache.index.oldest(), Some(4));
    }
}
