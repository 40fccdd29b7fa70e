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
//! Every batch is its own short transaction on the shared connection, so a poll or a request
//! waits at most one batch (a few milliseconds), never a whole pass.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::recent::RecentFingerprints;
use super::{Store, StoreError, to_epoch};
use crate::config::RetentionSettings;

/// Entries removed by one batch: small enough that the batch's transaction stays within a few
/// milliseconds even when every entry takes a story with its full text along.
pub const BATCH_ENTRIES: usize = 100;
/// Pages given back to the file system per step (1 MiB with 4 KiB pages).
pub const VACUUM_PAGES_PER_STEP: i64 = 256;

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
        if self
            .max_entries_per_source
            .is_some_and(|cap| rank >= cap)
        {
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
    /// Tombstones dropped (their entries had left their feeds long ago).
    pub tombstones: usize,
    /// Bytes given back to the file system by incremental vacuum.
    pub bytes_freed: u64,
    /// Transactions (or vacuum steps) the pass took.
    pub batches: usize,
    /// The longest one: the longest any poll or request could have waited on this pass.
    pub longest_batch: Duration,
}

impl PruneReport {
    fn timed(&mut self, elapsed: Duration) {
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
    /// tombstones, then the freed pages. Each batch takes the connection on its own, so polls
    /// and requests interleave with the pass.
    pub async fn prune(
        &self,
        settings: &RetentionSettings,
        now: DateTime<Utc>,
    ) -> Result<PruneReport, StoreError> {
        let rules = PruneRules::from(settings);
        let mut report = PruneReport::default();
        let floor = rules.always_kept();
        let (sources, elapsed) = self
            .timed_call(move |connection| sources_above(connection, floor))
            .await?;
        report.timed(elapsed);
        for source in sources {
            loop {
                let recent = self.recent.clone();
                let name = source.clone();
                let (removed, elapsed) = self
                    .timed_call(move |connection| {
                        let mut recent = recent
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                        prune_batch(connection, &mut recent, &name, rules, now)
                    })
                    .await?;
                report.timed(elapsed);
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
            report.timed(elapsed);
            report.tombstones += dropped;
            if dropped < BATCH_ENTRIES {
                break;
            }
        }
        loop {
            let (freed, elapsed) = self.timed_call(vacuum_step).await?;
            if freed == 0 {
                break;
            }
            report.timed(elapsed);
            report.bytes_freed += freed;
        }
        Ok(report)
    }

    /// `call`, also returning how long the work held the connection.
    async fn timed_call<T, F>(&self, work: F) -> Result<(T, Duration), StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.call(move |connection| {
            let start = Instant::now();
            let value = work(connection)?;
            Ok((value, start.elapsed()))
        })
        .await
    }
}

/// The sources holding more entries than every source may keep whatever their age.
fn sources_above(connection: &Connection, floor: usize) -> Result<Vec<String>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT source FROM story_sources GROUP BY source HAVING COUNT(*) > ?1 ORDER BY source",
    )?;
    let floor = i64::try_from(floor).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![floor], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One entry chosen for pruning.
struct Doomed {
    rowid: i64,
    story_id: i64,
    entry_key: String,
}

/// Removes up to [`BATCH_ENTRIES`] of the source's entries beyond the limits, in one
/// transaction, and forgets the deleted stories' fingerprints once it is committed.
fn prune_batch(
    connection: &mut Connection,
    recent: &mut RecentFingerprints,
    source: &str,
    rules: PruneRules,
    now: DateTime<Utc>,
) -> Result<Removed, StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let doomed = select_batch(&transaction, source, rules, to_epoch(now))?;
    let mut stories = BTreeSet::new();
    for entry in &doomed {
        bury(&transaction, source, entry, now)?;
        stories.insert(entry.story_id);
    }
    let mut deleted = Vec::new();
    for story_id in stories {
        if settle_story(&transaction, story_id)? {
            deleted.push(story_id);
        }
    }
    transaction.commit()?;
    for story_id in &deleted {
        recent.forget(*story_id);
    }
    Ok(Removed {
        entries: doomed.len(),
        stories: deleted.len(),
    })
}

/// The source's entries to prune, oldest last: ranked newest first by when they were stored,
/// then by the story's date (a first poll stores a whole feed at once).
fn select_batch(
    transaction: &Transaction<'_>,
    source: &str,
    rules: PruneRules,
    now: i64,
) -> Result<Vec<Doomed>, StoreError> {
    let floor = rules.always_kept();
    let mut statement = transaction.prepare_cached(
        "SELECT ss.rowid, ss.story_id, ss.entry_key, ss.seen FROM story_sources ss \
         JOIN stories s ON s.id = ss.story_id WHERE ss.source = ?1 \
         ORDER BY ss.seen DESC, s.published DESC, ss.rowid DESC LIMIT -1 OFFSET ?2",
    )?;
    let mut rows = statement.query(params![source, i64::try_from(floor).unwrap_or(i64::MAX)])?;
    let mut doomed = Vec::new();
    let mut rank = floor;
    while let Some(row) = rows.next()? {
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
        rank += 1;
    }
    Ok(doomed)
}

/// Replaces an entry with its tombstone.
fn bury(
    transaction: &Transaction<'_>,
    source: &str,
    entry: &Doomed,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "INSERT INTO pruned_entries (source, entry_key, pruned, last_listed) \
             VALUES (?1, ?2, ?3, ?3) ON CONFLICT (source, entry_key) \
             DO UPDATE SET pruned = excluded.pruned, last_listed = excluded.last_listed",
        )?
        .execute(params![source, entry.entry_key, to_epoch(now)])?;
    transaction
        .prepare_cached("DELETE FROM story_sources WHERE rowid = ?1")?
        .execute(params![entry.rowid])?;
    Ok(())
}

/// After some of its entries went: deletes the story if none is left (returns true), else
/// makes its first source one that still carries it.
fn settle_story(transaction: &Transaction<'_>, story_id: i64) -> Result<bool, StoreError> {
    let first: Option<String> = transaction
        .prepare_cached(
            "SELECT source FROM story_sources WHERE story_id = ?1 ORDER BY seen, rowid LIMIT 1",
        )?
        .query_row(params![story_id], |row| row.get(0))
        .optional()?;
    match first {
        None => {
            transaction
                .prepare_cached("DELETE FROM stories WHERE id = ?1")?
                .execute(params![story_id])?;
            Ok(true)
        }
        Some(source) => {
            transaction
                .prepare_cached(
                    "UPDATE stories SET first_source = ?2 WHERE id = ?1 AND first_source != ?2",
                )?
                .execute(params![story_id, source])?;
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
    let dropped = connection
        .prepare_cached(
            "DELETE FROM pruned_entries WHERE rowid IN (SELECT t.rowid FROM pruned_entries t \
             JOIN source_listings l ON l.source = t.source \
             WHERE t.last_listed < l.listed_at AND t.last_listed < ?1 LIMIT ?2)",
        )?
        .execute(params![cutoff, BATCH_ENTRIES as i64])?;
    Ok(dropped)
}

/// Gives up to [`VACUUM_PAGES_PER_STEP`] free pages back to the file system; returns the bytes.
fn vacuum_step(connection: &mut Connection) -> Result<u64, StoreError> {
    let free_pages: i64 = connection.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
    if free_pages == 0 {
        return Ok(0);
    }
    let page_size: i64 = connection.pragma_query_value(None, "page_size", |r| r.get(0))?;
    let step = free_pages.min(VACUUM_PAGES_PER_STEP);
    connection.execute_batch(&format!("PRAGMA incremental_vacuum({step})"))?;
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
    let transaction = connection.transaction()?;
    transaction
        .prepare_cached(
            "INSERT INTO source_listings (source, listed_at) VALUES (?1, ?2) \
             ON CONFLICT (source) DO UPDATE SET listed_at = excluded.listed_at",
        )?
        .execute(params![source, now])?;
    {
        let mut statement = transaction.prepare_cached(
            "UPDATE pruned_entries SET last_listed = ?3 WHERE source = ?1 AND entry_key = ?2",
        )?;
        for key in listed_known_keys {
            statement.execute(params![source, key, now])?;
        }
    }
    transaction.commit()?;
    Ok(())
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

pub fn database_stats(connection: &Connection) -> Result<DatabaseStats, StoreError> {
    let count = |table: &str| -> Result<u64, StoreError> {
        let count: i64 =
            connection.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
                row.get(0)
            })?;
        Ok(count.max(0) as u64)
    };
    let pragma = |name: &str| -> Result<u64, StoreError> {
        let value: i64 = connection.pragma_query_value(None, name, |row| row.get(0))?;
        Ok(value.max(0) as u64)
    };
    let page_size = pragma("page_size")?;
    let free_pages = pragma("freelist_count")?;
    Ok(DatabaseStats {
        stories: count("stories")?,
        entries: count("story_sources")?,
        pruned_entries: count("pruned_entries")?,
        used_bytes: (pragma("page_count")? - free_pages) * page_size,
        free_bytes: free_pages * page_size,
    })
}
