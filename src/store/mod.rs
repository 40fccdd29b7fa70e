//! The only module that touches the database (SQLite or PostgreSQL): opening, migrations,
//! source state, stories, retention, the fleet's leases.
//!
//! Both clients are synchronous, so every call runs on the blocking pool through
//! [`Store::call`]. SQLite's one connection sits behind a `std::sync::Mutex` that is never held
//! across an `.await`: SQLite allows one writer at a time anyway, and one connection keeps a
//! pass's transaction (match duplicates, then insert) atomic with respect to every other
//! source's pass. PostgreSQL's connections come from a small pool (`pool.rs`); its write
//! transactions queue on an advisory lock instead (`db::Connection::write_transaction`).

mod activity;
mod archive;
mod backup;
mod band_index;
mod canonical;
mod db;
mod explain;
mod group_commit;
mod leases;
mod migrate;
mod pool;
mod retention;
mod schema;
mod search;
mod site_pages;
mod sources;
mod stories;
#[cfg(test)]
pub mod test_cluster;
mod updates;
mod websub;

use std::path::Path;
use std::sync::{Arc, Mutex};

pub use db::{Backend, Connection};
pub use leases::{
    FairShare, InstanceRecord, change_counter, claim_host, heartbeat, held_hosts, leave,
    live_instances, release_host, renew_hosts,
};
pub use migrate::{CopySummary, copy_store};
use pool::PgPool;

pub use activity::entries_per_day;
pub use archive::{max_story_id, stories_by_id};
pub use backup::{BackupReport, backup_to};
pub use band_index::{DedupePolicy, Match, SourcePolicy, find_match};
pub use explain::{ExplainedMember, Explanation, explain};
pub use retention::{DatabaseStats, PruneReport, PruneRules, database_stats, note_listing};
pub use search::{SearchHit, SearchQuery, is_spaceless_script, search_stories};
pub use site_pages::{add_site_page, site_pages};
pub use sources::site_links;
pub use sources::{SourceState, SourceStatus, load_state, load_states, load_statuses, save_state};
pub use stories::{
    NewItem, PassSummary, StoredSource, StoredStory, StoryCursor, commit_pass, edited_entries,
    known_keys, latest_stories, stories_before, story_by_canonical,
};
pub use websub::{
    Subscription, confirm_subscription, delete_subscription, request_subscription, subscription,
    subscriptions,
};

/// The store layer's error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("column {index} holds {found}, expected {expected}")]
    Type {
        index: usize,
        found: String,
        expected: &'static str,
    },
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the database was written by a newer tributary (schema {found}, this build knows {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("the target store is not empty: its table {table} has rows already")]
    NotEmpty { table: &'static str },
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("database task failed: {0}")]
    Task(String),
}

/// A handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Pooled>,
    /// The dedupe settings passes are matched with; replaced as a whole on a reload.
    dedupe: Arc<std::sync::RwLock<Arc<DedupePolicy>>>,
    /// SQLite's passes waiting to be committed together (`group_commit`).
    commits: Arc<group_commit::CommitQueue>,
}

/// Where connections come from: SQLite's one, or PostgreSQL's pool.
enum Pooled {
    Sqlite(Mutex<Connection>),
    Postgres(Box<PgPool>),
}

/// Whether `database` (the config's `database` value) names a PostgreSQL server rather than a
/// SQLite file.
pub fn is_postgres_url(database: &Path) -> bool {
    database
        .to_str()
        .is_some_and(|text| text.starts_with("postgres://") || text.starts_with("postgresql://"))
}

/// `database` as it may be shown (logs, errors, `/status`): a PostgreSQL URL's password is
/// replaced by `***`.
pub fn display_database(database: &Path) -> String {
    let text = database.to_string_lossy();
    if !is_postgres_url(database) {
        return text.into_owned();
    }
    let (scheme, rest) = text.split_once("://").unwrap_or(("", &text));
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return text.into_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => text.into_owned(),
    }
}

/// Whether the store `database` names may hold data already: a SQLite file that exists, or any
/// PostgreSQL server (asked only when opened).
pub fn may_exist(database: &Path) -> bool {
    is_postgres_url(database) || database.exists()
}

impl Store {
    /// Opens (creating it and its folder if needed) and migrates the database: a SQLite file, or
    /// the PostgreSQL database a `postgres://` URL names.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if is_postgres_url(path) {
            return Store::open_postgres(&path.to_string_lossy());
        }
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let connection = rusqlite::Connection::open(path)?;
        Store::prepare(connection)
    }

    /// [`Store::open`] on the blocking pool, for async callers: PostgreSQL's synchronous
    /// client may not block an async thread.
    pub async fn open_async(path: &Path) -> Result<Store, StoreError> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || Store::open(&path))
            .await
            .map_err(|error| StoreError::Task(error.to_string()))?
    }

    /// An in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::prepare(rusqlite::Connection::open_in_memory()?)
    }

    /// Connects to PostgreSQL and migrates its schema.
    pub fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let (pool, client) = PgPool::connect(url)?;
        let mut connection = Connection::Postgres(client);
        schema::migrate(&mut connection)?;
        if let Connection::Postgres(client) = connection {
            pool.give_back(client);
        }
        Ok(Store::with(Pooled::Postgres(Box::new(pool))))
    }

    fn prepare(connection: rusqlite::Connection) -> Result<Store, StoreError> {
        // WAL lets the HTTP server's reads proceed while a pass writes; a busy timeout covers
        // another tributary process (a `poll` beside a running daemon) holding the write lock.
        // Before any table exists, so a new file needs no `VACUUM` to have it (an older file
        // is switched by a migration): pruning gives pages back with `incremental_vacuum`.
        connection.pragma_update(None, "auto_vacuum", schema::AUTO_VACUUM_INCREMENTAL)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        // Statement journals (a multi-row statement inside a transaction) in memory, not in a
        // temporary file: a cold poll's profile spent 23 % of its CPU writing them out.
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        // Every statement of a pass stays prepared (rusqlite keeps 16 by default; a pass uses
        // more, so they were parsed again and again: 9 % of a cold poll).
        connection.set_prepared_statement_cache_capacity(128);
        // Plans fixed when a statement is prepared: without this, a statement whose plan could
        // depend on a bound value (a `LIMIT ?`, a parameter compared with an index) is prepared
        // again at every new binding (9.5 % of a cold poll after the group commit).
        connection.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        // Checkpoint the WAL every 4096 pages (16 MiB) instead of 1000: a page a poll rewrites
        // many times is copied into the database once per checkpoint, and each checkpoint syncs
        // the file (12 % of a cold poll). The WAL file may grow to about 16 MiB; it is reused after each
        // checkpoint.
        connection.pragma_update(None, "wal_autocheckpoint", 4096)?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut connection = Connection::Sqlite(connection);
        schema::migrate(&mut connection)?;
        Ok(Store::with(Pooled::Sqlite(Mutex::new(connection))))
    }

    fn with(backend: Pooled) -> Store {
        Store {
            backend: Arc::new(backend),
            dedupe: Arc::default(),
            commits: Arc::default(),
        }
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        match &*self.backend {
            Pooled::Sqlite(_) => Backend::Sqlite,
            Pooled::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `work` on the blocking pool with a connection.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.call_blocking(work))
            .await
            .map_err(|error| StoreError::Task(error.to_string()))?
    }

    /// Like [`Store::call`], on a thread of its own instead of the blocking pool: for the
    /// fleet's lease renewals and heartbeats, which must not queue behind the passes' store
    /// calls, parsing and extraction there (one thread per core). A renewal that waited past
    /// the lease would let another instance take the host while this one's passes still run.
    pub async fn call_on_own_thread<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        let (sender, receiver) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("tributary-lease".into())
            .spawn(move || {
                let _ = sender.send(store.call_blocking(work));
            })
            .map_err(|error| StoreError::Task(error.to_string()))?;
        receiver
            .await
            .map_err(|error| StoreError::Task(error.to_string()))?
    }

    /// Sets the dedupe settings later passes are matched with (start-up and each reload).
    pub fn set_dedupe_policy(&self, policy: DedupePolicy) {
        *self
            .dedupe
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(policy);
    }

    /// The dedupe settings in force.
    pub fn dedupe_policy(&self) -> Arc<DedupePolicy> {
        self.dedupe
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Commits one source's pass (`stories::commit_pass`) on the blocking pool, matching its
    /// texts with the persisted dedupe index under the settings in force.
    pub async fn commit_pass(
        &self,
        state: SourceState,
        items: Vec<NewItem>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<PassSummary, StoreError> {
        let policy = self.dedupe_policy();
        if self.backend() == Backend::Postgres {
            return self
                .call(move |connection| commit_pass(connection, &policy, &state, &items, now))
                .await;
        }
        // SQLite: committed with the passes that finish meanwhile (`group_commit`).
        let (reply, answer) = tokio::sync::oneshot::channel();
        // A pass with entries lingers for company (see `group_commit::LINGER`); one without
        // (a 304, nothing new) writes only its source's row and waits for no timer: its drain
        // is scheduled after one turn of the runtime (`group_commit::one_turn`), so the passes
        // whose answers arrived in the same turn share its transaction.
        let linger = !items.is_empty();
        let schedule = self.commits.push(group_commit::QueuedPass {
            policy,
            state,
            items,
            now,
            reply,
        });
        if schedule {
            // Not awaited here: the drain answers every pass of its group, this one included,
            // and must run even if this pass stops waiting (a spawned task is not dropped with
            // it).
            let (store, commits) = (self.clone(), self.commits.clone());
            let drain = move || {
                store.call_blocking(|connection| {
                    commits.drain(connection);
                    Ok(())
                })
            };
            drop(tokio::spawn(async move {
                match linger {
                    true => tokio::time::sleep(group_commit::LINGER).await,
                    false => group_commit::one_turn().await,
                }
                tokio::task::spawn_blocking(drain);
            }));
        }
        answer
            .await
            .map_err(|_| StoreError::Task("the group commit ended without an answer".into()))?
    }

    /// Runs `work` on the current thread; for synchronous callers (CLI, tests) and
    /// [`Store::call`].
    pub fn call_blocking<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &*self.backend {
            Pooled::Sqlite(connection) => {
                let mut guard = connection
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                work(&mut guard)
            }
            Pooled::Postgres(pool) => {
                let mut connection = Connection::Postgres(pool.take()?);
                let result = work(&mut connection);
                if let Connection::Postgres(client) = connection {
                    pool.give_back(client);
                }
                result
            }
        }
    }
}

/// A store on each backend, for tests that must hold on both: an in-memory SQLite database and
/// a fresh database on the test PostgreSQL cluster (`test_cluster`).
#[cfg(test)]
pub fn test_stores() -> Vec<Store> {
    vec![
        Store::open_in_memory().expect("in-memory SQLite"),
        Store::open_postgres(&test_cluster::fresh_database()).expect("test PostgreSQL database"),
    ]
}

/// PostgreSQL's size of the current database in bytes (`pg_database_size`); SQLite's size is
/// read from its files instead (`metrics::database_size`), which needs no connection.
pub fn database_size(connection: &mut Connection) -> Result<u64, StoreError> {
    let size: i64 = connection
        .query_one("SELECT pg_database_size(current_database())", &[])?
        .get(0)?;
    Ok(size.max(0) as u64)
}

/// Seconds since the epoch, the unit every timestamp is stored in.
pub fn to_epoch(time: chrono::DateTime<chrono::Utc>) -> i64 {
    time.timestamp()
}

/// The inverse of [`to_epoch`]; out-of-range values clamp to the epoch.
pub fn from_epoch(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        let shown = |text: &str| display_database(Path::new(text));
        assert_eq!(
            shown("postgres://feeds:s3cr@t@db.lan:5432/tributary"),
            "postgres://feeds:***@db.lan:5432/tributary"
        );
        assert_eq!(
            shown("postgres://feeds@db.lan/t"),
            "postgres://feeds@db.lan/t"
        );
        assert_eq!(shown("data/tributary.db"), "data/tributary.db");
        assert!(is_postgres_url(Path::new("postgresql://h/d")));
        assert!(!is_postgres_url(Path::new("data/postgres.db")));
    }
}
