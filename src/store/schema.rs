//! The schema, versioned with `PRAGMA user_version` and ordered migrations.
//!
//! A migration is appended, never edited: a database at version N runs migrations N+1.. in one
//! transaction each, so a crash mid-upgrade leaves the previous version intact. The one
//! exception is [`Migration::IncrementalVacuum`]: `VACUUM` cannot run inside a transaction, and
//! repeating it after a crash is harmless.

use rusqlite::Connection;

use super::StoreError;

/// One step of the schema's history.
enum Migration {
    /// Statements run in one transaction.
    Sql(&'static str),
    /// Switches an existing file to incremental auto-vacuum, so that pruning can give space
    /// back to the file system (`PRAGMA incremental_vacuum`); a database created since has it
    /// from the start (see `Store::prepare`), and the `VACUUM` this needs is skipped.
    IncrementalVacuum,
}

const MIGRATIONS: &[Migration] = &[
    // 1: sources' polling state, stories and which sources carried them.
    Migration::Sql(
        "
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        feed_title TEXT,
        site_link TEXT,
        etag TEXT,
        last_modified TEXT,
        last_attempt INTEGER,
        last_success INTEGER,
        last_status TEXT,
        last_http_status INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_poll INTEGER,
        next_reason TEXT,
        retry_after_until INTEGER,
        gone INTEGER NOT NULL DEFAULT 0,
        redirect_url TEXT,
        redirect_candidate TEXT,
        redirect_count INTEGER NOT NULL DEFAULT 0,
        cache_until INTEGER,
        ttl_minutes INTEGER,
        skip_hours TEXT NOT NULL DEFAULT '',
        skip_days TEXT NOT NULL DEFAULT '',
        last_new_entry INTEGER,
        publish_interval INTEGER
    );
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        link TEXT,
        canonical_url TEXT,
        published INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        content_html TEXT,
        summary TEXT,
        text TEXT,
        authors TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        enclosures TEXT NOT NULL DEFAULT '[]',
        image TEXT,
        fingerprint BLOB,
        extraction TEXT NOT NULL,
        first_source TEXT NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE INDEX stories_canonical ON stories(canonical_url);
    CREATE INDEX stories_published ON stories(published DESC);
    CREATE INDEX stories_created ON stories(created DESC);
    CREATE TABLE story_sources (
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        link TEXT,
        canonical_url TEXT,
        title TEXT,
        extraction TEXT NOT NULL,
        seen INTEGER NOT NULL,
        PRIMARY KEY (source, entry_key)
    );
    CREATE INDEX story_sources_canonical ON story_sources(canonical_url);
    CREATE INDEX story_sources_story ON story_sources(story_id);
    CREATE INDEX story_sources_seen ON story_sources(source, seen DESC);
    ",
    ),
    // 2: what retention needs. A pruned entry leaves a tombstone, so that its feed still
    // listing it does not bring it back as new; `source_listings` says when each source's feed
    // was last read, so a tombstone can go once its entry has left the feed.
    Migration::Sql(
        "
    CREATE TABLE pruned_entries (
        source TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        pruned INTEGER NOT NULL,
        last_listed INTEGER NOT NULL,
        PRIMARY KEY (source, entry_key)
    );
    CREATE INDEX pruned_entries_listed ON pruned_entries(source, last_listed);
    CREATE TABLE source_listings (
        source TEXT PRIMARY KEY,
        listed_at INTEGER NOT NULL
    );
    ",
    ),
    // 3: incremental auto-vacuum for databases created before retention.
    Migration::IncrementalVacuum,
];

/// `PRAGMA auto_vacuum`'s value for incremental mode.
pub const AUTO_VACUUM_INCREMENTAL: i64 = 2;

/// Brings the database to the latest schema version.
pub fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        match migration {
            Migration::Sql(statements) => {
                let transaction = connection.transaction()?;
                transaction.execute_batch(statements)?;
                transaction.pragma_update(None, "user_version", index as i64 + 1)?;
                transaction.commit()?;
            }
            Migration::IncrementalVacuum => {
                let mode: i64 =
                    connection.pragma_query_value(None, "auto_vacuum", |row| row.get(0))?;
                if mode != AUTO_VACUUM_INCREMENTAL {
                    tracing::info!("switching the database to incremental auto-vacuum (once)");
                    connection.pragma_update(None, "auto_vacuum", AUTO_VACUUM_INCREMENTAL)?;
                    connection.execute_batch("VACUUM")?;
                }
                connection.pragma_update(None, "user_version", index as i64 + 1)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_is_idempotent() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrate(&mut connection).unwrap();
        migrate(&mut connection).unwrap();
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn an_existing_file_is_switched_to_incremental_vacuum() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("old.db");
        let mut connection = Connection::open(&path).unwrap();
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .unwrap();
        // A database as the first release left it: version 1, no auto-vacuum.
        let Migration::Sql(first) = &MIGRATIONS[0] else {
            panic!("migration 1 is SQL");
        };
        connection.execute_batch(first).unwrap();
        connection.pragma_update(None, "user_version", 1).unwrap();
        let mode = |connection: &Connection| -> i64 {
            connection
                .pragma_query_value(None, "auto_vacuum", |row| row.get(0))
                .unwrap()
        };
        assert_eq!(mode(&connection), 0);
        migrate(&mut connection).unwrap();
        drop(connection);
        let connection = Connection::open(&path).unwrap();
        assert_eq!(mode(&connection), AUTO_VACUUM_INCREMENTAL);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            migrate(&mut connection),
            Err(StoreError::TooNew { found: 999, .. })
        ));
    }
}
