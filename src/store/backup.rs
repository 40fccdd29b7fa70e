//! `tributary backup`: a consistent copy of the database while the daemon keeps writing
//! (SQLite's online backup API).
//!
//! The copy is read from one snapshot: the source connection holds a read transaction for the
//! whole copy. In WAL mode a reader never blocks the writer, so the daemon's passes commit as
//! usual meanwhile, and the copy (made in steps) never restarts because of them. It is written
//! beside the destination and renamed into place, so `PATH` is always a whole database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use super::StoreError;

/// Pages copied per step (4 MiB with 4 KiB pages).
const PAGES_PER_STEP: std::ffi::c_int = 1024;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub pages: u64,
    pub bytes: u64,
}

/// Copies the database `connection` is open on to `destination` (replaced if it exists).
pub fn backup_to(
    connection: &mut super::db::Connection,
    destination: &Path,
) -> Result<BackupReport, StoreError> {
    let super::db::Connection::Sqlite(connection) = connection else {
        return Err(StoreError::Unsupported(
            "backup copies SQLite files only: back up a PostgreSQL store with pg_dump",
        ));
    };
    let partial = partial_path(destination);
    let _ = std::fs::remove_file(&partial);
    let result = copy_snapshot(connection, &partial).and_then(|pages| {
        std::fs::rename(&partial, destination).map_err(|source| StoreError::Io {
            path: destination.to_path_buf(),
            source,
        })?;
        let bytes = std::fs::metadata(destination)
            .map(|metadata| metadata.len())
            .unwrap_or_default();
        Ok(BackupReport {
            path: destination.to_path_buf(),
            pages,
            bytes,
        })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// `NAME.partial` beside `NAME`, so the rename stays within one file system.
fn partial_path(destination: &Path) -> PathBuf {
    let mut name = destination
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    destination.with_file_name(name)
}

/// Copies every page of one snapshot; returns the number of pages.
fn copy_snapshot(connection: &Connection, partial: &Path) -> Result<u64, StoreError> {
    let mut copy = Connection::open(partial)?;
    // The read transaction pins the snapshot every step copies from.
    connection.execute_batch("BEGIN")?;
    let copied = (|| -> Result<u64, StoreError> {
        let _: i64 =
            connection.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |row| row.get(0))?;
        let backup = Backup::new(connection, &mut copy)?;
        loop {
            match backup.step(PAGES_PER_STEP)? {
                StepResult::Done => break,
                StepResult::More => {}
                // Busy or locked: another connection holds a lock the copy needs for a moment.
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        Ok(backup.progress().pagecount.max(0) as u64)
    })();
    connection.execute_batch("COMMIT")?;
    let pages = copied?;
    // A whole file, independent of any `-wal` beside it.
    copy.pragma_update(None, "journal_mode", "DELETE")?;
    drop(copy);
    Ok(pages)
}
