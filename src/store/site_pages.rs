//! The site memory's pages (`extract::SiteMemory`), kept across restarts and shared by a
//! fleet: for each host, the prose-block keys of its last extracted pages.
//!
//! Bounded as the memory is: at most [`PAGES_PER_HOST`] rows a host (adding one deletes the
//! older), and a host not seen for the retention's `max_age` is forgotten by the pruning pass
//! ([`forget_quiet_hosts`]). The blocks are opaque bytes here (`PageBlocks::to_bytes`).

use chrono::{DateTime, Utc};

use super::db::{Connection, values};
use super::{StoreError, to_epoch};

/// Pages kept per host: as many as the memory keeps (`site_furniture::PAGES_PER_HOST`).
pub const PAGES_PER_HOST: i64 = 12;

/// The host's stored pages, oldest first, as stored bytes.
pub fn site_pages(connection: &mut Connection, host: &str) -> Result<Vec<Vec<u8>>, StoreError> {
    connection
        .query(
            "SELECT blocks FROM site_pages WHERE host = ?1 ORDER BY page",
            values![host],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Adds a page of `host` and deletes the host's pages beyond [`PAGES_PER_HOST`], oldest
/// first. Pages are numbered per host, one after the other, so the pages to delete are a range
/// of the primary key. Two instances adding a page of one host at once may pick the same
/// number, and the later one is then dropped: one page less to compare with, never an error.
/// Like a source's own writes, it matches nothing against other rows, so on PostgreSQL it does
/// not queue behind the passes' commits (`source_transaction`).
pub fn add_site_page(
    connection: &mut Connection,
    host: &str,
    blocks: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    connection.source_transaction(|connection| {
        let added = connection.query_opt(
            "INSERT INTO site_pages (host, page, seen, blocks) \
             SELECT ?1, COALESCE(MAX(page), 0) + 1, ?2, ?3 FROM site_pages WHERE host = ?1 \
             ON CONFLICT (host, page) DO NOTHING RETURNING page",
            values![host, to_epoch(now), blocks],
        )?;
        if let Some(row) = added {
            let page: i64 = row.get(0)?;
            connection.execute(
                "DELETE FROM site_pages WHERE host = ?1 AND page <= ?2",
                values![host, page - PAGES_PER_HOST],
            )?;
        }
        Ok(())
    })
}

/// Forgets the hosts whose newest page is older than `cutoff` (seconds since the epoch), in
/// one short statement (a dozen rows a host at most); returns the pages deleted.
pub fn forget_quiet_hosts(connection: &mut Connection, cutoff: i64) -> Result<u64, StoreError> {
    connection.write_transaction(|connection| {
        connection.execute(
            "DELETE FROM site_pages WHERE host IN \
             (SELECT host FROM site_pages GROUP BY host HAVING MAX(seen) < ?1)",
            values![cutoff],
        )
    })
}

/// SQLite's table (migration 12).
pub const SQLITE_SCHEMA: &str = "
    CREATE TABLE site_pages (
        host TEXT NOT NULL,
        page INTEGER NOT NULL,
        seen INTEGER NOT NULL,
        blocks BLOB NOT NULL,
        PRIMARY KEY (host, page)
    );
";

/// PostgreSQL's table (migration 12): as SQLite's, `BIGINT` for `INTEGER`, `BYTEA` for `BLOB`.
pub const POSTGRES_SCHEMA: &str = "
    CREATE TABLE site_pages (
        host TEXT NOT NULL,
        page BIGINT NOT NULL,
        seen BIGINT NOT NULL,
        blocks BYTEA NOT NULL,
        PRIMARY KEY (host, page)
    );
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{from_epoch, test_stores};

    #[test]
    fn a_host_keeps_its_last_pages_in_order_and_quiet_hosts_go() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    for number in 0..PAGES_PER_HOST + 3 {
                        let blocks = vec![number as u8; 12];
                        add_site_page(connection, "a.example", blocks, from_epoch(1_000 + number))?;
                    }
                    add_site_page(connection, "b.example", vec![7; 12], from_epoch(5_000))?;
                    let pages = site_pages(connection, "a.example")?;
                    assert_eq!(pages.len(), PAGES_PER_HOST as usize);
                    // The oldest three went; the rest come oldest first.
                    assert_eq!(pages[0], vec![3; 12]);
                    assert_eq!(pages.last(), Some(&vec![14; 12]));
                    assert!(site_pages(connection, "c.example")?.is_empty());
                    // "a" was last seen at 1014, "b" at 5000.
                    assert_eq!(forget_quiet_hosts(connection, 2_000)?, 12);
                    assert!(site_pages(connection, "a.example")?.is_empty());
                    assert_eq!(site_pages(connection, "b.example")?.len(), 1);
                    Ok(())
                })
                .unwrap();
        }
    }
}
