//! `migrate-store`: copies every table of one store into another, e.g. SQLite into PostgreSQL.
//!
//! Rows are copied as they are, ids included, in one write transaction on the target, which
//! must be empty (a half-copied or re-run migration would otherwise mix two stores). On
//! PostgreSQL the stories' identity sequence is then moved past the highest copied id.

use super::db::{Backend, Connection, Value};
use super::{Store, StoreError};

/// The tables, the columns copied and the unique key they are paged by (one column, or a
/// primary key of several), parents before children (`story_sources` refers to `stories`).
/// `story_sources` is read in `rowid` order (`seq` on PostgreSQL) so the order its entries were
/// seen in is kept. The tombstones of pruned entries and the feeds' listing times are copied
/// too: without them, every pruned entry still listed in its feed would come back as new on the
/// first poll after the migration. So are the site memory's pages (`site_pages`), which a new
/// page's extraction compares with. The store's derived data (the dedupe band index, the search
/// index) is rebuilt on the target, never copied.
const TABLES: &[(&str, &str, &[&str])] = &[
    (
        "sources",
        "name, url, feed_title, site_link, etag, last_modified, last_attempt, last_success, \
         last_status, last_http_status, consecutive_failures, last_error, next_poll, next_reason, \
         retry_after_until, gone, redirect_url, redirect_candidate, redirect_count, cache_until, \
         ttl_minutes, skip_hours, skip_days, last_new_entry, publish_interval",
        &["name"],
    ),
    (
        "stories",
        "id, uid, title, link, canonical_url, published, updated, content_html, summary, text, \
         authors, categories, enclosures, image, fingerprint, extraction, first_source, created, \
         text_hash, dedupe",
        &["id"],
    ),
    (
        "story_sources",
        "story_id, source, entry_key, link, canonical_url, title, extraction, seen, layer, \
         similarity_permille, content_hash",
        &["rowid"],
    ),
    (
        "pruned_entries",
        "source, entry_key, pruned, last_listed",
        &["source", "entry_key"],
    ),
    ("source_listings", "source, listed_at", &["source"]),
    (
        "websub_subscriptions",
        "source, hub, topic, secret, state, requested_at, lease_until, lease_seconds",
        &["source"],
    ),
    ("site_pages", "host, page, seen, blocks", &["host", "page"]),
];

/// Rows copied per table, in [`TABLES`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySummary {
    pub tables: Vec<(&'static str, u64)>,
}

/// Copies every row of `from` into `to`, which must hold no stories and no sources yet.
pub fn copy_store(from: &Store, to: &Store) -> Result<CopySummary, StoreError> {
    let mut tables = Vec::new();
    to.call_blocking(|target| {
        target.write_transaction(|target| {
            for (table, _, _) in TABLES {
                let count: i64 = target
                    .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
                    .get(0)?;
                if count > 0 {
                    return Err(StoreError::NotEmpty { table });
                }
            }
            for (table, columns, key) in TABLES {
                let copied = copy_table(from, target, table, columns, key)?;
                tables.push((*table, copied));
            }
            if target.backend() == Backend::Postgres {
                restart_story_ids(target)?;
            }
            // The dedupe index is derived data: rebuilt from the copied fingerprints.
            super::band_index::rebuild(target)?;
            Ok(())
        })
    })?;
    Ok(CopySummary { tables })
}

/// Rows read from the source per query: a store of any size is copied in bounded memory.
/// Tests page by 2, so their few rows take several pages.
const PAGE_ROWS: i64 = if cfg!(test) { 2 } else { 500 };

/// Copies one table page by page, in `key` order (keyset paging: each page starts after the
/// last key copied, compared as a row value when the key has several columns), and returns the
/// rows copied.
fn copy_table(
    from: &Store,
    target: &mut Connection,
    table: &str,
    columns: &str,
    key: &[&str],
) -> Result<u64, StoreError> {
    let width = columns.split(", ").count();
    let placeholders = (1..=width)
        .map(|index| format!("?{index}"))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!("INSERT INTO {table} ({columns}) VALUES ({placeholders})");
    let (first, next) = page_queries(table, columns, key);
    let mut last: Option<Vec<Value>> = None;
    let mut copied = 0;
    loop {
        let rows = from.call_blocking(|source| match &last {
            None => source.query(&first, &[Value::Int(PAGE_ROWS)]),
            Some(after) => {
                let mut parameters = vec![Value::Int(PAGE_ROWS)];
                parameters.extend(after.iter().cloned());
                source.query(&next, &parameters)
            }
        })?;
        for row in &rows {
            let values: Vec<Value> = (key.len()..key.len() + width)
                .map(|index| row.get::<Value>(index))
                .collect::<Result<_, _>>()?;
            target.execute(&insert, &values)?;
        }
        copied += rows.len() as u64;
        match rows.last() {
            Some(row) if rows.len() as i64 == PAGE_ROWS => {
                last = Some(
                    (0..key.len())
                        .map(|index| row.get::<Value>(index))
                        .collect::<Result<_, _>>()?,
                )
            }
            _ => return Ok(copied),
        }
    }
}

/// The first page's query and the next pages' query of a table: the key columns first, then
/// the copied columns; `?1` is the page size, `?2`... the last key copied.
fn page_queries(table: &str, columns: &str, key: &[&str]) -> (String, String) {
    let key_list = key.join(", ");
    let after = (2..2 + key.len())
        .map(|index| format!("?{index}"))
        .collect::<Vec<_>>()
        .join(", ");
    let first = format!("SELECT {key_list}, {columns} FROM {table} ORDER BY {key_list} LIMIT ?1");
    let next = format!(
        "SELECT {key_list}, {columns} FROM {table} WHERE ({key_list}) > ({after}) \
         ORDER BY {key_list} LIMIT ?1"
    );
    (first, next)
}

/// Moves PostgreSQL's story id sequence past the copied ids, so the next story does not
/// collide with one.
fn restart_story_ids(target: &mut Connection) -> Result<(), StoreError> {
    target.query(
        "SELECT setval(pg_get_serial_sequence('stories', 'id'), \
         GREATEST((SELECT MAX(id) FROM stories), 1))",
        &[],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ExtractionStatus;
    use crate::store::{DedupePolicy, NewItem, SourceState, commit_pass, latest_stories};
    use crate::store::{from_epoch, load_statuses, test_cluster};

    fn sample(store: &Store) {
        store
            .call_blocking(|connection| {
                let policy = DedupePolicy::default();
                for (name, count) in [("a", 3), ("b", 2)] {
                    let mut state = SourceState::new(name, &format!("https://{name}.example/"));
                    state.etag = Some(format!("\"{name}\""));
                    state.skip_days = vec![0, 6];
                    let items: Vec<NewItem> = (0..count)
                        .map(|index| NewItem {
                            entry_key: format!("{index}"),
                            link: Some(format!("https://x.example/{index}")),
                            canonical_urls: vec![format!("https://x.example/{index}")],
                            title: format!("story {index}"),
                            published: from_epoch(1_700_000_000 + index),
                            updated: from_epoch(1_700_000_000 + index),
                            content_html: None,
                            summary: None,
                            text: None,
                            authors: Vec::new(),
                            categories: Vec::new(),
                            enclosures: Vec::new(),
                            image: None,
                            fingerprint: crate::dedupe::fingerprint(
                                &(0..80)
                                    .map(|n| format!("s{index}w{n} "))
                                    .collect::<String>(),
                            ),
                            extraction: ExtractionStatus::Extracted,
                            version: None,
                        })
                        .collect();
                    commit_pass(
                        connection,
                        &policy,
                        &state,
                        &items,
                        from_epoch(1_700_000_500),
                    )?;
                }
                // Three tombstones of "a" (more than a page of two, so the two-column key
                // pages), its listing time, and a WebSub subscription of "b".
                for key in ["old-1", "old-2", "old-3"] {
                    connection.execute(
                        "INSERT INTO pruned_entries (source, entry_key, pruned, last_listed) \
                         VALUES ('a', ?1, 1700000100, 1700000200)",
                        crate::store::db::values![key],
                    )?;
                }
                crate::store::note_listing(connection, "a", &[], from_epoch(1_700_000_600))?;
                crate::store::request_subscription(
                    connection,
                    "b",
                    "https://hub.example/",
                    "https://b.example/",
                    "secret",
                    from_epoch(1_700_000_700),
                )?;
                // Three remembered pages of one site (more than a page of two).
                for number in 0..3u8 {
                    let blocks = vec![number; 12];
                    let seen = from_epoch(1_700_000_800);
                    crate::store::add_site_page(connection, "x.example", blocks, seen)?;
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_sqlite_store_is_copied_to_postgres_whole_and_only_into_an_empty_one() {
        let from = Store::open_in_memory().unwrap();
        sample(&from);
        let to = Store::open_postgres(&test_cluster::fresh_database()).unwrap();
        let summary = copy_store(&from, &to).unwrap();
        assert_eq!(
            summary.tables,
            [
                ("sources", 2),
                ("stories", 3),
                ("story_sources", 5),
                ("pruned_entries", 3),
                ("source_listings", 1),
                ("websub_subscriptions", 1),
                ("site_pages", 3)
            ]
        );
        // The tombstones survive the move: a pruned entry still listed stays pruned.
        let tombstones = |store: &Store| {
            store
                .call_blocking(|connection| {
                    let rows = connection.query(
                        "SELECT source, entry_key, pruned, last_listed FROM pruned_entries \
                         ORDER BY source, entry_key",
                        &[],
                    )?;
                    rows.iter()
                        .map(|row| {
                            Ok((
                                row.get::<String>(0)?,
                                row.get::<String>(1)?,
                                row.get::<i64>(2)?,
                                row.get::<i64>(3)?,
                            ))
                        })
                        .collect::<Result<Vec<_>, StoreError>>()
                })
                .unwrap()
        };
        assert_eq!(tombstones(&from), tombstones(&to));
        let subscription =
            |store: &Store| store.call_blocking(crate::store::subscriptions).unwrap();
        assert_eq!(subscription(&from), subscription(&to));
        let pages = |store: &Store| {
            store
                .call_blocking(|connection| crate::store::site_pages(connection, "x.example"))
                .unwrap()
        };
        assert_eq!(pages(&from), pages(&to));
        let keys = [("a", "https://a.example/"), ("b", "https://b.example/")]
            .map(|(name, url)| (name.to_string(), url.to_string()));
        let read = |store: &Store| {
            store
                .call_blocking(|connection| {
                    Ok((
                        latest_stories(connection, 10)?,
                        load_statuses(connection, &keys)?,
                    ))
                })
                .unwrap()
        };
        assert_eq!(read(&from), read(&to));
        // New stories get ids past the copied ones.
        let next = to
            .call_blocking(|connection| {
                connection
                    .query_one(
                        "INSERT INTO stories (uid, title, published, updated, extraction, \
                                first_source, created) VALUES ('u', 't', 0, 0, 'x', 'a', 0) \
                                RETURNING id",
                        &[],
                    )?
                    .get::<i64>(0)
            })
            .unwrap();
        assert!(next > 3, "{next}");
        assert!(matches!(
            copy_store(&from, &to),
            Err(StoreError::NotEmpty { table: "sources" })
        ));
    }
}
