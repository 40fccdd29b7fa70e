//! `migrate-store`: copies an existing store (a SQLite file) into another, empty one (PostgreSQL).

use std::path::Path;

use anyhow::{Context as _, bail};

use super::Exit;
use crate::store::{self, Store};

/// Opens both stores (the source only if it exists: a mistyped path must not create an empty
/// file and "copy" nothing), copies every row and prints the counts per table.
pub fn run(from: &Path, to: &Path) -> anyhow::Result<Exit> {
    if !store::may_exist(from) {
        bail!(
            "{} does not exist: nothing to copy",
            store::display_database(from)
        );
    }
    let source =
        Store::open(from).with_context(|| format!("opening {}", store::display_database(from)))?;
    let target =
        Store::open(to).with_context(|| format!("opening {}", store::display_database(to)))?;
    let summary = store::copy_store(&source, &target).with_context(|| {
        format!(
            "copying {} into {}",
            store::display_database(from),
            store::display_database(to)
        )
    })?;
    for (table, rows) in &summary.tables {
        outln!("{table}: {rows} rows copied");
    }
    Ok(Exit::Ok)
}
