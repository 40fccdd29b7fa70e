//! Stories and the sources that carried them: a pass's atomic commit with cross-source matching,
//! and the reads the merged feed is built from.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::db::{Connection, Row, values};
use super::recent::RecentFingerprints;
use super::sources::{SourceState, save_state};
use super::{StoreError, from_epoch, to_epoch};
use crate::dedupe::{self, Fingerprint, FingerprintIndex};
use crate::model::{Enclosure, ExtractionStatus};

/// One new entry of a source's pass, ready to be stored or merged into a known story.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// The key the entry is known by within its source (`dedupe::entry_key`).
    pub entry_key: String,
    pub link: Option<String>,
    /// Canonical URLs the story is known by: the entry link's and the page's `rel=canonical`.
    pub canonical_urls: Vec<String>,
    pub title: String,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub content_html: Option<String>,
    pub summary: Option<String>,
    /// Extracted plain text (for fingerprints and future matching).
    pub text: Option<String>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub image: Option<String>,
    pub fingerprint: Option<Fingerprint>,
    pub extraction: ExtractionStatus,
}

/// What a pass's commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Stories stored for the first time.
    pub new_stories: usize,
    /// Entries recognised as a story already stored (another URL, feed or site).
    pub merged: usize,
}

/// One source's appearance of a stored story.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSource {
    pub name: String,
    pub link: Option<String>,
    pub feed_url: Option<String>,
    pub feed_title: Option<String>,
    pub site_link: Option<String>,
}

/// A stored story with every source that carried it, first source first.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredStory {
    pub uid: String,
    pub title: String,
    pub link: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub content_html: Option<String>,
    pub summary: Option<String>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub image: Option<String>,
    pub sources: Vec<StoredSource>,
}

/// Which of `keys` the source already has: stored, or stored once and pruned since (a
/// tombstone), so an entry its feed still lists never comes back as new.
pub fn known_keys(
    connection: &mut Connection,
    source: &str,
    keys: &[String],
) -> Result<HashSet<String>, StoreError> {
    let mut known = HashSet::new();
    for key in keys {
        let sql = "SELECT 1 FROM story_sources WHERE source = ?1 AND entry_key = ?2 \
                   UNION ALL SELECT 1 FROM pruned_entries WHERE source = ?1 AND entry_key = ?2";
        if connection.query_opt(sql, values![source, key])?.is_some() {
            known.insert(key.clone());
        }
    }
    Ok(known)
}

/// The story already stored under any of these canonical URLs, if one is.
pub fn story_by_canonical(
    connection: &mut Connection,
    canonical_urls: &[String],
) -> Result<Option<i64>, StoreError> {
    let queries = [
        "SELECT id FROM stories WHERE canonical_url = ?1 LIMIT 1",
        "SELECT story_id FROM story_sources WHERE canonical_url = ?1 LIMIT 1",
    ];
    for url in canonical_urls {
        for sql in queries {
            if let Some(row) = connection.query_opt(sql, values![url])? {
                return Ok(Some(row.get(0)?));
            }
        }
    }
    Ok(None)
}

/// Commits one source's pass atomically: every new item is either merged into the story it
/// duplicates (same canonical URL, or same text by fingerprint) or stored as a new story, and
/// the source's state is saved. Matching happens here, inside the write transaction, so two
/// sources' concurrent passes carrying the same story cannot both store it.
pub fn commit_pass(
    connection: &mut Connection,
    recent: &mut RecentFingerprints,
    state: &SourceState,
    items: &[NewItem],
    now: DateTime<Utc>,
) -> Result<PassSummary, StoreError> {
    // Immediate: the write lock is taken now, so no other process (a `poll` beside the daemon)
    // can commit between the reads that match duplicates and the writes that rely on them.
    let mut fingerprinted: Vec<(i64, Fingerprint)> = Vec::new();
    let summary = connection.write_transaction(|transaction| {
        pass_in_transaction(transaction, recent, state, items, now, &mut fingerprinted)
    })?;
    for (story_id, fingerprint) in fingerprinted {
        recent.remember(story_id, now, fingerprint);
    }
    Ok(summary)
}

/// `commit_pass`'s work inside its transaction; the stories that gained a fingerprint are
/// pushed to `fingerprinted`, for the in-memory index to learn once the transaction commits.
fn pass_in_transaction(
    transaction: &mut Connection,
    recent: &mut RecentFingerprints,
    state: &SourceState,
    items: &[NewItem],
    now: DateTime<Utc>,
    fingerprinted: &mut Vec<(i64, Fingerprint)>,
) -> Result<PassSummary, StoreError> {
    let mut summary = PassSummary::default();
    let mut refreshed = false;
    // Stories this pass stored, searched before the recent ones: `recent` holds committed
    // stories only, so a pass that rolls back leaves nothing in it.
    let mut stored_now: FingerprintIndex<i64> = FingerprintIndex::default();
    // Older stories this pass gave a first fingerprint, for the cache once committed.
    for item in items {
        if !known_keys(
            transaction,
            &state.name,
            std::slice::from_ref(&item.entry_key),
        )?
        .is_empty()
        {
            continue;
        }
        let mut existing = story_by_canonical(transaction, &item.canonical_urls)?;
        if existing.is_none()
            && let Some(fingerprint) = &item.fingerprint
        {
            if !refreshed {
                recent.refresh(transaction, now)?;
                refreshed = true;
            }
            existing = stored_now.find_same_story(fingerprint);
            // A story pruned by another process (`tributary prune` beside the daemon) may
            // still be in this process's index: it is forgotten, and the search goes on.
            while existing.is_none()
                && let Some(story_id) = recent.find_same_story(fingerprint)
            {
                if story_exists(transaction, story_id)? {
                    existing = Some(story_id);
                } else {
                    recent.forget(story_id);
                }
            }
        }
        let story_id = match existing {
            Some(story_id) => {
                if upgrade_story(transaction, story_id, item)?
                    && let Some(fingerprint) = &item.fingerprint
                {
                    fingerprinted.push((story_id, fingerprint.clone()));
                }
                summary.merged += 1;
                story_id
            }
            None => {
                let story_id = insert_story(transaction, &state.name, item, now)?;
                if let Some(fingerprint) = &item.fingerprint {
                    stored_now.push(story_id, fingerprint.clone());
                }
                summary.new_stories += 1;
                story_id
            }
        };
        insert_story_source(transaction, story_id, &state.name, item, now)?;
    }
    save_state(transaction, state)?;
    Ok(summary)
}

fn story_exists(transaction: &mut Connection, story_id: i64) -> Result<bool, StoreError> {
    let sql = "SELECT 1 FROM stories WHERE id = ?1";
    Ok(transaction.query_opt(sql, values![story_id])?.is_some())
}

/// A stable id for a story, as a `urn:uuid:` (what feed validators and readers expect of an
/// Atom id / RSS guid): 128 bits hashed from where the story was first seen.
fn story_uid(source: &str, entry_key: &str) -> String {
    let seed = format!("{source}\u{0}{entry_key}");
    let high = dedupe::stable_hash(seed.as_bytes());
    let low = dedupe::stable_hash(format!("{seed}\u{0}tributary").as_bytes());
    // Version 8 (custom) and the RFC 4122 variant bits, so the value is a well-formed UUID.
    let high = (high & !0xf000) | 0x8000;
    let low = (low & !(0xc << 60)) | (0x8 << 60);
    format!(
        "urn:uuid:{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

fn enclosures_json(enclosures: &[Enclosure]) -> String {
    let values: Vec<serde_json::Value> = enclosures
        .iter()
        .map(|enclosure| {
            serde_json::json!({
                "url": enclosure.url,
                "type": enclosure.mime_type,
                "length": enclosure.length,
            })
        })
        .collect();
    serde_json::Value::Array(values).to_string()
}

fn enclosures_from_json(text: &str) -> Vec<Enclosure> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    values
        .iter()
        .filter_map(|value| {
            Some(Enclosure {
                url: value.get("url")?.as_str()?.to_string(),
                mime_type: value
                    .get("type")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                length: value.get("length").and_then(|v| v.as_u64()),
            })
        })
        .collect()
}

fn insert_story(
    transaction: &mut Connection,
    source: &str,
    item: &NewItem,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let row = transaction.query_one(
        "INSERT INTO stories (uid, title, link, canonical_url, published, updated, content_html, \
         summary, text, authors, categories, enclosures, image, fingerprint, extraction, \
         first_source, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
         ?14, ?15, ?16, ?17) RETURNING id",
        values![
            story_uid(source, &item.entry_key),
            &item.title,
            &item.link,
            item.canonical_urls.first(),
            to_epoch(item.published),
            to_epoch(item.updated),
            &item.content_html,
            &item.summary,
            &item.text,
            serde_json::to_string(&item.authors).unwrap_or_default(),
            serde_json::to_string(&item.categories).unwrap_or_default(),
            enclosures_json(&item.enclosures),
            &item.image,
            item.fingerprint.as_ref().map(Fingerprint::to_bytes),
            item.extraction.as_str(),
            source,
            to_epoch(now),
        ],
    )?;
    row.get(0)
}

/// A story first stored with only its feed's summary takes the full text a later source
/// extracted, so the merged entry is the best copy any source offered. Returns whether that
/// gave the story its first fingerprint (which the in-memory index must then learn).
fn upgrade_story(
    transaction: &mut Connection,
    story_id: i64,
    item: &NewItem,
) -> Result<bool, StoreError> {
    if item.extraction != ExtractionStatus::Extracted {
        return Ok(false);
    }
    let had_no_fingerprint: bool = transaction
        .query_one(
            "SELECT fingerprint IS NULL FROM stories WHERE id = ?1",
            values![story_id],
        )?
        .get(0)?;
    let changed = transaction.execute(
        "UPDATE stories SET content_html = ?2, text = ?3, extraction = ?4, \
         fingerprint = COALESCE(fingerprint, ?5) WHERE id = ?1 AND extraction != ?4",
        values![
            story_id,
            &item.content_html,
            &item.text,
            ExtractionStatus::Extracted.as_str(),
            item.fingerprint.as_ref().map(Fingerprint::to_bytes),
        ],
    )?;
    Ok(changed > 0 && had_no_fingerprint && item.fingerprint.is_some())
}

fn insert_story_source(
    transaction: &mut Connection,
    story_id: i64,
    source: &str,
    item: &NewItem,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    transaction.execute(
        "INSERT INTO story_sources (story_id, source, entry_key, link, canonical_url, \
         title, extraction, seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
        values![
            story_id,
            source,
            &item.entry_key,
            &item.link,
            item.canonical_urls.first(),
            &item.title,
            item.extraction.as_str(),
            to_epoch(now),
        ],
    )?;
    Ok(())
}

/// The columns [`story_from_row`] reads, in its order.
pub(super) const STORY_COLUMNS: &str = "id, uid, title, link, published, updated, content_html, \
     summary, authors, categories, enclosures, image";

/// The newest `limit` stories (by published date), each with all its sources.
pub fn latest_stories(
    connection: &mut Connection,
    limit: usize,
) -> Result<Vec<StoredStory>, StoreError> {
    let rows = connection.query(
        &format!("SELECT {STORY_COLUMNS} FROM stories ORDER BY published DESC, id DESC LIMIT ?1"),
        values![limit],
    )?;
    rows.iter()
        .map(|row| story_from_row(connection, row))
        .collect()
}

/// A story from a row that starts with [`STORY_COLUMNS`], with all its sources.
pub(super) fn story_from_row(
    connection: &mut Connection,
    row: &Row,
) -> Result<StoredStory, StoreError> {
    let json_list = |index: usize| -> Result<Vec<String>, StoreError> {
        Ok(serde_json::from_str(&row.get::<String>(index)?).unwrap_or_default())
    };
    Ok(StoredStory {
        uid: row.get(1)?,
        title: row.get(2)?,
        link: row.get(3)?,
        published: from_epoch(row.get(4)?),
        updated: from_epoch(row.get(5)?),
        content_html: row.get(6)?,
        summary: row.get(7)?,
        authors: json_list(8)?,
        categories: json_list(9)?,
        enclosures: enclosures_from_json(&row.get::<String>(10)?),
        image: row.get(11)?,
        sources: story_sources(connection, row.get(0)?)?,
    })
}

fn story_sources(
    connection: &mut Connection,
    story_id: i64,
) -> Result<Vec<StoredSource>, StoreError> {
    connection
        .query(
            "SELECT ss.source, ss.link, s.url, s.feed_title, s.site_link FROM story_sources ss \
             LEFT JOIN sources s ON s.name = ss.source WHERE ss.story_id = ?1 \
             ORDER BY ss.seen, ss.rowid",
            values![story_id],
        )?
        .iter()
        .map(|row| {
            Ok(StoredSource {
                name: row.get(0)?,
                link: row.get(1)?,
                feed_url: row.get(2)?,
                feed_title: row.get(3)?,
                site_link: row.get(4)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn story_ids_are_stable_well_formed_uuids() {
        let id = story_uid("quotidien", "id:42");
        assert_eq!(id, story_uid("quotidien", "id:42"));
        assert_ne!(id, story_uid("quotidien", "id:43"));
        let uuid = id.strip_prefix("urn:uuid:").unwrap();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('8'), "version 8: {id}");
        assert!(
            matches!(&groups[3][..1], "8" | "9" | "a" | "b"),
            "variant: {id}"
        );
    }

    fn item(key: &str, url: &str, text: &str) -> NewItem {
        NewItem {
            entry_key: key.to_string(),
            link: Some(url.to_string()),
            canonical_urls: vec![url.to_string()],
            title: format!("title {key}"),
            published: from_epoch(1_700_000_000),
            updated: from_epoch(1_700_000_100),
            content_html: Some(format!("<p>{text}</p>")),
            summary: Some("summary".into()),
            text: Some(text.to_string()),
            authors: vec!["Ann".into()],
            categories: vec!["news".into()],
            enclosures: vec![Enclosure {
                url: "https://a.example/a.mp3".into(),
                mime_type: Some("audio/mpeg".into()),
                length: Some(42),
            }],
            image: None,
            fingerprint: None,
            extraction: ExtractionStatus::Extracted,
        }
    }

    #[test]
    fn a_pass_round_trips_and_merges_by_url_on_both_backends() {
        for store in crate::store::test_stores() {
            let backend = store.backend();
            let first = item("1", "https://a.example/1", "one");
            let summary = store
                .call_blocking(|connection| {
                    let mut recent = RecentFingerprints::default();
                    let state = SourceState::new("a", "https://a.example/feed");
                    let first_pass = commit_pass(
                        connection,
                        &mut recent,
                        &state,
                        std::slice::from_ref(&first),
                        now(),
                    )?;
                    let again = commit_pass(connection, &mut recent, &state, &[first], now())?;
                    assert_eq!(again, PassSummary::default(), "{backend:?}: known key");
                    let state = SourceState::new("b", "https://b.example/feed");
                    let copy = item("x", "https://a.example/1", "one");
                    let merged = commit_pass(connection, &mut recent, &state, &[copy], now())?;
                    Ok((first_pass, merged))
                })
                .unwrap();
            assert_eq!(summary.0.new_stories, 1, "{backend:?}");
            assert_eq!(summary.1.merged, 1, "{backend:?}");
            let stories = store
                .call_blocking(|connection| latest_stories(connection, 10))
                .unwrap();
            assert_eq!(stories.len(), 1, "{backend:?}");
            let story = &stories[0];
            assert_eq!(story.title, "title 1");
            assert_eq!(story.published, from_epoch(1_700_000_000));
            assert_eq!(story.authors, ["Ann"]);
            assert_eq!(story.enclosures[0].length, Some(42));
            let names: Vec<&str> = story.sources.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["a", "b"], "{backend:?}: sources in the order seen");
        }
    }

    fn now() -> DateTime<Utc> {
        from_epoch(1_700_000_200)
    }

    /// Two instances on one PostgreSQL database commit the same story at the same moment: the
    /// write lock makes the duplicate check and the insert atomic, so it is stored once.
    #[test]
    fn concurrent_instances_store_a_story_once() {
        let url = crate::store::test_cluster::fresh_database();
        let stores: Vec<crate::store::Store> = (0..4)
            .map(|_| crate::store::Store::open_postgres(&url).unwrap())
            .collect();
        let barrier = std::sync::Barrier::new(stores.len());
        std::thread::scope(|scope| {
            for (index, store) in stores.iter().enumerate() {
                let barrier = &barrier;
                scope.spawn(move || {
                    let items: Vec<NewItem> = (0..20)
                        .map(|n| item(&format!("{n}"), &format!("https://w.example/{n}"), "w"))
                        .collect();
                    let state = SourceState::new(&format!("s{index}"), "https://s.example/");
                    barrier.wait();
                    store
                        .call_blocking(|connection| {
                            let mut recent = RecentFingerprints::default();
                            commit_pass(connection, &mut recent, &state, &items, now())
                        })
                        .unwrap();
                });
            }
        });
        let stories = stores[0]
            .call_blocking(|connection| latest_stories(connection, 100))
            .unwrap();
        assert_eq!(stories.len(), 20);
        assert!(stories.iter().all(|story| story.sources.len() == 4));
    }
}
