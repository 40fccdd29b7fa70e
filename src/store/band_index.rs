//! The persisted dedupe index: each fingerprinted story's band hashes by day, and the lookups
//! that find the story a new text duplicates (exact text, then near-duplicate text).
//!
//! Checking a new entry is one indexed query for its exact hash and one for its band hashes
//! (`story_bands`' primary key starts with the hash), then the exact comparison of a few
//! candidates' sketches: its cost depends on the entry and on how many stories share its
//! hashes, not on how many stories the window holds. The window (`[dedupe] window`) is the
//! only bound: the rows of stories created before it are deleted. Everything lives in the store, inside
//! the pass's transaction, so a pass that rolls back leaves nothing, another process's
//! commits are seen at once, and a deleted story takes its rows with it (`ON DELETE CASCADE`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::StoreError;
use super::db::{Backend, Connection, Value, values};
use super::to_epoch;
use crate::dedupe::{
    Candidate, CanonicalRule, Fingerprint, Layer, MatchRules, Verdict, band_hashes, decide,
};

/// Stories sharing the most band hashes with a new text that are compared exactly. Copies of
/// one story are one stored story, so only distinct stories compete for these places.
const CANDIDATES: usize = 24;

/// Band rows written per statement.
const ROWS_PER_INSERT: usize = 200;

const SECONDS_PER_DAY: i64 = 86_400;

/// One source's dedupe settings (`dedupe`, `priority` on a source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourcePolicy {
    /// Whether the source's entries may be merged with others at all.
    pub dedupe: bool,
    /// For the `priority` canonical rule: the higher, the more its entry is preferred.
    pub priority: i64,
}

impl Default for SourcePolicy {
    fn default() -> Self {
        SourcePolicy {
            dedupe: true,
            priority: 0,
        }
    }
}

/// Everything the store needs to match and merge entries, from `[dedupe]` and the sources.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupePolicy {
    pub rules: MatchRules,
    /// How far back texts are compared, in days (`[dedupe] window`).
    pub window_days: i64,
    pub canonical: CanonicalRule,
    /// Per source name; a source not listed has the defaults.
    pub sources: HashMap<String, SourcePolicy>,
}

impl Default for DedupePolicy {
    fn default() -> Self {
        DedupePolicy {
            rules: MatchRules::default(),
            window_days: 14,
            canonical: CanonicalRule::default(),
            sources: HashMap::new(),
        }
    }
}

impl DedupePolicy {
    pub fn source(&self, name: &str) -> SourcePolicy {
        self.sources.get(name).copied().unwrap_or_default()
    }

    /// The first day inside the window at `now`.
    fn first_day(&self, now: DateTime<Utc>) -> i64 {
        day_of(to_epoch(now)) - self.window_days
    }
}

fn day_of(epoch_seconds: i64) -> i64 {
    epoch_seconds.div_euclid(SECONDS_PER_DAY)
}

/// A stored story a new text was recognised as, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub story_id: i64,
    pub layer: Layer,
    pub similarity: f64,
}

/// Rewrites an indexed story's rows (its text changed: an upgrade, another canonical member,
/// a rebuild): its band hashes under the day `created`, and its exact hash.
pub fn index_story(
    transaction: &mut Connection,
    story_id: i64,
    fingerprint: &Fingerprint,
    created: i64,
) -> Result<(), StoreError> {
    transaction.execute(
        "DELETE FROM story_bands WHERE story_id = ?1",
        values![story_id],
    )?;
    index_new_story(transaction, story_id, fingerprint, created)?;
    transaction.execute(
        "UPDATE stories SET text_hash = ?2 WHERE id = ?1",
        values![story_id, exact_hash(fingerprint)],
    )?;
    Ok(())
}

/// Writes the band rows of a story just inserted (which has none yet, and whose exact hash
/// its insert stored): no delete, no update of the story's row, which a cold poll would pay
/// for every new story.
pub fn index_new_story(
    transaction: &mut Connection,
    story_id: i64,
    fingerprint: &Fingerprint,
    created: i64,
) -> Result<(), StoreError> {
    let day = day_of(created);
    let bands = band_hashes(fingerprint);
    if transaction.backend() == Backend::Sqlite {
        // One row per statement on SQLite: the same prepared statement each time, and no
        // statement journal (a statement that writes several rows keeps one, in case it fails
        // half-way: 3.5 % of a cold poll copying pages into it).
        for hash in bands {
            transaction.execute(
                "INSERT INTO story_bands (band_hash, story_id, day) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                values![i64::from(hash), story_id, day],
            )?;
        }
        return Ok(());
    }
    // On PostgreSQL a statement is a round trip: many rows each.
    for chunk in bands.chunks(ROWS_PER_INSERT) {
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|row| format!("(?{}, ?{}, ?{})", 3 * row + 1, 3 * row + 2, 3 * row + 3))
            .collect();
        let parameters: Vec<Value> = chunk
            .iter()
            .flat_map(|hash| {
                [
                    Value::Int(i64::from(*hash)),
                    Value::Int(story_id),
                    Value::Int(day),
                ]
            })
            .collect();
        let sql = format!(
            "INSERT INTO story_bands (band_hash, story_id, day) VALUES {} ON CONFLICT DO NOTHING",
            placeholders.join(", ")
        );
        transaction.execute(&sql, &parameters)?;
    }
    Ok(())
}

/// The exact-text hash a story stores (`stories.text_hash`), if its text has one.
pub fn exact_hash(fingerprint: &Fingerprint) -> Option<i64> {
    fingerprint.exact_hash().map(stored_hash)
}

/// A u64 hash as the signed 64-bit integer both databases store.
fn stored_hash(hash: u64) -> i64 {
    hash as i64
}

/// Deletes the band rows of the stories created before the window: they can never be an answer
/// again. The stories are found by their creation time (`stories_created`), from where the last
/// pruning stopped (`story_bands_pruned`) to the window's first day, and their rows by story
/// (`story_bands_story`): so the band table needs no index by day, and a transaction inside
/// the same day as the last pruning reads one row. A story stored later with an older
/// creation time (a clock set back) keeps its rows until it is deleted; the lookup's own day
/// filter never returns them.
pub fn prune_window(
    transaction: &mut Connection,
    policy: &DedupePolicy,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let bound = policy.first_day(now) * SECONDS_PER_DAY;
    let pruned: i64 = transaction
        .query_one(
            "SELECT created_before FROM story_bands_pruned WHERE id = 1",
            &[],
        )?
        .get(0)?;
    if bound <= pruned {
        return Ok(0);
    }
    let deleted = transaction.execute(
        "DELETE FROM story_bands WHERE story_id IN \
         (SELECT id FROM stories WHERE created >= ?1 AND created < ?2)",
        values![pruned, bound],
    )?;
    transaction.execute(
        "UPDATE story_bands_pruned SET created_before = ?1 WHERE id = 1",
        values![bound],
    )?;
    Ok(deleted)
}

/// The stored story (inside the window, not opted out) a new text is the same story as: the
/// exact layer first, then the most similar near-duplicate that passes the rules.
pub fn find_match(
    transaction: &mut Connection,
    policy: &DedupePolicy,
    fingerprint: &Fingerprint,
    title: &str,
    now: DateTime<Utc>,
) -> Result<Option<Match>, StoreError> {
    let verdicts = candidate_verdicts(transaction, policy, fingerprint, title, now, None)?;
    let best = verdicts
        .into_iter()
        .filter_map(|(story_id, verdict)| {
            verdict.layer.map(|layer| Match {
                story_id,
                layer,
                similarity: verdict.similarity,
            })
        })
        .max_by(|a, b| {
            (a.layer == Layer::Exact, a.similarity, a.story_id)
                .partial_cmp(&(b.layer == Layer::Exact, b.similarity, b.story_id))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    Ok(best)
}

/// Every candidate (exact-hash matches and the stories sharing the most band hashes) with the
/// rules' verdict, best similarity first; `except` leaves one story out (`explain` asking
/// about a story's own text).
pub fn candidate_verdicts(
    transaction: &mut Connection,
    policy: &DedupePolicy,
    fingerprint: &Fingerprint,
    title: &str,
    now: DateTime<Utc>,
    except: Option<i64>,
) -> Result<Vec<(i64, Verdict)>, StoreError> {
    let first_created = policy.first_day(now) * SECONDS_PER_DAY;
    let mut ids = Vec::new();
    if let Some(hash) = fingerprint.exact_hash() {
        let rows = transaction.query(
            "SELECT id FROM stories WHERE text_hash = ?1 AND dedupe = 1 AND created >= ?2 \
             ORDER BY id DESC LIMIT 4",
            values![stored_hash(hash), first_created],
        )?;
        for row in rows {
            ids.push(row.get::<i64>(0)?);
        }
    }
    ids.extend(band_candidates(
        transaction,
        fingerprint,
        policy.first_day(now),
    )?);
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| Some(*id) != except && seen.insert(*id));
    let new = Candidate { fingerprint, title };
    let mut verdicts = Vec::new();
    for story_id in ids {
        let Some((stored_print, stored_title)) = stored_fingerprint(transaction, story_id)? else {
            continue;
        };
        let stored = Candidate {
            fingerprint: &stored_print,
            title: &stored_title,
        };
        verdicts.push((story_id, decide(&policy.rules, &new, &stored)));
    }
    verdicts.sort_by(|a, b| b.1.similarity.total_cmp(&a.1.similarity));
    Ok(verdicts)
}

/// The stories (newest first among equals) sharing the most band hashes with `fingerprint`,
/// from rows of the window's days: one query on the index.
fn band_candidates(
    transaction: &mut Connection,
    fingerprint: &Fingerprint,
    first_day: i64,
) -> Result<Vec<i64>, StoreError> {
    let bands = band_hashes(fingerprint);
    if bands.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..bands.len()).map(|n| format!("?{}", n + 3)).collect();
    // `day + 0`, not `day`: the lookup must go through the band hashes (the primary key), never
    // an index by day. PostgreSQL's generic plan, made while the table was small, chose the day
    // index (dropped since by migration 11), which read the whole window's rows per lookup: a
    // cost growing with the store, the bulk of the database's work per pass at 20,000 stories.
    let sql = format!(
        "SELECT story_id FROM story_bands WHERE day + 0 >= ?1 AND band_hash IN ({}) \
         GROUP BY story_id ORDER BY COUNT(*) DESC, story_id DESC LIMIT ?2",
        placeholders.join(", ")
    );
    let mut parameters = values![first_day, CANDIDATES].to_vec();
    parameters.extend(bands.iter().map(|hash| Value::Int(i64::from(*hash))));
    transaction
        .query(&sql, &parameters)?
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// A story's stored fingerprint and title, if it may be matched (exists, has a readable
/// fingerprint, not opted out).
pub fn stored_fingerprint(
    transaction: &mut Connection,
    story_id: i64,
) -> Result<Option<(Fingerprint, String)>, StoreError> {
    let row = transaction.query_opt(
        "SELECT fingerprint, title FROM stories \
         WHERE id = ?1 AND dedupe = 1 AND fingerprint IS NOT NULL",
        values![story_id],
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    let bytes: Vec<u8> = row.get(0)?;
    Ok(Fingerprint::from_bytes(&bytes).map(|print| (print, row.get(1).unwrap_or_default())))
}

/// Fills the index from the stored stories (a store from before it existed, or one copied by
/// `migrate-store`), a page of stories at a time so memory stays small.
pub fn rebuild(connection: &mut Connection) -> Result<(), StoreError> {
    let mut after = i64::MIN;
    loop {
        let rows = connection.query(
            "SELECT id, created, fingerprint FROM stories \
             WHERE id > ?1 AND fingerprint IS NOT NULL AND dedupe = 1 ORDER BY id LIMIT 500",
            values![after],
        )?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.get(0)?;
        for row in &rows {
            let bytes: Vec<u8> = row.get(2)?;
            // Bytes of an unknown format are skipped: the story stays matchable by URL.
            if let Some(print) = Fingerprint::from_bytes(&bytes) {
                index_story(connection, row.get(0)?, &print, row.get(1)?)?;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dedupe::fingerprint;
    use crate::store::{NewItem, SourceState, Store, commit_pass, from_epoch};

    /// `count` distinct words, different for each `seed`: a text no other seed's shares.
    pub(crate) fn words(seed: usize, count: usize) -> String {
        (0..count)
            .map(|index| format!("s{seed}w{index}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// An extracted entry with its own link (`https://{key}.example/a`) and `text`.
    pub(crate) fn item(key: &str, text: &str) -> NewItem {
        NewItem {
            entry_key: key.to_string(),
            link: Some(format!("https://{key}.example/a")),
            canonical_urls: vec![format!("https://{key}.example/a")],
            title: key.to_string(),
            published: from_epoch(1_700_000_000),
            updated: from_epoch(1_700_000_000),
            content_html: Some(format!("<p>{text}</p>")),
            summary: None,
            text: Some(text.to_string()),
            authors: Vec::new(),
            categories: Vec::new(),
            enclosures: Vec::new(),
            image: None,
            fingerprint: fingerprint(text),
            extraction: crate::model::ExtractionStatus::Extracted,
            version: None,
        }
    }

    /// One pass of `source` with `item` at `now`: (new stories, merged).
    pub(crate) fn commit(store: &Store, source: &str, item: NewItem, now: i64) -> (usize, usize) {
        let state = SourceState::new(source, &format!("https://{source}.example/feed"));
        let summary = store
            .call_blocking(|connection| {
                commit_pass(
                    connection,
                    &DedupePolicy::default(),
                    &state,
                    &[item],
                    from_epoch(now),
                )
            })
            .unwrap();
        (summary.new_stories, summary.merged)
    }

    #[test]
    fn the_window_is_the_only_bound_on_both_backends() {
        for store in crate::store::test_stores() {
            let day = 86_400;
            let story = words(1, 300);
            assert_eq!(
                commit(&store, "a", item("a", &story), 1_700_000_000),
                (1, 0)
            );
            // Many unrelated stories in between (more than any count cap would keep).
            for n in 0..30 {
                let key = format!("n{n}");
                commit(&store, "n", item(&key, &words(100 + n, 300)), 1_700_000_000);
            }
            // Thirteen days later, a copy is still recognised...
            let copy = format!("{story} (AFP)");
            assert_eq!(
                commit(&store, "b", item("b", &copy), 1_700_000_000 + 13 * day),
                (0, 1)
            );
            // ...and after the window, it is a new story: its rows were pruned by day.
            let late = format!("{story} (Reuters)");
            assert_eq!(
                commit(&store, "c", item("c", &late), 1_700_000_000 + 16 * day),
                (1, 0)
            );
            let old_rows: i64 = store
                .call_blocking(|connection| {
                    connection
                        .query_one(
                            "SELECT COUNT(*) FROM story_bands WHERE day < ?1",
                            values![day_of(1_700_000_000 + 2 * day)],
                        )?
                        .get(0)
                })
                .unwrap();
            assert_eq!(old_rows, 0);
        }
    }

    #[test]
    fn rebuild_indexes_stories_stored_without_rows() {
        for store in crate::store::test_stores() {
            let story = words(2, 300);
            commit(&store, "a", item("a", &story), 1_700_000_000);
            store
                .call_blocking(|connection| {
                    connection.execute("DELETE FROM story_bands", &[])?;
                    connection.execute("UPDATE stories SET text_hash = NULL", &[])?;
                    rebuild(connection)
                })
                .unwrap();
            assert_eq!(
                commit(&store, "b", item("b", &story), 1_700_000_100),
                (0, 1)
            );
        }
    }
}
