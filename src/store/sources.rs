//! Per-source polling state: validators, failures, backoff, redirects, and extraction health.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::db::{Connection, Row, values};
use super::{StoreError, from_epoch, to_epoch};

/// Everything remembered about one source between polls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceState {
    pub name: String,
    /// The configured feed URL the state belongs to.
    pub url: String,
    pub feed_title: Option<String>,
    pub site_link: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// "ok", "not_modified", "failed", "skipped".
    pub last_status: Option<String>,
    pub last_http_status: Option<u16>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub next_poll: Option<DateTime<Utc>>,
    /// Why `next_poll` is what it is, in words for the admin.
    pub next_reason: Option<String>,
    /// A server's `Retry-After` for this source.
    pub retry_after_until: Option<DateTime<Utc>>,
    /// The feed answered 410 Gone: it is not polled again until its URL changes.
    pub gone: bool,
    /// A permanent redirect that has held for several polls: fetched instead of `url`.
    pub redirect_url: Option<String>,
    /// A permanent redirect seen but not yet trusted, and how many polls in a row it held.
    pub redirect_candidate: Option<String>,
    pub redirect_count: u32,
    /// Caching headers (`max-age`, `Expires`) of the last answer: no poll before this.
    pub cache_until: Option<DateTime<Utc>>,
    pub ttl_minutes: Option<u32>,
    pub skip_hours: Vec<u32>,
    pub skip_days: Vec<u32>,
    pub last_new_entry: Option<DateTime<Utc>>,
    /// Smoothed time between new entries, in seconds, for the adaptive interval.
    pub publish_interval: Option<i64>,
}

impl SourceState {
    /// A fresh state for a source never polled.
    pub fn new(name: &str, url: &str) -> SourceState {
        SourceState {
            name: name.to_string(),
            url: url.to_string(),
            ..SourceState::default()
        }
    }
}

/// A source's state plus what the status table and `/status` show about its entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    pub state: SourceState,
    pub entry_count: u64,
    /// Of the source's most recent entries that asked for full text: how many were extracted,
    /// and how many fell back to the feed's text or failed.
    pub recent_extracted: u32,
    pub recent_not_extracted: u32,
}

impl SourceStatus {
    /// Recent extractions mostly fail: the site changed its layout or started blocking us.
    pub fn extraction_degraded(&self) -> bool {
        let total = self.recent_extracted + self.recent_not_extracted;
        total >= 3 && self.recent_not_extracted * 2 > total
    }
}

fn join_numbers(numbers: &[u32]) -> String {
    numbers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn split_numbers(text: &str) -> Vec<u32> {
    text.split(',')
        .filter_map(|part| part.trim().parse().ok())
        .collect()
}

fn epoch_opt(value: Option<DateTime<Utc>>) -> Option<i64> {
    value.map(to_epoch)
}

fn state_from_row(row: &Row) -> Result<SourceState, StoreError> {
    let time = |index: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(row.get::<Option<i64>>(index)?.map(from_epoch))
    };
    Ok(SourceState {
        name: row.get(0)?,
        url: row.get(1)?,
        feed_title: row.get(2)?,
        site_link: row.get(3)?,
        etag: row.get(4)?,
        last_modified: row.get(5)?,
        last_attempt: time(6)?,
        last_success: time(7)?,
        last_status: row.get(8)?,
        last_http_status: row.get(9)?,
        consecutive_failures: row.get(10)?,
        last_error: row.get(11)?,
        next_poll: time(12)?,
        next_reason: row.get(13)?,
        retry_after_until: time(14)?,
        gone: row.get(15)?,
        redirect_url: row.get(16)?,
        redirect_candidate: row.get(17)?,
        redirect_count: row.get(18)?,
        cache_until: time(19)?,
        ttl_minutes: row.get(20)?,
        skip_hours: split_numbers(&row.get::<String>(21)?),
        skip_days: split_numbers(&row.get::<String>(22)?),
        last_new_entry: time(23)?,
        publish_interval: row.get(24)?,
    })
}

const COLUMNS: &str = "name, url, feed_title, site_link, etag, last_modified, last_attempt, \
    last_success, last_status, last_http_status, consecutive_failures, last_error, next_poll, \
    next_reason, retry_after_until, gone, redirect_url, redirect_candidate, redirect_count, \
    cache_until, ttl_minutes, skip_hours, skip_days, last_new_entry, publish_interval";

/// Loads a source's state. A state stored for another URL (the admin changed the source's
/// URL) is reset, keeping nothing that belonged to the old feed.
pub fn load_state(
    connection: &mut Connection,
    name: &str,
    url: &str,
) -> Result<SourceState, StoreError> {
    Ok(match stored_state(connection, name)? {
        Some(state) if state.url == url => state,
        _ => SourceState::new(name, url),
    })
}

/// The state stored under `name`, whatever its URL; `None` when there is none.
pub(crate) fn stored_state(
    connection: &mut Connection,
    name: &str,
) -> Result<Option<SourceState>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM sources WHERE name = ?1");
    connection
        .query_opt(&sql, values![name])?
        .map(|row| state_from_row(&row))
        .transpose()
}

/// Every stored source's state, loaded in one query, keyed by name: for a poll of many sources,
/// which would otherwise open one read transaction per source (a warm poll of 1000 sources
/// spent a tenth of its CPU taking and releasing the database's locks). A state stored for
/// another URL is reset as in [`load_state`]; a source with no row gets a fresh state.
pub fn load_states(
    connection: &mut Connection,
    sources: &[(&str, &str)],
) -> Result<HashMap<String, SourceState>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM sources");
    let mut stored = HashMap::new();
    for row in connection.query(&sql, values![])? {
        let state = state_from_row(&row)?;
        stored.insert(state.name.clone(), state);
    }
    Ok(sources
        .iter()
        .map(|&(name, url)| {
            let state = match stored.remove(name) {
                Some(state) if state.url == url => state,
                _ => SourceState::new(name, url),
            };
            (name.to_string(), state)
        })
        .collect())
}

/// The upsert of a source's state, built once: it is run after every pass.
fn save_state_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let updates = COLUMNS
            .split(", ")
            .skip(1)
            .map(|column| format!("{column} = excluded.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO sources ({COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
              ?19, ?20, ?21, ?22, ?23, ?24, ?25) ON CONFLICT (name) DO UPDATE SET {updates}"
        )
    })
}

/// Writes a source's state (insert or replace).
pub fn save_state(connection: &mut Connection, state: &SourceState) -> Result<(), StoreError> {
    connection.execute(
        save_state_sql(),
        values![
            &state.name,
            &state.url,
            &state.feed_title,
            &state.site_link,
            &state.etag,
            &state.last_modified,
            epoch_opt(state.last_attempt),
            epoch_opt(state.last_success),
            &state.last_status,
            state.last_http_status,
            state.consecutive_failures,
            &state.last_error,
            epoch_opt(state.next_poll),
            &state.next_reason,
            epoch_opt(state.retry_after_until),
            state.gone,
            &state.redirect_url,
            &state.redirect_candidate,
            state.redirect_count,
            epoch_opt(state.cache_until),
            state.ttl_minutes,
            join_numbers(&state.skip_hours),
            join_numbers(&state.skip_days),
            epoch_opt(state.last_new_entry),
            state.publish_interval,
        ],
    )?;
    Ok(())
}

/// How many recent entries the extraction-health flag looks at.
const HEALTH_WINDOW: i64 = 10;

/// The status of each named source (those never polled get a fresh state), read in one
/// transaction, every state in one query.
pub fn load_statuses(
    connection: &mut Connection,
    sources: &[(String, String)],
) -> Result<Vec<SourceStatus>, StoreError> {
    connection.read_transaction(|connection| {
        let keys: Vec<(&str, &str)> = sources
            .iter()
            .map(|(name, url)| (name.as_str(), url.as_str()))
            .collect();
        let mut states = load_states(connection, &keys)?;
        sources
            .iter()
            .map(|(name, url)| {
                let state = states
                    .remove(name)
                    .unwrap_or_else(|| SourceState::new(name, url));
                source_status(connection, state)
            })
            .collect()
    })
}

/// A source's state with its entry count and recent extraction health.
fn source_status(
    connection: &mut Connection,
    state: SourceState,
) -> Result<SourceStatus, StoreError> {
    let name = &state.name;
    let entry_count: i64 = connection
        .query_one(
            "SELECT COUNT(*) FROM story_sources WHERE source = ?1",
            values![name],
        )?
        .get(0)?;
    let recent: Vec<String> = connection
        .query(
            "SELECT extraction FROM story_sources WHERE source = ?1 \
                 AND extraction != 'not_requested' ORDER BY seen DESC, rowid DESC LIMIT ?2",
            values![name, HEALTH_WINDOW],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect::<Result<_, _>>()?;
    let recent_extracted = recent.iter().filter(|s| *s == "extracted").count() as u32;
    Ok(SourceStatus {
        entry_count: entry_count.max(0) as u64,
        recent_extracted,
        recent_not_extracted: recent.len() as u32 - recent_extracted,
        state,
    })
}

/// The site link each named source's feed gave (for OPML's `htmlUrl`), by source name. A
/// source whose stored state belongs to another URL, or that never gave one, is left out.
pub fn site_links(
    connection: &mut Connection,
    sources: &[(String, String)],
) -> Result<HashMap<String, String>, StoreError> {
    let stored: HashMap<String, (String, String)> = connection
        .query(
            "SELECT name, url, site_link FROM sources \
             WHERE site_link IS NOT NULL AND site_link != ''",
            &[],
        )?
        .iter()
        .map(|row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))
        .collect::<Result<_, StoreError>>()?;
    Ok(sources
        .iter()
        .filter_map(|(name, url)| match stored.get(name) {
            Some((stored_url, link)) if stored_url == url => Some((name.clone(), link.clone())),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_stores;

    #[test]
    fn site_links_belong_to_the_configured_url_only() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    let mut state = SourceState::new("a", "https://a.example/feed");
                    state.site_link = Some("https://a.example/".into());
                    save_state(connection, &state)?;
                    let mut moved = SourceState::new("b", "https://b.example/old");
                    moved.site_link = Some("https://b.example/".into());
                    save_state(connection, &moved)?;
                    save_state(connection, &SourceState::new("c", "https://c.example/"))?;
                    let keys = [
                        ("a", "https://a.example/feed"),
                        ("b", "https://b.example/new"),
                    ]
                    .map(|(name, url)| (name.to_string(), url.to_string()));
                    let links = site_links(connection, &keys)?;
                    assert_eq!(links.len(), 1, "{links:?}");
                    assert_eq!(links["a"], "https://a.example/");
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn state_round_trips_and_resets_on_url_change() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    let mut state = SourceState::new("a", "https://a.example/feed");
                    state.etag = Some("\"v1\"".into());
                    state.consecutive_failures = 3;
                    state.skip_hours = vec![1, 2, 23];
                    state.gone = true;
                    state.next_poll = Some(from_epoch(1_700_000_000));
                    save_state(connection, &state)?;
                    let loaded = load_state(connection, "a", "https://a.example/feed")?;
                    assert_eq!(loaded, state);
                    // A NUL from a broken feed is dropped alike on both backends (PostgreSQL's
                    // text cannot hold it).
                    state.feed_title = Some("Le\0 Monde".into());
                    save_state(connection, &state)?;
                    let loaded = load_state(connection, "a", "https://a.example/feed")?;
                    assert_eq!(loaded.feed_title.as_deref(), Some("Le Monde"));
                    let moved = load_state(connection, "a", "https://a.example/other")?;
                    assert_eq!(moved, SourceState::new("a", "https://a.example/other"));
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn states_load_at_once_as_one_by_one() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    let mut kept = SourceState::new("a", "https://a.example/feed");
                    kept.etag = Some("\"v1\"".into());
                    kept.consecutive_failures = 2;
                    save_state(connection, &kept)?;
                    let mut moved = SourceState::new("b", "https://b.example/old");
                    moved.etag = Some("\"old\"".into());
                    save_state(connection, &moved)?;
                    save_state(connection, &SourceState::new("gone", "https://g.example/"))?;
                    let wanted = [
                        ("a", "https://a.example/feed"),
                        ("b", "https://b.example/new"),
                        ("new", "https://n.example/"),
                    ];
                    let states = load_states(connection, &wanted)?;
                    assert_eq!(states.len(), 3, "only the configured sources: {states:?}");
                    for (name, url) in wanted {
                        assert_eq!(states[name], load_state(connection, name, url)?, "{name}");
                    }
                    assert_eq!(states["a"], kept);
                    assert_eq!(states["b"].etag, None, "a moved source starts afresh");
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn degraded_extraction_needs_a_majority_of_failures() {
        let mut status = SourceStatus {
            recent_extracted: 1,
            recent_not_extracted: 2,
            ..SourceStatus::default()
        };
        assert!(status.extraction_degraded());
        status.recent_extracted = 2;
        assert!(!status.extraction_degraded());
        status.recent_extracted = 0;
        status.recent_not_extracted = 1;
        assert!(!status.extraction_degraded(), "too few entries to judge");
    }
}
