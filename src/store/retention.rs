//! Retention: prunes old entries in small batches, remembers what dedupe needs of them
//! (tombstones), keeps merged stories whole, and gives the freed pages back to the file system.
//!
//! An *entry* is one source's appearance of a story (a `story_sources` row). A source's
//! entries, newest first, are kept while they are among its newest `keep_per_source` or younger
//! than `max_age`, and never beyond its newest `max_entries_per_source` (the hard cap wins).
//! A pruned entry leaves a tombstone (`pruned_entries`: source and entry key), so that its feed
//! still listing it never brings it back as new; the tombstone goes once the feed has stopped
//! listing it for `max_age`. A story goes with its last entry; while another source still
//! carries it, it stays, and names a remaining source as its first.
//!
//! A source removed from the config is never read again, so its listing time never moves and
//! the rule above would keep its tombstones forever. Once such a source was last read (or
//! tried) more than `max_age` ago, what only served its polling goes: tombstones, listing time,
//! polling state (validators, failures, backoff, redirects, `410`) and WebSub subscription. Its
//! stored entries follow the usual rules, and while any is left its `sources` row keeps the
//! feed's URL, title and site link the merged feed shows. Re-added, it starts like a new
//! source: a listed entry whose story is still stored (its own entry, or another source's copy
//! by URL or text) is not new; one whose story is gone is.
//!
//! The site memory's pages (`site_pages`) of a host not seen for `max_age` go too: its
//! standing paragraphs may have changed by the time it publishes again.
//!
//! Every batch is its own short transaction on the shared connection, so a poll or a request
//! waits at most one batch (a few milliseconds), never a whole pass.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::db::{Backend, Connection, values};
use super::sources::{SourceState, save_state};
use super::{Store, StoreError, to_epoch};
use crate::config::RetentionSettings;

/// Entries removed by one batch: small enough that the batch's transaction stays within a few
/// milliseconds even when every entry takes a story with its full text along.
pub const BATCH_ENTRIES: usize = 100;
/// Pages given back to the file system per step (1 MiB with 4 KiB pages).
pub const VACUUM_PAGES_PER_STEP: i64 = 256;
/// Time left between two batches for the work waiting on the connection.
const PAUSE_BETWEEN_BATCHES: Duration = Duration::from_millis(1);

/// The retention limits in the units the store compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneRules {
    pub max_age_seconds: i64,
    pub keep_per_source: usize,
    pub max_entries_per_source: Option<usize>,
}

impl From<&RetentionSettings> for PruneRules {
    fn from(settings: &RetentionSettings) -> PruneRules {
        PruneRules {
            max_age_seconds: i64::try_from(settings.max_age.as_secs()).unwrap_or(i64::MAX),
            keep_per_source: settings.keep_per_source,
            max_entries_per_source: settings.max_entries_per_source,
        }
    }
}

impl PruneRules {
    /// How many of a source's newest entries are kept whatever their age.
    fn always_kept(&self) -> usize {
        self.keep_per_source
            .min(self.max_entries_per_source.unwrap_or(usize::MAX))
    }

    /// Whether a source's entry goes: `rank` is its place among the source's entries, newest
    /// first (0 is the newest), `seen` when it was stored. The hard cap wins over the minimum.
    pub fn should_prune(&self, rank: usize, seen: i64, now: i64) -> bool {
        if self.max_entries_per_source.is_some_and(|cap| rank >= cap) {
            return true;
        }
        rank >= self.keep_per_source && seen < now.saturating_sub(self.max_age_seconds)
    }
}

/// What one pruning pass did: the figures for the admin, the logs and the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Entries removed (each leaves a tombstone).
    pub entries: usize,
    /// Stories deleted with their last entry.
    pub stories: usize,
    /// Tombstones dropped (their entries had left their feeds long ago, or their source left
    /// the config long ago).
    pub tombstones: usize,
    /// Sources no longer configured, read last more than `max_age` ago, whose polling rows went.
    pub sources_forgotten: usize,
    /// Remembered pages of sites not seen for `max_age` (`site_pages`), forgotten.
    pub site_pages: u64,
    /// Bytes given back to the file system by incremental vacuum.
    pub bytes_freed: u64,
    /// Transactions (or vacuum steps) the pass took.
    pub batches: usize,
    /// The longest one: the longest any poll or request could have waited on this pass.
    pub longest_batch: Duration,
}

impl PruneReport {
    fn timed(&mut self, elapsed: Duration, what: &str) {
        tracing::debug!(what, ms = elapsed.as_secs_f64() * 1000.0, "pruning batch");
        self.batches += 1;
        self.longest_batch = self.longest_batch.max(elapsed);
    }
}

/// What one batch removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Removed {
    entries: usize,
    stories: usize,
}

impl Store {
    /// One pruning pass: every source's entries beyond the limits, in batches, then old
    /// tombstones, then what only served the polling of sources no longer `configured` (their
    /// names), then the freed pages. Each batch takes the connection on its own, so polls and
    /// requests interleave with the pass.
    pub async fn prune(
        &self,
        settings: &RetentionSettings,
        configured: &[String],
        now: DateTime<Utc>,
    ) -> Result<PruneReport, StoreError> {
        let rules = PruneRules::from(settings);
        let mut report = PruneReport::default();
        let floor = rules.always_kept();
        let (sources, elapsed) = self
            .timed_call(move |connection| sources_above(connection, floor))
            .await?;
        report.timed(elapsed, "sources");
        for source in sources {
            loop {
                let name = source.clone();
                let (removed, elapsed) = self
                    .timed_call(move |connection| prune_batch(connection, &name, rules, now))
                    .await?;
                report.timed(elapsed, "entries");
                report.entries += removed.entries;
                report.stories += removed.stories;
                if removed.entries < BATCH_ENTRIES {
                    break;
                }
            }
        }
        loop {
            let (dropped, elapsed) = self
                .timed_call(move |connection| drop_tombstones(connection, rules, now))
                .await?;
            report.timed(elapsed, "tombstones");
            report.tombstones += dropped;
            if dropped < BATCH_ENTRIES {
                break;
            }
        }
        self.forget_removed_sources(configured, rules, now, &mut report)
            .await?;
        let cutoff = to_epoch(now).saturating_sub(rules.max_age_seconds);
        let (pages, elapsed) = self
            .timed_call(move |connection| super::site_pages::forget_quiet_hosts(connection, cutoff))
            .await?;
        report.timed(elapsed, "site pages");
        report.site_pages += pages;
        loop {
            let (freed, elapsed) = self.timed_call(vacuum_step).await?;
            if freed == 0 {
                break;
            }
            report.timed(elapsed, "vacuum");
            report.bytes_freed += freed;
        }
        Ok(report)
    }

    /// Forgets, source by source, what only served the polling of sources no longer
    /// configured and not read for `max_age`: their tombstones in batches, then the rest.
    async fn forget_removed_sources(
        &self,
        configured: &[String],
        rules: PruneRules,
        now: DateTime<Utc>,
        report: &mut PruneReport,
    ) -> Result<(), StoreError> {
        let configured: HashSet<String> = configured.iter().cloned().collect();
        let cutoff = to_epoch(now).saturating_sub(rules.max_age_seconds);
        let (removed, elapsed) = self
            .timed_call(move |connection| removed_sources(connection, &configured, cutoff))
            .await?;
        report.timed(elapsed, "removed sources");
        for source in removed {
            let mut changed = false;
            loop {
                let name = source.clone();
                let (dropped, elapsed) = self
                    .timed_call(move |connection| {
                        drop_removed_tombstones(connection, &name, cutoff)
                    })
                    .await?;
                report.timed(elapsed, "tombstones");
                report.tombstones += dropped;
                changed |= dropped > 0;
                if dropped < BATCH_ENTRIES {
                    break;
                }
            }
            let name = source.clone();
            let (forgot, elapsed) = self
                .timed_call(move |connection| forget_polling(connection, &name, cutoff))
                .await?;
            report.timed(elapsed, "source state");
            if changed || forgot {
                tracing::debug!(source, "forgot the polling state of a removed source");
                report.sources_forgotten += 1;
            }
        }
        Ok(())
    }

    /// `call`, also returning how long the work held the connection. A short pause follows,
    /// so a poll or request waiting for the connection takes it before the next batch does.
    async fn timed_call<T, F>(&self, work: F) -> Result<(T, Duration), StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let timed = self
            .call(move |connection| {
                let start = Instant::now();
                let value = work(connection)?;
                Ok((value, start.elapsed()))
            })
            .await?;
        tokio::time::sleep(PAUSE_BETWEEN_BATCHES).await;
        Ok(timed)
    }
}

/// The sources holding more entries than every source may keep whatever their age.
fn sources_above(connection: &mut Connection, floor: usize) -> Result<Vec<String>, StoreError> {
    let floor = i64::try_from(floor).unwrap_or(i64::MAX);
    connection
        .query(
            "SELECT source FROM story_sources GROUP BY source HAVING COUNT(*) > ?1 \
             ORDER BY source",
            values![floor],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// One entry chosen for pruning.
struct Doomed {
    rowid: i64,
    story_id: i64,
    entry_key: String,
}

/// Removes up to [`BATCH_ENTRIES`] of the source's entries beyond the limits, in one
/// transaction; a deleted story's dedupe index rows go with it (`ON DELETE CASCADE`).
fn prune_batch(
    connection: &mut Connection,
    source: &str,
    rules: PruneRules,
    now: DateTime<Utc>,
) -> Result<Removed, StoreError> {
    let start = Instant::now();
    let (doomed, deleted, selected, written) = connection.write_transaction(|transaction| {
        let doomed = select_batch(transaction, source, rules, to_epoch(now))?;
        let selected = start.elapsed();
        let mut stories = BTreeSet::new();
        for entry in &doomed {
            bury(transaction, source, entry, now)?;
            stories.insert(entry.story_id);
        }
        let mut deleted = Vec::new();
        for story_id in stories {
            if settle_story(transaction, story_id)? {
                deleted.push(story_id);
            }
        }
        Ok((doomed, deleted, selected, start.elapsed()))
    })?;
    tracing::trace!(?selected, ?written, committed = ?start.elapsed(), "prune batch");
    Ok(Removed {
        entries: doomed.len(),
        stories: deleted.len(),
    })
}

/// The source's entries to prune, oldest last: ranked newest first by when they were stored,
/// then by the story's date (a first poll stores a whole feed at once).
fn select_batch(
    transaction: &mut Connection,
    source: &str,
    rules: PruneRules,
    now: i64,
) -> Result<Vec<Doomed>, StoreError> {
    let floor = rules.always_kept();
    // `LIMIT i64::MAX`: both engines need a LIMIT before OFFSET, and only SQLite takes -1.
    let rows = transaction.query(
        "SELECT ss.rowid, ss.story_id, ss.entry_key, ss.seen FROM story_sources ss \
         JOIN stories s ON s.id = ss.story_id WHERE ss.source = ?1 \
         ORDER BY ss.seen DESC, s.published DESC, ss.rowid DESC LIMIT ?3 OFFSET ?2",
        values![source, i64::try_from(floor).unwrap_or(i64::MAX), i64::MAX],
    )?;
    let mut doomed = Vec::new();
    for (rank, row) in (floor..).zip(rows.iter()) {
        let seen: i64 = row.get(3)?;
        if rules.should_prune(rank, seen, now) {
            doomed.push(Doomed {
                rowid: row.get(0)?,
                story_id: row.get(1)?,
                entry_key: row.get(2)?,
            });
            if doomed.len() == BATCH_ENTRIES {
                break;
            }
        }
    }
    Ok(doomed)
}

/// Replaces an entry with its tombstone.
fn bury(
    transaction: &mut Connection,
    source: &str,
    entry: &Doomed,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    transaction.execute(
        "INSERT INTO pruned_entries (source, entry_key, pruned, last_listed) \
         VALUES (?1, ?2, ?3, ?3) ON CONFLICT (source, entry_key) \
         DO UPDATE SET pruned = excluded.pruned, last_listed = excluded.last_listed",
        values![source, &entry.entry_key, to_epoch(now)],
    )?;
    transaction.execute(
        "DELETE FROM story_sources WHERE rowid = ?1",
        values![entry.rowid],
    )?;
    Ok(())
}

/// After some of its entries went: deletes the story if none is left (returns true), else
/// makes its first source one that still carries it.
fn settle_story(transaction: &mut Connection, story_id: i64) -> Result<bool, StoreError> {
    let first: Option<String> = transaction
        .query_opt(
            "SELECT source FROM story_sources WHERE story_id = ?1 ORDER BY seen, rowid LIMIT 1",
            values![story_id],
        )?
        .map(|row| row.get(0))
        .transpose()?;
    match first {
        None => {
            transaction.execute("DELETE FROM stories WHERE id = ?1", values![story_id])?;
            Ok(true)
        }
        Some(source) => {
            transaction.execute(
                "UPDATE stories SET first_source = ?2 WHERE id = ?1 AND first_source != ?2",
                values![story_id, source],
            )?;
            Ok(false)
        }
    }
}

/// Drops up to a batch of tombstones whose entries their feeds stopped listing: absent from the
/// source's latest read feed, and last listed more than `max_age` ago.
fn drop_tombstones(
    connection: &mut Connection,
    rules: PruneRules,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let cutoff = to_epoch(now).saturating_sub(rules.max_age_seconds);
    let dropped = connection.execute(
        "DELETE FROM pruned_entries WHERE (source, entry_key) IN \
         (SELECT t.source, t.entry_key FROM pruned_entries t \
         JOIN source_listings l ON l.source = t.source \
         WHERE t.last_listed < l.listed_at AND t.last_listed < ?1 LIMIT ?2)",
        values![cutoff, BATCH_ENTRIES],
    )?;
    Ok(dropped as usize)
}

/// Whether the source was read (its listing time) or tried (its last attempt) since `cutoff`;
/// `?1` is the source, `?2` the cutoff. Checked again in every statement that forgets, so an
/// instance whose config still (or again) has the source and polls it keeps its rows.
const READ_SINCE: &str = "(EXISTS (SELECT 1 FROM source_listings WHERE source = ?1 AND listed_at >= ?2) \
     OR EXISTS (SELECT 1 FROM sources WHERE name = ?1 AND last_attempt >= ?2))";

/// The sources with polling rows (state or listing time) that are not in `configured` and
/// were neither read nor tried since `cutoff`. Every tombstone's source has a state row: its
/// entry was stored by a pass, which saves the source's state (and forgetting deletes the
/// tombstones before the state).
fn removed_sources(
    connection: &mut Connection,
    configured: &HashSet<String>,
    cutoff: i64,
) -> Result<Vec<String>, StoreError> {
    let rows = connection.query(
        "SELECT name, COALESCE(last_attempt, 0) FROM sources \
         UNION ALL SELECT source, listed_at FROM source_listings",
        values![],
    )?;
    let mut last_read: std::collections::BTreeMap<String, i64> = Default::default();
    for row in rows {
        let name: String = row.get(0)?;
        let at: i64 = row.get(1)?;
        let latest = last_read.entry(name).or_insert(at);
        *latest = (*latest).max(at);
    }
    Ok(last_read
        .into_iter()
        .filter(|(name, at)| *at < cutoff && !configured.contains(name))
        .map(|(name, _)| name)
        .collect())
}

/// Drops up to a batch of a removed source's tombstones, unless it was read since `cutoff`.
fn drop_removed_tombstones(
    connection: &mut Connection,
    source: &str,
    cutoff: i64,
) -> Result<usize, StoreError> {
    let dropped = connection.execute(
        &format!(
            "DELETE FROM pruned_entries WHERE (source, entry_key) IN \
             (SELECT source, entry_key FROM pruned_entries WHERE source = ?1 \
             AND NOT {READ_SINCE} LIMIT ?3)"
        ),
        values![source, cutoff, BATCH_ENTRIES],
    )?;
    Ok(dropped as usize)
}

/// Forgets a removed source's listing time, WebSub subscription and polling state (the state
/// row goes with the source's last entry; while entries are left it keeps the feed's URL, title
/// and site link for them, with a fresh state). Returns whether anything changed.
fn forget_polling(
    connection: &mut Connection,
    source: &str,
    cutoff: i64,
) -> Result<bool, StoreError> {
    connection.write_transaction(|transaction| {
        let stale = values![source, cutoff];
        let read: bool = transaction
            .query_one(&format!("SELECT {READ_SINCE}"), stale)?
            .get(0)?;
        if read {
            return Ok(false);
        }
        let mut changed = 0;
        for table in ["source_listings", "websub_subscriptions"] {
            changed += transaction.execute(
                &format!("DELETE FROM {table} WHERE source = ?1"),
                values![source],
            )?;
        }
        changed += transaction.execute(
            "DELETE FROM sources WHERE name = ?1 \
             AND NOT EXISTS (SELECT 1 FROM story_sources WHERE source = ?1)",
            values![source],
        )?;
        if let Some(state) = super::sources::stored_state(transaction, source)? {
            let fresh = SourceState {
                feed_title: state.feed_title.clone(),
                site_link: state.site_link.clone(),
                ..SourceState::new(&state.name, &state.url)
            };
            if fresh != state {
                save_state(transaction, &fresh)?;
                changed += 1;
            }
        }
        Ok(changed > 0)
    })
}

/// Gives up to [`VACUUM_PAGES_PER_STEP`] free pages back to the file system; returns the bytes.
/// Nothing on PostgreSQL: autovacuum makes deleted rows' space reusable (the files do not
/// shrink without a `VACUUM FULL`, which would lock the tables).
fn vacuum_step(connection: &mut Connection) -> Result<u64, StoreError> {
    let Connection::Sqlite(connection) = connection else {
        return Ok(0);
    };
    let free_pages: i64 = connection.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
    if free_pages == 0 {
        return Ok(0);
    }
    let page_size: i64 = connection.pragma_query_value(None, "page_size", |r| r.get(0))?;
    // The pragma frees one page per step of its statement: run it to completion.
    let mut statement = connection.prepare_cached(&format!(
        "PRAGMA incremental_vacuum({VACUUM_PAGES_PER_STEP})"
    ))?;
    let mut rows = statement.query([])?;
    while rows.next()?.is_some() {}
    drop(rows);
    drop(statement);
    let left: i64 = connection.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
    Ok(((free_pages - left).max(0) * page_size) as u64)
}

/// Records that the source's feed was just read and listed these (known) keys: their
/// tombstones stay while the feed lists them.
pub fn note_listing<'a>(
    connection: &mut Connection,
    source: &str,
    listed_known_keys: impl IntoIterator<Item = &'a String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = to_epoch(now);
    // The source's own rows only: no turn on the fleet's write lock (see `source_transaction`;
    // a concurrent prune re-checks a tombstone this updates, under its row lock).
    connection.source_transaction(|transaction| {
        transaction.execute(
            "INSERT INTO source_listings (source, listed_at) VALUES (?1, ?2) \
             ON CONFLICT (source) DO UPDATE SET listed_at = excluded.listed_at",
            values![source, now],
        )?;
        for key in listed_known_keys {
            transaction.execute(
                "UPDATE pruned_entries SET last_listed = ?3 WHERE source = ?1 AND entry_key = ?2",
                values![source, key, now],
            )?;
        }
        Ok(())
    })
}

/// The database's size and contents, for `status` and `/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatabaseStats {
    pub stories: u64,
    /// Sources' appearances of stories (a merged story counts once per source).
    pub entries: u64,
    /// Tombstones of pruned entries.
    pub pruned_entries: u64,
    /// Bytes of pages in use, and of free pages not yet given back.
    pub used_bytes: u64,
    pub free_bytes: u64,
}

/// On PostgreSQL, `used_bytes` is `pg_database_size` and `free_bytes` 0 (the server reuses
/// deleted rows' space itself).
pub fn database_stats(connection: &mut Connection) -> Result<DatabaseStats, StoreError> {
    let backend = connection.backend();
    let mut number = |sql: &str| -> Result<u64, StoreError> {
        let value: i64 = connection.query_one(sql, &[])?.get(0)?;
        Ok(value.max(0) as u64)
    };
    let stories = number("SELECT COUNT(*) FROM stories")?;
    let entries = number("SELECT COUNT(*) FROM story_sources")?;
    let pruned_entries = number("SELECT COUNT(*) FROM pruned_entries")?;
    let (used_bytes, free_bytes) = match backend {
        Backend::Sqlite => {
            let mut pragma = |name: &str| number(&format!("PRAGMA {name}"));
            let page_size = pragma("page_size")?;
            let free_pages = pragma("freelist_count")?;
            let pages = pragma("page_count")?;
            ((pages - free_pages) * page_size, free_pages * page_size)
        }
        Backend::Postgres => (number("SELECT pg_database_size(current_database())")?, 0),
    };
    Ok(DatabaseStats {
        stories,
        entries,
        pruned_entries,
        used_bytes,
        free_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ExtractionStatus;
    use crate::store::{NewItem, SourceState, known_keys, latest_stories};

    const DAY: i64 = 86_400;

    fn rules(max_age_days: i64, keep: usize, cap: Option<usize>) -> PruneRules {
        PruneRules {
            max_age_seconds: max_age_days * DAY,
            keep_per_source: keep,
            max_entries_per_source: cap,
        }
    }

    fn settings(max_age_days: u64, keep: usize, cap: Option<usize>) -> RetentionSettings {
        RetentionSettings {
            max_age: Duration::from_secs(max_age_days * 86_400),
            keep_per_source: keep,
            max_entries_per_source: cap,
            ..RetentionSettings::default()
        }
    }

    #[test]
    fn old_entries_beyond_the_kept_minimum_go() {
        let now = 1000 * DAY;
        let rules = rules(90, 2, None);
        // Old, but among the newest two: kept whatever its age.
        assert!(!rules.should_prune(1, now - 400 * DAY, now));
        // Beyond the minimum: kept while young, pruned once older than max_age.
        assert!(!rules.should_prune(2, now - 89 * DAY, now));
        assert!(rules.should_prune(2, now - 91 * DAY, now));
        assert!(rules.should_prune(50, now - 91 * DAY, now));
    }

    #[test]
    fn the_hard_cap_wins_over_the_kept_minimum() {
        let now = 1000 * DAY;
        let rules = rules(90, 50, Some(10));
        assert!(!rules.should_prune(9, now, now));
        // Young and within keep_per_source, but beyond the cap.
        assert!(rules.should_prune(10, now, now));
        assert_eq!(rules.always_kept(), 10);
    }

    fn item(key: &str, text: Option<&str>, published_day: i64) -> NewItem {
        let published = DateTime::from_timestamp(published_day * DAY, 0).unwrap();
        NewItem {
            entry_key: key.to_string(),
            link: Some(format!("https://site.example/{key}")),
            canonical_urls: vec![format!("https://site.example/{key}")],
            title: key.to_string(),
            published,
            updated: published,
            content_html: text.map(|text| format!("<p>{text}</p>")),
            summary: None,
            text: text.map(str::to_string),
            authors: Vec::new(),
            categories: Vec::new(),
            enclosures: Vec::new(),
            image: None,
            fingerprint: text.and_then(crate::dedupe::fingerprint),
            extraction: if text.is_some() {
                ExtractionStatus::Extracted
            } else {
                ExtractionStatus::NotRequested
            },
            version: None,
        }
    }

    /// The sources the tests' config names.
    fn configured() -> Vec<String> {
        ["a", "b", "c"].map(String::from).to_vec()
    }

    fn day(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(day * DAY, 0).unwrap()
    }

    async fn commit(store: &Store, source: &str, items: Vec<NewItem>, at: i64) {
        let state = SourceState::new(source, &format!("https://{source}.example/feed"));
        store.commit_pass(state, items, day(at)).await.unwrap();
    }

    async fn keys(store: &Store, source: &str) -> Vec<String> {
        let source = source.to_string();
        store
            .call(move |connection| {
                connection
                    .query(
                        "SELECT entry_key FROM story_sources WHERE source = ?1 ORDER BY entry_key",
                        values![source],
                    )?
                    .iter()
                    .map(|row| row.get(0))
                    .collect::<Result<Vec<String>, _>>()
            })
            .await
            .unwrap()
    }

    /// Runs an async test body on each backend (the stores are opened outside the runtime:
    /// PostgreSQL's synchronous client may not block an async thread).
    fn on_both<F: std::future::Future<Output = ()>>(test: impl Fn(Store) -> F) {
        for store in crate::store::test_stores() {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(test(store));
        }
    }

    fn words(seed: usize, count: usize) -> String {
        (0..count)
            .map(|index| format!("s{seed}w{index}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_pass_prunes_by_age_keeps_the_newest_and_leaves_tombstones() {
        on_both(a_pass_prunes_by_age_keeps_the_newest_and_leaves_tombstones_on);
    }

    async fn a_pass_prunes_by_age_keeps_the_newest_and_leaves_tombstones_on(store: Store) {
        // Day 1 brings e0..e4 (one pass; e4 is the newest by date), day 200 brings e5.
        let first: Vec<NewItem> = (0..5).map(|n| item(&format!("e{n}"), None, n)).collect();
        commit(&store, "a", first, 1).await;
        commit(&store, "a", vec![item("e5", None, 199)], 200).await;
        let report = store
            .prune(&settings(90, 3, None), &configured(), day(201))
            .await
            .unwrap();
        assert_eq!((report.entries, report.stories), (3, 3));
        // The newest three: e5 (stored last), then e4 and e3 (newest dates of the first pass).
        assert_eq!(keys(&store, "a").await, ["e3", "e4", "e5"]);
        let pruned = vec!["e0".to_string(), "e1".to_string(), "e9".to_string()];
        let known = store
            .call(move |connection| known_keys(connection, "a", &pruned))
            .await
            .unwrap();
        assert!(known.contains("e0") && known.contains("e1") && !known.contains("e9"));
        // A second pass finds nothing more to do.
        let again = store
            .prune(&settings(90, 3, None), &configured(), day(201))
            .await
            .unwrap();
        assert_eq!((again.entries, again.stories), (0, 0));
    }

    #[test]
    fn a_merged_story_keeps_its_other_source_and_goes_with_the_last() {
        on_both(a_merged_story_keeps_its_other_source_and_goes_with_the_last_on);
    }

    async fn a_merged_story_keeps_its_other_source_and_goes_with_the_last_on(store: Store) {
        let text = words(1, 300);
        commit(&store, "a", vec![item("wire", Some(&text), 1)], 1).await;
        // Source b carries the same text under another URL: merged into a's story.
        let mut copy = item("copy", Some(&text), 1);
        copy.canonical_urls = vec!["https://b.example/copy".into()];
        commit(&store, "b", vec![copy], 2).await;
        commit(&store, "a", vec![item("newer", None, 3)], 3).await;
        // a keeps one entry: its share of the merged story goes, the story stays with b.
        let report = store
            .prune(&settings(90, 0, Some(1)), &configured(), day(4))
            .await
            .unwrap();
        assert_eq!((report.entries, report.stories), (1, 0));
        let stories = store
            .call(|connection| latest_stories(connection, 10))
            .await
            .unwrap();
        let merged = stories.iter().find(|s| s.title == "wire").unwrap();
        let names: Vec<&str> = merged.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["b"]);
        let first: String = store
            .call(|connection| {
                connection
                    .query_one("SELECT first_source FROM stories WHERE title = 'wire'", &[])?
                    .get(0)
            })
            .await
            .unwrap();
        assert_eq!(first, "b");
        // b's entry ages out too: the story goes, and its fingerprint with it, so the same
        // text from a third source is a new story (not a merge into a deleted one).
        let report = store
            .prune(&settings(1, 0, None), &configured(), day(10))
            .await
            .unwrap();
        assert_eq!(report.stories, 2);
        let mut third = item("again", Some(&text), 11);
        third.canonical_urls = vec!["https://c.example/again".into()];
        let state = SourceState::new("c", "https://c.example/feed");
        let summary = store
            .commit_pass(state, vec![third], day(11))
            .await
            .unwrap();
        assert_eq!((summary.new_stories, summary.merged), (1, 0));
    }

    #[test]
    fn tombstones_stay_while_listed_and_go_once_the_feed_dropped_them() {
        on_both(tombstones_stay_while_listed_and_go_once_the_feed_dropped_them_on);
    }

    async fn tombstones_stay_while_listed_and_go_once_the_feed_dropped_them_on(store: Store) {
        let entries: Vec<NewItem> = (0..3).map(|n| item(&format!("t{n}"), None, n)).collect();
        commit(&store, "a", entries, 1).await;
        store
            .prune(&settings(1, 0, None), &configured(), day(5))
            .await
            .unwrap();
        // The feed, read on day 20, still lists t0 only.
        let listed = vec!["t0".to_string()];
        store
            .call(move |connection| note_listing(connection, "a", &listed, day(20)))
            .await
            .unwrap();
        let report = store
            .prune(&settings(1, 0, None), &configured(), day(20))
            .await
            .unwrap();
        assert_eq!(report.tombstones, 2);
        let all: Vec<String> = ["t0", "t1", "t2"].map(String::from).to_vec();
        let known = store
            .call(move |connection| known_keys(connection, "a", &all))
            .await
            .unwrap();
        assert_eq!(known.into_iter().collect::<Vec<_>>(), ["t0"]);
    }

    async fn count(store: &Store, sql: &str, source: &str) -> i64 {
        let (sql, source) = (sql.to_string(), source.to_string());
        store
            .call(move |connection| connection.query_one(&sql, values![source])?.get(0))
            .await
            .unwrap()
    }

    async fn tombstones(store: &Store, source: &str) -> i64 {
        let sql = "SELECT COUNT(*) FROM pruned_entries WHERE source = ?1";
        count(store, sql, source).await
    }

    async fn known(store: &Store, source: &str, keys: &[&str]) -> Vec<String> {
        let (source, keys) = (
            source.to_string(),
            keys.iter().map(|k| k.to_string()).collect(),
        );
        let keys: Vec<String> = keys;
        let mut known: Vec<String> = store
            .call(move |connection| known_keys(connection, &source, &keys))
            .await
            .unwrap()
            .into_iter()
            .collect();
        known.sort();
        known
    }

    #[test]
    fn a_site_not_seen_for_max_age_forgets_its_pages() {
        on_both(a_site_not_seen_for_max_age_forgets_its_pages_on);
    }

    async fn a_site_not_seen_for_max_age_forgets_its_pages_on(store: Store) {
        let pages = |host: &'static str| {
            let store = store.clone();
            async move {
                let found = store.call(move |c| crate::store::site_pages(c, host));
                found.await.unwrap().len()
            }
        };
        for (host, seen) in [
            ("quiet.example", 1),
            ("busy.example", 1),
            ("busy.example", 15),
        ] {
            store
                .call(move |c| crate::store::add_site_page(c, host, vec![1; 12], day(seen)))
                .await
                .unwrap();
        }
        let report = store
            .prune(&settings(10, 1, None), &configured(), day(20))
            .await
            .unwrap();
        assert_eq!(report.site_pages, 1);
        assert_eq!(pages("quiet.example").await, 0);
        // A host seen lately keeps all its pages, old ones included.
        assert_eq!(pages("busy.example").await, 2);
    }

    #[test]
    fn a_removed_source_is_forgotten_once_unread_for_max_age_and_can_come_back() {
        on_both(a_removed_source_is_forgotten_once_unread_for_max_age_and_can_come_back_on);
    }

    async fn a_removed_source_is_forgotten_once_unread_for_max_age_and_can_come_back_on(
        store: Store,
    ) {
        let rules = settings(10, 1, None);
        // Day 1: b stores a story; source "gone" stores three entries, one ("copy") a copy of
        // b's story by URL, and its state holds validators and a 410.
        let mut shared = item("shared", None, 1);
        shared.canonical_urls = vec!["https://site.example/shared-story".into()];
        commit(&store, "b", vec![shared], 1).await;
        let mut copy = item("copy", None, 1);
        copy.canonical_urls = vec!["https://site.example/shared-story".into()];
        let entries = vec![item("old", None, 1), copy, item("kept", None, 2)];
        let state = SourceState {
            feed_title: Some("Gone's feed".into()),
            etag: Some("\"v1\"".into()),
            gone: true,
            consecutive_failures: 3,
            last_attempt: Some(day(1)),
            ..SourceState::new("gone", "https://gone.example/feed")
        };
        store
            .commit_pass(state, entries.clone(), day(1))
            .await
            .unwrap();
        // Day 12, still configured: "old" and "copy" are pruned, "kept" is the one kept.
        let with_gone = [configured(), vec!["gone".to_string()]].concat();
        let report = store.prune(&rules, &with_gone, day(12)).await.unwrap();
        assert_eq!((report.entries, report.sources_forgotten), (2, 0));
        // Day 13: its feed is read once more and lists all three; then it leaves the config.
        let listed: Vec<String> = ["old", "copy", "kept"].map(String::from).to_vec();
        store
            .call(move |connection| note_listing(connection, "gone", &listed, day(13)))
            .await
            .unwrap();
        // Day 20: read 7 days ago, less than max_age: nothing of it is forgotten yet.
        let report = store.prune(&rules, &configured(), day(20)).await.unwrap();
        assert_eq!((report.tombstones, report.sources_forgotten), (0, 0));
        assert_eq!(tombstones(&store, "gone").await, 2);
        // Day 24: 11 days unread: its tombstones, listing time and polling state go.
        let report = store.prune(&rules, &configured(), day(24)).await.unwrap();
        assert_eq!((report.tombstones, report.sources_forgotten), (2, 1));
        assert_eq!(tombstones(&store, "gone").await, 0);
        let listing = "SELECT COUNT(*) FROM source_listings WHERE source = ?1";
        assert_eq!(count(&store, listing, "gone").await, 0);
        // Its stored entry keeps the state row for the merged feed: URL and title, nothing of
        // the polling.
        let state = store
            .call(|connection| {
                super::super::load_state(connection, "gone", "https://gone.example/feed")
            })
            .await
            .unwrap();
        let fresh = SourceState {
            feed_title: Some("Gone's feed".into()),
            ..SourceState::new("gone", "https://gone.example/feed")
        };
        assert_eq!(state, fresh);
        // A second pass has nothing more to forget.
        let again = store.prune(&rules, &configured(), day(25)).await.unwrap();
        assert_eq!((again.tombstones, again.sources_forgotten), (0, 0));
        // Re-added on day 30, its feed still listing the three: "kept" is known (stored),
        // "copy" is new to it but merges into b's story, "old" (its story gone) is new again.
        assert_eq!(
            known(&store, "gone", &["old", "copy", "kept"]).await,
            ["kept"]
        );
        let new: Vec<NewItem> = entries
            .into_iter()
            .filter(|i| i.entry_key != "kept")
            .collect();
        let summary = store.commit_pass(state, new, day(30)).await.unwrap();
        assert_eq!((summary.new_stories, summary.merged), (1, 1));
        let stories = store
            .call(|connection| latest_stories(connection, 10))
            .await
            .unwrap();
        let shared = stories.iter().find(|s| s.title == "shared").unwrap();
        let names: Vec<&str> = shared.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["b", "gone"]);
    }

    #[test]
    fn a_removed_source_without_entries_leaves_no_row_and_a_configured_one_keeps_its_own() {
        on_both(
            a_removed_source_without_entries_leaves_no_row_and_a_configured_one_keeps_its_own_on,
        );
    }

    async fn a_removed_source_without_entries_leaves_no_row_and_a_configured_one_keeps_its_own_on(
        store: Store,
    ) {
        // Two sources with the same history, read last on day 1; only "a" is still configured.
        for source in ["a", "left"] {
            commit(
                &store,
                source,
                vec![item(&format!("{source}-1"), None, 1)],
                1,
            )
            .await;
            let source = source.to_string();
            store
                .call(move |connection| note_listing(connection, &source, &[], day(1)))
                .await
                .unwrap();
        }
        let report = store
            .prune(&settings(10, 0, None), &configured(), day(30))
            .await
            .unwrap();
        assert_eq!((report.entries, report.stories), (2, 2));
        assert_eq!(report.sources_forgotten, 1);
        let state = "SELECT COUNT(*) FROM sources WHERE name = ?1";
        assert_eq!(count(&store, state, "left").await, 0);
        assert_eq!(tombstones(&store, "left").await, 0);
        // The configured source keeps its tombstone (its feed may still list the entry: only
        // its next read can tell) and its state.
        assert_eq!(tombstones(&store, "a").await, 1);
        assert_eq!(count(&store, state, "a").await, 1);
    }

    #[tokio::test]
    async fn pruning_gives_the_space_back_to_the_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("t.db");
        let store = Store::open(&path).unwrap();
        let body = "lorem ipsum ".repeat(2000);
        let items: Vec<NewItem> = (0..300)
            .map(|n| {
                let mut item = item(&format!("big{n}"), None, 1);
                item.content_html = Some(format!("<p>{n} {body}</p>"));
                item
            })
            .collect();
        commit(&store, "a", items, 1).await;
        let size = |store: &Store| {
            store
                .call_blocking(|connection| connection.batch("PRAGMA wal_checkpoint(TRUNCATE)"))
                .unwrap();
            std::fs::metadata(&path).unwrap().len()
        };
        let before = size(&store);
        let report = store
            .prune(&settings(1, 10, None), &configured(), day(5))
            .await
            .unwrap();
        assert_eq!(report.entries, 290);
        assert!(report.bytes_freed > 0, "{report:?}");
        let after = size(&store);
        assert!(after * 5 < before, "{before} -> {after} bytes");
        let stats = store.call_blocking(database_stats).unwrap();
        assert_eq!(
            (stats.stories, stats.entries, stats.pruned_entries),
            (10, 10, 290)
        );
        assert_eq!(stats.free_bytes, 0);
    }
}
