//! Reads for the archive pages (RFC 5005): stories by id block, and the highest id given.

use super::StoreError;
use super::db::{Connection, values};
use super::stories::{STORY_COLUMNS, StoredStory, story_from_row};

/// The highest story id in the store (0 when empty): how far the archive pages reach.
pub fn max_story_id(connection: &mut Connection) -> Result<i64, StoreError> {
    let row = connection.query_one("SELECT COALESCE(MAX(id), 0) FROM stories", &[])?;
    row.get(0)
}

/// The stories whose id is in `first..=last`, newest first as the feeds order them. Ids are
/// given in the order stories are stored and never move, so a block's members never change
/// except by pruning.
pub fn stories_by_id(
    connection: &mut Connection,
    first: i64,
    last: i64,
) -> Result<Vec<StoredStory>, StoreError> {
    let rows = connection.query(
        &format!(
            "SELECT {STORY_COLUMNS} FROM stories WHERE id BETWEEN ?1 AND ?2 \
             ORDER BY published DESC, id DESC"
        ),
        values![first, last],
    )?;
    rows.iter()
        .map(|row| story_from_row(connection, row))
        .collect()
}
