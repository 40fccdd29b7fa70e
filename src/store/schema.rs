//! The schema of both backends, versioned with ordered migrations: SQLite keeps its version in
//! `PRAGMA user_version`, PostgreSQL in a one-row `schema_version` table.
//!
//! A migration is appended, never edited: a database at version N runs migrations N+1.. in one
//! transaction each, so a crash mid-upgrade leaves the previous version intact. The one
//! exception is [`Migration::IncrementalVacuum`] on SQLite: `VACUUM` cannot run inside a
//! transaction, and repeating it after a crash is harmless. Both lists have
//! the same length and the same tables and columns; only types differ (PostgreSQL's `BIGINT` for
//! SQLite's `INTEGER`, `BYTEA` for `BLOB`, an identity column for `INTEGER PRIMARY KEY`, and a
//! `seq` column standing for SQLite's implicit `rowid` where a query orders by it).

use super::StoreError;
use super::db::{Backend, Connection, values};

/// One step of the schema's history.
enum Migration {
    /// Statements run in one transaction.
    Sql(&'static str),
    /// Switches an existing SQLite file to incremental auto-vacuum, so that pruning can give
    /// space back to the file system (`PRAGMA incremental_vacuum`); a database created since has
    /// it from the start (see `Store::prepare`), and the `VACUUM` this needs is skipped. Nothing
    /// on PostgreSQL, where autovacuum reuses the space of deleted rows.
    IncrementalVacuum,
    /// Rust code run in one transaction, for data a statement cannot compute (hashes).
    Code(fn(&mut Connection) -> Result<(), StoreError>),
}

/// 5 (both backends, types aside): the persisted dedupe index. `story_bands` holds each
/// fingerprinted story's band hashes with its day, looked up by hash (its primary key) and
/// pruned by day; `stories` gains the exact-text hash and whether it may be matched at all
/// (`dedupe = false` sources); each member of a story records how it matched, for `explain`,
/// and a hash of its content, so that an edit by its own feed is recognised.
macro_rules! dedupe_index_sql {
    ($integer:literal) => {
        concat!(
            "CREATE TABLE story_bands (
        band_hash ",
            $integer,
            " NOT NULL,
        story_id ",
            $integer,
            " NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        day ",
            $integer,
            " NOT NULL,
        PRIMARY KEY (band_hash, story_id)
    );
    CREATE INDEX story_bands_story ON story_bands(story_id);
    CREATE INDEX story_bands_day ON story_bands(day);
    ALTER TABLE stories ADD COLUMN text_hash ",
            $integer,
            ";
    ALTER TABLE stories ADD COLUMN dedupe ",
            $integer,
            " NOT NULL DEFAULT 1;
    CREATE INDEX stories_text_hash ON stories(text_hash);
    ALTER TABLE story_sources ADD COLUMN layer TEXT;
    ALTER TABLE story_sources ADD COLUMN similarity_permille ",
            $integer,
            ";
    ALTER TABLE story_sources ADD COLUMN content_hash ",
            $integer,
            ";
    "
        )
    };
}

const SQLITE: &[Migration] = &[
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
    // 4: the fleet (`leases.rs`): live instances and their heartbeats, host leases, and a
    // counter every change to what the merged feed shows bumps (by trigger, so every writer
    // counts, `poll` and `prune` beside a daemon too), which serving instances watch.
    Migration::Sql(
        "
    CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        config_hash TEXT NOT NULL,
        started INTEGER NOT NULL,
        heartbeat INTEGER NOT NULL
    );
    CREATE TABLE host_leases (
        host TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires INTEGER NOT NULL
    );
    CREATE TABLE store_changes (id INTEGER PRIMARY KEY, counter INTEGER NOT NULL);
    INSERT INTO store_changes (id, counter) VALUES (1, 0);
    CREATE TRIGGER stories_inserted AFTER INSERT ON stories
        BEGIN UPDATE store_changes SET counter = counter + 1 WHERE id = 1; END;
    CREATE TRIGGER stories_updated AFTER UPDATE ON stories
        BEGIN UPDATE store_changes SET counter = counter + 1 WHERE id = 1; END;
    CREATE TRIGGER stories_deleted AFTER DELETE ON stories
        BEGIN UPDATE store_changes SET counter = counter + 1 WHERE id = 1; END;
    CREATE TRIGGER story_sources_inserted AFTER INSERT ON story_sources
        BEGIN UPDATE store_changes SET counter = counter + 1 WHERE id = 1; END;
    CREATE TRIGGER story_sources_deleted AFTER DELETE ON story_sources
        BEGIN UPDATE store_changes SET counter = counter + 1 WHERE id = 1; END;
    CREATE TRIGGER sources_titled AFTER UPDATE ON sources
        WHEN old.feed_title IS NOT new.feed_title OR old.site_link IS NOT new.site_link
        BEGIN UPDATE store_changes SET counter = counter + 1 WHERE id = 1; END;
    ",
    ),
    // 5: the persisted dedupe index (see `dedupe_index_sql`).
    Migration::Sql(dedupe_index_sql!("INTEGER")),
    // 6: the index filled from the stories stored before it existed.
    Migration::Code(super::band_index::rebuild),
    // 7: full-text search (`search.rs`): an FTS5 index of each story's title, text and the
    // names and feed titles of its sources, kept in step by triggers (so every path that writes
    // stories, merges, prunes or copies a store keeps it true), and filled for existing stories.
    Migration::Sql(super::search::SQLITE_SCHEMA),
    // 8: WebSub subscriptions of sources (`websub.rs`).
    Migration::Sql(super::websub::SQLITE_SCHEMA),
    // 9: nothing on SQLite (PostgreSQL's 9 makes its search triggers fire once per story and
    // transaction; one instance on a file writes far fewer stories); kept so both lists count
    // alike.
    Migration::Sql(""),
    // 10: the search index written once per story and transaction, at its end, from the
    // stories the triggers noted (`search::SQLITE_INDEX_AT_COMMIT`).
    Migration::Sql(super::search::SQLITE_INDEX_AT_COMMIT),
    // 11: the band index with fewer B-trees per row (see `BAND_INDEX_LEANER_SQLITE`).
    Migration::Sql(BAND_INDEX_LEANER_SQLITE),
    // 12: the site memory's pages, kept across restarts (`site_pages.rs`).
    Migration::Sql(super::site_pages::SQLITE_SCHEMA),
];

/// SQLite's 11: `story_bands` as a `WITHOUT ROWID` table (its primary key is the table: one
/// B-tree, not a rowid table and a key index beside it) and without its index by day; the
/// window is pruned through the stories' creation times from where the last pruning stopped
/// (`story_bands_pruned`, see `band_index::prune_window`). A band row was written into four
/// B-trees, now two (the key and the index by story that deleting a story's rows needs).
const BAND_INDEX_LEANER_SQLITE: &str = "
    CREATE TABLE story_bands_new (
        band_hash INTEGER NOT NULL,
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        day INTEGER NOT NULL,
        PRIMARY KEY (band_hash, story_id)
    ) WITHOUT ROWID;
    INSERT INTO story_bands_new (band_hash, story_id, day)
        SELECT band_hash, story_id, day FROM story_bands ORDER BY band_hash, story_id;
    DROP TABLE story_bands;
    ALTER TABLE story_bands_new RENAME TO story_bands;
    CREATE INDEX story_bands_story ON story_bands(story_id);
    CREATE TABLE story_bands_pruned (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        created_before INTEGER NOT NULL
    );
    INSERT INTO story_bands_pruned (id, created_before)
        SELECT 1, COALESCE(MIN(created), 0) FROM stories;
";

/// PostgreSQL's 11: the same pruning through the stories (`story_bands_pruned`), so the index
/// by day goes too (a heap table keeps its one key index).
const BAND_INDEX_LEANER_POSTGRES: &str = "
    DROP INDEX story_bands_day;
    CREATE TABLE story_bands_pruned (
        id BIGINT PRIMARY KEY CHECK (id = 1),
        created_before BIGINT NOT NULL
    );
    INSERT INTO story_bands_pruned (id, created_before)
        SELECT 1, COALESCE(MIN(created), 0) FROM stories;
";

const POSTGRES: &[Migration] = &[
    // 1: as SQLite's 1.
    Migration::Sql(
        "
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        feed_title TEXT,
        site_link TEXT,
        etag TEXT,
        last_modified TEXT,
        last_attempt BIGINT,
        last_success BIGINT,
        last_status TEXT,
        last_http_status BIGINT,
        consecutive_failures BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        next_poll BIGINT,
        next_reason TEXT,
        retry_after_until BIGINT,
        gone BIGINT NOT NULL DEFAULT 0,
        redirect_url TEXT,
        redirect_candidate TEXT,
        redirect_count BIGINT NOT NULL DEFAULT 0,
        cache_until BIGINT,
        ttl_minutes BIGINT,
        skip_hours TEXT NOT NULL DEFAULT '',
        skip_days TEXT NOT NULL DEFAULT '',
        last_new_entry BIGINT,
        publish_interval BIGINT
    );
    CREATE TABLE stories (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        link TEXT,
        canonical_url TEXT,
        published BIGINT NOT NULL,
        updated BIGINT NOT NULL,
        content_html TEXT,
        summary TEXT,
        text TEXT,
        authors TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        enclosures TEXT NOT NULL DEFAULT '[]',
        image TEXT,
        fingerprint BYTEA,
        extraction TEXT NOT NULL,
        first_source TEXT NOT NULL,
        created BIGINT NOT NULL
    );
    CREATE INDEX stories_canonical ON stories(canonical_url);
    CREATE INDEX stories_published ON stories(published DESC);
    CREATE INDEX stories_created ON stories(created DESC);
    CREATE TABLE story_sources (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        story_id BIGINT NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        link TEXT,
        canonical_url TEXT,
        title TEXT,
        extraction TEXT NOT NULL,
        seen BIGINT NOT NULL,
        PRIMARY KEY (source, entry_key)
    );
    CREATE INDEX story_sources_canonical ON story_sources(canonical_url);
    CREATE INDEX story_sources_story ON story_sources(story_id);
    CREATE INDEX story_sources_seen ON story_sources(source, seen DESC);
    ",
    ),
    // 2: as SQLite's 2.
    Migration::Sql(
        "
    CREATE TABLE pruned_entries (
        source TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        pruned BIGINT NOT NULL,
        last_listed BIGINT NOT NULL,
        PRIMARY KEY (source, entry_key)
    );
    CREATE INDEX pruned_entries_listed ON pruned_entries(source, last_listed);
    CREATE TABLE source_listings (
        source TEXT PRIMARY KEY,
        listed_at BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX story_sources_seq ON story_sources(seq);
    ",
    ),
    // 3: nothing to do (see `Migration::IncrementalVacuum`); kept so both lists count alike.
    Migration::IncrementalVacuum,
    // 4: as SQLite's 4; statement-level triggers (one bump per statement, not per row).
    Migration::Sql(
        "
    CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        config_hash TEXT NOT NULL,
        started BIGINT NOT NULL,
        heartbeat BIGINT NOT NULL
    );
    CREATE TABLE host_leases (
        host TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires BIGINT NOT NULL
    );
    CREATE TABLE store_changes (id BIGINT PRIMARY KEY, counter BIGINT NOT NULL);
    INSERT INTO store_changes (id, counter) VALUES (1, 0);
    CREATE FUNCTION tributary_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE store_changes SET counter = counter + 1 WHERE id = 1; RETURN NULL; END $$;
    CREATE TRIGGER stories_changed AFTER INSERT OR UPDATE OR DELETE ON stories
        FOR EACH STATEMENT EXECUTE FUNCTION tributary_changed();
    CREATE TRIGGER story_sources_changed AFTER INSERT OR DELETE ON story_sources
        FOR EACH STATEMENT EXECUTE FUNCTION tributary_changed();
    CREATE TRIGGER sources_titled AFTER UPDATE ON sources FOR EACH ROW
        WHEN (old.feed_title IS DISTINCT FROM new.feed_title
              OR old.site_link IS DISTINCT FROM new.site_link)
        EXECUTE FUNCTION tributary_changed();
    ",
    ),
    // 5, 6: as SQLite's.
    Migration::Sql(dedupe_index_sql!("BIGINT")),
    Migration::Code(super::band_index::rebuild),
    // 7: as SQLite's 7, with a `tsvector` table and a GIN index.
    Migration::Sql(super::search::POSTGRES_SCHEMA),
    // 8: as SQLite's 8.
    Migration::Sql(super::websub::POSTGRES_SCHEMA),
    // 9: the search index refreshed once per story and transaction, at the commit.
    Migration::Sql(super::search::POSTGRES_ONCE_PER_TRANSACTION),
    // 10: nothing (SQLite's 10 does what 9 did here); kept so both lists count alike.
    Migration::Sql(""),
    // 11: as SQLite's 11, the table itself unchanged.
    Migration::Sql(BAND_INDEX_LEANER_POSTGRES),
    // 12: as SQLite's 12.
    Migration::Sql(super::site_pages::POSTGRES_SCHEMA),
];

/// `PRAGMA auto_vacuum`'s value for incremental mode.
pub const AUTO_VACUUM_INCREMENTAL: i64 = 2;

/// The latest schema version this build knows.
#[cfg(test)]
fn known_version() -> i64 {
    SQLITE.len() as i64
}

/// Brings the database to the latest schema version. Each step reads the version again under
/// the write lock, so instances starting together on one PostgreSQL database migrate once.
pub fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    migrate_to(connection, usize::MAX)
}

/// [`migrate`], stopping at version `last` (the tests build a store as an older release left it).
fn migrate_to(connection: &mut Connection, last: usize) -> Result<(), StoreError> {
    let backend = connection.backend();
    let migrations = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => {
            // Under the write lock: two instances creating the table at once would otherwise
            // collide on PostgreSQL's catalog (IF NOT EXISTS is not atomic).
            connection.schema_transaction(|connection| {
                connection.batch(
                    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
                     INSERT INTO schema_version SELECT 0
                     WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
                )
            })?;
            POSTGRES
        }
    };
    let known = migrations.len() as i64;
    let too_new = |found: i64| match found > known {
        true => Err(StoreError::TooNew { found, known }),
        false => Ok(found),
    };
    too_new(version(connection)?)?;
    for (index, migration) in migrations.iter().enumerate().take(last) {
        let target = index as i64 + 1;
        match (migration, backend) {
            (Migration::IncrementalVacuum, Backend::Sqlite) => {
                if version(connection)? < target {
                    switch_to_incremental_vacuum(connection)?;
                    set_version(connection, target)?;
                }
            }
            (migration, _) => connection.schema_transaction(|connection| {
                if too_new(version(connection)?)? < target {
                    match migration {
                        Migration::Sql(statements) => connection.batch(statements)?,
                        Migration::Code(step) => step(connection)?,
                        Migration::IncrementalVacuum => {}
                    }
                    set_version(connection, target)?;
                }
                Ok(())
            })?,
        }
    }
    Ok(())
}

/// SQLite only: incremental auto-vacuum takes a `VACUUM` on a file created without it.
fn switch_to_incremental_vacuum(connection: &mut Connection) -> Result<(), StoreError> {
    if let Connection::Sqlite(connection) = connection {
        let mode: i64 = connection.pragma_query_value(None, "auto_vacuum", |row| row.get(0))?;
        if mode != AUTO_VACUUM_INCREMENTAL {
            tracing::info!("switching the database to incremental auto-vacuum (once)");
            connection.pragma_update(None, "auto_vacuum", AUTO_VACUUM_INCREMENTAL)?;
            connection.execute_batch("VACUUM")?;
        }
    }
    Ok(())
}

/// The schema version the database is at.
pub fn version(connection: &mut Connection) -> Result<i64, StoreError> {
    let sql = match connection.backend() {
        Backend::Sqlite => "PRAGMA user_version",
        Backend::Postgres => "SELECT version FROM schema_version",
    };
    connection.query_one(sql, &[])?.get(0)
}

fn set_version(connection: &mut Connection, version: i64) -> Result<(), StoreError> {
    match connection.backend() {
        // PRAGMA takes no parameters; `version` is an integer this module computed.
        Backend::Sqlite => connection.batch(&format!("PRAGMA user_version = {version}")),
        Backend::Postgres => connection
            .execute("UPDATE schema_version SET version = ?1", values![version])
            .map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, test_stores};

    #[test]
    fn both_backends_have_the_same_number_of_migrations() {
        assert_eq!(SQLITE.len(), POSTGRES.len());
    }

    #[test]
    fn migrates_once_and_is_idempotent() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    migrate(connection)?;
                    migrate(connection)?;
                    assert_eq!(version(connection)?, known_version());
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn an_existing_file_is_switched_to_incremental_vacuum() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("old.db");
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.pragma_update(None, "journal_mode", "WAL").unwrap();
        // A database as the first release left it: version 1, no auto-vacuum.
        let Migration::Sql(first) = &SQLITE[0] else {
            panic!("migration 1 is SQL");
        };
        raw.execute_batch(first).unwrap();
        raw.pragma_update(None, "user_version", 1).unwrap();
        let mode = |connection: &rusqlite::Connection| -> i64 {
            connection
                .pragma_query_value(None, "auto_vacuum", |row| row.get(0))
                .unwrap()
        };
        assert_eq!(mode(&raw), 0);
        let mut connection = Connection::Sqlite(raw);
        migrate(&mut connection).unwrap();
        drop(connection);
        let raw = rusqlite::Connection::open(&path).unwrap();
        assert_eq!(mode(&raw), AUTO_VACUUM_INCREMENTAL);
    }

    /// Instances started together on a new PostgreSQL database migrate it once, without error.
    #[test]
    fn instances_starting_together_migrate_once() {
        let url = crate::store::test_cluster::fresh_database();
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let opening: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        crate::store::Store::open_postgres(&url)
                    })
                })
                .collect();
            for store in opening {
                let store = store.join().unwrap().expect("opened and migrated");
                let found = store.call_blocking(version).unwrap();
                assert_eq!(found, known_version());
            }
        });
    }

    /// A story stored by a release at version 10 (its band rows in the old table), found again
    /// once the store is migrated: migration 11 keeps every band row and the matches they give.
    fn keeps_dedupe_matches_across_migration_11(mut old: Connection, reopen: impl Fn() -> Store) {
        use crate::store::band_index::tests::{commit, item, words};
        let text = words(7, 300);
        let fingerprint = crate::dedupe::fingerprint(&text).unwrap();
        let now = 1_700_000_000;
        migrate_to(&mut old, 10).unwrap();
        assert_eq!(version(&mut old).unwrap(), 10);
        let story: i64 = old
            .query_one(
                "INSERT INTO stories (uid, title, published, updated, text, fingerprint, \
                 extraction, first_source, created) \
                 VALUES ('u1', 'a', ?1, ?1, ?2, ?3, 'extracted', 'a', ?1) RETURNING id",
                values![now, text.as_str(), fingerprint.to_bytes()],
            )
            .unwrap()
            .get(0)
            .unwrap();
        crate::store::band_index::index_story(&mut old, story, &fingerprint, now).unwrap();
        let count = |connection: &mut Connection| -> i64 {
            connection
                .query_one("SELECT COUNT(*) FROM story_bands", &[])
                .unwrap()
                .get(0)
                .unwrap()
        };
        let rows = count(&mut old);
        assert!(rows >= 8, "{rows}");
        drop(old);
        let store = reopen();
        let (migrated, after) = store
            .call_blocking(|connection| Ok((version(connection)?, count(connection))))
            .unwrap();
        assert_eq!((migrated, after), (known_version(), rows));
        let copy = item("b", &format!("{text} (AFP)"));
        assert_eq!(commit(&store, "b", copy, now + 3600), (0, 1));
    }

    #[test]
    fn a_sqlite_store_from_version_10_keeps_its_dedupe_matches() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("old.db");
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.pragma_update(None, "foreign_keys", "ON").unwrap();
        keeps_dedupe_matches_across_migration_11(Connection::Sqlite(raw), || {
            Store::open(&path).unwrap()
        });
    }

    #[test]
    fn a_postgres_store_from_version_10_keeps_its_dedupe_matches() {
        let url = crate::store::test_cluster::fresh_database();
        let (_pool, client) = crate::store::pool::PgPool::connect(&url).unwrap();
        keeps_dedupe_matches_across_migration_11(Connection::Postgres(client), || {
            Store::open_postgres(&url).unwrap()
        });
    }

    /// A store as the release before the site memory's table left it (version 11) gains the
    /// table, empty, on both backends.
    #[test]
    fn a_store_from_version_11_gains_the_site_pages_table() {
        let url = crate::store::test_cluster::fresh_database();
        let (_pool, client) = crate::store::pool::PgPool::connect(&url).unwrap();
        let sqlite = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        for mut connection in [sqlite, Connection::Postgres(client)] {
            migrate_to(&mut connection, 11).unwrap();
            assert!(super::super::site_pages(&mut connection, "a.example").is_err());
            migrate(&mut connection).unwrap();
            assert_eq!(version(&mut connection).unwrap(), known_version());
            let pages = super::super::site_pages(&mut connection, "a.example").unwrap();
            assert!(pages.is_empty());
        }
    }

    #[test]
    fn refuses_a_newer_schema() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    set_version(connection, 999)?;
                    assert!(matches!(
                        migrate(connection),
                        Err(StoreError::TooNew { found: 999, .. })
                    ));
                    Ok(())
                })
                .unwrap();
        }
    }
}
