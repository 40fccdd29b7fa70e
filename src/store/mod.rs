//! The only module that touches SQLite: opening, migrations, source state, stories, retention.
//!
//! rusqlite is synchronous, so every call runs on the blocking pool through [`Store::call`];
//! the connection sits behind a `std::sync::Mutex` that is never held across an `.await`.
//! SQLite allows one writer at a time anyway, and one connection keeps a pass's transaction
//! (match duplicates, then insert) atomic with respect to every other source's pass.

mod backup;
mod recent;
mod retention;
mod schema;
mod sources;
mod stories;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

pub use backup::{BackupReport, backup_to};
pub use recent::RecentFingerprints;
pub use retention::{DatabaseStats, PruneReport, PruneRules, database_stats, note_listing};
pub use sources::site_links;
pub use sources::{SourceState, SourceStatus, load_state, load_statuses, save_state};
pub use stories::{
    NewItem, PassSummary, StoredSource, StoredStory, commit_pass, known_keys, latest_stories,
    story_by_canonical,
};

/// The store layer's error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the database was written by a newer tributary (schema {found}, this build knows {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("database task failed: {0}")]
    Task(String),
}

/// A handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
    /// Locked only while `connection` is held (so always after it): see `commit_pass`.
    recent: Arc<Mutex<RecentFingerprints>>,
}

impl Store {
    /// Opens (creating it and its folder if needed) and migrates the database.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let connection = Connection::open(path)?;
        Store::prepare(connection)
    }

    /// An in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut connection: Connection) -> Result<Store, StoreError> {
        // WAL lets the HTTP server's reads proceed while a pass writes; a busy timeout covers
        // another tributary process (a `poll` beside a running daemon) holding the write lock.
        // Before any table exists, so a new file needs no `VACUUM` to have it (an older file
        // is switched by a migration): pruning gives pages back with `incremental_vacuum`.
        connection.pragma_update(None, "auto_vacuum", schema::AUTO_VACUUM_INCREMENTAL)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        schema::migrate(&mut connection)?;
        Ok(Store {
            connection: Arc::new(Mutex::new(connection)),
            recent: Arc::new(Mutex::new(RecentFingerprints::default())),
        })
    }

    /// Runs `work` on the blocking pool with the connection.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = self.connection.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))?
    }

    /// Commits one source's pass (`stories::commit_pass`) on the blocking pool, matching its
    /// texts against the recent stories' fingerprints this store keeps in memory.
    pub async fn commit_pass(
        &self,
        state: SourceState,
        items: Vec<NewItem>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<PassSummary, StoreError> {
        let recent = self.recent.clone();
        self.call(move |connection| {
            let mut recent = recent
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            commit_pass(connection, &mut recent, &state, &items, now)
        })
        .await
    }

    /// Runs `work` on the current thread; for synchronous callers (CLI, tests).
    pub fn call_blocking<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&mut guard)
    }
}

/// Seconds since the epoch, the unit every timestamp is stored in.
pub fn to_epoch(time: chrono::DateTime<chrono::Utc>) -> i64 {
    time.timestamp()
}

/// The inverse of [`to_epoch`]; out-of-range values clamp to the epoch.
pub fn from_epoch(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}
