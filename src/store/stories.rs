//! Stories and the sources that carried them: a pass's atomic commit with cross-source matching,
//! and the reads the merged feed is built from.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::band_index::{self, DedupePolicy, Match};
use super::db::{Connection, Row, Value, values};
use super::sources::{SourceState, save_state};
use super::{StoreError, canonical, from_epoch, to_epoch, updates};
use crate::dedupe::{self, Fingerprint, Layer};
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
    /// A hash of the entry as its feed lists it (`dedupe::entry_version`): when a later
    /// pass brings the same key with another version, the source edited the entry.
    pub version: Option<i64>,
}

/// What a pass's commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Stories stored for the first time.
    pub new_stories: usize,
    /// Entries recognised as a story already stored (another URL, feed or site).
    pub merged: usize,
    /// Entries the source had already, edited since: their story was updated.
    pub updated: usize,
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
    /// Extracted plain text, what `include` / `exclude` filters read besides the title.
    pub text: Option<String>,
    pub sources: Vec<StoredSource>,
    /// Where the story stands in the newest-first order, to read on after it (`stories_before`).
    pub cursor: StoryCursor,
}

/// A story's place in the newest-first order: its publication time, then its row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoryCursor {
    pub published: i64,
    pub id: i64,
}

/// Keys asked about in one statement: a pass's lookups are a statement (and, on PostgreSQL, a
/// round trip and an autocommitted transaction) per block of keys, not per key.
const KEYS_PER_STATEMENT: usize = 128;

/// Runs `sql` (whose `{keys}` stands for `?2, ?3, ...`; `?1` is the source) over `keys` in
/// blocks, and gives every row. A block's list is padded to a power of two with its last key
/// (a repeat changes nothing in an `IN` list), so a few statement texts serve every feed's
/// length and stay prepared.
fn rows_by_keys(
    connection: &mut Connection,
    sql: &str,
    source: &str,
    keys: &[&str],
) -> Result<Vec<Row>, StoreError> {
    let mut rows = Vec::new();
    for block in keys.chunks(KEYS_PER_STATEMENT) {
        let Some(last) = block.last() else { continue };
        let width = block.len().next_power_of_two();
        let placeholders: Vec<String> = (0..width).map(|n| format!("?{}", n + 2)).collect();
        let mut parameters = vec![Value::from(source)];
        parameters.extend(block.iter().map(|key| Value::from(*key)));
        parameters.extend((block.len()..width).map(|_| Value::from(*last)));
        let sql = sql.replace("{keys}", &placeholders.join(", "));
        rows.extend(connection.query(&sql, &parameters)?);
    }
    Ok(rows)
}

/// Which of `keys` the source already has: stored, or stored once and pruned since (a
/// tombstone), so an entry its feed still lists never comes back as new.
pub fn known_keys(
    connection: &mut Connection,
    source: &str,
    keys: &[String],
) -> Result<HashSet<String>, StoreError> {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    rows_by_keys(
        connection,
        "SELECT entry_key FROM story_sources WHERE source = ?1 AND entry_key IN ({keys}) \
         UNION SELECT entry_key FROM pruned_entries WHERE source = ?1 AND entry_key IN ({keys})",
        source,
        &keys,
    )?
    .iter()
    .map(|row| row.get(0))
    .collect()
}

/// Which of the source's stored entries (`versions`: key, feed version) its feed has edited
/// since: stored with another version. An entry stored before versions were recorded is given
/// its version now, with no edit assumed (that would fetch every known page once again).
pub fn edited_entries(
    connection: &mut Connection,
    source: &str,
    versions: &[(String, i64)],
) -> Result<HashSet<String>, StoreError> {
    let keys: Vec<&str> = versions.iter().map(|(key, _)| key.as_str()).collect();
    let stored: HashMap<String, Option<i64>> = rows_by_keys(
        connection,
        "SELECT entry_key, content_hash FROM story_sources \
         WHERE source = ?1 AND entry_key IN ({keys})",
        source,
        &keys,
    )?
    .iter()
    .map(|row| Ok((row.get(0)?, row.get(1)?)))
    .collect::<Result<_, StoreError>>()?;
    let mut edited = HashSet::new();
    for (key, version) in versions {
        match stored.get(key) {
            Some(Some(stored)) if stored != version => {
                edited.insert(key.clone());
            }
            Some(None) => {
                connection.execute(
                    "UPDATE story_sources SET content_hash = ?3 WHERE source = ?1 AND entry_key = ?2",
                    values![source, key, *version],
                )?;
            }
            _ => {}
        }
    }
    Ok(edited)
}

/// The story already stored under any of these canonical URLs, if one is.
pub fn story_by_canonical(
    connection: &mut Connection,
    canonical_urls: &[String],
) -> Result<Option<i64>, StoreError> {
    // Stories of `dedupe = false` sources are never an answer.
    let queries = [
        "SELECT id FROM stories WHERE canonical_url = ?1 AND dedupe = 1 LIMIT 1",
        "SELECT ss.story_id FROM story_sources ss JOIN stories s ON s.id = ss.story_id \
         WHERE ss.canonical_url = ?1 AND s.dedupe = 1 LIMIT 1",
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
/// duplicates (same canonical URL, same text, or near-duplicate text, in that order) or stored
/// as a new story; an entry the source stored before whose feed version changed updates its
/// story; and the source's state is saved. Matching happens here, inside the write
/// transaction, on the persisted index, so two sources' concurrent passes carrying the same
/// story cannot both store it, and a pass that rolls back leaves nothing behind.
pub fn commit_pass(
    connection: &mut Connection,
    policy: &DedupePolicy,
    state: &SourceState,
    items: &[NewItem],
    now: DateTime<Utc>,
) -> Result<PassSummary, StoreError> {
    // A pass that brings nothing new matches nothing: it saves its source's state without
    // taking a turn on the write lock (most passes of a fleet at rest are such); the dedupe
    // window is pruned by the passes that write stories, the only ones that look in it.
    if items.is_empty() {
        return connection.source_transaction(|transaction| {
            save_state(transaction, state)?;
            Ok(PassSummary::default())
        });
    }
    // Immediate: the write lock is taken now, so no other process (a `poll` beside the daemon)
    // can commit between the reads that match duplicates and the writes that rely on them.
    connection.write_transaction(|transaction| {
        let summary = commit_pass_within(transaction, policy, state, items, now)?;
        prune_dedupe_window(transaction, policy, now)?;
        Ok(summary)
    })
}

/// A pass's items and its source's state, inside a write transaction the caller holds (one
/// pass's own, or a group's: `group_commit`).
pub(crate) fn commit_pass_within(
    transaction: &mut Connection,
    policy: &DedupePolicy,
    state: &SourceState,
    items: &[NewItem],
    now: DateTime<Utc>,
) -> Result<PassSummary, StoreError> {
    let mut summary = PassSummary::default();
    for item in items {
        commit_item(transaction, policy, state, item, now, &mut summary)?;
    }
    save_state(transaction, state)?;
    Ok(summary)
}

/// Drops the band rows of stories older than the dedupe window; once per transaction is enough.
pub(crate) fn prune_dedupe_window(
    transaction: &mut Connection,
    policy: &DedupePolicy,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    band_index::prune_window(transaction, policy, now)?;
    Ok(())
}

/// One item of a pass: an update of an entry the source has, a merge, or a new story.
fn commit_item(
    transaction: &mut Connection,
    policy: &DedupePolicy,
    state: &SourceState,
    item: &NewItem,
    now: DateTime<Utc>,
    summary: &mut PassSummary,
) -> Result<(), StoreError> {
    if let Some(member) = stored_member(transaction, &state.name, &item.entry_key)? {
        if updates::apply_update(transaction, &member, item, now)? {
            summary.updated += 1;
        }
        return Ok(());
    }
    if pruned_key(transaction, &state.name, &item.entry_key)? {
        return Ok(());
    }
    let source = policy.source(&state.name);
    let found = if source.dedupe {
        find_story(transaction, policy, item, now)?
    } else {
        None
    };
    match found {
        Some(found) => {
            if upgrade_story(transaction, found.story_id, item)?
                && let Some(fingerprint) = &item.fingerprint
            {
                band_index::index_story(transaction, found.story_id, fingerprint, to_epoch(now))?;
            }
            canonical::consider(transaction, policy, found.story_id, &state.name, item)?;
            insert_story_source(
                transaction,
                found.story_id,
                &state.name,
                item,
                Some(found),
                now,
            )?;
            summary.merged += 1;
        }
        None => {
            let story_id = insert_story(transaction, &state.name, item, source.dedupe, now)?;
            if source.dedupe
                && let Some(fingerprint) = &item.fingerprint
            {
                band_index::index_new_story(transaction, story_id, fingerprint, to_epoch(now))?;
            }
            insert_story_source(transaction, story_id, &state.name, item, None, now)?;
            summary.new_stories += 1;
        }
    }
    Ok(())
}

/// The stored story an item is the same story as, cheapest layer first: a canonical URL, then
/// its text (exact, then near-duplicate) in the window.
fn find_story(
    transaction: &mut Connection,
    policy: &DedupePolicy,
    item: &NewItem,
    now: DateTime<Utc>,
) -> Result<Option<Match>, StoreError> {
    if let Some(story_id) = story_by_canonical(transaction, &item.canonical_urls)? {
        return Ok(Some(Match {
            story_id,
            layer: Layer::Url,
            similarity: 1.0,
        }));
    }
    match &item.fingerprint {
        Some(fingerprint) => {
            band_index::find_match(transaction, policy, fingerprint, &item.title, now)
        }
        None => Ok(None),
    }
}

/// A stored entry of a source: which story it belongs to and the feed version it was stored
/// with.
pub(super) struct Member {
    pub story_id: i64,
    pub source: String,
    pub entry_key: String,
    pub version: Option<i64>,
}

fn stored_member(
    transaction: &mut Connection,
    source: &str,
    entry_key: &str,
) -> Result<Option<Member>, StoreError> {
    let row = transaction.query_opt(
        "SELECT story_id, content_hash FROM story_sources WHERE source = ?1 AND entry_key = ?2",
        values![source, entry_key],
    )?;
    row.map(|row| {
        Ok(Member {
            story_id: row.get(0)?,
            source: source.to_string(),
            entry_key: entry_key.to_string(),
            version: row.get(1)?,
        })
    })
    .transpose()
}

fn pruned_key(
    transaction: &mut Connection,
    source: &str,
    entry_key: &str,
) -> Result<bool, StoreError> {
    let sql = "SELECT 1 FROM pruned_entries WHERE source = ?1 AND entry_key = ?2";
    Ok(transaction
        .query_opt(sql, values![source, entry_key])?
        .is_some())
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
    dedupe: bool,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let row = transaction.query_one(
        "INSERT INTO stories (uid, title, link, canonical_url, published, updated, content_html, \
         summary, text, authors, categories, enclosures, image, fingerprint, extraction, \
         first_source, created, dedupe, text_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
         ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING id",
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
            i64::from(dedupe),
            // The exact hash in the row itself (not an update after it): only a story that may
            // be matched is found by it.
            item.fingerprint
                .as_ref()
                .filter(|_| dedupe)
                .and_then(band_index::exact_hash),
        ],
    )?;
    row.get(0)
}

pub(super) fn enclosures_to_json(enclosures: &[Enclosure]) -> String {
    enclosures_json(enclosures)
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

/// Records a source's entry of a story, with how it matched (`None`: it started the story).
fn insert_story_source(
    transaction: &mut Connection,
    story_id: i64,
    source: &str,
    item: &NewItem,
    found: Option<Match>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let layer = found.map_or(Layer::First, |found| found.layer);
    let permille = found.map(|found| (found.similarity * 1000.0).round() as i64);
    transaction.execute(
        "INSERT INTO story_sources (story_id, source, entry_key, link, canonical_url, \
         title, extraction, seen, layer, similarity_permille, content_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
        values![
            story_id,
            source,
            &item.entry_key,
            &item.link,
            item.canonical_urls.first(),
            &item.title,
            item.extraction.as_str(),
            to_epoch(now),
            layer.as_str(),
            permille,
            item.version,
        ],
    )?;
    Ok(())
}

/// The columns [`story_from_row`] reads, in its order.
pub(super) const STORY_COLUMNS: &str = "id, uid, title, link, published, updated, content_html, \
     summary, authors, categories, enclosures, image, text";

/// The newest `limit` stories (by published date), each with all its sources.
pub fn latest_stories(
    connection: &mut Connection,
    limit: usize,
) -> Result<Vec<StoredStory>, StoreError> {
    stories_before(connection, None, limit)
}

/// The `limit` stories that come after `after` in the newest-first order (from the newest when
/// `None`), each with all its sources: the river and the topic feeds read on batch by batch
/// until their filters have admitted enough.
pub fn stories_before(
    connection: &mut Connection,
    after: Option<StoryCursor>,
    limit: usize,
) -> Result<Vec<StoredStory>, StoreError> {
    let (published, id) =
        after.map_or((i64::MAX, i64::MAX), |cursor| (cursor.published, cursor.id));
    let rows = connection.query(
        &format!(
            "SELECT {STORY_COLUMNS} FROM stories \
             WHERE published < ?1 OR (published = ?1 AND id < ?2) \
             ORDER BY published DESC, id DESC LIMIT ?3"
        ),
        values![published, id, limit],
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
    let id: i64 = row.get(0)?;
    let published: i64 = row.get(4)?;
    Ok(StoredStory {
        uid: row.get(1)?,
        title: row.get(2)?,
        link: row.get(3)?,
        published: from_epoch(published),
        updated: from_epoch(row.get(5)?),
        content_html: row.get(6)?,
        summary: row.get(7)?,
        authors: json_list(8)?,
        categories: json_list(9)?,
        enclosures: enclosures_from_json(&row.get::<String>(10)?),
        image: row.get(11)?,
        text: row.get(12)?,
        sources: story_sources(connection, id)?,
        cursor: StoryCursor { published, id },
    })
}

fn story_sources(
    connection: &mut Connection,
    story_id: i64,
) -> Result<Vec<StoredSource>, StoreError> {
    connection
        .query(
            "SELECT ss.source, ss.link, s.url, s.feed_title, s.site_link FROM story_sources ss \
             JOIN stories st ON st.id = ss.story_id \
             LEFT JOIN sources s ON s.name = ss.source WHERE ss.story_id = ?1 \
             ORDER BY CASE WHEN ss.source = st.first_source THEN 0 ELSE 1 END, ss.seen, ss.rowid",
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
            version: None,
        }
    }

    #[test]
    fn a_pass_round_trips_and_merges_by_url_on_both_backends() {
        for store in crate::store::test_stores() {
            let backend = store.backend();
            let first = item("1", "https://a.example/1", "one");
            let summary = store
                .call_blocking(|connection| {
                    let policy = DedupePolicy::default();
                    let recent = &policy;
                    let state = SourceState::new("a", "https://a.example/feed");
                    let first_pass = commit_pass(
                        connection,
                        recent,
                        &state,
                        std::slice::from_ref(&first),
                        now(),
                    )?;
                    let again = commit_pass(connection, recent, &state, &[first], now())?;
                    assert_eq!(again, PassSummary::default(), "{backend:?}: known key");
                    let state = SourceState::new("b", "https://b.example/feed");
                    let copy = item("x", "https://a.example/1", "one");
                    let merged = commit_pass(connection, recent, &state, &[copy], now())?;
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

    /// The lookups of a pass run a statement per block of keys: across block boundaries and
    /// padded blocks, exactly the stored keys are known and exactly the changed ones edited.
    #[test]
    fn keys_are_looked_up_in_blocks_on_both_backends() {
        for store in crate::store::test_stores() {
            let backend = store.backend();
            let (known, edited) = store
                .call_blocking(|connection| {
                    let stored: Vec<NewItem> = (0..150)
                        .filter(|n| n % 3 == 0)
                        .map(|n| {
                            let mut stored =
                                item(&format!("k{n}"), &format!("https://a.example/{n}"), "t");
                            stored.version = Some(n);
                            stored
                        })
                        .collect();
                    let state = SourceState::new("a", "https://a.example/feed");
                    commit_pass(connection, &DedupePolicy::default(), &state, &stored, now())?;
                    let keys: Vec<String> = (0..300).map(|n| format!("k{n}")).collect();
                    let known = known_keys(connection, "a", &keys)?;
                    let versions: Vec<(String, i64)> = (0..150)
                        .map(|n| (format!("k{n}"), if n == 3 || n == 129 { -1 } else { n }))
                        .collect();
                    Ok((known, edited_entries(connection, "a", &versions)?))
                })
                .unwrap();
            let expected: HashSet<String> = (0..150)
                .filter(|n| n % 3 == 0)
                .map(|n| format!("k{n}"))
                .collect();
            assert_eq!(known, expected, "{backend:?}");
            let edited_expected: HashSet<String> = ["k3".to_string(), "k129".to_string()].into();
            assert_eq!(edited, edited_expected, "{backend:?}");
        }
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
                            let policy = DedupePolicy::default();
                            commit_pass(connection, &policy, &state, &items, now())
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

    /// Walking the store newest first in small batches finds every story once, ties on the
    /// publication time included, on both backends; the per-day counts see the entries.
    #[test]
    fn stories_before_walks_every_story_once_and_days_count_entries() {
        for store in crate::store::test_stores() {
            let backend = store.backend();
            let items: Vec<NewItem> = (0..5)
                .map(|index| {
                    let mut item = item(
                        &index.to_string(),
                        &format!("https://a.example/{index}"),
                        &format!("story number {index} with its own words"),
                    );
                    item.published = from_epoch(1_700_000_000 + 3600 * (index / 2));
                    item
                })
                .collect();
            let (walked, per_day) = store
                .call_blocking(move |connection| {
                    let state = SourceState::new("a", "https://a.example/feed");
                    commit_pass(connection, &DedupePolicy::default(), &state, &items, now())?;
                    let mut walked = Vec::new();
                    let mut after = None;
                    loop {
                        let batch = stories_before(connection, after, 2)?;
                        let Some(last) = batch.last() else { break };
                        after = Some(last.cursor);
                        walked.extend(batch.into_iter().map(|story| story.title));
                    }
                    let per_day = crate::store::entries_per_day(
                        connection,
                        now() + chrono::Duration::hours(1),
                        14,
                    )?;
                    Ok((walked, per_day))
                })
                .unwrap();
            assert_eq!(
                walked,
                ["title 4", "title 3", "title 2", "title 1", "title 0"],
                "{backend:?}"
            );
            let mut expected = vec![0; 14];
            expected[13] = 5;
            assert_eq!(per_day.get("a"), Some(&expected), "{backend:?}");
        }
    }
}
